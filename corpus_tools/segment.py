"""Cut notices into documents and units by `annotation-guidelines.md` §1.

Pipeline: source text → cleaned lines → paragraphs → documents (a file may
hold several notices) → units with metadata and structure. Every stage is a
plain function over immutable records so each can be tested on its own.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields, make_dataclass, replace
from enum import StrEnum
from functools import cache, lru_cache
from hashlib import sha1
from pathlib import Path

from corpus_tools.errors import CorpusToolsError, InputFileError
from corpus_tools.ingest import TITLE_MARK, iter_input_files, read_source
from corpus_tools.schema import Unit, UnitKind
from corpus_tools.sources import source_row_for, with_source_metadata

# ---------------------------------------------------------------- patterns

_WS = " \t\u3000\u2003\u2002\u00a0\ufeff"
_TERMINAL = "。！？；!?;"
_CLOSERS = "”’」』）)】〕]》"
_OPEN_TO_CLOSE = {
    "（": "）",
    "(": ")",
    "〔": "〕",
    "【": "】",
    "[": "]",
    "“": "”",
    "‘": "’",
    "「": "」",
    "《": "》",
    "［": "］",
}
_CLOSE_TO_OPEN = {v: k for k, v in _OPEN_TO_CLOSE.items()}
_CLOSERS_AND_WS = _CLOSERS + _WS
_PARAGRAPH_END = _TERMINAL + "：:"
_LIST_COMMA = re.compile("[，,、]")
_SENTENCE_OR_LEAD_IN_END = re.compile("[。！？；!?;：:]")
_NESTING_MARKS = "（）()〔〕【】[]［］“”‘’「」《》"
_STRUCTURAL = re.compile(f"[{re.escape(_NESTING_MARKS + _TERMINAL)}…]")
_BRACKET_OPENERS = "（(〔【[［"
_BRACKET_CLOSERS = "）)〕】]］"
_NESTING = re.compile(r"[（(〔【\[［《）)〕】\]］》]")  # what `_bracket_depth` counts
_BRACKET = re.compile(f"[{re.escape(_BRACKET_OPENERS + _BRACKET_CLOSERS)}]")
_STOPS_AND_WS = "。；;" + _WS
_SENTENCE_OR_CLAUSE_END = re.compile("[。！？；!?;，,]")

_PAGE_NUMBER_LINE = re.compile(r"^[-—–\s]*\d{1,4}[-—–\s]*$|^第\s*\d+\s*页(\s*共\s*\d+\s*页)?$")
_INLINE_PAGE_NUMBER = re.compile(r"\s*[—–]\s+\d{1,4}\s+[—–]\s*")
# The leading `\s*` above defeats re's prefix scan; searching the core first is
# many times faster, and most texts have no inline page number at all.
_INLINE_PAGE_NUMBER_CORE = re.compile(r"[—–]\s+\d{1,4}\s+[—–]")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s*")
_MARKDOWN_RULE = re.compile(r"^[-_*]{3,}")  # a horizontal rule, alone or run into the next line
_TYPESETTING_CODE = re.compile(r"〖[A-Za-z]{1,6}〗")  # left by the publisher's typesetter
_YAML_FRONT_MATTER = re.compile(r"\A\s*---\n.*?\n---\s*\n", re.DOTALL)

_CN_NUM = "一二三四五六七八九十"
# Web pages stripped of their tags keep entities (`&emsp;`) and zero-width
# joiners where block breaks were.
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060]+")
# A chapter title run into its first article: `第一章 总 则第一条 为……`.
_CHAPTER_RUN_IN = re.compile(
    rf"(第[{_CN_NUM}百零〇]{{1,4}}章[^。；\n第]{{1,24}}?)\s*(?=第[{_CN_NUM}百零〇]{{1,4}}条)"
)


class Marker(StrEnum):
    """Numbering styles; their nesting order is learned per document."""

    CN_DUN = "cn_dun"  # 一、
    CN_PAREN = "cn_paren"  # （一）
    ARABIC = "arabic"  # 1. 1． 1、
    ARABIC_PAREN = "arabic_paren"  # （1）
    CIRCLED = "circled"  # ①
    CHAPTER = "chapter"  # 第一章 (regulations)
    ARTICLE = "article"  # 第一条
    BOLD = "bold"  # unnumbered bold run-in title


_MAJOR_MARKERS = frozenset({Marker.CN_DUN, Marker.CN_PAREN})
_MARKERS: tuple[tuple[Marker, re.Pattern[str]], ...] = (
    (Marker.CN_DUN, re.compile(rf"^[{_CN_NUM}]{{1,3}}\s*、")),
    (Marker.CN_PAREN, re.compile(rf"^[（(]\s*[{_CN_NUM}]{{1,3}}\s*[)）]")),
    (Marker.ARABIC, re.compile(r"^\d{1,2}\s*[.．、](?!\d)")),
    (Marker.ARABIC_PAREN, re.compile(r"^[（(]\s*\d{1,2}\s*[)）]")),
    (Marker.CIRCLED, re.compile(r"^[①-⑳]")),
    (Marker.CHAPTER, re.compile(rf"^第[{_CN_NUM}百零〇]{{1,4}}章")),
    (Marker.ARTICLE, re.compile(rf"^第[{_CN_NUM}百零〇]{{1,4}}条")),
)


class Role(StrEnum):
    """What a paragraph is, before it becomes units."""

    BODY = "body"
    HEADING = "heading"
    BANNER = "banner"
    DOC_NUMBER = "doc_number"
    TITLE = "title"
    FIELD = "field"
    ADDRESSEE = "addressee"
    ORG = "org"
    DATE = "date"
    NOTE = "note"
    COPY = "copy"
    ATTACHMENT = "attachment"
    URL = "url"
    CONTACT = "contact"
    CONTENTS = "contents"  # a table-of-contents entry: `3.公安系统……方案 ....17`


# Members the per-line and per-paragraph code compares against, as plain names:
# on Python 3.11 `Role.URL` costs ~0.1 µs (EnumType's __getattr__ hook slows every
# lookup on an enum class), over a millisecond per corpus pass.
_ROLE_URL, _ROLE_TITLE, _ROLE_ORG, _ROLE_DATE = Role.URL, Role.TITLE, Role.ORG, Role.DATE
_ROLE_CONTENTS = Role.CONTENTS
_MARKER_CHAPTER = Marker.CHAPTER
_ROLE_BODY, _ROLE_HEADING, _ROLE_FIELD = Role.BODY, Role.HEADING, Role.FIELD
_ROLE_ATTACHMENT, _ROLE_ADDRESSEE = Role.ATTACHMENT, Role.ADDRESSEE
_MARKER_CN_DUN, _MARKER_BOLD = Marker.CN_DUN, Marker.BOLD

# Roles that open a notice: seen after body text, they start a new document.
_FRONT_ROLES = frozenset({Role.BANNER, Role.DOC_NUMBER, Role.TITLE, Role.FIELD, Role.ADDRESSEE})
_TEXT_ROLES = frozenset({Role.BODY, Role.HEADING})

_FIELD_NAMES = (
    "索引号",
    "主题分类",
    "发文机关",
    "成文日期",
    "标题",
    "发文字号",
    "发布日期",
    "主题词",
    "是否有效",
    "发布机构",
    "生成日期",
    "文号",
    "有效性",
)
_FIELD_LINE = re.compile(r"^(?:" + "|".join(r"\s*".join(n) for n in _FIELD_NAMES) + r")\s*[:：|]?")
_FIELD_INITIALS = frozenset(name[0] for name in _FIELD_NAMES)
_DOC_NUMBER = re.compile(
    r"^[\u4e00-\u9fff]{1,12}\s*[〔\[［(（]\s*(\d{4})\s*[〕\]］)）]\s*\d{1,4}\s*号$"
)
_DOC_NUMBER_ANY = re.compile(
    r"[\u4e00-\u9fff]{1,12}\s*[〔\[［(（]\s*(\d{4})\s*[〕\]］)）]\s*\d{1,4}\s*号"
)
_DATE_LINE = re.compile(
    r"^(\d{4}|[〇零一二三四五六七八九]{4})\s*年\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*月\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*日$"
)
_TITLE_WORDS = (
    *("通知", "意见", "方案", "决定", "通报", "办法", "规定"),
    *("安排", "要点", "报告", "函", "批复", "细则", "计划", "清单"),
)
_TITLE_WORD_ANYWHERE = re.compile("|".join(_TITLE_WORDS))
_TITLE_END = re.compile(f"({'|'.join(_TITLE_WORDS)})([（(][^）)]{{0,20}}[）)])?$")
_ORG_WORDS = (
    *("人民政府", "委员会", "安委会", "办公室", "办公厅", "管委会", "政府"),
    *("局", "厅", "委", "部", "司", "中心", "总局"),
)
_ORG_END = re.compile(f"({'|'.join(_ORG_WORDS)})$")
_ADDRESSEE_VERBS = re.compile(r"[要应须请将]|如下")
_URL = re.compile(r"^(https?://|www\.)\S+$")
_NOTE = re.compile(r"^[（(]此件.{0,20}[)）]$")
_COPY_WORDS = ("抄送", "印发", "抄报", "分送")
_COPY = re.compile(
    rf"^({'|'.join(_COPY_WORDS)})|印发$|^.{{2,30}}\d{{4}}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日\s*印发$"
)
# An attachment line, or a Markdown link to one (`[📄 点击下载此文件](/files/….pdf)`).
_ATTACHMENT = re.compile(
    r"^附\s*件|\.(docx?|pdf|xlsx?|wps)\)?$|\.(docx?|pdf|xlsx?|wps)\)", re.IGNORECASE
)
# An attachment list (`附件：1．……方案` / `2．……方案`), and the label atop an attachment (`附件2`).
_ATTACHMENT_ENTRY = re.compile(
    r"^(?:附\s*件\s*[:：]\s*)?(\d{1,2})\s*[.．、]\s*[^。！？；!?;，,]{2,80}$"
)
_ATTACHMENT_LIST_HEAD = re.compile(r"^附\s*件\s*[:：]$")
_ATTACHMENT_LABEL = re.compile(r"^附\s*件\s*\d{1,2}\s*[:：]?$")
_CONTACT_WORDS = ("联系人", "联系电话", "联系邮箱", "电子邮箱", "传真", "邮编", "电话")
_CONTACT = re.compile(rf"^({'|'.join(_CONTACT_WORDS)})\s*[:：]")
_BANNER = re.compile(r"文\s*件$")
_TRAILING_DOC_NUMBER = re.compile(
    r"^(.*\S)\s+([\u4e00-\u9fff]{1,12}\s*[〔\[［(（]\s*\d{4}\s*[〕\]］)）]\s*\d{1,4}\s*号)$"
)
# A contents entry ends in a page number after dot leaders or the closing bracket
# of a title's years (`……方案（2024-2026 年） .....5`, `……方案（2024-2026 年）32`).
_CONTENTS_ENTRY = re.compile(r"(?:[.．…·]{3,}\s*\d{0,4}|[）)]\s*[.．…·]*\s*\d{1,4})$")
# A signature set on one line: `……公司工程物业部2024年3月13日`.
_SIGNATURE_LINE = re.compile(
    r"^[\u4e00-\u9fff]{4,60}(?:公司|部|局|厅|委员会|办公室|政府|中心)\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$"
)
_YEAR = re.compile(r"(20\d{2}|19\d{2})\s*年")

_RESPONSIBILITY = re.compile(
    r"^(责任(单位|部门|主体)|牵头(单位|部门)|配合(单位|部门)|主责(单位|部门))\s*[:：]|负责|牵头|落实|配合"
)
_ROLE_PREFIX = re.compile(
    r"^(责任(单位|部门|主体)|牵头(单位|部门)|配合(单位|部门)|主责(单位|部门))\s*[:：]\s*"
)
_ROLE_SUFFIXES = (
    "按职责分工负责",
    "按职责负责",
    "分工负责",
    "指导督促落实",
    "督促落实",
    "负责落实",
    "共同负责",
    "负责",
    "牵头",
    "配合",
    "参与",
    "落实",
)
_ROLE_SUFFIX = re.compile(f"({'|'.join(_ROLE_SUFFIXES)})$")
# Words that end an organisation's name; alone they name no body.
_BARE_ORG_WORDS = (
    "单位",
    "政府",
    "部门",
    "局",
    "委",
    "会",
    "办",
    "厅",
    "中心",
    "公司",
    "集团",
    "企业",
)
_AND_AFTER_ORG = re.compile("(?:" + "|".join(f"(?<={s})" for s in _BARE_ORG_WORDS) + ")和")
_ETC_BODIES = re.compile("等(有关)?(部门|单位)?$")

_RUN_IN_TITLE_MAX = 25
_OPEN_BRACKET_RUN_MAX = 600
_BARE_TITLE_MAX = 10
_TAG_MAX = 14  # `（重大隐患）`: short tags close a sentence; longer asides open the next
_HEADING_LINE_MAX = 40
_HEADING_WITH_COMMA_MAX = 32
_MINOR_HEADING_MAX = 20
_HEADING_MAX = max(_HEADING_LINE_MAX, _HEADING_WITH_COMMA_MAX, _MINOR_HEADING_MAX)


# ---------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str
    role: Role
    marker: Marker | None = None


@dataclass(frozen=True, slots=True)
class DocumentMeta:
    doc_id: str
    title: str = ""
    issuer: str = ""
    doc_number: str = ""
    date: str | None = None
    addressees: tuple[str, ...] = ()
    source_path: str = ""
    sector: str = ""
    genre: str = ""


@dataclass(frozen=True, slots=True)
class Document:
    meta: DocumentMeta
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True, slots=True)
class SegmentReport:
    """What `segment_files` did: counts for the summary, failures by file."""

    output: Path
    files_read: int
    documents: int
    units_by_kind: dict[str, int]
    failures: tuple[InputFileError, ...] = field(default_factory=tuple)

    @property
    def units(self) -> int:
        return sum(self.units_by_kind.values())


# ---------------------------------------------------------------- cleaning


def clean_lines(text: str) -> list[str]:
    """Source text → stripped lines; markup, page numbers and indentation gone.

    Blank lines are dropped: PDF extraction inserts them mid-paragraph, so the
    paragraph joiner decides where paragraphs end from the text itself.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = _YAML_FRONT_MATTER.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    if "\u200d" in text or "\u200b" in text or "\u200c" in text or "\u2060" in text:
        text = _ZERO_WIDTH.sub("\n", text)
    if "章" in text:
        text = _CHAPTER_RUN_IN.sub("\\1\n", text)
    if _INLINE_PAGE_NUMBER_CORE.search(text):
        text = _INLINE_PAGE_NUMBER.sub("\n", text)
    lines = []
    for raw in text.split("\n"):
        line = raw.strip(_WS)
        if not line:
            continue  # about half the lines of a PDF extraction: leave them early
        marked = False
        if TITLE_MARK in line:
            marked = raw.startswith(TITLE_MARK)
            line = line.replace(TITLE_MARK, "").strip(_WS)
        if line.startswith("#"):
            line = _MARKDOWN_HEADING.sub("", line).strip(_WS)
            marked = True
        line = line.replace("**", "")
        if line[:3] in ("---", "***", "___"):
            line = _MARKDOWN_RULE.sub("", line).strip(_WS)
        if "〖" in line:
            line = _TYPESETTING_CODE.sub("", line)
        if not line or _PAGE_NUMBER_LINE.match(line):
            continue
        # Web pages put the 文号 on the title's line: `关于……的通知 国能综通安全〔2021〕108号`.
        parts = line.endswith("号") and _TRAILING_DOC_NUMBER.match(line)
        if parts and _looks_like_title(re.sub(r"\s+", "", parts.group(1))):
            lines.extend([parts.group(1), parts.group(2)])
            continue
        lines.append(TITLE_MARK + line if marked else line)
    return lines


