"""Read notice files of any supported format into raw text lines.

Each reader returns plain text with one source line (or block element) per
line. Layout the segmenter needs is kept in-band: form feeds mark page breaks,
and a line that starts with `TITLE_MARK` is a bold run-in title from HTML or
Word. The segmenter removes the mark; unit text keeps the source characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from corpus_tools.errors import InputFileError

TITLE_MARK = "\x1e"
# A line that starts a paragraph whatever the line before it (see `clean_lines`).
PARAGRAPH_MARK = "\x1d"

# Block-level HTML elements: each starts a new line in the text.
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "tr",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "tbody",
        "thead",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "hr",
    ]
)
# a page's navigation, side bars and footer (版权所有…ICP备) are the site's, not the notice's
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "noscript", "nav", "footer", "aside"})
_HTML_TAG = re.compile(r"<(?:p|div|br|span|strong|table|td|h[1-6])\b[^>]*>", re.IGNORECASE)
_BOLD_TAGS = frozenset({"strong", "b"})
_SENTENCE_END = ("。", "．")


class SourceFormat(StrEnum):
    TEXT = "text"
    HTML = "html"
    PDF = "pdf"
    DOCX = "docx"


@dataclass(frozen=True, slots=True)
class SourceText:
    path: Path
    format: SourceFormat
    text: str


# A folder's own documentation (its sources, licence) is not a notice.
_FOLDER_DOCS = frozenset({"readme.md", "readme.txt", "license", "license.md"})


def iter_input_files(paths: Iterator[Path | str] | list[Path | str]) -> Iterator[Path]:
    """Expand directories recursively (sorted); keep files as given.

    A directory gives its notice files, and its files that look like notices in a
    form no reader takes (`.doc`, images), for the reader to report by name.
    A file named twice (`data/notices data/notices/a.txt`) comes once, so its units
    are not doubled. A directory with no notice file in it comes as itself, for the
    reader to report (`read_source`) instead of passing unnoticed."""
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and (p.suffix.lower() in READERS or p.suffix.lower() in _NOTICES_UNREAD)
                and p.name.lower() not in _FOLDER_DOCS
            )
        else:
            found = [path]
        for file in found or [path]:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                yield file


def read_source(path: Path) -> SourceText:
    """Read one file into text, or raise `InputFileError` naming it and why."""
    if not path.exists():
        raise InputFileError(str(path), "file does not exist; check the path")
    if path.is_dir():
        raise InputFileError(
            str(path), f"folder holds no notice file ({' '.join(READERS)}); check the path"
        )
    if not path.is_file():
        raise InputFileError(str(path), "not a regular file")
    if path.suffix.lower() in _NOT_NOTICES:
        raise InputFileError(str(path), _NOT_NOTICES[path.suffix.lower()])
    data = path.read_bytes()
    if not data.strip():
        raise InputFileError(str(path), "file is empty; nothing to segment")
    reader = READERS.get(path.suffix.lower(), _read_text)
    return reader(path, data)


def _read_text(path: Path, data: bytes) -> SourceText:
    text = _decode(path, data)
    if len(_HTML_TAG.findall(text[:200_000])) >= 3:
        return SourceText(path, SourceFormat.HTML, html_to_text(text))
    return SourceText(path, SourceFormat.TEXT, text)


def _decode(path: Path, data: bytes) -> str:
    from charset_normalizer import from_bytes

    if b"\x00" in data[:8192]:
        raise InputFileError(str(path), "binary file (NUL bytes); expected text, HTML, PDF or DOCX")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass  # not UTF-8: let charset-normalizer tell GB18030/GBK from the rest
    best = from_bytes(data, cp_isolation=None).best()
    if best is None:
        raise InputFileError(str(path), "not text in any known encoding (binary file?)")
    text = str(best)
    if _cjk_share(text) < 0.05:
        raise InputFileError(
            str(path), f"decoded as {best.encoding} but holds almost no Chinese text"
        )
    return text


def _cjk_share(text: str) -> float:
    sample = text[:20_000]
    if not sample:
        return 0.0
    return sum(1 for ch in sample if "\u4e00" <= ch <= "\u9fff") / len(sample)


def _read_html(path: Path, data: bytes) -> SourceText:
    return SourceText(path, SourceFormat.HTML, html_to_text(_decode(path, data)))


def html_to_text(html: str) -> str:
    """Text of an HTML page or fragment, a line per block, bold run-in titles marked."""
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    tree = HTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return ""
    parts: list[str] = []
    _walk_html(root, parts)
    return "".join(parts)


def _walk_html(node, parts: list[str]) -> None:
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            parts.append(child.text(deep=False))
            continue
        if tag in _SKIP_TAGS or tag == "-comment" or _is_site_chrome(child):
            continue
        if tag in _BLOCK_TAGS:
            parts.append("\n")
        if tag in _BOLD_TAGS and _at_line_start(parts) and _is_run_in_title(child):
            parts.append(TITLE_MARK + child.text(deep=True) + "\n")
            continue
        _walk_html(child, parts)
        if tag in _BLOCK_TAGS:
            parts.append("\n")


# class or id words of a site's navigation and footer on pages without <nav>/<footer>
_CHROME_WORDS = frozenset({"nav", "navbar", "footer", "breadcrumb", "crumb", "crumbs", "copyright"})
_WORD = re.compile(r"[a-z]+")


def _is_site_chrome(node) -> bool:
    attributes = node.attributes
    names = f"{attributes.get('class') or ''} {attributes.get('id') or ''}".lower()
    return not _CHROME_WORDS.isdisjoint(_WORD.findall(names))


def _at_line_start(parts: list[str]) -> bool:
    for part in reversed(parts):
        head, newline, _ = part.rpartition("\n")
        tail = part if not newline else part[len(head) + 1 :]
        if tail.strip():
            return False
        if newline:
            return True
    return True


def _is_run_in_title(bold) -> bool:
    """A bold lead-in ending in 。 with more text after it in the same block."""
    text = bold.text(deep=True).strip()
    if not text.endswith(_SENTENCE_END):
        return False
    rest = []
    sibling = bold.next
    while sibling is not None:
        rest.append(sibling.text(deep=True) if sibling.tag != "-text" else sibling.text())
        sibling = sibling.next
    return bool("".join(rest).strip())


def _read_pdf(path: Path, data: bytes) -> SourceText:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs repair attempts on damaged files; the error we raise says it once.
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise InputFileError(str(path), f"corrupt or unreadable PDF ({error})") from None
    text = "\n\f\n".join(pages)
    if not text.strip():
        raise InputFileError(str(path), "PDF has no text layer (scanned?); run OCR first")
    return SourceText(path, SourceFormat.PDF, text)


def _read_docx(path: Path, data: bytes) -> SourceText:
    import io
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise InputFileError(str(path), f"corrupt or unreadable DOCX ({error})") from None
    lines = [_docx_paragraph_text(p) for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    return SourceText(path, SourceFormat.DOCX, "\n".join(lines))


def _docx_paragraph_text(paragraph) -> str:
    runs = paragraph.runs
    bold_prefix = ""
    for run in runs:
        if not run.bold:
            break
        bold_prefix += run.text
    text = paragraph.text
    lead = bold_prefix.strip()
    if lead and lead.endswith(_SENTENCE_END) and text.strip() != lead:
        cut = text.index(bold_prefix) + len(bold_prefix)
        return TITLE_MARK + text[:cut] + "\n" + text[cut:]
    return text


# Files a user may name by mistake: read as text they would give one unit of
# garbage (a Label Studio export is one 3-million-character "sentence").
_NOT_NOTICES: dict[str, str] = {
    ".json": "a JSON file, not a notice; a Label Studio export goes to `corpus-tools export`",
    ".jsonl": "a JSON Lines file, not a notice; `corpus-tools prelabel` reads units files",
    ".parquet": "a Parquet file, not a notice; `corpus-tools prelabel` reads units files",
    ".csv": "a table, not a notice; give the notice's text, HTML, PDF or Word file",
    ".xlsx": "a spreadsheet, not a notice; give the notice's text, HTML, PDF or Word file",
    ".doc": "a legacy Word (.doc) file; save it as .docx, which the reader understands",
    ".zip": "an archive; unpack it and give the folder",
}
_IMAGE = "an image, with no text to read; give the notice's text, or its PDF with a text layer"
# Notices in a form no reader takes: inside a folder they are reported by name,
# not passed over (tables, JSON and units files there are companions, not notices).
_NOTICES_UNREAD = {
    ".doc": _NOT_NOTICES[".doc"],
    ".wps": "a WPS document; save it as .docx, which the reader understands",
    ".rtf": "a Rich Text file; save it as .docx or .txt",
    ".odt": "an OpenDocument text; save it as .docx",
    ".zip": _NOT_NOTICES[".zip"],
    ".rar": _NOT_NOTICES[".zip"],
    ".7z": _NOT_NOTICES[".zip"],
} | dict.fromkeys((".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"), _IMAGE)
_NOT_NOTICES |= _NOTICES_UNREAD

READERS: dict[str, Callable[[Path, bytes], SourceText]] = {
    ".txt": _read_text,
    ".md": _read_text,
    ".text": _read_text,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
}
