"""The records an export passes on and reports: policies, split sizes, judgements, the report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from corpus_tools.errors import ExportError
from corpus_tools.schema import Span

SPLITS: tuple[str, ...] = ("train", "validation", "test")
DEFAULT_LICENSE = "cc-by-4.0"
DEFAULT_SEED = 13


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
    # the seed and target fractions that placed the documents assigned afresh; None when
    # every document kept the split of an earlier export (they placed none)
    seed: int | None
    split_sizes: dict[str, float] | None
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
    # documents whose split an earlier export decided (`export --keep-splits`)
    documents_kept_in_split: int = 0
    # documents placed here by `seed` and `split_sizes` (all of them unless splits were kept)
    documents_newly_assigned: int = 0
    # that earlier export (the output itself on a re-run), or None: splits drawn afresh
    splits_kept_from: str | None = None
    # tasks left out as units of notices held out for evaluation (`held_out`)
    tasks_held_out: int = 0

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
            "tasks of notices held out for evaluation left out (--held-out)": (self.tasks_held_out),
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