_ANY_MARKER = re.compile(
    "|".join(
        f"(?P<{marker.value}>{pattern.pattern.removeprefix('^')})" for marker, pattern in _MARKERS
    )
)


_MARKER_BY_GROUP = {marker.value: marker for marker in Marker}  # a dict is faster than Marker(…)


def marker_of(text: str, pos: int = 0) -> Marker | None:
    """The numbering style that starts `text` at `pos`, if any."""
    match = _ANY_MARKER.match(text, pos)
    return _MARKER_BY_GROUP[match.lastgroup] if match else None


def strip_item_marker(text: str) -> str:
    """`text` without the item number that starts it (`3.`, `（十一）`, `二、`)."""
    match = _ANY_MARKER.match(text)
    return text[match.end() :].lstrip() if match else text


# Role checks take (line, compact) and test a cheap necessary condition (a first
# or last character, a length) before any regex: nearly every line is prose that
# no check accepts, so failing fast is what makes reading quick.


def _is_url(line: str, compact: str) -> bool:
    return line.startswith(("http", "www.")) and bool(_URL.match(line))


def _is_field(line: str, compact: str) -> bool:
    return "|" in line or (line[:1] in _FIELD_INITIALS and bool(_FIELD_LINE.match(line)))


def _is_doc_number(line: str, compact: str) -> bool:
    return compact.endswith("号") and bool(_DOC_NUMBER.match(compact))


