"""Active learning: which unit an annotator should see next, and what that buys.

`uncertainty` / `uncertainties` score a measure-type prediction (how unsure the
model is), `least_certain_first` orders units by it and `queue_score` turns it
into the prediction score Label Studio orders its queue by — what the ML
backend's uncertainty-first queue uses. `simulate_annotator` measures the gain: from a
small random seed of annotated units of a pool, an annotator is handed one batch
after another (least certain first, or in random order), each batch "annotated"
by revealing its gold label, the measure-type classifier refitted, and scored by
macro-F1 on held-out units whose groups (sectors) and notices never enter the pool.

The classifier refitted in the loop is the project's own: the `char_ngram_cats`
component's estimator (`CharNgramCats`) with the settings of the training config,
used directly (the pipeline's measure type is that component alone; `textcat`'s
share is 0), fitted from the same spaCy examples training uses.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import numpy

from corpus_tools.errors import ModelError
from corpus_tools.model.char_ngram_cats import NGRAM_COMPONENT, CharNgramCats
from corpus_tools.model.cross_validation import GroupBy, group_key
from corpus_tools.model.gold import GoldUnit, make_example
from corpus_tools.model.scores import classification_scores

T = TypeVar("T")


class Uncertainty(StrEnum):
    """How unsure a prediction is, from its measure-type probabilities (0 = sure)."""

    LEAST_CONFIDENT = "least-confident"  # 1 − the top probability
    MARGIN = "margin"  # 1 − (top − second): torn between two types
    ENTROPY = "entropy"  # entropy over all types, / log(number of types)


# Margin is the default: in the simulation on exports/corpus (3 held-out sector
# draws, batches of 300; benchmarks/active_learning_curve.py --measures …) it led
# at every point: macro-F1 at 400 / 700 / 1,000 units 0.584 / 0.642 / 0.670,
# least-confident 0.583 / 0.634 / 0.654, entropy 0.579 / 0.614 / 0.652, random
# 0.544 / 0.593 / 0.618. The annotator's real choice is between the top two types.
DEFAULT_UNCERTAINTY = Uncertainty.MARGIN


def _least_confident(p: numpy.ndarray) -> numpy.ndarray:
    return 1.0 - p.max(axis=1)


def _margin(p: numpy.ndarray) -> numpy.ndarray:
    if p.shape[1] < 2:
        return numpy.zeros(p.shape[0])
    top2 = numpy.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


def _entropy(p: numpy.ndarray) -> numpy.ndarray:
    if p.shape[1] < 2:
        return numpy.zeros(p.shape[0])
    safe = numpy.clip(p, 1e-12, 1.0)
    return -(p * numpy.log(safe)).sum(axis=1) / numpy.log(p.shape[1])


_MEASURES = {
    Uncertainty.LEAST_CONFIDENT: _least_confident,
    Uncertainty.MARGIN: _margin,
    Uncertainty.ENTROPY: _entropy,
}


def uncertainties(
    probabilities: numpy.ndarray | Sequence[Sequence[float]],
    *,
    measure: Uncertainty = DEFAULT_UNCERTAINTY,
) -> numpy.ndarray:
    """The uncertainty of each row of a (predictions × types) probability matrix."""
    p = numpy.asarray(probabilities, dtype="float64")
    if p.ndim != 2 or p.shape[1] == 0:
        raise ModelError(
            f"uncertainties: expected a (predictions × measure types) matrix, got shape {p.shape}"
        )
    return _MEASURES[Uncertainty(measure)](p)


def uncertainty(
    probabilities: Mapping[str, float] | Sequence[float],
    *,
    measure: Uncertainty = DEFAULT_UNCERTAINTY,
) -> float:
    """The uncertainty of one prediction: its probabilities per measure type
    (`doc.cats`, or a list of them)."""
    values = list(probabilities.values() if isinstance(probabilities, Mapping) else probabilities)
    return float(uncertainties([values], measure=measure)[0])


def queue_score(
    probabilities: Mapping[str, float] | Sequence[float],
    *,
    measure: Uncertainty = DEFAULT_UNCERTAINTY,
) -> float:
    """1 − `uncertainty`: a prediction `score` for Label Studio, whose uncertainty
    sampling and data-manager sort by prediction score serve the lowest first, so
    ascending score is least certain first (with `LEAST_CONFIDENT` it is the top
    probability, the `measure_type_score` pushed today)."""
    return 1.0 - uncertainty(probabilities, measure=measure)


def least_certain_first(items: Sequence[T], scores: Sequence[float]) -> list[T]:
    """`items` ordered by their uncertainty `scores`, highest first; ties keep
    the items' order (a stable sort), so the queue is reproducible."""
    if len(items) != len(scores):
        raise ModelError(
            f"least_certain_first: {len(items)} items but {len(scores)} uncertainty scores; "
            "give one score per item"
        )
    ranked = sorted(range(len(items)), key=lambda i: -float(scores[i]))
    return [items[i] for i in ranked]


