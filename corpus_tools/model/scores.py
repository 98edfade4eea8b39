"""Scores of predictions against gold: measure type and exact-match spans."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from corpus_tools.schema import MEASURE_TYPES, SPAN_LABELS


@dataclass(frozen=True, slots=True)
class PRF:
    precision: float
    recall: float
    f1: float
    support: int


def _prf(tp: int, fp: int, fn: int) -> PRF:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return PRF(round(p, 4), round(r, 4), round(f, 4), tp + fn)


@dataclass(frozen=True, slots=True)
class ClassificationScores:
    accuracy: float
    macro_f1: float
    per_label: dict[str, PRF]
    labels: tuple[str, ...]  # confusion matrix order (gold rows, predicted columns)
    confusion: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class SpanScores:
    micro: PRF
    per_label: dict[str, PRF]


def classification_scores(gold: list[str], predicted: list[str]) -> ClassificationScores:
    """Accuracy, per-label P/R/F1, macro-F1 over the labels seen in gold or
    prediction (schema order), and the confusion matrix."""
    labels = tuple(m for m in MEASURE_TYPES if m in set(gold) | set(predicted))
    pairs = Counter(zip(gold, predicted, strict=True))
    per_label = {}
    for label in labels:
        tp = pairs[(label, label)]
        fp = sum(n for (g, p), n in pairs.items() if p == label and g != label)
        fn = sum(n for (g, p), n in pairs.items() if g == label and p != label)
        per_label[label] = _prf(tp, fp, fn)
    accuracy = sum(n for (g, p), n in pairs.items() if g == p) / len(gold) if gold else 0.0
    macro = sum(s.f1 for s in per_label.values()) / len(per_label) if per_label else 0.0
    confusion = tuple(tuple(pairs[(g, p)] for p in labels) for g in labels)
    return ClassificationScores(round(accuracy, 4), round(macro, 4), per_label, labels, confusion)


def pooled_and_group_macro_f1(
    gold: Sequence[str], predicted: Sequence[str], keys: Sequence[str]
) -> tuple[float, float]:
    """Measure-type macro-F1 over all units, and its mean over the groups `keys` names."""
    by_group: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        by_group.setdefault(key, []).append(i)
    per_group = [
        classification_scores([gold[i] for i in idx], [predicted[i] for i in idx]).macro_f1
        for idx in by_group.values()
    ]
    pooled = classification_scores(list(gold), list(predicted)).macro_f1
    return pooled, sum(per_group) / len(per_group)


def span_scores(
    gold: list[set[tuple[int, int, str]]],
    predicted: list[set[tuple[int, int, str]]],
    *,
    labels: tuple[str, ...] = SPAN_LABELS,
) -> SpanScores:
    """Exact-match span P/R/F1 per label and micro over `labels`."""
    counts = {label: [0, 0, 0] for label in labels}
    for g, p in zip(gold, predicted, strict=True):
        for label in labels:
            gl = {s for s in g if s[2] == label}
            pl = {s for s in p if s[2] == label}
            counts[label][0] += len(gl & pl)
            counts[label][1] += len(pl - gl)
            counts[label][2] += len(gl - pl)
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    return SpanScores(_prf(*total), {label: _prf(*c) for label, c in counts.items()})


@dataclass(frozen=True, slots=True)
class GroupScores:
    """Figures for the units of one group (a held-out sector, an external notice)."""

    group: str
    units: int
    documents: int
    macro_f1: float
    accuracy: float
    baseline_macro_f1: float
    baseline_accuracy: float
    # F1 per span label; a label the group has no span of is left out (undefined)
    span_f1: dict[str, float]
    rules_span_f1: dict[str, float]
    # 95 % interval of macro-F1 − baseline macro-F1 (`difference_interval`); empty
    # when no baseline was scored
    difference_interval: tuple[float, ...] = ()
    # accuracy of the group's surest predictions (`accuracy_at_coverage`), when scored
    coverage: tuple[CoveragePoint, ...] = ()


def group_scores(
    group: str,
    gold: list,
    predicted_types: list[str],
    baseline_types: list[str],
    predicted_spans: list[set],
    rule_spans: list[set],
    *,
    scores: Sequence[float] = (),
) -> GroupScores:
    """Model, baseline and rules on one group's gold units (`GoldUnit`s), in order;
    with the model's measure-type `scores`, the accuracy of its surest predictions."""
    truth = [u.measure_type for u in gold]
    model = classification_scores(truth, predicted_types)
    base = classification_scores(truth, baseline_types)
    gold_spans = [set(u.spans) for u in gold]
    spans = span_scores(gold_spans, predicted_spans)
    rules = span_scores(gold_spans, rule_spans)
    scored_baseline = any(baseline_types)
    return GroupScores(
        group=group,
        units=len(gold),
        documents=len({u.doc_id for u in gold}),
        macro_f1=model.macro_f1,
        accuracy=model.accuracy,
        baseline_macro_f1=base.macro_f1,
        baseline_accuracy=base.accuracy,
        span_f1={label: prf.f1 for label, prf in spans.per_label.items() if prf.support},
        rules_span_f1={label: prf.f1 for label, prf in rules.per_label.items() if prf.support},
        difference_interval=(
            difference_interval(truth, predicted_types, baseline_types) if scored_baseline else ()
        ),
        coverage=(
            accuracy_at_coverage(
                scores, [p == g for p, g in zip(predicted_types, truth, strict=True)]
            )
            if scores
            else ()
        ),
    )


