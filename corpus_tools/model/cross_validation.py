"""Grouped cross-validation: how the model does on issuers and sectors it has not seen.

A group (an issuer, a sector or a genre) is held out whole: the model set up by
the training config is fitted on the other groups and predicts the held-out
units, beside the TF-IDF baseline fitted on the same folds and the span rules
alone. With no more groups than `folds` each group is a fold of its own
(leave-one-group-out); with more, groups are packed into `folds` folds of
about equal size (scikit-learn's `GroupKFold`). Never by sentence.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from corpus_tools.errors import ModelError
from corpus_tools.model.baseline import BASELINE_NAME, tfidf_baseline
from corpus_tools.model.context import unit_docs
from corpus_tools.model.evaluation import rules_alone_spans
from corpus_tools.model.gold import GoldUnit
from corpus_tools.model.loading import TEXTCAT_COMPONENT
from corpus_tools.model.prediction import prediction_of
from corpus_tools.model.scores import (
    ClassificationScores,
    CoveragePoint,
    GroupScores,
    SpanScores,
    accuracy_at_coverage,
    classification_scores,
    group_scores,
    mean_difference_interval,
    span_scores,
)

DEFAULT_FOLDS = 10
CALIBRATION_BINS = 10


class GroupBy(StrEnum):
    ISSUER = "issuer"
    SECTOR = "sector"
    GENRE = "genre"
    DOCUMENT = "doc_id"


@dataclass(frozen=True, slots=True)
class FoldProgress:
    fold: int
    folds: int
    held_out: tuple[str, ...]
    seconds: float


@dataclass(frozen=True, slots=True)
class CrossValidationResult:
    group_by: str
    folds: int
    n_units: int
    n_groups: int
    baseline_name: str
    measure_type: ClassificationScores  # pooled over every held-out unit
    baseline_measure_type: ClassificationScores
    spans: SpanScores
    rules_only_spans: SpanScores
    groups: tuple[GroupScores, ...]
    mean_group_macro_f1: float
    mean_group_baseline_macro_f1: float
    calibration_error: float  # expected calibration error of the measure-type score
    # the temperature that fits the held-out probabilities best (`fit_temperature`),
    # and the calibration error the scores would have with it
    temperature: float
    calibration_error_at_temperature: float
    seconds: float
    # 95 % bootstrap interval (over groups) of mean macro-F1 − mean baseline macro-F1
    mean_group_difference_interval: tuple[float, ...] = ()
    # accuracy of the surest shares of the held-out units, the model's by its score
    # and the baseline's by its own probability
    coverage: tuple[CoveragePoint, ...] = ()
    baseline_coverage: tuple[CoveragePoint, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)


def group_key(unit: GoldUnit, group_by: GroupBy) -> str:
    return getattr(unit, GroupBy(group_by).value) or "(none)"


def grouped_folds(keys: Sequence[str], *, folds: int) -> list[list[int]]:
    """Held-out unit indices per fold; a group's units always share a fold."""
    groups = sorted(set(keys))
    if len(groups) < 2:
        raise ModelError(
            f"grouped cross-validation needs at least 2 groups, got {len(groups)}; "
            "group by another field or annotate more issuers"
        )
    if len(groups) <= folds:
        return [[i for i, k in enumerate(keys) if k == g] for g in groups]
    from sklearn.model_selection import GroupKFold

    splitter = GroupKFold(n_splits=folds)
    return [list(test) for _, test in splitter.split(list(keys), groups=list(keys))]


def fit_pipeline(
    train: Sequence[GoldUnit],
    *,
    config_path: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    components: Sequence[str] | None = None,
):
    """The config's pipeline fitted on `train` (its components fit at initialisation);
    `components` keeps only those (a measure-type study needs no span tagger)."""
    import spacy
    from spacy.util import load_config

    from corpus_tools.model.gold import make_example
    from corpus_tools.model.training import DEFAULT_CONFIG

    config = load_config(
        Path(config_path or DEFAULT_CONFIG), overrides=dict(overrides or {}), interpolate=False
    )
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    for name in fitted_components(config):
        if components is not None and name not in components:
            continue
        settings = {k: v for k, v in config["components"][name].items() if k != "factory"}
        nlp.add_pipe(config["components"][name]["factory"], name=name, config=settings)
    examples = [make_example(nlp, unit) for unit in train]
    nlp.initialize(lambda: examples)
    return nlp