# --- the measure-type classifier refitted in the loop ---------------------------


def classifier_settings(config_path: Path | str | None = None) -> dict[str, Any]:
    """The `char_ngram_cats` settings of a training config (default: the project's)."""
    from spacy.util import load_config

    from corpus_tools.model.training import DEFAULT_CONFIG

    path = Path(config_path or DEFAULT_CONFIG)
    if not path.is_file():
        raise ModelError(f"{path}: no such training config")
    config = load_config(path, interpolate=False)
    try:
        section = dict(config["components"][NGRAM_COMPONENT])
    except KeyError:
        raise ModelError(
            f"{path}: no [components.{NGRAM_COMPONENT}] section; give a config of this "
            "project's pipeline (corpus_tools/configs/train.cfg)"
        ) from None
    section.pop("factory", None)
    return section


def measure_type_examples(units: Sequence[GoldUnit]) -> list:
    """spaCy `Example`s of `units` as the pipeline is trained on them (`make_example`,
    one token per character)."""
    import spacy

    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    return [make_example(nlp, unit) for unit in units]


def fit_measure_type(examples: Sequence, *, settings: Mapping[str, Any]) -> CharNgramCats:
    """The project's measure-type classifier fitted on `examples` (`measure_type_examples`)."""
    model = CharNgramCats(NGRAM_COMPONENT, **settings)
    model.initialize(lambda: examples)
    return model


def predict_types(
    model: CharNgramCats, units: Sequence[GoldUnit]
) -> tuple[list[str], numpy.ndarray]:
    """Predicted measure types and the probability matrix (units × types), each unit
    read with its heading, as it was trained (`make_example`)."""
    if not units:
        return [], numpy.zeros((0, len(model.labels)))
    probabilities = model.batch_probabilities([u.text for u in units], [u.heading for u in units])
    return [model.labels[i] for i in probabilities.argmax(axis=1)], probabilities


# --- held-out groups -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeldOut:
    """A draw of whole groups kept out of the annotator's pool."""

    groups: tuple[str, ...]
    pool: tuple[GoldUnit, ...]
    held_out: tuple[GoldUnit, ...]


def hold_out_groups(
    units: Sequence[GoldUnit],
    *,
    group_by: GroupBy = GroupBy.SECTOR,
    share: float = 0.2,
    seed: int = 0,
) -> HeldOut:
    """Whole groups drawn at random (seeded) until they hold about `share` of the
    units; a group that alone would take the held-out set past 1.5 × `share` is
    skipped, so one large sector does not swallow the pool. Never by sentence."""
    if not 0.0 < share < 1.0:
        raise ModelError(f"hold_out_groups: share must be between 0 and 1, got {share}")
    keys = [group_key(u, group_by) for u in units]
    groups = sorted(set(keys))
    if len(groups) < 2:
        raise ModelError(
            f"hold_out_groups: need at least 2 {GroupBy(group_by).value} groups, got "
            f"{len(groups)}; group by another field or annotate more notices"
        )
    sizes = {g: keys.count(g) for g in groups}
    random.Random(seed).shuffle(groups)
    target, ceiling = share * len(units), 1.5 * share * len(units)
    chosen: list[str] = []
    taken = 0
    for group in groups:
        if taken >= target:
            break
        if taken + sizes[group] > ceiling or len(chosen) == len(groups) - 1:
            continue
        chosen.append(group)
        taken += sizes[group]
    if not chosen:  # every group is larger than the ceiling: take the smallest
        chosen = [min(groups, key=lambda g: (sizes[g], g))]
    held = set(chosen)
    return HeldOut(
        groups=tuple(sorted(chosen)),
        pool=tuple(u for u, k in zip(units, keys, strict=True) if k not in held),
        held_out=tuple(u for u, k in zip(units, keys, strict=True) if k in held),
    )