def _is_date(line: str, compact: str) -> bool:
    return compact.endswith("日") and bool(
        _DATE_LINE.match(compact) or _SIGNATURE_LINE.match(compact)
    )


def _is_contents_entry(line: str, compact: str) -> bool:
    return (
        len(compact) <= 160
        and "。" not in compact
        and bool(_CONTENTS_ENTRY.search(compact))
        and bool(_TITLE_WORD_ANYWHERE.search(compact))
    )


def _is_note(line: str, compact: str) -> bool:
    return compact.startswith(("（此件", "(此件")) and bool(_NOTE.match(compact))


def _is_attachment(line: str, compact: str) -> bool:
    return (
        len(compact) <= 80
        and (compact.startswith("附") or "." in compact)
        and bool(_ATTACHMENT.search(compact))
    )


def _is_copy(line: str, compact: str) -> bool:
    return (
        len(compact) <= 120
        and (compact.startswith(_COPY_WORDS) or compact.endswith("印发"))
        and bool(_COPY.search(compact))
    )


def _is_contact(line: str, compact: str) -> bool:
    return compact.startswith(_CONTACT_WORDS) and bool(_CONTACT.match(compact))


def _is_banner(line: str, compact: str) -> bool:
    return (
        len(compact) <= 40
        and bool(_BANNER.search(compact))
        and not _has_terminal(compact)
        and "关于" not in compact
    )


def _is_title(line: str, compact: str) -> bool:
    return _looks_like_title(compact)


def _is_addressee_line(line: str, compact: str) -> bool:
    return _looks_like_addressee(compact)


def _is_org(line: str, compact: str) -> bool:
    return (
        len(compact) <= 30
        and bool(_ORG_END.search(compact))
        and not re.search(r"[，,。：:；;、（(]", compact)
    )


# Checked in order; the first that holds names the line.
_ROLE_CHECKS: tuple[tuple[Role, Callable[[str, str], bool]], ...] = (
    (Role.URL, _is_url),
    (Role.FIELD, _is_field),
    (Role.DOC_NUMBER, _is_doc_number),
    (Role.DATE, _is_date),
    (Role.CONTENTS, _is_contents_entry),
    (Role.NOTE, _is_note),
    (Role.ATTACHMENT, _is_attachment),
    (Role.COPY, _is_copy),
    (Role.CONTACT, _is_contact),
    (Role.BANNER, _is_banner),
    (Role.TITLE, _is_title),
    (Role.ADDRESSEE, _is_addressee_line),
    (Role.ORG, _is_org),
)
# Roles a line of running prose (a comma or an inner 。) can still have.
_PROSE_ROLES = frozenset(
    {Role.FIELD, Role.NOTE, Role.ATTACHMENT, Role.COPY, Role.CONTACT, Role.ADDRESSEE}
)
_PROSE_CHECKS = tuple((role, check) for role, check in _ROLE_CHECKS if role in _PROSE_ROLES)


