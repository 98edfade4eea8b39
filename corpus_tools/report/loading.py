"""Inputs of a report → one polars frame of labelled units.

Two kinds of input hold labelled units: `prelabel` output (JSONL or Parquet;
predictions) and an exported dataset (`export`'s `DIR`, its `dataset/`, or one
of its `data/*.parquet` splits; gold labels). Each becomes rows of
`UNIT_SCHEMA`; only units that carry a measure type (body units) are kept.

JSONL is read in blocks of lines by pyarrow (a Python `json.loads` per line
would cost more than the whole report); a block that pyarrow refuses is read
again line by line, so a bad line is reported by its number and the rest goes on.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

import polars as pl

from corpus_tools.errors import InputFileError
from corpus_tools.schema import MEASURE_TYPES, SPAN_LABELS

BLOCK_LINES = 4096


class InputKind(StrEnum):
    PRELABEL_JSONL = "prelabel JSONL"
    PRELABEL_PARQUET = "prelabel Parquet"
    DATASET = "exported dataset"
    DATASET_PARQUET = "exported dataset split (Parquet)"


class Labels(StrEnum):
    PREDICTED = "predicted"
    GOLD = "gold"


@dataclass(frozen=True, slots=True)
class InputSummary:
    path: Path
    kind: InputKind
    units: int  # units with a measure type, as reported
    rows_read: int  # every record read (headings and meta of a prelabel file too)
    bad_lines: int


@dataclass(frozen=True, slots=True)
class LoadedUnits:
    frame: pl.DataFrame  # UNIT_SCHEMA rows, in input order
    inputs: tuple[InputSummary, ...]
    problems: tuple[InputFileError, ...]  # bad lines and unreadable files; the rest went on


def _arrow_schema():
    import pyarrow as pa

    span = pa.struct(
        [("start", pa.int32()), ("end", pa.int32()), ("label", pa.string()), ("text", pa.string())]
    )
    deadline = pa.struct(
        [
            ("text", pa.string()),
            ("date", pa.string()),
            ("date_start", pa.string()),
            ("relative", pa.string()),
        ]
    )
    strings = ("doc_id", "text", "title", "issuer", "sector", "genre", "doc_number", "date")
    return pa.schema(
        [("unit_id", pa.string()), ("kind", pa.string())]
        + [(name, pa.string()) for name in strings]
        + [
            ("unit_index", pa.int32()),
            ("measure_type", pa.string()),
            ("spans", pa.list_(span)),
            ("deadlines", pa.list_(deadline)),
        ]
    )


UNIT_SCHEMA: dict[str, pl.DataType] = {
    "unit_id": pl.String,
    "doc_id": pl.String,
    "unit_index": pl.Int32,
    "text": pl.String,
    "title": pl.String,
    "issuer": pl.String,
    "sector": pl.String,
    "genre": pl.String,
    "doc_number": pl.String,
    "date": pl.String,
    "measure_type": pl.String,
    "spans": pl.List(
        pl.Struct({"start": pl.Int32, "end": pl.Int32, "label": pl.String, "text": pl.String})
    ),
    "deadlines": pl.List(
        pl.Struct(
            {"text": pl.String, "date": pl.String, "date_start": pl.String, "relative": pl.String}
        )
    ),
    "labels": pl.String,
    "input": pl.String,
}
_REQUIRED = ("unit_id", "doc_id", "text")


def _conform(frame: pl.DataFrame, *, labels: Labels, source: Path) -> pl.DataFrame:
    """`frame` with exactly UNIT_SCHEMA's columns (missing text fields empty)."""
    texts = ("title", "issuer", "sector", "genre", "doc_number")
    frame = frame.with_columns(
        [pl.col(c).fill_null("") for c in texts if c in frame.columns]
        + [pl.lit(labels.value).alias("labels"), pl.lit(str(source)).alias("input")]
    )
    return frame.select(
        [
            (pl.col(c) if c in frame.columns else pl.lit(None)).cast(dtype).alias(c)
            for c, dtype in UNIT_SCHEMA.items()
        ]
    )


# ---------------------------------------------------------------- prelabel files


def _labelled(frame: pl.DataFrame) -> pl.DataFrame:
    """Body units with a prediction (headings and meta carry none)."""
    return frame.filter(pl.col("measure_type").is_not_null() & (pl.col("kind") == "body"))


