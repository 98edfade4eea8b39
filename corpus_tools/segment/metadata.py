"""A notice's metadata: title, issuer, 文号, date, addressees and year."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from corpus_tools.segment.line_roles import _DATE_LINE, _FIELD_LINE
from corpus_tools.segment.marks import _WS, _split_list
from corpus_tools.segment.records import (
    _ROLE_FIELD,
    _ROLE_ORG,
    _TEXT_ROLES,
    DocumentMeta,
    Paragraph,
    Role,
)

_YEAR = re.compile(r"(20\d{2}|19\d{2})\s*年")


def document_meta(paragraphs: list[Paragraph], *, stem: str, source_path: str) -> DocumentMeta:
    fields = _fields(p.text for p in paragraphs if p.role is _ROLE_FIELD)
    first_text = next(
        (i for i, p in enumerate(paragraphs) if p.role in _TEXT_ROLES), len(paragraphs)
    )
    front = paragraphs[:first_text]
    back = paragraphs[first_text:]

    def first(role: Role, region: list[Paragraph]) -> str:
        return next((p.text for p in region if p.role is role), "")

    title = fields.get("标题") or first(Role.TITLE, front) or first(Role.TITLE, paragraphs)
    doc_number = (
        fields.get("发文字号")
        or first(Role.DOC_NUMBER, front)
        or first(Role.DOC_NUMBER, paragraphs)
    )
    date = (
        _iso_date(fields.get("成文日期", ""))
        or _iso_date(first(Role.DATE, back))
        or _iso_date(first(Role.DATE, front))
    )
    front_orgs = _issuing_orgs([p.text for p in front if p.role is _ROLE_ORG])
    banner = first(Role.BANNER, front)
    issuer = (
        fields.get("发文机关")
        or (
            re.sub(r"文件$", "", re.sub(r"\s+", "", banner))
            if re.fullmatch(r"\S{2,20}文件", re.sub(r"\s+", "", banner))
            else ""
        )
        or "、".join(front_orgs)
        or _title_issuer(title)
        or next((p.text for p in reversed(back) if p.role is _ROLE_ORG), "")
    )
    addressee = first(Role.ADDRESSEE, front) or first(Role.ADDRESSEE, paragraphs)
    return DocumentMeta(
        doc_id=stem,
        title=_compact_spaces(title),
        issuer=_compact_spaces(issuer),
        doc_number=re.sub(r"\s+", "", doc_number),
        date=date,
        addressees=tuple(_split_list(addressee.rstrip("：:"), separators="，,；;")),
        source_path=source_path,
    )


def _issuing_orgs(lines: list[str]) -> list[str]:
    """The organisations named before the text, each once. A joint letterhead
    that PDF extraction ran into one line (`A文件B`) is left out when the
    organisations are also named one a line, as joint notices do."""
    named = list(dict.fromkeys(re.sub(r"\s+", "", line) for line in lines))
    one_a_line = [org for org in named if "文件" not in org]
    return one_a_line or named


def _compact_spaces(text: str) -> str:
    # Metadata values drop the spaces PDF extraction puts around numbers.
    return re.sub(r"\s+", "", text)


def _title_issuer(title: str) -> str:
    head, sep, _ = title.partition("关于")
    return head.strip() if sep else ""


def _fields(lines: Iterable[str]) -> dict[str, str]:
    cells: list[str] = []
    for line in lines:
        cells.extend(c.strip(_WS) for c in line.split("|") if c.strip(_WS))
    fields: dict[str, str] = {}
    pending: str | None = None
    for cell in cells:
        key, value = _field_cell(cell)
        if key:
            pending = None if value else key
            if value:
                fields.setdefault(key, value)
        elif pending:
            fields.setdefault(pending, cell)
            pending = None
    return fields


def _field_cell(cell: str) -> tuple[str, str]:
    match = _FIELD_LINE.match(cell)
    if not match:
        return "", ""
    key = re.sub(r"[\s:：|]", "", match.group())
    return key, cell[match.end() :].strip(_WS + ":：")


_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0}


def _iso_date(text: str) -> str | None:
    compact = re.sub(r"\s+", "", text)
    match = re.search(r"(\d{4})-(\d{1,2})-(\d{1,2})", compact) or _DATE_LINE.match(compact)
    if not match:
        return None
    year, month, day = (_number(part) for part in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if len(text) == 4:  # 二〇二五
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    tens, _, ones = text.partition("十")
    if "十" not in text:
        return _CN_DIGITS[text]
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def _document_year(meta: DocumentMeta, paragraphs: list[Paragraph], *, attached_to: str) -> str:
    """The notice's year: from its 文号, date or title; an attachment that
    follows a signed notice takes that notice's year; else from the text."""
    for source in (meta.doc_number, meta.date or "", meta.title):
        match = re.search(r"(19|20)\d{2}", source)
        if match:
            return match.group()
    if attached_to:
        return attached_to
    years = Counter(
        m.group(1) for p in paragraphs if p.role in _TEXT_ROLES for m in _YEAR.finditer(p.text)
    )
    # A notice names past years too; the latest year named more than once is its own.
    repeated = [year for year, count in years.items() if count >= 2]
    return max(repeated) if repeated else (years.most_common(1)[0][0] if years else "")
