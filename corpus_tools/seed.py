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