def fitted_components(config) -> list[str]:
    """The config's pipeline without `textcat`: its share of the measure type is
    0 by the choice made on validation (char_ngram_cats alone), and the other
    components fit at initialisation, so a fold needs no training loop."""
    return [name for name in config["nlp"]["pipeline"] if name != TEXTCAT_COMPONENT]


def cross_validate(
    units: Sequence[GoldUnit],
    *,
    group_by: GroupBy = GroupBy.SECTOR,
    folds: int = DEFAULT_FOLDS,
    config_path: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    train_filter: Callable[[list[GoldUnit]], list[GoldUnit]] | None = None,
    components: Sequence[str] | None = None,
    baseline: bool = True,
    progress: Callable[[FoldProgress], None] | None = None,
) -> CrossValidationResult:
    """Hold out each group (see module doc); `train_filter` may thin each fold's
    training units (the learning curve trains on fewer documents)."""
    started = time.perf_counter()
    group_by = GroupBy(group_by)
    keys = [group_key(u, group_by) for u in units]
    fold_indices = grouped_folds(keys, folds=folds)
    predicted: dict[int, tuple[str, float, set]] = {}
    distributions: dict[int, dict[str, float]] = {}  # each held-out unit's doc.cats
    base: dict[int, tuple[str, float]] = {}
    for number, held in enumerate(fold_indices, 1):
        fold_started = time.perf_counter()
        held_set = set(held)
        train = [u for i, u in enumerate(units) if i not in held_set]
        if train_filter is not None:
            train = train_filter(train)
        nlp = fit_pipeline(
            train, config_path=config_path, overrides=overrides, components=components
        )
        docs = nlp.pipe(unit_docs(nlp, [units[i] for i in held]))
        for i, doc in zip(held, docs, strict=True):
            p = prediction_of(doc)
            predicted[i] = (p.measure_type, p.measure_type_score, {s[:3] for s in p.spans})
            distributions[i] = dict(doc.cats)
        if baseline:
            predict = tfidf_baseline([u.text for u in train], [u.measure_type for u in train])
            scored = predict.scored(units[i].text for i in held)
            base.update(zip(held, scored, strict=True))
        else:  # a study of several setups fits the baseline once
            base.update(dict.fromkeys(held, ("", 0.0)))
        if progress is not None:
            progress(
                FoldProgress(
                    number,
                    len(fold_indices),
                    tuple(sorted({keys[i] for i in held})),
                    time.perf_counter() - fold_started,
                )
            )
    order = sorted(predicted)
    rules = {i: rules_alone_spans(nlp, units[i].text) for i in order}
    groups = []
    for group in sorted(set(keys)):
        members = [i for i in order if keys[i] == group]
        groups.append(
            group_scores(
                group,
                [units[i] for i in members],
                [predicted[i][0] for i in members],
                [base[i][0] for i in members],
                [predicted[i][2] for i in members],
                [rules[i] for i in members],
                scores=[predicted[i][1] for i in members],
            )
        )
    pooled = [units[i] for i in order]
    held_out = [distributions[i] for i in order]
    gold_types = [u.measure_type for u in pooled]
    temperature = fit_temperature(held_out, gold_types)
    rescaled = [_top(with_temperature(d, temperature)) for d in held_out]
    return CrossValidationResult(
        group_by=group_by.value,
        folds=len(fold_indices),
        n_units=len(order),
        n_groups=len(groups),
        baseline_name=BASELINE_NAME,
        measure_type=classification_scores(
            [u.measure_type for u in pooled], [predicted[i][0] for i in order]
        ),
        baseline_measure_type=classification_scores(
            [u.measure_type for u in pooled], [base[i][0] for i in order]
        ),
        spans=span_scores([set(u.spans) for u in pooled], [predicted[i][2] for i in order]),
        rules_only_spans=span_scores([set(u.spans) for u in pooled], [rules[i] for i in order]),
        groups=tuple(groups),
        mean_group_macro_f1=_mean(g.macro_f1 for g in groups),
        mean_group_baseline_macro_f1=_mean(g.baseline_macro_f1 for g in groups),
        calibration_error=calibration_error(
            [predicted[i][1] for i in order],
            [predicted[i][0] == units[i].measure_type for i in order],
        ),
        temperature=temperature,
        calibration_error_at_temperature=calibration_error(
            [score for _, score in rescaled],
            [label == gold for (label, _), gold in zip(rescaled, gold_types, strict=True)],
        ),
        seconds=time.perf_counter() - started,
        mean_group_difference_interval=(
            mean_difference_interval(
                [g.macro_f1 for g in groups], [g.baseline_macro_f1 for g in groups]
            )
            if baseline
            else ()
        ),
        coverage=accuracy_at_coverage(
            [predicted[i][1] for i in order],
            [predicted[i][0] == units[i].measure_type for i in order],
        ),
        baseline_coverage=(
            accuracy_at_coverage(
                [base[i][1] for i in order],
                [base[i][0] == units[i].measure_type for i in order],
            )
            if baseline
            else ()
        ),
    )