# What each role check above requires before its regex, as cheap supersets: a
# line that meets none of them (most lines) is no meta line, and no check runs.
# First characters of prose-compatible meta lines: field names, 附件, 抄送/印发,
# contact words, 各… addressees (a 此件 note starts with a bracket: see below).
_PROSE_META_INITIALS = (
    _FIELD_INITIALS | {"附", "各"} | {word[0] for word in _COPY_WORDS + _CONTACT_WORDS}
)
_META_INITIALS = _PROSE_META_INITIALS | {"h", "w"}  # and URLs
# Last characters of 文号, dates, …印发, `各…：`, titles and organisations.
_META_FINALS = frozenset("号日发：:）)0123456789") | {
    word[-1] for word in _TITLE_WORDS + _ORG_WORDS
}


# These take `ends`: the line stripped of the spaces `compact` drops, so it starts
# and ends as `compact` does (and holds the same characters) without building it.
def _may_be_prose_meta(ends: str) -> bool:
    return (
        ends[:1] in _PROSE_META_INITIALS
        or ends[-1:] == "发"
        or "|" in ends
        or "." in ends
        or _may_be_note(ends)
    )


def _may_be_meta(ends: str) -> bool:
    return (
        ends[:1] in _META_INITIALS
        or ends[-1:] in _META_FINALS
        or "|" in ends
        or "." in ends
        or "件" in ends  # a banner: `……文件`
        or _may_be_note(ends)
    )


def _may_be_note(ends: str) -> bool:
    # Many prose lines open with a bracket; a `（此件…）` note also holds a 此.
    return ends[:1] in ("（", "(") and "此" in ends


@lru_cache(maxsize=8192)
def _meta_role(line: str) -> Role | None:
    """The meta role a line has on its own, whatever stands around it."""
    ends = line.strip(" \u3000\t")  # no copy: lines come stripped
    prose = "，" in ends or "。" in ends[:-1]
    if not (_may_be_prose_meta(ends) if prose else _may_be_meta(ends)):
        return None  # most lines: no check could accept them
    compact = line.replace(" ", "").replace("\u3000", "").replace("\t", "")
    for role, check in _PROSE_CHECKS if prose else _ROLE_CHECKS:
        if check(line, compact):
            return role
    return None


def _looks_like_addressee(compact: str) -> bool:
    return (
        compact.startswith("各")
        and compact.endswith(("：", ":"))
        and len(compact) <= 160
        and bool(re.search(r"[，,、]", compact))
        and bool(re.search(r"政府|单位|部门|局|委|会|厅|办", compact))
        and not _ADDRESSEE_VERBS.search(compact)
    )


def _looks_like_title(compact: str) -> bool:
    if len(compact) > 100 or _has_terminal(compact) or marker_of(compact):
        return False
    if not _TITLE_END.search(compact) or not _balanced(compact):
        return False
    return "关于" in compact or len(compact) <= 40


def _has_terminal(text: str) -> bool:
    return _SENTENCE_OR_CLAUSE_END.search(text) is not None


def _balanced(text: str) -> bool:
    return _bracket_depth(text) == 0


def _bracket_depth(text: str) -> int:
    depth = 0
    for ch in _NESTING.findall(text):
        if ch in _BRACKET_OPENERS or ch == "《":
            depth += 1
        elif depth > 0:
            depth -= 1  # a stray closer does not go below zero
    return depth


def _ends_paragraph(line: str) -> bool:
    stripped = line.rstrip(_CLOSERS_AND_WS) or line
    return stripped[-1] in _PARAGRAPH_END or (stripped.endswith("……") and line.endswith("”"))


def _is_heading_line(line: str, width: int = 10_000) -> bool:
    """A numbered line that is only a title: no sentence punctuation, shorter
    than a full line of the layout (a full-width line was broken by the PDF)."""
    if len(line) > _HEADING_MAX:
        return False  # the common case, and asked of every growing paragraph
    marker = marker_of(line)
    if marker is None:
        return False
    has_comma = _LIST_COMMA.search(line) is not None
    if marker in _MAJOR_MARKERS:
        limit = _HEADING_WITH_COMMA_MAX if has_comma else _HEADING_LINE_MAX
    else:
        # `1.` items are sentences far more often than titles: only short ones are titles.
        limit = 0 if has_comma else _MINOR_HEADING_MAX
    return (
        len(line) <= min(limit, int(width * 0.85))
        and not _SENTENCE_OR_LEAD_IN_END.search(line)
        and not line.endswith(("，", ",", "、"))
    )


def _layout_width(lines: list[str]) -> int:
    """The length of a full line in this source (80th percentile)."""
    lengths = sorted(map(len, lines))
    return lengths[int(len(lengths) * 0.8)] if lengths else 10_000


def _is_parenthetical_line(line: str) -> bool:
    return line[0] in _BRACKET_OPENERS and marker_of(line) is None


def join_paragraphs(lines: list[str]) -> list[Paragraph]:
    """Re-join lines broken by PDF extraction into paragraphs with roles.

    A line ends its paragraph when it ends a sentence (or a `：` lead-in), is
    a heading or meta line, or the next line starts a numbered item. URL
    footers that fall inside a paragraph are moved after it, so the sentence
    they interrupted stays whole.
    """
    paragraphs: list[Paragraph] = []
    buffer = ""
    deferred: list[Paragraph] = []
    width = _layout_width(lines)
    after_label = False  # `buffer` follows an `附件N` label, so a title is expected

    def flush() -> None:
        nonlocal buffer
        if buffer:
            paragraphs.append(_paragraph(buffer, width))
            buffer = ""
        paragraphs.extend(deferred)
        deferred.clear()

    for raw in lines:
        titled = raw.startswith(TITLE_MARK)
        line = raw.removeprefix(TITLE_MARK)
        role = _meta_role(line)
        if role in _LOOKALIKE_ROLES and buffer and _runs_on(buffer, line, width):
            role = None
        if role is _ROLE_URL and buffer:
            deferred.append(Paragraph(line, _ROLE_URL))
            continue
        if titled:
            flush()
            paragraphs.append(_heading(line))
            continue
        title_in_progress = bool(buffer) and _may_continue_title(buffer, title_expected=after_label)
        if role in _SPLIT_FRONT_ROLES and _is_front_line_start(buffer):
            # `海关系统安全生产治本攻坚` + `三年行动方案（2024—2026年）`: the PDF broke a
            # title (or a 文件 banner) whose first half names no title word.
            buffer = _join(buffer, line)
            flush()
            continue
        if buffer and _continues(buffer, line, role, title=title_in_progress):
            buffer = _join(buffer, line)
            if title_in_progress and _meta_role(buffer) is _ROLE_TITLE:
                flush()  # the title is whole; what follows is not part of it
                continue
        else:
            flush()
            buffer = line
            after_label = (
                bool(paragraphs)
                and paragraphs[-1].role is _ROLE_ATTACHMENT
                and _is_attachment_label(paragraphs[-1].text)
            )
        if (
            role is not None and not _may_continue_title(buffer, title_expected=after_label)
        ) or _is_heading_line(buffer, width):
            flush()
    flush()
    return paragraphs


_SPLIT_FRONT_ROLES = frozenset({Role.TITLE, Role.BANNER})