def _read_block(data: bytes):
    import pyarrow.json as pj

    return pj.read_json(
        io.BytesIO(data),
        read_options=pj.ReadOptions(use_threads=True, block_size=1 << 24),
        parse_options=pj.ParseOptions(
            explicit_schema=_arrow_schema(), unexpected_field_behavior="ignore"
        ),
    )


def _line_problem(raw: bytes) -> str | None:
    """Why one line is not a prelabel record as far as JSON tells, or None."""
    try:
        record = json.loads(raw)
    except ValueError as error:
        return f"not JSON ({error})"
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not a record object"
    missing = [k for k in (*_REQUIRED, "measure_type") if k not in record]
    if missing:
        return (
            f"no {', '.join(missing)} field "
            "(a prelabel record has unit_id, doc_id, text, measure_type)"
        )
    wrong = [k for k in _REQUIRED if not isinstance(record[k], str)]
    if wrong:
        return f"{', '.join(wrong)} should be text"
    return None


def _typed_lines(
    path: Path, numbers: list[int], lines: list[bytes]
) -> Iterator[pl.DataFrame | InputFileError]:
    """Lines JSON found fine, read by pyarrow; a part it refuses (a field of the
    wrong type) is halved until the line is found."""
    import pyarrow as pa

    try:
        yield _labelled(pl.from_arrow(_read_block(b"\n".join(lines))))
        return
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        if len(lines) == 1:
            reason = str(error).splitlines()[0]
            yield InputFileError(
                str(path), f"line {numbers[0]}: a field has the wrong type ({reason}); skipped"
            )
            return
    half = len(lines) // 2
    yield from _typed_lines(path, numbers[:half], lines[:half])
    yield from _typed_lines(path, numbers[half:], lines[half:])


def _jsonl_blocks(path: Path) -> Iterator[tuple[list[int], list[bytes]]]:
    """(line numbers, lines) of `path`, BLOCK_LINES non-blank lines at a time."""
    numbers: list[int] = []
    lines: list[bytes] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if raw.strip():
                numbers.append(number)
                lines.append(raw.rstrip(b"\r\n"))
                if len(lines) >= BLOCK_LINES:
                    yield numbers, lines
                    numbers, lines = [], []
    if lines:
        yield numbers, lines


def _read_prelabel_jsonl(
    path: Path, on_rows: Callable[[int], None]
) -> Iterator[pl.DataFrame | InputFileError]:
    import pyarrow as pa

    for numbers, lines in _jsonl_blocks(path):
        try:
            frame = pl.from_arrow(_read_block(b"\n".join(lines)))
            good = frame.select([pl.col(c).is_not_null() for c in _REQUIRED]).min_horizontal()
            if good.all():
                on_rows(len(lines))
                yield _labelled(frame)
                continue
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
        kept_numbers: list[int] = []
        kept: list[bytes] = []
        for number, raw in zip(numbers, lines, strict=True):
            problem = _line_problem(raw)
            if problem is None:
                kept_numbers.append(number)
                kept.append(raw)
            else:
                yield InputFileError(str(path), f"line {number}: {problem}; skipped")
        on_rows(len(lines))
        if kept:
            yield from _typed_lines(path, kept_numbers, kept)


def _read_prelabel_parquet(
    path: Path, on_rows: Callable[[int], None]
) -> Iterator[pl.DataFrame | InputFileError]:
    import pyarrow.parquet as pq

    wanted = _arrow_schema().names
    parquet = pq.ParquetFile(path)
    columns = [c for c in wanted if c in parquet.schema_arrow.names]
    for batch in parquet.iter_batches(batch_size=1 << 16, columns=columns):
        frame = pl.from_arrow(batch)
        on_rows(frame.height)
        if "kind" not in frame.columns:
            frame = frame.with_columns(pl.lit("body").alias("kind"))
        yield _labelled(frame.with_columns(_spans_without_scores(frame)))


def _spans_without_scores(frame: pl.DataFrame) -> list[pl.Expr]:
    fields = {
        "spans": ("start", "end", "label", "text"),
        "deadlines": ("text", "date", "date_start", "relative"),
    }
    return [
        pl.col(name).list.eval(pl.struct([pl.element().struct.field(f) for f in keep]))
        for name, keep in fields.items()
        if name in frame.columns
    ]


