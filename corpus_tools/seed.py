"""The seed annotation set: plain-JSONL judgements aligned to current units.

Annotators' judgements are kept as JSON Lines (`unit_id`, `doc_id`, `text`,
`measure_type`, `spans`, `annotator`). Unit ids carry the unit's index, so a
segmenter change elsewhere in a notice can move them; `align_to_units` finds
each judgement's unit again by id, then by its exact text in the same
document. A judgement whose unit text changed is reported, never stretched to
fit: its spans were judged on other text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from corpus_tools.errors import InputFileError
from corpus_tools.schema import MEASURE_TYPES, SPAN_LABELS, Unit


@dataclass(frozen=True, slots=True)
class Alignment:
    records: tuple[dict, ...]
    unplaced: tuple[dict, ...]


def judgement_problem(record: dict) -> str:
    """Why a judgement record is invalid, or "" when it is sound."""
    if record.get("measure_type") not in MEASURE_TYPES:
        return f"measure_type {record.get('measure_type')!r} is not one of the schema's ids"
    text = record.get("text", "")
    previous_end = 0
    for span in sorted(record.get("spans", []), key=lambda s: s["start"]):
        if span["label"] not in SPAN_LABELS:
            return f"span label {span['label']!r} is not one of {SPAN_LABELS}"
        if text[span["start"] : span["end"]] != span["text"]:
            return f"span {span} does not match text[{span['start']}:{span['end']}]"
        if span["start"] < previous_end:
            return f"span {span} overlaps the span before it"
        previous_end = span["end"]
    return ""


def align_to_units(records: Iterable[dict], units: Iterable[Unit]) -> Alignment:
    """Re-key judgements to the current units (see module doc)."""
    units = [u for u in units if u.kind == "body"]
    by_id = {u.unit_id: u for u in units}
    by_text = {(u.doc_id, u.text): u for u in reversed(units)}
    placed, unplaced = [], []
    for record in records:
        unit = by_id.get(record["unit_id"]) or by_text.get((record["doc_id"], record["text"]))
        if unit is None or unit.text != record["text"]:
            unplaced.append(record)
            continue
        placed.append({**record, "unit_id": unit.unit_id})
    return Alignment(tuple(placed), tuple(unplaced))


def apply_review(
    judgements: Iterable[dict], review: Iterable[dict], *, source: str = "review"
) -> list[dict]:
    """The final set: `judgements` with a consistency review's decisions in place.

    A review record replaces its unit's measure type and annotator, and its spans
    only when it carries `spans` (a review of the type alone keeps the pass's spans).
    Every review record must name a judged unit, once, and be sound."""
    decided: dict[str, dict] = {}
    for record in review:
        unit_id = record.get("unit_id")
        if unit_id in decided:
            raise InputFileError(source, f"unit {unit_id} is reviewed twice; keep one decision")
        decided[unit_id] = record
    merged, placed = [], set()
    for judgement in judgements:
        record = decided.get(judgement["unit_id"])
        if record is not None:
            placed.add(judgement["unit_id"])
            judgement = {
                **judgement,
                "measure_type": record["measure_type"],
                "spans": record.get("spans", judgement["spans"]),
                "annotator": record.get("annotator") or "consistency-review",
            }
            problem = judgement_problem(judgement)
            if problem:
                raise InputFileError(source, f"unit {judgement['unit_id']}: {problem}")
        merged.append(judgement)
    missing = sorted(decided.keys() - placed)
    if missing:
        raise InputFileError(
            source,
            f"{len(missing)} reviewed units have no judgement (e.g. {missing[0]}); "
            "a segmenter change may have re-cut them: review the current unit instead",
        )
    return merged
