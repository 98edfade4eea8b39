"""Label Studio annotations to a Hugging Face `DatasetDict` (the `export` stage).

Flow: Label Studio JSON -> validated `Judgement`s per task (generator) ->
one resolved annotation per unit (policy) -> polars frame -> splits by
document -> `DatasetDict` with `schema.dataset_features()` -> written as
`save_to_disk` output, Parquet files and a Hugging Face dataset card.

Output layout of `export_annotations(..., out_dir)`:

    out_dir/README.md            dataset card (YAML header + statistics)
    out_dir/data/{split}.parquet one Parquet file per split (HF features in its metadata)
    out_dir/dataset/             `DatasetDict.save_to_disk` output
    out_dir/export-report.json   the `ExportReport` as JSON

Nothing is dropped silently: cancelled and incomplete annotations, tasks
without annotation, conflicts left out and invalid spans are counted in the
`ExportReport` (and the card). A span whose `text[start:end]` does not match
its text is an error unless `skip_invalid=True`.
"""

from __future__ import annotations

import gc
import json
import random
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from corpus_tools.errors import ExportError
from corpus_tools.schema import (
    LS_MEASURE_TYPE,
    LS_SPANS,
    MEASURE_TYPE_NAMES_ZH,
    MEASURE_TYPES,
    NER_TAGS,
    SPAN_LABEL_NAMES_ZH,
    SPAN_LABELS,
    Span,
    dataset_features,
)

SPLITS: tuple[str, ...] = ("train", "validation", "test")
# Which split gets a document first when a rare measure type must be spread:
# a type seen in two documents goes to train and test, one in three to all.
_COVERAGE_ORDER: tuple[str, ...] = ("train", "test", "validation")
DEFAULT_LICENSE = "cc-by-4.0"
DEFAULT_SEED = 13
REPORT_FILE = "export-report.json"
CARD_FILE = "README.md"
DATASET_DIR = "dataset"
PARQUET_DIR = "data"

# The label config shows Chinese names; the stored value should be the id,
# but a config that stores the names is mapped back rather than refused.
_MEASURE_TYPE_IDS: dict[str, str] = {m: m for m in MEASURE_TYPES} | {
    name: str(m) for m, name in MEASURE_TYPE_NAMES_ZH.items()
}
_SPAN_LABEL_IDS: dict[str, str] = {s: s for s in SPAN_LABELS} | {
    name: str(s) for s, name in SPAN_LABEL_NAMES_ZH.items()
}
_MEASURE_INDEX = {m: i for i, m in enumerate(MEASURE_TYPES)}
_SPAN_INDEX = {s: i for i, s in enumerate(SPAN_LABELS)}
_NER_INDEX = {t: i for i, t in enumerate(NER_TAGS)}
_UNIT_FIELDS = ("unit_id", "doc_id", "text")


class Policy(StrEnum):
    """How several annotations of one unit become one."""

    MAJORITY = "majority"
    LATEST = "latest"
    DROP_CONFLICTS = "drop-conflicts"


@dataclass(frozen=True, slots=True)
class SplitSizes:
    """Fractions of units per split; they must add up to 1 (a zero leaves the split out)."""

    train: float = 0.8
    validation: float = 0.1
    test: float = 0.1

    def __post_init__(self) -> None:
        fractions = self.as_dict()
        if any(not 0 <= f <= 1 for f in fractions.values()) or self.train <= 0:
            raise ExportError(
                f"split sizes {fractions}: each must be between 0 and 1 and train above 0"
            )
        if abs(sum(fractions.values()) - 1) > 1e-6:
            raise ExportError(
                f"split sizes {fractions} add up to {sum(fractions.values()):g}, expected 1; "
                "e.g. --train 0.8 --validation 0.1 --test 0.1"
            )

    def as_dict(self) -> dict[str, float]:
        return {"train": self.train, "validation": self.validation, "test": self.test}

    def active(self) -> tuple[str, ...]:
        return tuple(s for s, f in self.as_dict().items() if f > 0)


@dataclass(frozen=True, slots=True)
class InvalidSpan:
    """A span region that cannot be used: its reason says why."""

    task_id: Any
    annotation_id: Any
    start: Any
    end: Any
    label: str
    text: str
    reason: str

    def describe(self) -> str:
        return (
            f"task {self.task_id}, annotation {self.annotation_id}: span "
            f"[{self.start}, {self.end}) {self.label} {self.text!r} {self.reason}"
        )