def _is_front_line_start(buffer: str) -> bool:
    """A short line of CJK characters alone, no punctuation or number: the first
    half of a broken title or banner when a title or banner line follows it."""
    return 4 <= len(buffer) <= 30 and bool(_BARE_CJK.fullmatch(buffer))


_BARE_CJK = re.compile(r"[\u4e00-\u9fff][\u4e00-\u9fff ]*")


# Roles judged only from how a line looks; a wrapped body line can look the same.
_LOOKALIKE_ROLES = frozenset({Role.TITLE, Role.ORG})


def _runs_on(buffer: str, line: str, width: int) -> bool:
    """A full-width line that carries on an unfinished sentence of running text.

    `…非法营运、非` + `法挂靠、…、机动车违反禁限行规定` looks like a title
    (`…规定`), but titles are set apart and shorter than a full body line.
    """
    return len(line) >= width * 0.85 and _has_terminal(buffer) and not _ends_paragraph(buffer)


def _may_continue_title(buffer: str, *, title_expected: bool = False) -> bool:
    """A title line broken by the PDF: `关于……发` + `现问题整改工作的通知`, or
    any title under an attachment label (`附件2` / `……专项整` / `治实施方案`)."""
    return (
        len(buffer) <= 60
        and (title_expected or "关于" in buffer)
        and not _has_terminal(buffer)
        and not _TITLE_END.search(buffer)
    )


def _continues(buffer: str, line: str, role: Role | None, *, title: bool) -> bool:
    """Whether `line` carries on the paragraph in `buffer`; any one reason is enough,
    so the common one is asked first and the costliest (a scan of `buffer`) last."""
    if role is None and marker_of(line) is None and not _ends_paragraph(buffer):
        return True  # a plain line after a sentence broken by the PDF
    if title and not _has_terminal(line) and _TITLE_END.search(line):
        return True  # `title`: the buffer is a title broken by the PDF, and this line ends it
    if _is_parenthetical_line(line) and _RESPONSIBILITY.search(line[1:]):
        return True  # a responsibility parenthetical stays with its item
    # An open bracket closes in the same paragraph, unless the source dropped the
    # closer (`《……（2024—2026 年》`): then a numbered line or a long run ends it.
    return (
        len(buffer) < _OPEN_BRACKET_RUN_MAX
        and marker_of(line) is None
        and _bracket_depth(buffer) > 0
    )


def _join(left: str, right: str) -> str:
    if left[-1].isascii() and left[-1].isalnum() and right[0].isascii() and right[0].isalnum():
        return f"{left} {right}"
    return left + right


def _paragraph(text: str, width: int) -> Paragraph:
    role = _meta_role(text)
    if role is not None and role is not _ROLE_ORG:
        return Paragraph(text, role, None)
    marker = marker_of(text)
    if role is _ROLE_ORG and marker is None:
        return Paragraph(text, _ROLE_ORG, None)
    if marker is not None and (
        _is_heading_line(text, width) or (marker is _MARKER_CHAPTER and not _has_terminal(text))
    ):
        return Paragraph(text, _ROLE_HEADING, marker)
    return Paragraph(text, _ROLE_BODY, marker)


def _heading(text: str) -> Paragraph:
    role = _meta_role(text)
    if role in {Role.TITLE, Role.BANNER, Role.DOC_NUMBER}:
        return Paragraph(text, role, None)
    return Paragraph(text, Role.HEADING, marker_of(text) or Marker.BOLD)


# ---------------------------------------------------------------- documents


def split_documents(paragraphs: list[Paragraph]) -> list[list[Paragraph]]:
    """Split one file's paragraphs into notices.

    A notice starts where front matter (banner, 文号, title, metadata table,
    addressee line) follows body text; where a second `一、` restarts the
    numbering; or where text follows a signature date. An attachment label
    (`附件3`) just before the start goes with the document it labels: a cover
    notice's attached plans each come out whole.
    """
    documents: list[list[Paragraph]] = []
    current: list[Paragraph] = []
    has_text = seen_first_item = signed = False
    previous: Paragraph | None = None
    for para in paragraphs:
        role = _contextual_role(para, has_text, previous)
        para = replace(para, role=role) if role is not para.role else para
        before, previous = previous, para
        restarts = role is _ROLE_HEADING and para.marker is _MARKER_CN_DUN and para.text[0] == "一"
        starts_new = (
            has_text
            and (
                role in _FRONT_ROLES
                or (restarts and seen_first_item)
                or (signed and role in _TEXT_ROLES)
            )
        ) or (role is _ROLE_TITLE and before is not None and before.role is _ROLE_CONTENTS)
        if starts_new:
            label = [current.pop()] if _is_attachment_label(current[-1].text) else []
            documents.append(current)
            current, has_text, seen_first_item, signed = label, False, False, False
        current.append(para)
        if role in _TEXT_ROLES:
            has_text = True
        if restarts or (
            role is _ROLE_BODY and para.marker is _MARKER_CN_DUN and para.text[0] == "一"
        ):
            seen_first_item = True
        if role is _ROLE_DATE and has_text:
            signed = True
    if current:
        documents.append(current)
    return [doc for doc in documents if any(p.role in _TEXT_ROLES for p in doc)] or documents


def _contextual_role(para: Paragraph, has_text: bool, previous: Paragraph | None) -> Role:
    """Roles that depend on position: addressee lines, entries of an attachment list."""
    if para.role is _ROLE_BODY and _is_addressee(para.text, has_text):
        return _ROLE_ADDRESSEE
    if (
        para.role in _TEXT_ROLES
        and previous is not None
        and previous.role is _ROLE_ATTACHMENT
        and _is_next_attachment_entry(previous.text, para.text)
    ):
        return _ROLE_ATTACHMENT
    return para.role


def _is_next_attachment_entry(previous: str, text: str) -> bool:
    """`2．…方案` after `附件：1．…方案` (or `1．…` after a bare `附件：`): a list entry, meta.

    The numbers must run on, so a notice that starts with `1.` right after an
    attachment line is not swallowed into the list.
    """
    entry = _ATTACHMENT_ENTRY.match(text)
    if entry is None:
        return False
    before = _ATTACHMENT_ENTRY.match(previous)
    if before is not None:
        return int(entry.group(1)) == int(before.group(1)) + 1
    return int(entry.group(1)) == 1 and bool(_ATTACHMENT_LIST_HEAD.match(previous))


def _is_attachment_label(text: str) -> bool:
    return bool(_ATTACHMENT_LABEL.match(text))


def _is_addressee(text: str, has_text: bool) -> bool:
    if not text.endswith(("：", ":")) or len(text) > 160 or _ADDRESSEE_VERBS.search(text):
        return False
    if not re.search(r"[，,、]", text) and not _ORG_END.search(text[:-1]):
        return False
    # After body text, only a line that is an addressee on its own counts (`_meta_role`).
    return not has_text


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
    front_orgs = [p.text for p in front if p.role is _ROLE_ORG]
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


