"""Units files written by `segment` and read back: JSON Lines or Parquet."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from enum import StrEnum
from pathlib import Path

from corpus_tools.errors import CorpusToolsError
from corpus_tools.schema import Unit


class OutputFormat(StrEnum):
    JSONL = "jsonl"
    PARQUET = "parquet"


def output_format(path: Path) -> OutputFormat:
    return OutputFormat.PARQUET if path.suffix.lower() == ".parquet" else OutputFormat.JSONL


UNIT_FILE_SUFFIXES = (".jsonl", ".parquet")


def unit_files_in(folder: Path) -> list[Path]:
    """The units files (`.jsonl`/`.parquet`) under `folder`, recursively, sorted."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in UNIT_FILE_SUFFIXES
    )


def write_units(units: Iterable[Unit], output: Path, *, fmt: OutputFormat | None = None) -> int:
    """Write units as JSON Lines, or Parquet when `output` ends in `.parquet`
    (or `fmt` says so: a temporary file's suffix says nothing)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    writers = {OutputFormat.JSONL: _write_jsonl, OutputFormat.PARQUET: _write_parquet}
    return writers[fmt or output_format(output)](units, output)


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