@dataclass(frozen=True, slots=True)
class Judgement:
    """One annotator's valid judgement of one task."""

    task_id: Any
    annotation_id: Any
    annotator: str
    order: tuple[str, int]  # (updated_at or created_at, position): later sorts higher
    measure_type: str
    spans: tuple[Span, ...]

    def span_keys(self) -> frozenset[tuple[int, int, str]]:
        return frozenset((s.start, s.end, s.label) for s in self.spans)


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A task's unit data and its usable judgements (latest per annotator)."""

    task_id: Any
    data: dict
    judgements: tuple[Judgement, ...]


@dataclass(frozen=True, slots=True)
class Agreement:
    """Inter-annotator agreement on the units judged by two or more annotators.

    Pairs are (unit, annotator a < annotator b); with exactly two annotators the
    kappa is Cohen's kappa; with more, the pairs of all annotator couples are pooled.
    Span F1 counts exact matches of (start, end, label): 2·|A∩B| / (|A| + |B|).
    """

    units: int = 0
    pairs: int = 0
    measure_type_observed: float | None = None
    measure_type_kappa: float | None = None
    span_f1: dict[str, float | None] = field(default_factory=dict)
    span_f1_micro: float | None = None
    # Cohen's kappa of each measure type against the rest (None where neither pass used it)
    measure_type_kappa_per_label: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SplitSummary:
    units: int
    documents: int
    measure_types: dict[str, int]
    span_labels: dict[str, int]
    missing_measure_types: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export read, kept, left out and measured."""

    source: str
    policy: str
    seed: int
    split_sizes: dict[str, float]
    tasks: int
    annotations: int
    cancelled_annotations: int
    incomplete_annotations: int
    tasks_without_annotation: int
    tasks_without_usable_annotation: int
    multi_annotated_tasks: int
    conflicts_dropped: int
    invalid_spans: tuple[InvalidSpan, ...]
    offsets_converted_from_utf16: int
    units_exported: int
    documents: int
    splits: dict[str, SplitSummary]
    agreement: Agreement
    empty_splits: tuple[str, ...] = ()
    out_dir: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def notes(self) -> list[str]:
        """Plain-language lines about everything not exported as is."""
        lines = []
        counts = {
            "cancelled/skipped annotations": self.cancelled_annotations,
            "annotations without a measure type (incomplete)": self.incomplete_annotations,
            "tasks without any annotation": self.tasks_without_annotation,
            "tasks whose annotations were all cancelled or incomplete": (
                self.tasks_without_usable_annotation
            ),
            "units left out as conflicting (drop-conflicts)": self.conflicts_dropped,
            "invalid spans left out (--skip-invalid)": len(self.invalid_spans),
            "spans whose offsets were UTF-16 and were converted": (
                self.offsets_converted_from_utf16
            ),
        }
        lines += [f"{n} {what}" for what, n in counts.items() if n]
        lines += [
            f"{name} left out: no document was left for it (too few documents)"
            for name in self.empty_splits
        ]
        for name, split in self.splits.items():
            if split.missing_measure_types:
                lines.append(
                    f"{name} lacks {', '.join(split.missing_measure_types)} "
                    "(too few documents with them)"
                )
        return lines


@dataclass(slots=True)
class _Tally:
    """Counters filled while the task stream is read (internal, mutable)."""

    tasks: int = 0
    annotations: int = 0
    cancelled: int = 0
    incomplete: int = 0
    without_annotation: int = 0
    without_usable: int = 0
    utf16: int = 0
    invalid: list[InvalidSpan] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Export:
    """An export built in memory: the dataset and its report."""

    dataset: Any  # datasets.DatasetDict (imported lazily)
    report: ExportReport


# --------------------------------------------------------------------------- reading


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Parsing and building create millions of acyclic objects; the cyclic GC
    # would rescan them over and over (json.load of 100k tasks: 6 s -> 1.7 s).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@_gc_paused()
def read_label_studio_json(path: Path) -> list[dict]:
    """Read a Label Studio JSON export (a list of tasks), or raise one clear ExportError."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: no such file; pass a Label Studio JSON export or --project")
    raw = path.read_bytes()
    try:
        tasks = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        hint = _jsonl_hint(raw)
        raise ExportError(
            f"{path}: not JSON ({error.__class__.__name__}: {error}){hint}; expected a "
            "Label Studio JSON export as written by `corpus-tools pull`"
        ) from None
    check_label_studio_tasks(tasks, source=str(path))
    return tasks


