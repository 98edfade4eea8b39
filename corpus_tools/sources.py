"""Per-source metadata: issuer, sector and genre where a notice does not say them.

A folder of notices may hold a `metadata.csv` (the Hugging Face folder
convention) with one row per source: `file` (a glob on the file name, so a
text and its PDF share a row), `issuer`, `sector`, `genre`, `doc_number`,
`date` and `source` (where the document came from). A non-empty cell states
the value for every document read from a matching file; an empty cell leaves
what the segmenter read from the document itself. No per-file code: new
sources get a row, not a rule.

`sector` is the lead system of a sector sub-plan (`教育系统安全生产治本攻坚
三年行动方案` → `教育系统`), read from the title when the title names one,
else the table's value (the issuer's own field).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from fnmatch import fnmatch
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from corpus_tools.errors import InputFileError

if TYPE_CHECKING:
    from corpus_tools.segment import DocumentMeta

METADATA_FILE = "metadata.csv"
COLUMNS = ("file", "issuer", "sector", "genre", "doc_number", "date", "source")

# `X系统安全生产……方案` / `矿山安全生产……方案` / `消防安全……方案`: a plan titled by its field.
_SECTOR_TITLE = re.compile(
    r"^(?!关于)(?P<sector>[\u4e00-\u9fff]{2,10}?)安全(?:生产)?"
    r"(?=[\u4e00-\u9fff]{0,14}(?:方案|计划|规划|要点))"
)
# Lead words that name an issuer or a place, not a field.
_NOT_A_SECTOR = re.compile(
    r"(政府|委员会|安委会|办公室|办公厅|厅|局|公司|省|市|县|区|全国|全省|全市)$"
)


@dataclass(frozen=True, slots=True)
class SourceRow:
    file: str
    issuer: str = ""
    sector: str = ""
    genre: str = ""
    doc_number: str = ""
    date: str = ""
    source: str = ""


def sector_from_title(title: str) -> str:
    """The field a plan's title names (`教育系统`, `化工和危险化学品`, `矿山`), or ""."""
    match = _SECTOR_TITLE.match(title)
    if match is None or _NOT_A_SECTOR.search(match["sector"]):
        return ""
    return match["sector"]


@cache
def read_source_table(path: Path) -> tuple[SourceRow, ...]:
    """Rows of one `metadata.csv`; a malformed table is an error naming it."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or "file" not in reader.fieldnames:
                raise InputFileError(
                    str(path), f"expected a CSV header with a 'file' column and any of {COLUMNS}"
                )
            unknown = set(reader.fieldnames) - set(COLUMNS)
            if unknown:
                raise InputFileError(
                    str(path), f"unknown columns {sorted(unknown)}; expected some of {COLUMNS}"
                )
            return tuple(
                SourceRow(**{k: (v or "").strip() for k, v in row.items() if k in COLUMNS})
                for row in reader
            )
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputFileError(str(path), f"cannot read the source table: {error}") from error


def source_row_for(path: Path) -> SourceRow | None:
    """The row of the nearest `metadata.csv` (the file's folder or a parent) naming `path`."""
    for folder in path.resolve().parents:
        table = folder / METADATA_FILE
        if table.is_file():
            return next((r for r in read_source_table(table) if fnmatch(path.name, r.file)), None)
    return None


def with_source_metadata(meta: DocumentMeta, row: SourceRow | None) -> DocumentMeta:
    """`meta` with the table's stated values and the sector a title names."""
    sector = sector_from_title(meta.title)
    if row is None:
        return replace(meta, sector=sector) if sector else meta
    return replace(
        meta,
        issuer=row.issuer or meta.issuer,
        sector=sector or row.sector or meta.sector,
        genre=row.genre or meta.genre,
        doc_number=row.doc_number or meta.doc_number,
        date=row.date or meta.date,
    )


def evaluation_only(paths: list[Path]):
    """A test for unit texts that share a sentence with the notices of `paths`
    (held out of training): whitespace is ignored; a unit counts when its text
    stands inside a longer sentence there, as a quoted accident report does, and
    when one of their sentences stands inside the unit, as a sub-plan's
    `落实“谁执法谁普法”普法责任制，深入开展安全生产法治宣传教育，……` does."""
    from corpus_tools.ingest import READERS, iter_input_files, read_source
    from corpus_tools.segment import clean_lines

    def text_of(path: Path) -> str:
        # a file no reader takes (a scan, an empty file) holds no sentence to keep out
        if path.suffix.lower() not in READERS:
            return ""
        try:
            return _WHITESPACE.sub("", "".join(clean_lines(read_source(path).text)))
        except InputFileError:
            return ""

    corpus = "\n".join(text_of(path) for path in iter_input_files(paths))

    sentences = {
        sentence for sentence in _SENTENCE_END.split(corpus) if len(sentence) >= _MIN_SHARED_CHARS
    }

    def occurs(text: str) -> bool:
        compact = _WHITESPACE.sub("", text)
        if len(compact) < _MIN_SHARED_CHARS:
            return False
        return compact in corpus or any(sentence in compact for sentence in sentences)

    return occurs


_WHITESPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[。！？；\n]")
# shorter texts (`一、工作目标`) recur in every plan; a sentence of this length does not
_MIN_SHARED_CHARS = 12
