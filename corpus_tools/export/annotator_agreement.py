"""Inter-annotator agreement: Cohen's kappa on measure types, exact-span F1."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from corpus_tools.export.records import Agreement, TaskRecord
from corpus_tools.schema import MEASURE_TYPES, SPAN_LABELS


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