# ---------------------------------------------------------------- units


# `_sentence_ends` in one regex match per sentence, where brackets and quotes come
# in pairs at most two deep (nearly every paragraph): text without marks, lone
# `…`, and whole pairs are skipped up to the next 。！？；or second `…`. (A quote
# inside a quote of its own kind is left to the stack walk, which reads `““` as one.)
def _pair(opener: str, inside: str) -> str:
    return re.escape(opener) + inside + re.escape(_OPEN_TO_CLOSE[opener])


_NO_MARK = f"[^{re.escape(_NESTING_MARKS)}]"
_FLAT_PAIRS = {opener: _pair(opener, f"{_NO_MARK}*+") for opener in _OPEN_TO_CLOSE}


def _two_deep_pair(opener: str) -> str:
    inner = "|".join(p for o, p in _FLAT_PAIRS.items() if o != opener or o not in "“‘")
    return _pair(opener, f"(?:{_NO_MARK}++|{inner})*+")


_TO_SENTENCE_END = re.compile(
    rf"(?:[^{re.escape(_NESTING_MARKS + _TERMINAL)}…]++|(?<!…)…|"
    + "|".join(map(_two_deep_pair, _OPEN_TO_CLOSE))
    + rf")*+(?:([{re.escape(_TERMINAL)}]|(?<=…)…)|\Z)"
)


def cut_sentences(text: str) -> list[str]:
    """Cut a body paragraph after 。！？；(and half-width) outside brackets and quotes.

    A parenthetical that closes a sentence — responsibility or a short tag —
    stays with the sentence before it.
    """
    pieces: list[str] = []
    start = 0
    length = len(text)
    for cut in _sentence_ends(text):
        while cut < length and text[cut] in _CLOSERS_AND_WS:
            cut += 1  # closing quotes and brackets stay with their sentence
        if cut < length and text[cut] in _BRACKET_OPENERS:
            cut = _past_closing_parenthetical(text, cut)
        if cut > start:
            pieces.append(text[start:cut])
            start = cut
    if start < length:  # nothing is left after a final 。 (most paragraphs)
        pieces.append(text[start:])
    return _attach_closing_pieces(pieces)


def _sentence_ends(text: str) -> list[int]:
    """Offsets just after each 。！？；(or ……) that stands outside brackets and quotes."""
    ends: list[int] = []
    pos = 0
    while match := _TO_SENTENCE_END.match(text, pos):
        if match[1] is None:
            return ends  # the end of the text
        pos = match.end()
        ends.append(pos)
    return _nested_sentence_ends(text)  # a stray mark or deeper nesting (1 paragraph in 300)


def _nested_sentence_ends(text: str) -> list[int]:
    """`_sentence_ends` by walking a stack of open brackets and quotes: any text."""
    ends: list[int] = []
    stack: list[str] = []
    for match in _STRUCTURAL.finditer(text):
        ch = match[0]
        if ch in _OPEN_TO_CLOSE and not (ch in "“‘" and stack and stack[-1] == ch):
            stack.append(ch)
        elif ch in _CLOSE_TO_OPEN:
            opener = _CLOSE_TO_OPEN[ch]
            if opener in stack:
                while stack and stack.pop() != opener:
                    pass
        elif not stack and (
            ch in _TERMINAL or (ch == "…" and text[match.end() - 2 : match.end()] == "……")
        ):
            ends.append(match.end())
    return ends


def _attach_closing_pieces(pieces: list[str]) -> list[str]:
    """Blank pieces and lone bracket groups join the sentence before them; strip the rest."""
    merged: list[str] = []
    for piece in pieces:
        body = piece.strip(_WS)
        if merged and (
            not body or (body[0] in _BRACKET_OPENERS and _is_closing_parenthetical(body))
        ):
            merged[-1] += piece
        elif body:
            merged.append(piece)
    return [piece.strip(_WS) for piece in merged]


def _past_closing_parenthetical(text: str, cut: int) -> int:
    """Move a cut past a parenthetical that closes the sentence before it."""
    if cut >= len(text) or text[cut] not in _BRACKET_OPENERS or marker_of(text, cut):
        return cut
    depth = 0
    for match in _BRACKET.finditer(text, cut):
        if match[0] in _BRACKET_OPENERS:
            depth += 1
            continue
        depth -= 1
        if depth == 0:
            group = text[cut : match.end()]
            if _RESPONSIBILITY.search(group[1:]) or len(group) <= _TAG_MAX:
                end = match.end()
                while end < len(text) and text[end] in _STOPS_AND_WS:
                    end += 1
                return end
            return cut
    return cut


def _is_closing_parenthetical(piece: str) -> bool:
    """A piece that is one bracket group (maybe ending in 。): it belongs to the unit before."""
    body = piece.rstrip("。；;")
    if not body or body[0] not in _BRACKET_OPENERS or marker_of(body):
        return False
    close = _OPEN_TO_CLOSE.get(body[0], "")
    if body[-1] not in _BRACKET_CLOSERS:
        return False
    depth = 0
    last = len(body) - 1
    for match in _BRACKET.finditer(body):
        if match[0] in _BRACKET_OPENERS:
            depth += 1
        else:
            depth -= 1
            if depth == 0 and match.start() != last:
                return False
    return close != "" and depth == 0


def split_run_in_title(text: str, marker: Marker | None) -> tuple[str, str]:
    """`（一）强化学习贯彻。各级…` → (`（一）强化学习贯彻。`, `各级…`); else ("", text).

    A numbered title may stand alone (`（十）深化专项整治。`); an unnumbered one
    must be a bare name (`煤矿。`, `道路交通。`), as sector sub-titles are.
    """
    number = _MARKERS_BY_KIND[marker].match(text) if marker is not None else None
    # Look for the title's full stop after the item number: `1.煤矿。` has a `.` of its own.
    first_end = _first_sentence_end(text, number.end() if number else 0)
    if first_end is None:
        return "", text
    first = text[:first_end].strip(_WS)
    if marker is not None:
        title = first[number.end() :] if number else first
        limit = _RUN_IN_TITLE_MAX
    else:
        title, limit = first, _BARE_TITLE_MAX
    if (
        2 <= len(title.rstrip("。.")) <= limit
        and first.endswith(("。", "."))
        and not _NOT_IN_TITLE.search(title)
        and (marker is not None or not _NOT_IN_BARE_TITLE.search(title))
    ):
        return first, text[first_end:].strip(_WS)
    return "", text


def _first_sentence_end(text: str, start: int = 0) -> int | None:
    """End of the first sentence when it ends in `。` outside brackets, else None."""
    match = _FULL_STOP.search(text, start, start + _RUN_IN_TITLE_MAX + 2)  # titles are short
    if match is None:
        return None
    head = text[: match.start()]
    return match.end() if _bracket_depth(head) == 0 and "“" not in head else None