def _jsonl_hint(raw: bytes) -> str:
    first = raw.split(b"\n", 1)[0]
    try:
        json.loads(first)
    except ValueError:
        return ""
    return " — it looks like JSON Lines (e.g. a `segment` units file), not a Label Studio export"


def check_label_studio_tasks(tasks: Any, *, source: str = "input") -> None:
    """Raise ExportError unless `tasks` has the shape of a Label Studio JSON export."""
    expected = (
        "expected a Label Studio JSON export (a list of tasks with 'data' and "
        "'annotations'; use `corpus-tools pull` or the JSON format, not JSON-MIN or CSV)"
    )
    if not isinstance(tasks, list):
        raise ExportError(f"{source}: found a JSON {type(tasks).__name__}; {expected}")
    for index, task in enumerate(tasks):
        if not isinstance(task, dict):
            raise ExportError(f"{source}: item {index} is a {type(task).__name__}; {expected}")
        missing = [key for key in ("data", "annotations") if key not in task]
        if (
            missing
            or not isinstance(task["data"], dict)
            or not isinstance(task["annotations"], list)
        ):
            what = f"has no {' or '.join(repr(m) for m in missing)}" if missing else "is malformed"
            raise ExportError(f"{source}: item {index} {what}; {expected}")


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


# --------------------------------------------------------------------------- policies


def _latest(judgements: Sequence[Judgement]) -> Judgement:
    return max(judgements, key=lambda j: j.order)


def _joined(judgements: Sequence[Judgement]) -> str:
    return ",".join(sorted({j.annotator for j in judgements}))


def resolve_latest(judgements: Sequence[Judgement]) -> Judgement | None:
    """The most recently updated annotation wins."""
    return _latest(judgements)


def resolve_majority(judgements: Sequence[Judgement]) -> Judgement | None:
    """Measure type by vote, spans kept when more than half marked them.

    Ties (a measure-type tie, a span marked by exactly half) go the way of the
    latest annotation. Kept spans cannot overlap: two spans each marked by
    more than half (or one by half and in the latest) share an annotation.
    """
    if len(judgements) == 1:
        return judgements[0]
    latest = _latest(judgements)
    votes = Counter(j.measure_type for j in judgements)
    top = max(votes.values())
    tied = {m for m, n in votes.items() if n == top}
    measure_type = _latest([j for j in judgements if j.measure_type in tied]).measure_type
    counts = Counter(s for j in judgements for s in j.spans)
    n = len(judgements)
    spans = tuple(
        sorted(
            (s for s, c in counts.items() if 2 * c > n or (2 * c == n and s in latest.spans)),
            key=lambda s: (s.start, s.end),
        )
    )
    return Judgement(
        latest.task_id, latest.annotation_id, _joined(judgements), latest.order, measure_type, spans
    )


def resolve_drop_conflicts(judgements: Sequence[Judgement]) -> Judgement | None:
    """Keep a unit only when every annotator gave the same type and the same spans."""
    if len({(j.measure_type, j.span_keys()) for j in judgements}) > 1:
        return None
    latest = _latest(judgements)
    return Judgement(
        latest.task_id,
        latest.annotation_id,
        _joined(judgements),
        latest.order,
        latest.measure_type,
        latest.spans,
    )


POLICIES: dict[Policy, Callable[[Sequence[Judgement]], Judgement | None]] = {
    Policy.MAJORITY: resolve_majority,
    Policy.LATEST: resolve_latest,
    Policy.DROP_CONFLICTS: resolve_drop_conflicts,
}


