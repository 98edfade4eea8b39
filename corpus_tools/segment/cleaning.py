"""Source text to clean lines: markup, entities, page numbers and indentation gone."""

from __future__ import annotations

import html
import re

from corpus_tools.ingest import PARAGRAPH_MARK, TITLE_MARK
from corpus_tools.segment.line_roles import _looks_like_title
from corpus_tools.segment.markers import _MARKERS_BY_KIND, Marker
from corpus_tools.segment.marks import _BRACKET_OPENERS, _CN_NUM, _WS

_PAGE_NUMBER_LINE = re.compile(r"^[-—–\s]*\d{1,4}[-—–\s]*$|^第\s*\d+\s*页(\s*共\s*\d+\s*页)?$")
_INLINE_PAGE_NUMBER = re.compile(r"\s*[—–]\s+\d{1,4}\s+[—–]\s*")
# The leading `\s*` above defeats re's prefix scan; searching the core first is
# many times faster, and most texts have no inline page number at all.
_INLINE_PAGE_NUMBER_CORE = re.compile(r"[—–]\s+\d{1,4}\s+[—–]")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s*")
_MARKDOWN_RULE = re.compile(r"^[-_*]{3,}")  # a horizontal rule, alone or run into the next line
_TYPESETTING_CODE = re.compile(r"〖[A-Za-z]{1,6}〗")  # left by the publisher's typesetter
_YAML_FRONT_MATTER = re.compile(r"\A\s*---\n.*?\n---\s*\n", re.DOTALL)
_MARKDOWN_ATX = re.compile(r"^#{1,6} ", re.MULTILINE)
# an image whose `)` the source lost (`![](/img/2m-1f-14.jpg`) ends at its path's end
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]\n]*\]\((?:[^)\n]*\)|[^)\s]*)")
_MARKDOWN_LINK = re.compile(r"(?<!!)\[([^\]\n]+)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_MARKDOWN_BULLET = re.compile(r"^[-*+]\s+(?=\S)")
# Markdown lets HTML through (`<p style="…;…">`, `<img …>`); a tag may span lines.
# and comments (`<!-- INFO END -->`, a law library's marker after a law's record).
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_INLINE_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]{0,400})?/?>")
# In Markdown a blank line, a list item, a rule or an image ends the paragraph
# before it, so the next line carries PARAGRAPH_MARK; a PDF's blank lines fall
# mid-paragraph, so only Markdown sources (front matter or `#` headings) do.

# Web pages stripped of their tags keep entities (`&emsp;`) and zero-width
# joiners where block breaks were.
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060]+")
# A chapter title run into its first article: `第一章 总 则第一条 为……`.
_CHAPTER_RUN_IN = re.compile(
    rf"(第[{_CN_NUM}百零〇]{{1,4}}章[^。；\n第]{{1,24}}?)\s*(?=第[{_CN_NUM}百零〇]{{1,4}}条)"
)

# A line that runs an item into the end of the one before it (a PDF line of the 2020
# Shanxi notice: `……开展督查检查。（十六）创新安全监管方式。`; a web page that lost its line
# breaks): an item number right after a sentence end, outside brackets and quotes, starts
# a line of its own. Not after `；` or `：`: a list inside one sentence (`做到三个到位：一、
# 责任到位；二、……`) is that sentence's own; nor `一、二级` (two levels, not an item).
_ITEM_RUN_IN = re.compile(
    rf"(?<=[。！？!?])[{_WS}]*(?="
    + "|".join(
        _MARKERS_BY_KIND[kind].pattern.removeprefix("^") + guard
        for kind, guard in (
            (Marker.CN_DUN, f"(?![{_CN_NUM}])"),
            (Marker.CN_PAREN, ""),
            (Marker.ARABIC, r"(?!\.)"),  # with the marker's own `(?!\d)`: not `1.5`
            (Marker.ARABIC_PAREN, ""),
        )
    )
    + ")"
)
_NESTING_QUOTE_OR_BREAK = re.compile('[（(〔【\\[［《）)〕】\\]］》“”‘’"\n]')