_MARKERS_BY_KIND = dict(_MARKERS)
_FULL_STOP = re.compile("[。.]")
_NOT_IN_TITLE = re.compile("[，,；;：:、“”（）()]")
_NOT_IN_BARE_TITLE = re.compile(r"[要应须将把\d]")


def responsible_bodies(parenthetical: str) -> tuple[str, ...]:
    """Bodies named in a responsibility parenthetical, each on its own, role words removed."""
    inner = parenthetical.strip(_WS + "。；;")[1:-1].split("。", 1)[0]
    bodies = []
    for clause in _split_list(inner, separators="；;，,、"):
        clause = _ROLE_PREFIX.sub("", clause.strip(_WS))
        for part in _AND_AFTER_ORG.split(clause) if "和" in clause else (clause,):
            name = _without_role_suffix(_without_role_suffix(part))
            if "等" in name:
                name = _ETC_BODIES.sub("", name).strip(_WS)
            if name and name not in bodies and len(name) >= 2:
                bodies.append(name)
    return tuple(b for b in bodies if b not in _BARE_ORG_WORDS)


def _without_role_suffix(name: str) -> str:
    name = name.strip(_WS)
    # The endswith test is exact: the suffix pattern is anchored at the end.
    return _ROLE_SUFFIX.sub("", name).strip(_WS) if name.endswith(_ROLE_SUFFIXES) else name


def _split_list(text: str, *, separators: str) -> list[str]:
    """Split on separators that stand outside brackets: `各县（市、区）政府` stays whole."""
    items, depth, start = [], 0, 0
    for match in _list_marks(separators).finditer(text):
        ch = match[0]
        if ch in _BRACKET_OPENERS:
            depth += 1
        elif ch in _BRACKET_CLOSERS:
            depth = max(0, depth - 1)
        elif depth == 0:
            items.append(text[start : match.start()])
            start = match.end()
    items.append(text[start:])
    return [item.strip(_WS) for item in items if item.strip(_WS)]


@cache
def _list_marks(separators: str) -> re.Pattern[str]:
    """The characters `_split_list` acts on (brackets and separators); the rest it skips."""
    return re.compile(f"[{re.escape(_BRACKET_OPENERS + _BRACKET_CLOSERS + separators)}]")


def _closing_parenthetical(sentence: str) -> str:
    """The responsibility parenthetical that ends this sentence, or ""."""
    stripped = sentence.rstrip(_STOPS_AND_WS)
    if not stripped or stripped[-1] not in _BRACKET_CLOSERS:
        return ""
    depth = 0
    for index in reversed([match.start() for match in _BRACKET.finditer(stripped)]):
        if stripped[index] in _BRACKET_CLOSERS:
            depth += 1
            continue
        depth -= 1
        if depth == 0:
            group = stripped[index:]
            if index > 0 and _RESPONSIBILITY.search(group[1:-1]) and marker_of(group) is None:
                return group
            return ""
    return ""


@dataclass(slots=True)
class _Outline:
    """Numbering stack of one document: section path and current item."""

    stack: list[tuple[Marker, str | None]] = field(default_factory=list)
    headings: tuple[str, ...] = ()  # the headings in `stack`, kept in step: read per unit

    def enter(self, marker: Marker, heading: str | None) -> tuple[str, ...]:
        """Open a numbered item; return the headings above it (siblings closed)."""
        for position, (kind, _) in enumerate(self.stack):
            if kind is marker:
                del self.stack[position:]
                self.headings = tuple(h for _, h in self.stack if h)
                break
        above = self.headings
        self.stack.append((marker, heading))
        if heading:
            self.headings = above + (heading,)
        return above

    def path(self) -> tuple[str, ...]:
        return self.headings


# Kinds as plain strings: `str(UnitKind.X)` per unit is measurable in the hot loop.
_META, _HEADING, _BODY = str(UnitKind.META), str(UnitKind.HEADING), str(UnitKind.BODY)
_UNIT_FIELD_ORDER = (
    ("unit_id", "doc_id", "unit_index", "kind", "text", "section_path")
    + ("item_responsible_bodies", "item_parenthetical")
    + ("title", "issuer", "doc_number", "date", "addressees", "source_path")
    + ("sector", "genre")
)
if tuple(f.name for f in fields(Unit)) != _UNIT_FIELD_ORDER:
    raise ImportError("schema.Unit fields changed order: update document_units, which builds it")

# A frozen dataclass's __init__ sets each field through object.__setattr__ (about
# 1.5 µs per Unit, a tenth of the whole unit stage). This non-frozen twin has the
# very same slots, so a twin built with plain stores (0.2 µs) becomes a real,
# frozen `Unit` when its class is switched (`document_units`).
_UnitDraft = make_dataclass("_UnitDraft", [(f.name, f.type) for f in fields(Unit)], slots=True)


def document_units(doc: Document) -> list[Unit]:
    """Units of one document, with section paths and item responsibility."""
    drafts: list[tuple[str, str, tuple[str, ...]]] = []  # kind, text, section_path
    outline = _Outline()
    item_start = None
    responsibility: dict[int, tuple[int, str]] = {}  # last unit index → (item start, parenthetical)
    paragraphs = doc.paragraphs
    for position, para in enumerate(paragraphs):
        if para.role not in _TEXT_ROLES:
            drafts.append((_META, para.text, outline.path()))
            continue
        if para.role is _ROLE_HEADING:
            path = outline.enter(para.marker, para.text) if para.marker else outline.path()
            item_start = len(drafts)
            drafts.append((_HEADING, para.text, path))
            continue
        title, text = split_run_in_title(para.text, para.marker)
        if title and not text and _next_is_sibling(paragraphs, position):
            # A heading heads something: a short numbered sentence followed by the
            # next item of its list (`6．值班人员未持证上岗。` / `7．…`) is a list item.
            title, text = "", para.text
        if para.marker is not None or title:
            path = outline.enter(para.marker or _MARKER_BOLD, title or None)
            item_start = len(drafts)
            if title:
                drafts.append((_HEADING, title, path))
        path = outline.path()  # the same for every sentence of the paragraph
        for sentence in cut_sentences(text):
            drafts.append((_BODY, sentence, path))
            parenthetical = _closing_parenthetical(sentence)
            if parenthetical and item_start is not None:
                responsibility[len(drafts) - 1] = (item_start, parenthetical)
    bodies_at = _item_bodies(responsibility, drafts)
    meta = doc.meta
    doc_id = meta.doc_id
    same_in_document = (
        meta.title,
        meta.issuer,
        meta.doc_number,
        meta.date,
        meta.addressees,
        meta.source_path,
        meta.sector,
        meta.genre,
    )
    no_bodies = ((), "")
    # Positional (order checked by `_UNIT_FIELD_ORDER`): keywords cost ~30% more per unit.
    units = [
        _UnitDraft(
            make_unit_id(doc_id, index, text),
            doc_id,
            index,
            kind,
            text,
            path,
            *bodies_at.get(index, no_bodies),
            *same_in_document,
        )
        for index, (kind, text, path) in enumerate(drafts)
    ]
    for unit in units:
        unit.__class__ = Unit  # now a real, frozen Unit: see `_UnitDraft`
    return units