# ---------------------------------------------------------------- exported datasets


def _dataset_dir(path: Path) -> Path | None:
    for candidate in (path, path / "dataset"):
        if (candidate / "dataset_dict.json").is_file() or (
            candidate / "dataset_info.json"
        ).is_file():
            return candidate
    return None


def _gold_frame(
    frame: pl.DataFrame, measure_names: list[str], span_names: list[str]
) -> pl.DataFrame:
    """An export's rows as units: class ids → names, deadlines normalised."""
    from corpus_tools.deadlines import deadline_for, notice_year_of

    frame = frame.rename({"id": "unit_id"}).with_columns(
        pl.col("measure_type").replace_strict(
            dict(enumerate(measure_names)), return_dtype=pl.String
        ),
        pl.col("spans").list.eval(
            pl.struct(
                pl.element().struct.field("start").cast(pl.Int32),
                pl.element().struct.field("end").cast(pl.Int32),
                pl.element()
                .struct.field("label")
                .replace_strict(dict(enumerate(span_names)), return_dtype=pl.String),
                pl.element().struct.field("text"),
            )
        ),
    )

    def deadlines(row: dict) -> list[dict]:
        found = []
        year = notice_year_of(
            date=row["date"],
            doc_number=row["doc_number"] or "",
            title=row["title"] or "",
            doc_id=row["doc_id"],
        )
        for span in row["spans"] or ():
            if span["label"] == "DEADLINE":
                # as `prelabel` normalises it (a `每年三月底前` recurs: no one date)
                d = deadline_for(
                    span["text"],
                    span["start"],
                    span["end"],
                    notice_date=row["date"],
                    notice_year=year,
                    before=(row["text"] or "")[: span["start"]],
                )
                found.append(
                    {
                        "text": d.text,
                        "date": d.date,
                        "date_start": d.date_start,
                        "relative": d.relative,
                    }
                )
        return found

    return frame.with_columns(
        pl.struct("spans", "text", "date", "doc_number", "title", "doc_id")
        .map_elements(deadlines, return_dtype=UNIT_SCHEMA["deadlines"])
        .alias("deadlines")
    )


def _class_names(features: dict, name: str, default: tuple[str, ...]) -> list[str]:
    """ClassLabel names of a feature in HF `features` JSON (the names may be nested in a list)."""
    feature = features.get(name)
    if isinstance(feature, list):  # spans: [{"label": ClassLabel}]
        feature = feature[0].get("label") if feature else None
    if isinstance(feature, dict) and feature.get("names"):
        return list(feature["names"])
    return list(default)


def _read_dataset(
    path: Path, on_rows: Callable[[int], None]
) -> Iterator[pl.DataFrame | InputFileError]:
    from datasets import DatasetDict, load_from_disk

    loaded = load_from_disk(str(_dataset_dir(path)))
    splits = loaded.values() if isinstance(loaded, DatasetDict) else (loaded,)
    for split in splits:
        features = split.features.to_dict()
        frame = pl.from_arrow(split.data.table)
        on_rows(frame.height)
        yield _gold_frame(
            frame,
            _class_names(features, "measure_type", MEASURE_TYPES),
            _class_names(features, "spans", SPAN_LABELS),
        )


def _read_dataset_parquet(
    path: Path, on_rows: Callable[[int], None]
) -> Iterator[pl.DataFrame | InputFileError]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    metadata = (table.schema.metadata or {}).get(b"huggingface")
    features = json.loads(metadata).get("info", {}).get("features", {}) if metadata else {}
    frame = pl.from_arrow(table)
    on_rows(frame.height)
    yield _gold_frame(
        frame,
        _class_names(features, "measure_type", MEASURE_TYPES),
        _class_names(features, "spans", SPAN_LABELS),
    )


# ---------------------------------------------------------------- dispatch