# --------------------------------------------------------------------------- agreement


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' labels; None when undefined (no items, one label only)."""
    if len(a) != len(b):
        raise ValueError("both raters must label the same items")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[label] * count_b[label] for label in count_a) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def agreement(records: Iterable[TaskRecord]) -> Agreement:
    """Cohen's kappa on measure type and exact-span F1 per label over annotator pairs."""
    import polars as pl

    rows = [
        {
            "task": index,
            "annotator": j.annotator,
            "measure_type": j.measure_type,
            "spans": [f"{s.start}\t{s.end}\t{s.label}" for s in j.spans],
        }
        for index, record in enumerate(records)
        if len(record.judgements) > 1
        for j in record.judgements
    ]
    if not rows:
        return Agreement(span_f1=dict.fromkeys(SPAN_LABELS))
    frame = pl.DataFrame(
        rows,
        schema={
            "task": pl.Int64,
            "annotator": pl.String,
            "measure_type": pl.String,
            "spans": pl.List(pl.String),
        },
    )
    pairs = frame.join(frame, on="task", suffix="_b").filter(
        pl.col("annotator") < pl.col("annotator_b")
    )
    first, second = pairs["measure_type"].to_list(), pairs["measure_type_b"].to_list()
    kappa = cohen_kappa(first, second)
    per_label = {
        label: cohen_kappa([m == label for m in first], [m == label for m in second])
        for label in MEASURE_TYPES
    }
    observed = float((pairs["measure_type"] == pairs["measure_type_b"]).mean())
    matched: Counter[str] = Counter()
    marked: Counter[str] = Counter()
    for spans_a, spans_b in zip(pairs["spans"].to_list(), pairs["spans_b"].to_list(), strict=True):
        set_a, set_b = set(spans_a), set(spans_b)
        for key in set_a & set_b:
            matched[key.rsplit("\t", 1)[1]] += 2
        for key in [*set_a, *set_b]:
            marked[key.rsplit("\t", 1)[1]] += 1
    span_f1 = {
        label: (matched[label] / marked[label] if marked[label] else None) for label in SPAN_LABELS
    }
    total = sum(marked.values())
    return Agreement(
        units=frame["task"].n_unique(),
        pairs=pairs.height,
        measure_type_observed=observed,
        measure_type_kappa=kappa,
        span_f1=span_f1,
        span_f1_micro=sum(matched.values()) / total if total else None,
        measure_type_kappa_per_label=per_label,
    )


# --------------------------------------------------------------------------- splits


def assign_splits(
    doc_units: dict[str, int],
    doc_types: dict[str, set[str]],
    *,
    sizes: SplitSizes,
    seed: int,
) -> dict[str, str]:
    """Map each document to one split: deterministic for `seed`.

    First every measure type is spread over the splits (rarest type first,
    train then test then validation) as far as there are documents with it,
    keeping one document back for each split still empty; then the other
    documents, in an order shuffled by `seed`, each go to an empty split
    first, else to the split furthest below its share of units.
    """
    docs = sorted(doc_units)
    random.Random(seed).shuffle(docs)
    rank = {doc: i for i, doc in enumerate(docs)}
    active = sizes.active()
    fractions = sizes.as_dict()
    total = sum(doc_units.values())
    units = dict.fromkeys(active, 0)
    types: dict[str, set[str]] = {s: set() for s in active}
    assigned: dict[str, str] = {}

    def put(doc: str, split: str) -> None:
        assigned[doc] = split
        units[split] += doc_units[doc]
        types[split] |= doc_types[doc]

    def others_empty(split: str) -> int:
        return sum(1 for s in active if s != split and units[s] == 0)

    doc_count = Counter(t for d in docs for t in doc_types[d])
    for measure_type in sorted(doc_count, key=lambda t: (doc_count[t], t)):
        for split in (s for s in _COVERAGE_ORDER if s in active):
            if measure_type in types[split]:
                continue
            if len(docs) - len(assigned) - 1 < others_empty(split):
                continue  # the last documents are kept for the splits that have none
            candidates = [d for d in docs if d not in assigned and measure_type in doc_types[d]]
            if not candidates:
                break
            # Small documents for the held-out splits keep their sizes near the target.
            key = (lambda d: rank[d]) if split == "train" else (lambda d: (doc_units[d], rank[d]))
            put(min(candidates, key=key), split)
    order = {s: i for i, s in enumerate(_COVERAGE_ORDER)}
    for doc in docs:
        if doc not in assigned:
            empty = [s for s in active if units[s] == 0]
            if empty:
                put(doc, min(empty, key=order.__getitem__))
            else:
                put(doc, max(active, key=lambda s: fractions[s] * total - units[s]))
    return assigned


# --------------------------------------------------------------------------- build