def _next_is_sibling(paragraphs: tuple[Paragraph, ...], position: int) -> bool:
    """The paragraph after this numbered one is the next item of the same list
    (the one before may be a sibling whose title ran into its text: no evidence)."""
    marker = paragraphs[position].marker
    following = paragraphs[position + 1] if position + 1 < len(paragraphs) else None
    return marker is not None and following is not None and following.marker is marker


def _item_bodies(
    responsibility: dict[int, tuple[int, str]], drafts: list[tuple[str, str, tuple[str, ...]]]
) -> dict[int, tuple[tuple[str, ...], str]]:
    """Unit index → (bodies, parenthetical) for every non-meta unit of an item that names them."""
    bodies_at: dict[int, tuple[tuple[str, ...], str]] = {}
    named: dict[str, tuple[str, ...]] = {}  # a document's items often repeat one parenthetical
    for end, (start, parenthetical) in responsibility.items():
        bodies = named.get(parenthetical)
        if bodies is None:
            bodies = named[parenthetical] = responsible_bodies(parenthetical)
        for index in range(start, end + 1):
            if drafts[index][0] != _META:
                bodies_at.setdefault(index, (bodies, parenthetical))
    return bodies_at


def make_unit_id(doc_id: str, unit_index: int, text: str) -> str:
    return f"{doc_id}:{unit_index:04d}:{sha1(text.encode()).hexdigest()[:8]}"


# ---------------------------------------------------------------- files


def segment_text(text: str, *, stem: str, source_path: str = "") -> list[Document]:
    """All notices in one source text, each with metadata and paragraphs."""
    paragraphs = join_paragraphs(clean_lines(text))
    groups = split_documents(paragraphs)
    documents = []
    used: Counter[str] = Counter()
    year = signed_year = ""  # an attachment takes the year of the signed notice it follows
    previous_signed = False
    for group in groups:
        meta = document_meta(group, stem=stem, source_path=source_path)
        doc_id = stem
        if len(groups) > 1:
            attached = previous_signed or _is_attachment_label(group[0].text)
            year = _document_year(meta, group, attached_to=signed_year if attached else "") or "doc"
            used[year] += 1
            doc_id = f"{stem}#{year}" + (f"-{used[year]}" if used[year] > 1 else "")
        documents.append(Document(replace(meta, doc_id=doc_id), tuple(group)))
        previous_signed = any(p.role is _ROLE_DATE for p in group)
        if previous_signed:
            signed_year = year
    return documents


def iter_documents(paths: Iterable[Path | str]) -> Iterator[Document | InputFileError]:
    """Documents of every readable file; unreadable files come in-stream as errors."""
    for path in iter_input_files(list(paths)):
        try:
            source = read_source(path)
        except InputFileError as error:
            yield error
            continue
        try:
            row = source_row_for(path)
        except InputFileError as error:
            yield error
            continue
        documents = segment_text(source.text, stem=path.stem, source_path=str(path))
        if not documents:
            yield InputFileError(str(path), "no notice text found")
        for document in documents:
            yield replace(document, meta=with_source_metadata(document.meta, row))


def iter_units(paths: Iterable[Path | str]) -> Iterator[Unit | InputFileError]:
    """Units of every readable file, in order; failures come in-stream so a batch goes on."""
    for item in iter_documents(paths):
        if isinstance(item, InputFileError):
            yield item
        else:
            yield from document_units(item)


class OutputFormat(StrEnum):
    JSONL = "jsonl"
    PARQUET = "parquet"


def output_format(path: Path) -> OutputFormat:
    return OutputFormat.PARQUET if path.suffix.lower() == ".parquet" else OutputFormat.JSONL


def write_units(units: Iterable[Unit], output: Path) -> int:
    """Write units as JSON Lines, or Parquet when `output` ends in `.parquet`."""
    output.parent.mkdir(parents=True, exist_ok=True)
    writers = {OutputFormat.JSONL: _write_jsonl, OutputFormat.PARQUET: _write_parquet}
    return writers[output_format(output)](units, output)


def _write_jsonl(units: Iterable[Unit], output: Path) -> int:
    count = 0
    with output.open("w", encoding="utf-8") as handle:
        for unit in units:
            handle.write(json.dumps(unit.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count


def _write_parquet(units: Iterable[Unit], output: Path) -> int:
    import polars as pl

    rows = [unit.to_dict() for unit in units]
    pl.DataFrame(rows, schema=_UNIT_SCHEMA()).write_parquet(output)
    return len(rows)


def _UNIT_SCHEMA():  # noqa: N802 - a constant built lazily so polars loads only when needed
    import polars as pl

    strings = pl.List(pl.String)
    return {
        "unit_id": pl.String,
        "doc_id": pl.String,
        "unit_index": pl.Int32,
        "kind": pl.String,
        "text": pl.String,
        "section_path": strings,
        "item_responsible_bodies": strings,
        "item_parenthetical": pl.String,
        "title": pl.String,
        "issuer": pl.String,
        "doc_number": pl.String,
        "date": pl.String,
        "addressees": strings,
        "source_path": pl.String,
        "sector": pl.String,
        "genre": pl.String,
    }


def read_units(path: Path | str) -> Iterator[Unit]:
    """Read a units file written by `segment` (JSONL or Parquet) back as `Unit`s."""
    path = Path(path)
    if not path.exists():
        raise CorpusToolsError(
            f"{path}: units file does not exist; run `corpus-tools segment` first"
        )
    if output_format(path) is OutputFormat.PARQUET:
        import polars as pl

        for batch in pl.read_parquet(path).iter_slices(10_000):
            for row in batch.iter_rows(named=True):
                yield Unit.from_dict(row)
        return
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield Unit.from_dict(json.loads(line))
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise CorpusToolsError(
                    f"{path}:{line_number}: not a unit record ({error}); expected `segment` output"
                ) from None


def segment_files(
    paths: Iterable[Path | str],
    *,
    output: Path,
    on_file: Callable[[Path], None] | None = None,
) -> SegmentReport:
    """Segment files and directories into one units file; report counts and failures."""
    files = list(iter_input_files(list(paths)))
    failures: list[InputFileError] = []
    kinds: Counter[str] = Counter()
    doc_ids: set[str] = set()

    def units() -> Iterator[Unit]:
        for path in files:
            for item in iter_units([path]):
                if isinstance(item, InputFileError):
                    failures.append(item)
                    continue
                kinds[item.kind] += 1
                doc_ids.add(item.doc_id)
                yield item
            if on_file is not None:
                on_file(path)

    write_units(units(), output)
    return SegmentReport(
        output=output,
        files_read=len(files) - len({f.path for f in failures}),
        documents=len(doc_ids),
        units_by_kind=dict(kinds),
        failures=tuple(failures),
    )
