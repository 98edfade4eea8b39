"""Units -> Label Studio task data, and pre-labels / seed annotations -> prediction and result items.

No network here: these read the input files and build the JSON Label Studio imports.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from corpus_tools.errors import InputFileError
from corpus_tools.schema import (
    LS_MEASURE_TYPE,
    LS_SPANS,
    LS_TEXT,
    MEASURE_TYPES,
    SPAN_LABELS,
    Span,
    Unit,
    UnitAnnotation,
    UnitKind,
)

_UNITS_HINT = "pass a `corpus-tools segment` or `prelabel` output (.jsonl or .parquet)"
_ANNOTATIONS_HINT = (
    "pass annotators' JSON Lines (unit_id, measure_type, spans), such as "
    "data/annotations/seed.jsonl"
)


def _read_records(path: Path, *, hint: str = _UNITS_HINT) -> list[dict[str, Any]]:
    """Rows of a units (or pre-label, or annotations) JSONL / Parquet file as
    dicts, extra fields kept."""
    if not path.exists():
        raise InputFileError(str(path), f"no such file; {hint}")
    if path.is_dir():
        raise InputFileError(str(path), f"a folder, not a file; {hint}")
    if path.suffix == ".parquet":
        import polars as pl

        try:
            return pl.read_parquet(path).to_dicts()
        except Exception as error:  # polars raises many kinds for a bad file
            raise InputFileError(
                str(path), f"not a readable Parquet file ({error.__class__.__name__})"
            ) from None
    rows = []
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    raise InputFileError(str(path), f"line {number} is not JSON; {hint}") from None
                if not isinstance(row, dict):
                    raise InputFileError(str(path), f"line {number} is not a JSON object; {hint}")
                rows.append(row)
    except UnicodeDecodeError as error:
        raise InputFileError(
            str(path), f"not UTF-8 text (byte {error.start}), so no JSON Lines file; {hint}"
        ) from None
    return rows


def unit_records(
    source: Path | str | Iterable[Mapping[str, Any] | Unit],
) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(source, str | Path):
        return str(source), _read_records(Path(source))
    rows = [item.to_dict() if isinstance(item, Unit) else dict(item) for item in source]
    return "<units>", rows


def task_data(unit: Unit, *, prev_text: str = "", next_text: str = "") -> dict[str, Any]:
    """A Label Studio task's `data`: the unit record plus display strings."""
    return {
        **unit.to_dict(),
        "section": " › ".join(unit.section_path),
        "prev_text": prev_text,
        "next_text": next_text,
    }


def task_heading(data: Mapping[str, Any]) -> str:
    """The heading a task's unit sits under (the model reads it beside the text)."""
    from corpus_tools.model.context import heading_of

    path = data.get("section_path")
    if not isinstance(path, list):
        path = [p for p in str(data.get("section") or "").split(" › ") if p]
    return heading_of([str(p) for p in path])