@_gc_paused()
def build_export(
    tasks: Iterable[dict],
    *,
    policy: Policy = Policy.MAJORITY,
    sizes: SplitSizes | None = None,
    seed: int = DEFAULT_SEED,
    skip_invalid: bool = False,
    source: str = "input",
) -> Export:
    """Turn Label Studio tasks into a `DatasetDict` with `dataset_features()` and a report."""
    import polars as pl
    import pyarrow as pa
    from datasets import Dataset, DatasetDict

    sizes = sizes or SplitSizes()
    policy = Policy(policy)
    tally = _Tally()
    records = list(iter_task_records(tasks, skip_invalid=skip_invalid, tally=tally))
    if tally.tasks == 0:
        raise ExportError(
            f"{source}: the project has no tasks; push units with `corpus-tools push` and annotate them"
        )
    resolve = POLICIES[policy]
    features = dataset_features()
    arrow_schema = features.arrow_schema
    names = [name for name in features if name != "tokens"]  # tokens: polars, below
    columns: dict[str, list] = {name: [] for name in names}
    conflicts = 0
    for record in records:
        chosen = resolve(record.judgements)
        if chosen is None:
            conflicts += 1
            continue
        for name, value in _row(record.data, chosen).items():
            columns[name].append(value)
    if not columns["id"]:
        raise ExportError(
            f"{source}: nothing to export — {tally.tasks} tasks, {tally.without_annotation} without "
            f"annotation, {tally.cancelled} annotations cancelled, {tally.incomplete} incomplete, "
            f"{conflicts} conflicting; annotate some tasks in Label Studio first"
        )

    # pyarrow converts the nested Python lists in C; polars' own constructor is far slower.
    table = pa.table({n: pa.array(columns[n], type=arrow_schema.field(n).type) for n in names})
    frame = pl.from_arrow(table).with_columns(pl.col("text").str.split("").alias("tokens"))
    per_doc = frame.group_by("doc_id").agg(
        pl.len().alias("units"), pl.col("measure_type").unique().alias("types")
    )
    doc_units = dict(zip(per_doc["doc_id"].to_list(), per_doc["units"].to_list(), strict=True))
    doc_types = {
        doc: {MEASURE_TYPES[i] for i in found}
        for doc, found in zip(per_doc["doc_id"].to_list(), per_doc["types"].to_list(), strict=True)
    }
    mapping = assign_splits(doc_units, doc_types, sizes=sizes, seed=seed)
    frame = frame.with_columns(
        pl.col("doc_id").replace_strict(mapping, return_dtype=pl.String).alias("split")
    ).sort("doc_id", "unit_index", "id")

    columns = list(features)
    dataset = DatasetDict()
    summaries: dict[str, SplitSummary] = {}
    empty: list[str] = []
    for split in sizes.active():
        part = frame.filter(pl.col("split") == split)
        if part.is_empty():
            # Too few documents for this split; an empty split would not load back
            # (`load_from_disk` fails on it), so it is left out and reported.
            empty.append(split)
            continue
        dataset[split] = Dataset.from_polars(part.select(columns), features=features, split=split)
        summaries[split] = _summarise(part, doc_types)

    report = ExportReport(
        source=source,
        policy=str(policy),
        seed=seed,
        split_sizes=sizes.as_dict(),
        tasks=tally.tasks,
        annotations=tally.annotations,
        cancelled_annotations=tally.cancelled,
        incomplete_annotations=tally.incomplete,
        tasks_without_annotation=tally.without_annotation,
        tasks_without_usable_annotation=tally.without_usable,
        multi_annotated_tasks=sum(len(r.judgements) > 1 for r in records),
        conflicts_dropped=conflicts,
        invalid_spans=tuple(tally.invalid),
        offsets_converted_from_utf16=tally.utf16,
        units_exported=frame.height,
        documents=len(doc_units),
        splits=summaries,
        agreement=agreement(records),
        empty_splits=tuple(empty),
    )
    return Export(dataset=dataset, report=report)


def _row(data: dict, chosen: Judgement) -> dict:
    text = data["text"]
    tags = [0] * len(text)
    for span in chosen.spans:
        tags[span.start] = _NER_INDEX[f"B-{span.label}"]
        tags[span.start + 1 : span.end] = [_NER_INDEX[f"I-{span.label}"]] * (
            span.end - span.start - 1
        )
    return {
        "id": data["unit_id"],
        "doc_id": data["doc_id"],
        "unit_index": int(data.get("unit_index") or 0),
        "text": text,
        "measure_type": _MEASURE_INDEX[chosen.measure_type],
        "spans": [
            {"start": s.start, "end": s.end, "label": _SPAN_INDEX[s.label], "text": s.text}
            for s in chosen.spans
        ],
        "item_responsible_bodies": list(data.get("item_responsible_bodies") or ()),
        "section_path": list(data.get("section_path") or ()),
        "title": data.get("title") or "",
        "issuer": data.get("issuer") or "",
        "sector": data.get("sector") or "",
        "genre": data.get("genre") or "",
        "doc_number": data.get("doc_number") or "",
        "date": data.get("date"),
        "annotator": chosen.annotator,
        "ner_tags": tags,
    }


