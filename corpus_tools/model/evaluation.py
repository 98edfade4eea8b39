"""Evaluate a trained model (the `evaluate` stage) on an export split or gold
files, beside the TF-IDF baseline and the span rules alone."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from corpus_tools.errors import ExportError
from corpus_tools.model.baseline import BASELINE_NAME, tfidf_baseline
from corpus_tools.model.context import unit_docs
from corpus_tools.model.gold import export_split, iter_gold, load_export, read_gold_file
from corpus_tools.model.loading import load_model, model_info, read_meta
from corpus_tools.model.prediction import prediction_of
from corpus_tools.model.rule_spans import RULE_FINDERS, rule_finds
from corpus_tools.model.scores import (
    ClassificationScores,
    CoveragePoint,
    GroupScores,
    SpanScores,
    accuracy_at_coverage,
    classification_scores,
    group_scores,
    span_scores,
)


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    model_dir: str
    model_version: str
    split: str
    n_units: int
    measure_type: ClassificationScores
    spans: SpanScores
    baseline_name: str
    baseline_measure_type: ClassificationScores
    rules_only_spans: SpanScores
    units_per_second: float
    baseline_trained_on: tuple[str, ...] = ("train",)
    per_notice: tuple[GroupScores, ...] = ()
    # accuracy of the surest shares of the units (`accuracy_at_coverage`), the model's
    # by its score and the baseline's by its own probability
    coverage: tuple[CoveragePoint, ...] = ()
    baseline_coverage: tuple[CoveragePoint, ...] = ()
    # the scored split is one the model was trained on (`--whole-corpus`): the
    # figures say how well it learned, not how it does on notices it has not seen
    seen_in_training: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def notice_of(doc_id: str) -> str:
    """The notice a unit came from: its doc id without the `#year` of a multi-notice file."""
    return doc_id.split("#")[0]


def evaluate_model(
    model_dir: Path | str,
    export_dir: Path | str,
    *,
    split: str = "test",
    gold_files: Sequence[Path | str] = (),
    baseline: bool = True,
    seed: int = 0,
) -> EvaluationResult:
    """Score a model on one export split — or on the annotated units of
    `gold_files`, together — beside the TF-IDF baseline (trained here on the
    export's train split) and the span rules alone."""
    nlp = load_model(model_dir)
    info = model_info(nlp)
    dataset = load_export(export_dir)
    if gold_files:
        gold = [unit for path in gold_files for unit in read_gold_file(path)]
        split = " + ".join(Path(path).name for path in gold_files)
    else:
        gold = list(iter_gold(export_split(dataset, split, source=str(export_dir))))
    if not gold:
        raise ExportError(f"{export_dir}: the '{split}' split is empty; nothing to evaluate")
    started = time.perf_counter()
    predictions = [prediction_of(doc) for doc in nlp.pipe(unit_docs(nlp, gold))]
    speed = len(gold) / max(time.perf_counter() - started, 1e-9)
    measure = classification_scores(
        [u.measure_type for u in gold], [p.measure_type for p in predictions]
    )
    gold_spans = [set(u.spans) for u in gold]
    predicted_spans = [{(s, e, lab) for s, e, lab, *_ in p.spans} for p in predictions]
    rules_found = [rules_alone_spans(nlp, u.text) for u in gold]
    spans = span_scores(gold_spans, predicted_spans)
    rules = span_scores(gold_spans, rules_found)
    # the baseline learns from what the model learned from: a model trained on
    # the whole corpus is compared with a baseline fitted on the whole corpus
    trained_on = tuple(read_meta(model_dir).get("corpus_tools", {}).get("trained_on") or ["train"])
    seen_in_training = not gold_files and split in trained_on
    base_predicted: list[str] = []
    baseline_coverage: tuple[CoveragePoint, ...] = ()
    if baseline:
        train_gold = [
            u
            for name in trained_on
            for u in iter_gold(export_split(dataset, name, source=str(export_dir)))
        ]
        predict = tfidf_baseline(
            [u.text for u in train_gold], [u.measure_type for u in train_gold], seed=seed
        )
        base_scored = predict.scored(u.text for u in gold)
        base_predicted = [label for label, _ in base_scored]
        base = classification_scores([u.measure_type for u in gold], base_predicted)
        baseline_coverage = accuracy_at_coverage(
            [score for _, score in base_scored],
            [label == u.measure_type for (label, _), u in zip(base_scored, gold, strict=True)],
        )
    else:
        base = classification_scores([], [])
    per_notice: tuple[GroupScores, ...] = ()
    if gold_files and baseline:  # each notice (source file) scored on its own
        notices = [notice_of(u.doc_id) for u in gold]
        per_notice = tuple(
            group_scores(
                notice,
                [gold[i] for i in members],
                [predictions[i].measure_type for i in members],
                [base_predicted[i] for i in members],
                [predicted_spans[i] for i in members],
                [rules_found[i] for i in members],
                scores=[predictions[i].measure_type_score for i in members],
            )
            for notice in sorted(set(notices))
            for members in [[i for i, n in enumerate(notices) if n == notice]]
        )
    return EvaluationResult(
        model_dir=str(model_dir),
        model_version=info.model_version,
        split=split,
        n_units=len(gold),
        measure_type=measure,
        spans=spans,
        baseline_name=BASELINE_NAME if baseline else "",
        baseline_measure_type=base,
        rules_only_spans=rules,
        units_per_second=round(speed, 1),
        baseline_trained_on=trained_on,
        per_notice=per_notice,
        coverage=accuracy_at_coverage(
            [p.measure_type_score for p in predictions],
            [p.measure_type == u.measure_type for p, u in zip(predictions, gold, strict=True)],
        ),
        baseline_coverage=baseline_coverage,
        seen_in_training=seen_in_training,
    )


def rules_alone_spans(nlp, text: str) -> set[tuple[int, int, str]]:
    """The rule finders' spans, read as the pipeline reads them (`rule_finds`)."""
    doc = nlp.make_doc(text)
    return {(s, e, label) for label in RULE_FINDERS for s, e in rule_finds(doc, text, label)}