def with_context(
    rows: list[dict[str, Any]], origin: str
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(task data, input row) for every body unit, in input order.

    Neighbours are the units of the same document in the input, of any kind,
    by unit_index: the sentence before a paragraph's first sentence is the
    heading above it, which is what a reader of the notice sees.
    """
    units: list[Unit] = []
    for number, row in enumerate(rows, 1):
        try:
            units.append(Unit.from_dict(row))
        except (KeyError, TypeError, ValueError) as error:
            raise InputFileError(
                origin, f"record {number} is not a unit ({error.__class__.__name__}: {error})"
            ) from None
    by_doc: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        by_doc[unit.doc_id].append(unit)
    neighbours: dict[str, tuple[str, str]] = {}
    for doc_units in by_doc.values():
        doc_units.sort(key=lambda u: u.unit_index)
        for i, unit in enumerate(doc_units):
            prev_text = doc_units[i - 1].text if i > 0 else ""
            next_text = doc_units[i + 1].text if i + 1 < len(doc_units) else ""
            neighbours[unit.unit_id] = (prev_text, next_text)
    out = []
    seen: set[str] = set()
    for unit, row in zip(units, rows, strict=True):
        if unit.kind != UnitKind.BODY or unit.unit_id in seen:
            continue
        seen.add(unit.unit_id)
        prev_text, next_text = neighbours[unit.unit_id]
        out.append((task_data(unit, prev_text=prev_text, next_text=next_text), row))
    return out


def span_results(
    text: str, spans: Iterable[Mapping[str, Any]], unit_id: str, origin: str, *, scored: bool
) -> list[dict]:
    results = []
    for number, raw in enumerate(spans, 1):
        span = Span(
            start=int(raw["start"]),
            end=int(raw["end"]),
            label=str(raw["label"]),
            text=str(raw.get("text", text[int(raw["start"]) : int(raw["end"])])),
            score=raw.get("score"),
        )
        if not span.is_valid_for(text):
            raise InputFileError(
                origin,
                f"unit {unit_id}: span {number} [{span.start}, {span.end}) {span.label} {span.text!r} "
                f"does not match the unit text (expected text[start:end] and a label in {', '.join(SPAN_LABELS)})",
            )
        result: dict[str, Any] = {
            "id": f"span{number}",
            "from_name": LS_SPANS,
            "to_name": LS_TEXT,
            "type": "labels",
            "value": {
                "start": span.start,
                "end": span.end,
                "text": span.text,
                "labels": [span.label],
            },
        }
        if scored and span.score is not None:
            result["score"] = float(span.score)
        results.append(result)
    return results


def measure_result(
    measure_type: str, unit_id: str, origin: str, score: float | None = None
) -> dict:
    if measure_type not in MEASURE_TYPES:
        raise InputFileError(
            origin,
            f"unit {unit_id}: measure_type {measure_type!r} is not one of {', '.join(MEASURE_TYPES)}",
        )
    result: dict[str, Any] = {
        "id": "measure",
        "from_name": LS_MEASURE_TYPE,
        "to_name": LS_TEXT,
        "type": "choices",
        "value": {"choices": [measure_type]},
    }
    if score is not None:
        result["score"] = float(score)
    return result


def prelabel_prediction(
    data: Mapping[str, Any], row: Mapping[str, Any], origin: str
) -> dict[str, Any] | None:
    """A Label Studio prediction from a pre-label row, or None for a plain unit."""
    measure_type = row.get("measure_type")
    if not measure_type:
        return None
    unit_id, text = data["unit_id"], data["text"]
    score = row.get("measure_type_score")
    result = [measure_result(measure_type, unit_id, origin, score)]
    result += span_results(text, row.get("spans") or (), unit_id, origin, scored=True)
    prediction: dict[str, Any] = {
        "model_version": str(row.get("model_version") or "prelabel"),
        "result": result,
    }
    if score is not None:
        prediction["score"] = float(score)
    return prediction


def annotation_result(row: Mapping[str, Any], text: str, origin: str) -> list[dict]:
    """A seed-format judgement as Label Studio result items, checked against the task text."""
    unit_id = str(row["unit_id"])
    result = [measure_result(str(row.get("measure_type") or ""), unit_id, origin)]
    return result + span_results(text, row.get("spans") or (), unit_id, origin, scored=False)


def annotation_records(
    source: Path | str | Iterable[Mapping[str, Any] | UnitAnnotation],
) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(source, str | Path):
        rows = _read_records(Path(source), hint=_ANNOTATIONS_HINT)
        for number, row in enumerate(rows, 1):
            missing = [key for key in ("unit_id", "measure_type") if not row.get(key)]
            if missing:
                raise InputFileError(
                    str(source),
                    f"record {number} is no annotation (no {', '.join(missing)}); "
                    f"{_ANNOTATIONS_HINT}",
                )
        return str(source), rows
    rows = []
    for item in source:
        if isinstance(item, UnitAnnotation):
            rows.append(
                {
                    "unit_id": item.unit_id,
                    "measure_type": item.measure_type,
                    "spans": [
                        {"start": s.start, "end": s.end, "label": s.label, "text": s.text}
                        for s in item.spans
                    ],
                    "annotator": item.annotator,
                }
            )
        else:
            rows.append(dict(item))
    return "<annotations>", rows