def _summarise(part, doc_types: dict[str, set[str]]) -> SplitSummary:
    import polars as pl

    type_counts = dict.fromkeys(MEASURE_TYPES, 0)
    for index, count in part.group_by("measure_type").len().iter_rows():
        type_counts[MEASURE_TYPES[index]] = count
    label_counts = dict.fromkeys(SPAN_LABELS, 0)
    spans = part.select(pl.col("spans").explode().struct.field("label").drop_nulls())
    for index, count in spans.group_by("label").len().iter_rows():
        label_counts[SPAN_LABELS[index]] = count
    everywhere = set().union(*doc_types.values())
    missing = tuple(m for m in MEASURE_TYPES if m in everywhere and not type_counts[m])
    return SplitSummary(
        units=part.height,
        documents=part["doc_id"].n_unique(),
        measure_types=type_counts,
        span_labels=label_counts,
        missing_measure_types=missing,
    )


# --------------------------------------------------------------------------- write


def write_export(export: Export, out_dir: Path, *, license: str = DEFAULT_LICENSE) -> ExportReport:
    """Write `save_to_disk` output, Parquet per split, the card and the report into `out_dir`.

    `out_dir` must be new, empty, or an earlier export (whose files are replaced).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir}: is a file; give a directory for the export")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / REPORT_FILE).is_file():
        raise ExportError(
            f"{out_dir}: directory is not empty and holds no earlier export; choose a new or empty directory"
        )
    for name in (DATASET_DIR, PARQUET_DIR):
        shutil.rmtree(out_dir / name, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset = export.dataset
    with _quiet_datasets():
        dataset.save_to_disk(str(out_dir / DATASET_DIR))
        (out_dir / PARQUET_DIR).mkdir()
        for split, part in dataset.items():
            part.to_parquet(str(out_dir / PARQUET_DIR / f"{split}.parquet"))
    report = _with_out_dir(export.report, out_dir)
    (out_dir / CARD_FILE).write_text(
        dataset_card(dataset, report, license=license), encoding="utf-8"
    )
    (out_dir / REPORT_FILE).write_text(
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n",
        encoding="utf-8",
    )
    return report


@contextmanager
def _quiet_datasets() -> Iterator[None]:
    # The library never prints: silence datasets' own progress bars while writing.
    from datasets.utils.tqdm import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    was_disabled = are_progress_bars_disabled()
    disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            enable_progress_bars()


def _with_out_dir(report: ExportReport, out_dir: Path) -> ExportReport:
    return replace(report, out_dir=str(out_dir))


def export_annotations(
    source: Path | Sequence[Path] | Sequence[dict] | None,
    out_dir: Path,
    *,
    project: str | None = None,
    url: str | None = None,
    api_key: str | None = None,
    policy: Policy = Policy.MAJORITY,
    sizes: SplitSizes | None = None,
    seed: int = DEFAULT_SEED,
    skip_invalid: bool = False,
    license: str = DEFAULT_LICENSE,
) -> ExportReport:
    """Export annotations to `out_dir` (layout in the module doc) and return the report.

    `source` is a Label Studio JSON export file, several of them, or a parsed task list; or
    give `project` (a Label Studio project title) to pull it from the server
    (`url`/`api_key` as for `studio.pull`: options, environment, embedded server).
    """
    if (source is None) == (project is None):
        raise ExportError(
            "give either a Label Studio JSON file or --project NAME, not both or neither"
        )
    if project is not None:
        name = f"Label Studio project {project!r}"
        tasks = pull_project_tasks(project, url=url, api_key=api_key)
        check_label_studio_tasks(tasks, source=name)
    elif isinstance(source, (str, Path)):
        name = Path(source).name
        tasks = read_label_studio_json(Path(source))
    elif source and all(isinstance(item, (str, Path)) for item in source):
        # Several files (one per annotation project) make one dataset.
        name = " + ".join(Path(item).name for item in source)
        tasks = [task for item in source for task in read_label_studio_json(Path(item))]
    else:
        name = "tasks"
        tasks = list(source)
        check_label_studio_tasks(tasks, source=name)
    export = build_export(
        tasks, policy=policy, sizes=sizes, seed=seed, skip_invalid=skip_invalid, source=name
    )
    return write_export(export, out_dir, license=license)


def pull_project_tasks(
    project: str, *, url: str | None = None, api_key: str | None = None
) -> list[dict]:
    """All annotated tasks of a Label Studio project as Label Studio JSON (via `studio.pull`)."""
    import tempfile

    from corpus_tools import studio

    with tempfile.TemporaryDirectory(prefix="corpus-tools-export-") as tmp:
        path = Path(tmp) / "label-studio.json"
        studio.pull(project=project, output=path, url=url, api_key=api_key)
        return read_label_studio_json(path)


def verify_export(out_dir: Path) -> dict[str, int]:
    """Check an export directory; return the rows per split or raise ExportError.

    Loads it with `datasets.load_from_disk` and with `load_dataset("parquet")`,
    and checks: the declared features, equal rows both ways, every span's
    `text[start:end]`, tokens and BIO tags aligned with the text, no document
    in two splits.
    """
    import datasets

    out_dir = Path(out_dir)
    features = dataset_features()
    try:
        with _quiet_datasets():
            from_disk = datasets.load_from_disk(str(out_dir / DATASET_DIR))
            files = {s: str(out_dir / PARQUET_DIR / f"{s}.parquet") for s in from_disk}
            from_parquet = datasets.load_dataset("parquet", data_files=files)
    except (FileNotFoundError, ValueError) as error:
        raise ExportError(
            f"{out_dir}: not a readable export ({error}); re-run `corpus-tools export`"
        ) from None
    seen: dict[str, str] = {}
    for name, split in from_disk.items():
        for loaded in (split, from_parquet[name]):
            if loaded.features != features:
                raise ExportError(f"{out_dir}: split {name} does not have the schema's features")
        if from_parquet[name].num_rows != split.num_rows:
            raise ExportError(f"{out_dir}: split {name} has different rows in Arrow and Parquet")
        for row in split:
            if row["tokens"] != list(row["text"]) or len(row["ner_tags"]) != len(row["text"]):
                raise ExportError(f"{out_dir}: unit {row['id']}: tokens do not match its text")
            for span in row["spans"]:
                if row["text"][span["start"] : span["end"]] != span["text"]:
                    raise ExportError(f"{out_dir}: unit {row['id']}: span {span} does not match")
            other = seen.setdefault(row["doc_id"], name)
            if other != name:
                raise ExportError(f"{out_dir}: document {row['doc_id']} is in {other} and {name}")
    return {name: split.num_rows for name, split in from_disk.items()}


# --------------------------------------------------------------------------- card


def _size_category(n: int) -> str:
    bounds = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ]
    return next((name for bound, name in bounds if n < bound), "1M<n<10M")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def dataset_card(dataset, report: ExportReport, *, license: str = DEFAULT_LICENSE) -> str:
    """The Hugging Face dataset card (README.md) text: YAML header and statistics."""
    from datasets import DatasetInfo
    from datasets.info import DatasetInfosDict
    from datasets.splits import SplitDict, SplitInfo
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    splits = SplitDict()
    for name, part in dataset.items():
        splits.add(SplitInfo(name=name, num_bytes=part.data.nbytes, num_examples=part.num_rows))
    card = DatasetCardData(
        language=["zh"],
        license=license,
        pretty_name="Work-safety notice measures (zh)",
        task_categories=["text-classification", "token-classification"],
        task_ids=["multi-class-classification", "named-entity-recognition"],
        annotations_creators=["expert-generated"],
        language_creators=["found"],
        multilinguality=["monolingual"],
        source_datasets=["original"],
        size_categories=[_size_category(report.units_exported)],
    )
    DatasetInfosDict(
        {"default": DatasetInfo(features=dataset_features(), splits=splits)}
    ).to_dataset_card_data(card)
    MetadataConfigs(
        {
            "default": {
                "data_files": [
                    {"split": name, "path": f"{PARQUET_DIR}/{name}.parquet"} for name in dataset
                ]
            }
        }
    ).to_dataset_card_data(card)

    names = list(report.splits)
    lines = [
        "---",
        card.to_yaml(),
        "---",
        "",
        "# Work-safety notice measures (Chinese)",
        "",
        "Sentence units of Chinese government work-safety notices (安全生产通知), each "
        "labelled with the primary **measure type** it orders and with character spans for "
        "**responsible bodies**, **deadlines** and **frequencies**, following the project's "
        "`annotation-guidelines.md`. Made with `corpus-tools export`.",
        "",
        "## Splits",
        "",
        "| split | units | documents |",
        "|---|---:|---:|",
        *[f"| {n} | {s.units} | {s.documents} |" for n, s in report.splits.items()],
        "",
        "Splits are by document (`doc_id`): no notice is in two splits. Target fractions "
        + ", ".join(f"{n} {f:g}" for n, f in report.split_sizes.items())
        + f" of the units, seed {report.seed}; every measure type is placed in each "
        "split where enough documents have it.",
        "",
        "## Measure types",
        "",
        "| id | 中文 | " + " | ".join(names) + " |",
        "|---|---|" + "---:|" * len(names),
        *[
            f"| `{m}` | {MEASURE_TYPE_NAMES_ZH[m]} | "
            + " | ".join(str(report.splits[n].measure_types[m]) for n in names)
            + " |"
            for m in MEASURE_TYPES
        ],
        "",
        "## Span labels",
        "",
        "| label | 中文 | " + " | ".join(names) + " |",
        "|---|---|" + "---:|" * len(names),
        *[
            f"| `{s}` | {SPAN_LABEL_NAMES_ZH[s]} | "
            + " | ".join(str(report.splits[n].span_labels[s]) for n in names)
            + " |"
            for s in SPAN_LABELS
        ],
        "",
        "## Agreement",
        "",
    ]
    a = report.agreement
    if a.units:
        lines += [
            f"{a.units} units were annotated by two or more annotators ({a.pairs} annotator pairs).",
            "",
            f"- measure type: observed agreement {_fmt(a.measure_type_observed)}, "
            f"Cohen's κ {_fmt(a.measure_type_kappa)}",
            f"- spans, exact match of start, end and label: F1 {_fmt(a.span_f1_micro)} overall; "
            + ", ".join(f"{label} {_fmt(f1)}" for label, f1 in a.span_f1.items()),
        ]
    else:
        lines.append("No unit was annotated by more than one annotator.")
    notes = report.notes() or ["nothing was left out"]
    lines += [
        "",
        "## How the data was made",
        "",
        "Notices were cleaned and cut into sentence units by `corpus-tools segment`, pushed to "
        "Label Studio by `corpus-tools push` and annotated there; the Label Studio JSON "
        f"export `{report.source}` was turned into this dataset by `corpus-tools export` with "
        f"the `{report.policy}` policy for units with several annotations (latest annotation per "
        "annotator; majority: measure type by vote, a span kept when more than half marked "
        "it, ties to the latest annotation).",
        "",
        f"- {report.tasks} tasks, {report.annotations} annotations, "
        f"{report.multi_annotated_tasks} tasks with several annotators, "
        f"{report.units_exported} units exported from {report.documents} documents",
        *[f"- {note}" for note in notes],
        "",
        "Annotators are identified by their Label Studio user id (several ids joined by "
        "commas when annotations were merged); no e-mail or name is kept.",
        "",
        "## Features",
        "",
        "- `id`: the unit id `doc_id:unit_index:sha1(text)[:8]`; `doc_id`, `unit_index`",
        "- `text`: the unit text as in the source",
        "- `measure_type`: `ClassLabel` of the 10 measure-type ids",
        "- `spans`: list of `{start, end, label, text}`, `[start, end)` in code points of `text`, "
        "`label` a `ClassLabel` of the 3 span labels",
        "- `item_responsible_bodies`, `section_path`, `title`, `issuer`, `doc_number`, "
        "`date` (ISO or null): document and structure metadata",
        "- `sector` (the lead system of a sector sub-plan, else the issuer's own field) and "
        "`genre` (年度工作通知, 实施方案, 部门规章, 责任制, …): group by these, or by `issuer`, "
        "to score a model on issuers and sectors it has not seen",
        "- `annotator`: Label Studio user id(s)",
        "- `tokens`: the characters of `text`, one per token; `ner_tags`: BIO tags per character "
        f"({', '.join(NER_TAGS)})",
        "",
        "## Use",
        "",
        "```python",
        "import datasets",
        'ds = datasets.load_from_disk("dataset")  # or:',
        'ds = datasets.load_dataset("parquet", data_files={'
        + ", ".join(f'"{n}": "data/{n}.parquet"' for n in names)
        + "})",
        "```",
        "",
        "## License",
        "",
        f"The annotations are released under `{license}`. The source texts are official "
        "documents of state organs, which the Copyright Law of the PRC (art. 5) leaves out "
        "of copyright protection.",
        "",
    ]
    return "\n".join(lines)