# How sure a difference is: a group of 22 units moves its macro-F1 by 0.1 with one
# unit, so "above the baseline" means little without an interval.
BOOTSTRAP_DRAWS = 1000
BOOTSTRAP_LEVEL = 0.95


def difference_interval(
    gold: Sequence[str],
    predicted: Sequence[str],
    baseline: Sequence[str],
    *,
    draws: int = BOOTSTRAP_DRAWS,
    level: float = BOOTSTRAP_LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """Paired bootstrap over units: the `level` interval of macro-F1(`predicted`) −
    macro-F1(`baseline`) when the same units are drawn for both (with replacement,
    `draws` times). Macro-F1 as `classification_scores` takes it, over the labels
    in gold or in that system's predictions."""
    import numpy

    if not gold:
        return (0.0, 0.0)
    codes = {label: i for i, label in enumerate(sorted({*gold, *predicted, *baseline}))}
    truth, model, base = (
        numpy.array([codes[label] for label in labels]) for labels in (gold, predicted, baseline)
    )
    samples = numpy.random.default_rng(seed).integers(0, len(truth), size=(draws, len(truth)))
    differences = _macro_f1_of_draws(truth, model, samples, len(codes)) - _macro_f1_of_draws(
        truth, base, samples, len(codes)
    )
    return _interval(differences, level)


def mean_difference_interval(
    scores: Sequence[float],
    baseline_scores: Sequence[float],
    *,
    draws: int = BOOTSTRAP_DRAWS,
    level: float = BOOTSTRAP_LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """Bootstrap over groups: the `level` interval of the mean of `scores` −
    `baseline_scores` (one pair a group), groups drawn with replacement."""
    import numpy

    if not scores:
        return (0.0, 0.0)
    differences = numpy.asarray(scores, dtype=float) - numpy.asarray(baseline_scores, dtype=float)
    samples = numpy.random.default_rng(seed).integers(
        0, len(differences), size=(draws, len(differences))
    )
    return _interval(differences[samples].mean(axis=1), level)


def _macro_f1_of_draws(truth, predicted, samples, n_labels: int):
    """Macro-F1 of each draw (a row of unit indices): F1 = 2 tp / (gold + predicted)
    per label, averaged over the labels present in the draw's gold or predictions."""
    import numpy

    draws = samples.shape[0]
    offsets = numpy.arange(draws)[:, None] * n_labels
    g, p = truth[samples] + offsets, predicted[samples] + offsets
    size = draws * n_labels
    tp = numpy.bincount(g[g == p], minlength=size).reshape(draws, n_labels)
    gold_n = numpy.bincount(g.ravel(), minlength=size).reshape(draws, n_labels)
    predicted_n = numpy.bincount(p.ravel(), minlength=size).reshape(draws, n_labels)
    present = gold_n + predicted_n
    f1 = numpy.divide(2.0 * tp, present, out=numpy.zeros(tp.shape), where=present > 0)
    return f1.sum(axis=1) / numpy.maximum((present > 0).sum(axis=1), 1)


def _interval(values, level: float) -> tuple[float, float]:
    import numpy

    tail = (1.0 - level) / 2 * 100
    low, high = numpy.percentile(values, [tail, 100 - tail])
    return (round(float(low), 4), round(float(high), 4))


# An annotator who accepts only the surest suggestions, or an analyst who reads only
# them, wants to know how often those are right on notices the model has not seen.
COVERAGES = (0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True, slots=True)
class CoveragePoint:
    coverage: float  # the share of the units kept, surest first
    units: int
    min_score: float  # the lowest measure-type score among them
    accuracy: float


def accuracy_at_coverage(
    scores: Sequence[float], correct: Sequence[bool], *, coverages: Sequence[float] = COVERAGES
) -> tuple[CoveragePoint, ...]:
    """Accuracy of the surest `coverage` share of the units (by score, highest first;
    ties kept in input order), for each share in `coverages`."""
    if len(scores) != len(correct):
        raise ValueError(f"{len(scores)} scores but {len(correct)} correctness flags")
    if not scores:
        return ()
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    points = []
    for coverage in coverages:
        kept = order[: max(1, round(coverage * len(order)))]
        points.append(
            CoveragePoint(
                coverage=coverage,
                units=len(kept),
                min_score=round(float(scores[kept[-1]]), 4),
                accuracy=round(sum(bool(correct[i]) for i in kept) / len(kept), 4),
            )
        )
    return tuple(points)