def check_disjoint(
    pool: Sequence[GoldUnit], held_out: Sequence[GoldUnit], *, group_by: GroupBy
) -> None:
    """A `ModelError` if a notice or a group is on both sides."""
    for name, key in (
        ("notice", lambda u: u.doc_id),
        (GroupBy(group_by).value, lambda u: group_key(u, group_by)),
    ):
        shared = {key(u) for u in pool if key(u)} & {key(u) for u in held_out if key(u)}
        if shared:
            raise ModelError(
                f"held-out units share {len(shared)} {name}(s) with the pool "
                f"({', '.join(sorted(shared)[:3])}); hold out whole groups (hold_out_groups)"
            )


# --- the simulated annotator -----------------------------------------------------


class Order(StrEnum):
    """The order the annotator is handed the pool in."""

    UNCERTAINTY_FIRST = "uncertainty-first"
    RANDOM = "random"


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """The classifier fitted on the first `units` annotated units, scored on the held-out set."""

    order: str
    units: int
    documents: int  # notices the annotated units come from
    macro_f1: float
    accuracy: float
    batch_ids: tuple[str, ...]  # the units annotated just before this fit (the seed at first)


def simulate_annotator(
    pool: Sequence[GoldUnit],
    held_out: Sequence[GoldUnit],
    *,
    order: Order,
    seed_units: int = 100,
    batch_size: int = 100,
    max_units: int = 3000,
    measure: Uncertainty = DEFAULT_UNCERTAINTY,
    settings: Mapping[str, Any] | None = None,
    group_by: GroupBy = GroupBy.SECTOR,
    seed: int = 0,
) -> Iterator[CurvePoint]:
    """A curve point after the seed and after each batch, up to `max_units` (or the
    pool). The seed is the same random draw for both orders (by `seed`); random
    order is a seeded shuffle of the rest; uncertainty-first takes the batch the
    last fitted classifier is least sure of (`measure`)."""
    if seed_units < 1 or batch_size < 1:
        raise ModelError(
            f"simulate_annotator: seed_units ({seed_units}) and batch_size ({batch_size}) "
            "must be at least 1"
        )
    if not held_out:
        raise ModelError("simulate_annotator: no held-out units to score on")
    check_disjoint(pool, held_out, group_by=group_by)
    order = Order(order)
    settings = dict(settings if settings is not None else classifier_settings())
    rng = random.Random(seed)
    shuffled = list(range(len(pool)))
    rng.shuffle(shuffled)
    limit = min(max_units, len(pool))
    annotated = shuffled[: min(seed_units, limit)]
    remaining = shuffled[len(annotated) :]  # random order: the rest of the same shuffle
    examples: dict[int, Any] = {}  # built as units are annotated, once each
    truth = [u.measure_type for u in held_out]
    batch = list(annotated)
    while True:
        new = [i for i in annotated if i not in examples]
        examples.update(zip(new, measure_type_examples([pool[i] for i in new]), strict=True))
        model = fit_measure_type([examples[i] for i in annotated], settings=settings)
        predicted, _ = predict_types(model, held_out)
        scores = classification_scores(truth, predicted)
        yield CurvePoint(
            order=order.value,
            units=len(annotated),
            documents=len({pool[i].doc_id for i in annotated}),
            macro_f1=scores.macro_f1,
            accuracy=scores.accuracy,
            batch_ids=tuple(pool[i].id for i in batch),
        )
        size = min(batch_size, limit - len(annotated))
        if size <= 0 or not remaining:
            return
        if order is Order.UNCERTAINTY_FIRST:
            _, probabilities = predict_types(model, [pool[i] for i in remaining])
            remaining = least_certain_first(
                remaining, uncertainties(probabilities, measure=measure)
            )
        batch, remaining = remaining[:size], remaining[size:]
        annotated = annotated + batch


def units_to_reach(curve: Sequence[tuple[int, float]], threshold: float) -> int | None:
    """The fewest annotated units at which a curve of (units, macro-F1) first
    reaches `threshold`, or None if it never does."""
    for units, macro_f1 in sorted(curve):
        if macro_f1 >= threshold:
            return units
    return None