def calibration_error(
    scores: Sequence[float], correct: Sequence[bool], *, bins: int = CALIBRATION_BINS
) -> float:
    """Expected calibration error: |accuracy − mean score| per score bin, weighted by size."""
    if not scores:
        return 0.0
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        idx = [i for i, s in enumerate(scores) if low <= s < high or (b == bins - 1 and s == 1.0)]
        if idx:
            accuracy = sum(correct[i] for i in idx) / len(idx)
            confidence = sum(scores[i] for i in idx) / len(idx)
            total += len(idx) * abs(accuracy - confidence)
    return total / len(scores)


# 0.05 … 3.0: linear SVMs' margins (`Loss.SQUARED_HINGE`) span about ±2, so their softmax
# needs a temperature well below 1; finer steps down there
TEMPERATURES = tuple(round(0.05 + 0.01 * k, 2) for k in range(25)) + tuple(
    round(0.3 + 0.05 * k, 2) for k in range(55)
)


def with_temperature(probabilities: Mapping[str, float], temperature: float) -> dict[str, float]:
    """`probabilities` re-scaled as the classifier's logits divided by `temperature`
    would give them: softmax(log p / T), since log p is the logits up to a constant."""
    floor = 1e-12  # a label the classifier never saw has probability ~0
    logits = {label: math.log(max(p, floor)) / temperature for label, p in probabilities.items()}
    top = max(logits.values())
    exps = {label: math.exp(v - top) for label, v in logits.items()}
    total = sum(exps.values())
    return {label: v / total for label, v in exps.items()}


def fit_temperature(probabilities: Sequence[Mapping[str, float]], gold: Sequence[str]) -> float:
    """The temperature (of `TEMPERATURES`) under which held-out probabilities give
    their gold labels the highest likelihood: below 1 the classifier was too
    cautious, above 1 too sure. 1.0 when there is nothing to fit."""
    import numpy

    if not probabilities:
        return 1.0
    labels = list(probabilities[0])
    logs = numpy.log(
        numpy.maximum([[p.get(label, 0.0) for label in labels] for p in probabilities], 1e-12)
    )
    truth = numpy.array([labels.index(label) for label in gold])
    rows = numpy.arange(len(truth))

    def loss(temperature: float) -> float:
        z = logs / temperature
        z -= z.max(axis=1, keepdims=True)
        log_norm = numpy.log(numpy.exp(z).sum(axis=1))
        return float((log_norm - z[rows, truth]).sum())

    return min(TEMPERATURES, key=lambda t: (round(loss(t), 9), abs(t - 1.0)))


def _top(probabilities: Mapping[str, float]) -> tuple[str, float]:
    return max(probabilities.items(), key=lambda kv: kv[1])


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def cross_validate_export(
    model_dir: Path | str,
    export_dir: Path | str,
    *,
    group_by: GroupBy = GroupBy.SECTOR,
    folds: int = DEFAULT_FOLDS,
    progress: Callable[[FoldProgress], None] | None = None,
) -> CrossValidationResult:
    """`cross_validate` over every split of an export, with the model's own
    config (its components, settings and rule options) fitted fold by fold."""
    from corpus_tools.model.gold import iter_gold, load_export

    config = Path(model_dir) / "config.cfg"
    if not config.is_file():
        raise ModelError(
            f"{model_dir}: no config.cfg; give a model directory (`corpus-tools train`)"
        )
    dataset = load_export(export_dir)
    units = [unit for name in dataset for unit in iter_gold(dataset[name])]
    return cross_validate(
        units, group_by=group_by, folds=folds, config_path=config, progress=progress
    )