_TRAILING_DOC_NUMBER = re.compile(
    r"^(.*\S)\s+([\u4e00-\u9fff]{1,12}\s*[〔\[［(（]\s*\d{4}\s*[〕\]］)）]\s*\d{1,4}\s*号)$"
)


def clean_lines(text: str) -> list[str]:
    """Source text → stripped lines; markup, page numbers and indentation gone.

    Blank lines are dropped: PDF extraction inserts them mid-paragraph, so the
    paragraph joiner decides where paragraphs end from the text itself.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    markdown = bool(_YAML_FRONT_MATTER.match(text) or _MARKDOWN_ATX.search(text))
    text = _YAML_FRONT_MATTER.sub("", text)
    if markdown and "](" in text:
        text = _MARKDOWN_LINK.sub("\\1", _MARKDOWN_IMAGE.sub("\n", text))
    if markdown and "<" in text:
        text = _INLINE_HTML_TAG.sub("\n", _HTML_COMMENT.sub("\n", text))
    if "&" in text:
        text = html.unescape(text)
    if "\u200d" in text or "\u200b" in text or "\u200c" in text or "\u2060" in text:
        text = _ZERO_WIDTH.sub("\n", text)
    if "章" in text:
        text = _CHAPTER_RUN_IN.sub("\\1\n", text)
    if _INLINE_PAGE_NUMBER_CORE.search(text):
        text = _INLINE_PAGE_NUMBER.sub("\n", text)
    if _ITEM_RUN_IN.search(text):
        text = _break_before_run_in_items(text)
    lines = []
    new_paragraph = False
    for raw in text.split("\n"):
        line = raw.strip(_WS)
        if not line:
            new_paragraph = markdown
            continue  # about half the lines of a PDF extraction: leave them early
        if markdown and _MARKDOWN_BULLET.match(line) and not _MARKDOWN_RULE.match(line):
            line = _MARKDOWN_BULLET.sub("", line)
            new_paragraph = True
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
            new_paragraph = new_paragraph or markdown
        if "〖" in line:
            line = _TYPESETTING_CODE.sub("", line)
        if not line or _PAGE_NUMBER_LINE.match(line):
            continue
        # Web pages put the 文号 on the title's line: `关于……的通知 国能综通安全〔2021〕108号`.
        parts = line.endswith("号") and _TRAILING_DOC_NUMBER.match(line)
        if parts and _looks_like_title(re.sub(r"\s+", "", parts.group(1))):
            lines.extend([parts.group(1), parts.group(2)])
            new_paragraph = False
            continue
        if marked:
            line = TITLE_MARK + line
        elif new_paragraph:
            line = PARAGRAPH_MARK + line
        new_paragraph = False
        lines.append(line)
    return lines


def _break_before_run_in_items(text: str) -> str:
    """`text` with a line break before each `_ITEM_RUN_IN` item that stands outside
    brackets and quotes on its line. One pass: the nesting read up to one match is
    carried to the next, and a line break (the text's own or one made here) resets it."""
    pieces: list[str] = []
    kept = scanned = depth = quotes = 0
    straight = False  # inside ASCII double quotes
    for match in _ITEM_RUN_IN.finditer(text):
        for mark in _NESTING_QUOTE_OR_BREAK.findall(text, scanned, match.start()):
            if mark == "\n":
                depth = quotes = 0
                straight = False
            elif mark in "“‘":
                quotes += 1
            elif mark in "”’":
                quotes = max(0, quotes - 1)
            elif mark == '"':
                straight = not straight
            elif mark in _BRACKET_OPENERS or mark == "《":  # as `marks._bracket_depth` counts
                depth += 1
            else:
                depth = max(0, depth - 1)  # a stray closer does not go below zero
        scanned = match.end()
        if depth or quotes or straight:
            continue
        pieces.append(text[kept : match.start()])
        pieces.append("\n")
        kept = match.end()
    pieces.append(text[kept:])
    return "".join(pieces)