_READERS: dict[InputKind, Callable[[Path, Callable[[int], None]], Iterator]] = {
    InputKind.PRELABEL_JSONL: _read_prelabel_jsonl,
    InputKind.PRELABEL_PARQUET: _read_prelabel_parquet,
    InputKind.DATASET: _read_dataset,
    InputKind.DATASET_PARQUET: _read_dataset_parquet,
}
_LABELS: dict[InputKind, Labels] = {
    InputKind.PRELABEL_JSONL: Labels.PREDICTED,
    InputKind.PRELABEL_PARQUET: Labels.PREDICTED,
    InputKind.DATASET: Labels.GOLD,
    InputKind.DATASET_PARQUET: Labels.GOLD,
}
_EXPECTED = (
    "expected `corpus-tools prelabel` output (.jsonl or .parquet) or an exported dataset "
    "(`corpus-tools export` DIR, its dataset/ or a data/*.parquet split)"
)


def input_kind(path: Path) -> InputKind:
    """What `path` holds, by its suffix, layout or Parquet columns (InputFileError if none)."""
    if path.is_dir():
        if _dataset_dir(path) is not None:
            return InputKind.DATASET
        raise InputFileError(str(path), f"a directory with no dataset_dict.json; {_EXPECTED}")
    if not path.is_file():
        raise InputFileError(str(path), f"does not exist; {_EXPECTED}")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return InputKind.PRELABEL_JSONL
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            names = set(pq.read_schema(path).names)
        except (OSError, pa.ArrowInvalid) as error:
            raise InputFileError(str(path), f"cannot be read as Parquet ({error})") from None
        if {"unit_id", "measure_type"} <= names:
            return InputKind.PRELABEL_PARQUET
        if {"id", "measure_type", "spans"} <= names:
            return InputKind.DATASET_PARQUET
        raise InputFileError(
            str(path),
            f"a Parquet file with neither unit_id nor id + measure_type columns; {_EXPECTED}",
        )
    raise InputFileError(str(path), f"unknown file type {suffix or '(no suffix)'}; {_EXPECTED}")


def load_units(paths: list[Path], *, on_rows: Callable[[int], None] | None = None) -> LoadedUnits:
    """Every labelled unit of `paths`; unreadable files and bad lines are
    collected in `problems` and the rest is read."""
    import pyarrow as pa

    frames: list[pl.DataFrame] = []
    inputs: list[InputSummary] = []
    problems: list[InputFileError] = []
    # a file named twice is read once: its units would count double in every chart
    unique: dict[Path, Path] = {}
    for raw in paths:
        unique.setdefault(Path(raw).resolve(), Path(raw))
    for path in unique.values():
        try:
            kind = input_kind(path)
        except InputFileError as error:
            problems.append(error)
            continue
        counted = {"rows": 0}

        def count(rows: int, counted=counted) -> None:
            counted["rows"] += rows
            if on_rows is not None:
                on_rows(rows)

        units = bad = 0
        try:
            for item in _READERS[kind](path, count):
                if isinstance(item, InputFileError):
                    problems.append(item)
                    bad += 1
                    continue
                frames.append(_conform(item, labels=_LABELS[kind], source=path))
                units += item.height
        except (OSError, ValueError, pa.ArrowException) as error:
            problems.append(InputFileError(str(path), f"cannot be read as {kind.value} ({error})"))
        inputs.append(InputSummary(path, kind, units, counted["rows"], bad))
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=UNIT_SCHEMA)
    frame, inputs = _counted_once(frame, inputs, problems)
    return LoadedUnits(frame, tuple(inputs), tuple(problems))


def _counted_once(
    frame: pl.DataFrame, inputs: list[InputSummary], problems: list[InputFileError]
) -> tuple[pl.DataFrame, list[InputSummary]]:
    """Each unit once: two inputs holding the same units (a prelabel file and its
    copy, two overlapping runs) would count them double in every chart. The
    input that repeats them is named; its summary counts what was kept."""
    first = pl.col("unit_id").is_first_distinct()
    repeated = frame.filter(~first)
    if repeated.height == 0:
        return frame, inputs
    dropped: dict[str, int] = {}
    for (source,), group in repeated.group_by("input", maintain_order=True):
        dropped[source] = group.height
        problems.append(
            InputFileError(
                source,
                f"{group.height} units already read from an earlier input (the same unit_id, "
                f"e.g. {group['unit_id'][0]}); each is counted once: do two inputs hold the "
                "same notices?",
            )
        )
    inputs = [
        replace(summary, units=summary.units - dropped.get(str(summary.path), 0))
        for summary in inputs
    ]
    return frame.filter(first), inputs
