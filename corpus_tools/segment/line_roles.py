"""What a line is on its own: 文号, title, date, banner, metadata field, attachment, ….

A line no check accepts is body text or a heading (`paragraphs` decides).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from corpus_tools.segment.markers import marker_of
from corpus_tools.segment.marks import _balanced, _has_terminal
from corpus_tools.segment.records import Role

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
    *("安排", "要点", "报告", "函", "批复", "细则", "计划", "清单", "条例"),
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
# A law's record of its passing, amending and coming into force, a line each, above
# its first article: `2019年2月17日 中华人民共和国国务院令第708号公布`, `2022年7月1日 施行`.
_ENACTMENT = re.compile(
    r"^\d{4}年\d{1,2}月\d{1,2}日[^。；;，,]{0,160}(?:通过|修订|修正|批准|公布|施行|发布)$"
)
_ENACTMENT_FINALS = frozenset("过订正准布行")
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
# A contents entry ends in a page number after dot leaders or the closing bracket
# of a title's years (`……方案（2024-2026 年） .....5`, `……方案（2024-2026 年）32`).
_CONTENTS_ENTRY = re.compile(r"(?:[.．…·]{3,}\s*\d{0,4}|[）)]\s*[.．…·]*\s*\d{1,4})$")
# A signature set on one line: `……公司工程物业部2024年3月13日`.
_SIGNATURE_LINE = re.compile(
    r"^[\u4e00-\u9fff]{4,60}(?:公司|部|局|厅|委员会|办公室|政府|中心)\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$"
)


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
    if compact[-1:] in _ENACTMENT_FINALS:
        return compact[:1].isdigit() and bool(_ENACTMENT.match(compact))
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
        or (ends[-1:] in _ENACTMENT_FINALS and ends[:1].isdigit())
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


def _is_attachment_label(text: str) -> bool:
    return bool(_ATTACHMENT_LABEL.match(text))
