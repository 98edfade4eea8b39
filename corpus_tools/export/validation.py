"""Each task checked against the schema, its annotations read into `Judgement`s.

Labels must be the schema's; a span must match its text (`text[start:end] ==
span text`, UTF-16 offsets converted) and not overlap another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from corpus_tools.errors import ExportError
from corpus_tools.export.records import InvalidSpan, Judgement, TaskRecord, _Tally
from corpus_tools.schema import (
    LS_MEASURE_TYPE,
    LS_SPANS,
    MEASURE_TYPE_NAMES_ZH,
    MEASURE_TYPES,
    SPAN_LABEL_NAMES_ZH,
    SPAN_LABELS,
    Span,
)

# The label config shows Chinese names; the stored value should be the id,
# but a config that stores the names is mapped back rather than refused.
_MEASURE_TYPE_IDS: dict[str, str] = {m: m for m in MEASURE_TYPES} | {
    name: str(m) for m, name in MEASURE_TYPE_NAMES_ZH.items()
}
_SPAN_LABEL_IDS: dict[str, str] = {s: s for s in SPAN_LABELS} | {
    name: str(s) for s, name in SPAN_LABEL_NAMES_ZH.items()
}
_UNIT_FIELDS = ("unit_id", "doc_id", "text")


def iter_task_records(
    tasks: Iterable[dict], *, skip_invalid: bool = False, tally: _Tally | None = None
) -> Iterator[TaskRecord]:
    """Validate each task and yield it with its usable judgements (latest per annotator).

    Raises ExportError for off-schema labels, tasks not made by `push`, and
    (unless `skip_invalid`) spans that do not match the text.
    """
    tally = tally if tally is not None else _Tally()
    for position, task in enumerate(tasks):
        tally.tasks += 1
        task_id = task.get("id", f"#{position}")
        data = task["data"]
        for key in _UNIT_FIELDS:
            if not isinstance(data.get(key), str):
                raise ExportError(
                    f"task {task_id}: data has no {key!r}; expected tasks pushed by "
                    "`corpus-tools push` (one segment unit per task)"
                )
        annotations = task["annotations"]
        if not annotations:
            tally.without_annotation += 1
            continue
        latest: dict[str, Judgement] = {}
        for order, annotation in enumerate(annotations):
            tally.annotations += 1
            judgement = _read_annotation(
                task_id, data["text"], annotation, order, skip_invalid, tally
            )
            if judgement is None:
                continue
            previous = latest.get(judgement.annotator)
            if previous is None or judgement.order > previous.order:
                latest[judgement.annotator] = judgement
        if not latest:
            tally.without_usable += 1
            continue
        yield TaskRecord(task_id, data, tuple(sorted(latest.values(), key=lambda j: j.annotator)))


def _annotator(completed_by: Any) -> str:
    # The numeric user id, not the e-mail: the dataset carries no personal data.
    if isinstance(completed_by, dict):
        completed_by = completed_by.get("id", "")
    return "" if completed_by is None else str(completed_by)


def _read_annotation(
    task_id: Any, text: str, annotation: dict, order: int, skip_invalid: bool, tally: _Tally
) -> Judgement | None:
    if not isinstance(annotation, dict):
        raise ExportError(
            f"task {task_id}: an annotation is a {type(annotation).__name__}, not an object"
        )
    annotation_id = annotation.get("id")
    if annotation.get("was_cancelled"):
        tally.cancelled += 1
        return None
    measure_types: list[str] = []
    spans: list[Span] = []
    for item in annotation.get("result") or []:
        reader = _RESULT_READERS.get(item.get("from_name"))
        if reader is None:
            raise ExportError(
                f"task {task_id}, annotation {annotation_id}: result from "
                f"{item.get('from_name')!r} is not in the corpus-tools label config (expected "
                f"{LS_MEASURE_TYPE!r} and {LS_SPANS!r}); the project uses a different label "
                "config — export a project created by `corpus-tools push`"
            )
        reader(task_id, annotation_id, text, item, measure_types, spans, skip_invalid, tally)
    if len(measure_types) > 1:
        raise ExportError(
            f"task {task_id}, annotation {annotation_id}: {len(measure_types)} measure types "
            f"{measure_types}, expected one (single choice); the project uses a different label config"
        )
    if not measure_types:
        tally.incomplete += 1
        return None
    spans = _drop_overlaps(task_id, annotation_id, spans, skip_invalid, tally)
    stamp = str(annotation.get("updated_at") or annotation.get("created_at") or "")
    return Judgement(
        task_id=task_id,
        annotation_id=annotation_id,
        annotator=_annotator(annotation.get("completed_by")),
        order=(stamp, order),
        measure_type=measure_types[0],
        spans=tuple(spans),
    )


def _read_measure_type(
    task_id, annotation_id, text, item, measure_types, spans, skip_invalid, tally
):
    for choice in (item.get("value") or {}).get("choices") or []:
        measure_type = _MEASURE_TYPE_IDS.get(choice)
        if measure_type is None:
            raise ExportError(
                f"task {task_id}, annotation {annotation_id}: measure type {choice!r} is not in "
                f"the schema (expected one of {', '.join(MEASURE_TYPES)}); the annotations were "
                "made with a different label config"
            )
        measure_types.append(measure_type)


def _read_span(task_id, annotation_id, text, item, measure_types, spans, skip_invalid, tally):
    value = item.get("value") or {}
    labels = value.get("labels") or []
    start, end, span_text = value.get("start"), value.get("end"), value.get("text")
    for label in labels:
        if label not in _SPAN_LABEL_IDS:
            raise ExportError(
                f"task {task_id}, annotation {annotation_id}: span label {label!r} is not in the "
                f"schema (expected one of {', '.join(SPAN_LABELS)}); the annotations were made "
                "with a different label config"
            )
    label = _SPAN_LABEL_IDS[labels[0]] if len(labels) == 1 else "/".join(labels)

    def invalid(reason: str) -> None:
        problem = InvalidSpan(task_id, annotation_id, start, end, label, str(span_text), reason)
        if not skip_invalid:
            raise ExportError(
                f"{problem.describe()}; fix it in Label Studio or pass --skip-invalid to leave "
                "such spans out (they are counted in the report)"
            )
        tally.invalid.append(problem)

    if len(labels) != 1:
        return invalid(f"has {len(labels)} labels, expected one")
    if not (isinstance(start, int) and isinstance(end, int) and isinstance(span_text, str)):
        return invalid("lacks integer start/end or text")
    if not (0 <= start < end <= len(text) and text[start:end] == span_text):
        converted = _from_utf16(text, start, end)
        if converted is None or text[converted[0] : converted[1]] != span_text:
            return invalid(
                f"does not match the unit text: text[{start}:{end}] is {text[start:end]!r}"
            )
        tally.utf16 += 1
        start, end = converted
    spans.append(Span(start=start, end=end, label=label, text=span_text))


_RESULT_READERS: dict[str, Callable[..., None]] = {
    LS_MEASURE_TYPE: _read_measure_type,
    LS_SPANS: _read_span,
}


def _from_utf16(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Offsets counted in UTF-16 units (as JavaScript does) to code points, if they differ."""
    if text.isascii() or all(ord(c) < 0x10000 for c in text):
        return None
    positions: dict[int, int] = {}
    units = 0
    for index, char in enumerate(text):
        positions[units] = index
        units += 2 if ord(char) >= 0x10000 else 1
    positions[units] = len(text)
    if start in positions and end in positions and positions[start] < positions[end]:
        return positions[start], positions[end]
    return None


def _drop_overlaps(
    task_id, annotation_id, spans: list[Span], skip_invalid: bool, tally
) -> list[Span]:
    # BIO tags cannot hold overlapping spans, and the guidelines forbid them.
    kept: list[Span] = []
    for span in sorted(set(spans), key=lambda s: (s.start, s.end, s.label)):
        if kept and span.start < kept[-1].end:
            other = kept[-1]
            problem = InvalidSpan(
                task_id,
                annotation_id,
                span.start,
                span.end,
                span.label,
                span.text,
                f"overlaps span [{other.start}, {other.end}) {other.label}",
            )
            if not skip_invalid:
                raise ExportError(
                    f"{problem.describe()}; spans must not overlap — fix it in Label Studio or "
                    "pass --skip-invalid"
                )
            tally.invalid.append(problem)
            continue
        kept.append(span)
    return kept
