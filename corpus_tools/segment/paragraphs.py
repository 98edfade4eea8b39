"""Lines broken by PDF extraction re-joined into paragraphs, each with a role."""

from __future__ import annotations

import re

from corpus_tools.ingest import PARAGRAPH_MARK, TITLE_MARK
from corpus_tools.segment.line_roles import (
    _TITLE_END,
    _is_attachment_label,
    _meta_role,
)
from corpus_tools.segment.markers import (
    _MAJOR_MARKERS,
    _MARKER_CHAPTER,
    Marker,
    marker_of,
    strip_item_marker,
)
from corpus_tools.segment.marks import (
    _BRACKET_OPENERS,
    _CLOSERS_AND_WS,
    _LIST_COMMA,
    _PARAGRAPH_END,
    _SENTENCE_OR_LEAD_IN_END,
    _bracket_depth,
    _has_terminal,
)
from corpus_tools.segment.records import (
    _ROLE_ATTACHMENT,
    _ROLE_BODY,
    _ROLE_HEADING,
    _ROLE_ORG,
    _ROLE_TITLE,
    _ROLE_URL,
    Paragraph,
    Role,
)
from corpus_tools.segment.responsibility import _RESPONSIBILITY

_OPEN_BRACKET_RUN_MAX = 600
_HEADING_LINE_MAX = 40
_HEADING_WITH_COMMA_MAX = 32
_MINOR_HEADING_MAX = 20
_HEADING_MAX = max(_HEADING_LINE_MAX, _HEADING_WITH_COMMA_MAX, _MINOR_HEADING_MAX)


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
    # the item number's own `、` (`4、风险评价`, `一、……`) is no list comma: such a title
    # takes the limit of a title without commas
    has_comma = _LIST_COMMA.search(strip_item_marker(line)) is not None
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
        if raw.startswith(PARAGRAPH_MARK):
            flush()
            raw = raw.removeprefix(PARAGRAPH_MARK)
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
