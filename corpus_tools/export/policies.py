"""How several annotators' judgements of one unit become one (`Policy`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from corpus_tools.export.records import Judgement, Policy


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
