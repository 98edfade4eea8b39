"""Train and evaluate the pre-labeling model (the `train` / `evaluate` stage).

Input: an export directory written by `corpus-tools export` (`DIR/dataset`,
a `DatasetDict` saved with `save_to_disk`; `DIR` itself is accepted too).
Output: a spaCy model directory (`spacy.load`-able once `corpus_tools.pipeline`
is imported) whose `meta.json` carries name + version (`model_version`), the
labels, the training figures and the rule choice made on the validation split.
"""

from __future__ import annotations

import math
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from corpus_tools import pipeline as _pipeline  # registers the components
from corpus_tools.errors import ExportError, ModelError
from corpus_tools.schema import MEASURE_TYPES, SPAN_LABELS

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "train.cfg"
DEFAULT_NAME = "zh_worksafety_prelabel"
DEFAULT_VERSION = "0.1.0"
DATASET_DIR = "dataset"
RULE_OPTIONS = ("learned", "replace", "add", "override")
# On a validation tie the option that leans most on rules wins: rules carry no
# weights fitted to the sample corpus, so they carry over to other issuers
# (on the external notices, DEADLINE: rules 1.00, learned 0.00 after a tie).
_TIE_PREFERENCE = {"replace": 3, "override": 2, "add": 1, "learned": 0}
# share of the char n-gram classifier in doc.cats beside textcat's, tried on validation
MIX_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


# ---------------------------------------------------------------- reading an export


@dataclass(frozen=True, slots=True)
class GoldUnit:
    """One annotated unit of an export split."""

    id: str
    text: str
    measure_type: str
    spans: tuple[tuple[int, int, str], ...]


def load_export(export_dir: Path | str):
    """The export's `DatasetDict` (from `DIR/dataset` or `DIR`)."""
    from datasets import load_from_disk

    path = Path(export_dir)
    for candidate in (path / DATASET_DIR, path):
        if (candidate / "dataset_dict.json").is_file():
            break
    else:
        raise ExportError(
            f"{path}: not an export directory (no {DATASET_DIR}/dataset_dict.json); "
            "write one with `corpus-tools export FILE -o DIR`"
        )
    try:
        dataset = load_from_disk(str(candidate))
    except Exception as error:  # datasets raises several kinds for a damaged directory
        raise ExportError(f"{candidate}: cannot be read as a saved dataset ({error})") from None
    _check_features(dataset, source=str(path))
    return dataset


def _check_features(dataset, *, source: str) -> None:
    for split, part in dataset.items():
        missing = {"text", "measure_type", "spans"} - set(part.features)
        if missing:
            raise ExportError(
                f"{source}: split '{split}' lacks {', '.join(sorted(missing))}; "
                "re-export it with `corpus-tools export`"
            )
        names = list(getattr(part.features["measure_type"], "names", []))
        if set(names) != set(MEASURE_TYPES):
            raise ExportError(
                f"{source}: measure_type labels {names} differ from the schema "
                f"{list(MEASURE_TYPES)}; re-export with the current label config"
            )


def export_split(dataset, split: str, *, source: str):
    """One split of an export, or an `ExportError` naming the ones it has."""
    if split not in dataset:
        raise ExportError(
            f"{source}: the export has no '{split}' split (it has: {', '.join(dataset) or 'none'}); "
            f"re-export with a {split} share, e.g. `corpus-tools export … --train 0.8 "
            "--validation 0.1 --test 0.1`"
        )
    return dataset[split]


def iter_gold(part) -> Iterator[GoldUnit]:
    """The units of one split with ids resolved to label names."""
    mt = part.features["measure_type"]
    spans_feature = part.features["spans"]
    inner = spans_feature[0] if isinstance(spans_feature, list) else spans_feature.feature
    span_label = inner["label"]
    columns = [c for c in ("id", "text", "measure_type", "spans") if c in part.column_names]
    for i, row in enumerate(part.select_columns(columns)):
        spans = tuple(
            (
                int(s["start"]),
                int(s["end"]),
                span_label.int2str(s["label"]) if isinstance(s["label"], int) else s["label"],
            )
            for s in row["spans"] or ()
        )
        yield GoldUnit(
            id=str(row.get("id", i)),
            text=row["text"],
            measure_type=mt.int2str(row["measure_type"]),
            spans=spans,
        )


def read_gold_file(path: Path | str) -> list[GoldUnit]:
    """Annotated units from a JSON Lines file in the seed-set format (`unit_id`,
    `text`, `measure_type`, `spans` of `start`/`end`/`label`/`text`): units kept
    out of every export, such as notices of other issuers."""
    import json

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: gold file not found; expected a JSON Lines file of annotations")
    from corpus_tools.seed import judgement_problem

    gold = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
            problem = judgement_problem(row) if {"text", "spans"} <= row.keys() else "no text/spans"
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            problem = f"not a judgement record ({error.__class__.__name__}: {error})"
        if problem:
            raise ExportError(
                f"{where}: {problem}; expected a seed-set record (text, measure_type, spans)"
            )
        gold.append(
            GoldUnit(
                id=str(row.get("unit_id", number)),
                text=row["text"],
                measure_type=row["measure_type"],
                spans=tuple((s["start"], s["end"], s["label"]) for s in row["spans"]),
            )
        )
    if not gold:
        raise ExportError(f"{path}: no annotated units in the gold file")
    return gold


@cache
def _gold_cached(path: str, split: str) -> tuple[GoldUnit, ...]:
    dataset = load_export(path)
    return tuple(iter_gold(export_split(dataset, split, source=path)))


def make_example(nlp, unit: GoldUnit, misaligned: Counter | None = None):
    """A spaCy `Example`: cats one-hot, ents and BIO tags from the spans."""
    from spacy.training import Example

    doc = nlp.make_doc(unit.text)
    tags = ["O"] * len(doc)
    entities = []
    for start, end, label in unit.spans:
        span = doc.char_span(start, end, label=label, alignment_mode="strict")
        if span is None or unit.text[start:end] != span.text:
            if misaligned is not None:
                misaligned[label] += 1
            continue
        entities.append((start, end, label))
        tags[span.start] = f"B-{label}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{label}"
    cats = {m: float(m == unit.measure_type) for m in MEASURE_TYPES}
    return Example.from_dict(doc, {"cats": cats, "entities": entities, "tags": tags})


def _register_reader() -> None:
    from spacy.util import registry

    @registry.readers("corpus_tools.ExportCorpus.v1")
    def export_corpus(path: str, split: str) -> Callable:
        def read(nlp) -> Iterator:
            for unit in _gold_cached(str(path), split):
                yield make_example(nlp, unit)

        return read


_register_reader()


# ---------------------------------------------------------------- training


@dataclass(frozen=True, slots=True)
class TrainProgress:
    """Reported after each evaluation on the validation split."""

    step: int
    max_steps: int
    epoch: int
    losses: dict[str, float]
    score: float
    cats_macro_f: float | None
    ents_f: float | None
    is_best: bool


@dataclass(frozen=True, slots=True)
class RuleChoice:
    """Validation F1 of one span label under each rule option, and the pick."""

    label: str
    f1: dict[str, float]
    chosen: str


@dataclass(frozen=True, slots=True)
class TrainResult:
    model_dir: Path
    model_version: str
    best_score: float
    best_step: int
    steps: int
    n_train: int
    n_validation: int
    misaligned_spans: dict[str, int]
    rules: tuple[RuleChoice, ...]
    validation_scores: dict[str, float]
    seconds: float
    measure_type_mix: dict[str, Any] | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["model_dir"] = str(self.model_dir)
        return data


def _schema_overrides(export_dir: Path, seed: int) -> dict[str, Any]:
    return {
        "paths.export": str(export_dir),
        "system.seed": seed,
        "initialize.components.textcat.labels": list(MEASURE_TYPES),
        "components.crf_spans.labels": list(SPAN_LABELS),
    }


def parse_overrides(pairs: Iterable[str]) -> dict[str, Any]:
    """`section.key=value` strings (values in config syntax: 3, 0.1, true, "x", [..])."""
    from thinc.api import Config

    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().removeprefix("--")
        if not sep or "." not in key:
            raise ModelError(
                f"override {pair!r}: expected section.key=value, e.g. training.max_steps=500"
            )
        try:
            value = Config().from_str(f"[x]\nv = {raw.strip()}")["x"]["v"]
        except Exception:
            value = raw.strip()  # a bare string
        overrides[key] = value
    return overrides


def train_model(
    export_dir: Path | str,
    output_dir: Path | str,
    *,
    config_path: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    max_steps: int | None = None,
    max_epochs: int | None = None,
    seed: int = 0,
    name: str = DEFAULT_NAME,
    version: str = DEFAULT_VERSION,
    select_rules: bool = True,
    progress: Callable[[TrainProgress], None] | None = None,
) -> TrainResult:
    """Train the pipeline of `config_path` (default: the project's config) on
    the export's train split, keep the best checkpoint on its validation
    split, choose rule options per span label there, and save to `output_dir`."""
    from spacy.schemas import ConfigSchemaTraining
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import (
        create_evaluation_callback,
        create_train_batches,
        train_while_improving,
    )
    from spacy.util import fix_random_seed, load_config, registry, resolve_dot_names

    started = time.perf_counter()
    export_dir = Path(export_dir).resolve()
    output_dir = Path(output_dir)
    _check_output_dir(output_dir)
    dataset = load_export(export_dir)
    train_part = export_split(dataset, "train", source=str(export_dir))
    dev_part = export_split(dataset, "validation", source=str(export_dir))
    if len(train_part) == 0 or len(dev_part) == 0:
        raise ExportError(f"{export_dir}: train and validation splits must not be empty")

    config_path = Path(config_path) if config_path else DEFAULT_CONFIG
    if not config_path.is_file():
        raise ModelError(f"{config_path}: no such training config")
    all_overrides = _schema_overrides(export_dir, seed) | dict(overrides or {})
    if max_steps is not None:
        all_overrides["training.max_steps"] = max_steps
    if max_epochs is not None:
        all_overrides["training.max_epochs"] = max_epochs
    try:
        config = load_config(config_path, overrides=all_overrides, interpolate=False)
    except Exception as error:
        raise ModelError(f"{config_path}: bad config or override ({error})") from None
    steps_cap = int(config["training"]["max_steps"] or 0)
    if steps_cap and config["training"]["eval_frequency"] > steps_cap:
        config["training"]["eval_frequency"] = steps_cap  # evaluate at least at the end

    fix_random_seed(seed)
    random.seed(seed)
    nlp = init_nlp(config, use_gpu=-1)
    resolved = nlp.config.interpolate()
    T = registry.resolve(resolved["training"], schema=ConfigSchemaTraining)
    train_corpus, dev_corpus = resolve_dot_names(resolved, [T["train_corpus"], T["dev_corpus"]])
    optimizer = T["optimizer"]
    steps = train_while_improving(
        nlp,
        optimizer,
        create_train_batches(nlp, train_corpus, T["batcher"], T["max_epochs"]),
        create_evaluation_callback(nlp, dev_corpus, T["score_weights"]),
        dropout=T["dropout"],
        accumulate_gradient=T["accumulate_gradient"],
        patience=T["patience"],
        max_steps=T["max_steps"],
        eval_frequency=T["eval_frequency"],
        exclude=T["frozen_components"],
        annotating_components=T["annotating_components"],
        before_update=T["before_update"],
    )
    best_score, best_step, last_step, best_scores = -math.inf, 0, 0, {}
    with tempfile.TemporaryDirectory(prefix="corpus-tools-train-") as tmp:
        best_dir = Path(tmp) / "best"
        for _batch, info, is_best in steps:
            last_step = info["step"]
            if is_best is None:
                continue
            if is_best:
                with nlp.use_params(optimizer.averages):
                    nlp.to_disk(best_dir)
                best_score, best_step = info["score"], info["step"]
                best_scores = {
                    k: v for k, v in info["other_scores"].items() if isinstance(v, (int, float))
                }
            if progress is not None:
                other = info["other_scores"]
                progress(
                    TrainProgress(
                        step=info["step"],
                        max_steps=steps_cap,
                        epoch=info["epoch"],
                        losses=dict(info["losses"]),
                        score=float(info["score"]),
                        cats_macro_f=other.get("cats_macro_f"),
                        ents_f=other.get("ents_f"),
                        is_best=bool(is_best),
                    )
                )
        import spacy

        nlp = spacy.load(best_dir)

    dev_gold = list(iter_gold(dev_part))
    mix = choose_mix(nlp, dev_gold)
    rules = choose_rules(nlp, dev_gold) if select_rules else ()
    if rules:
        _apply_rules(nlp, rules)
    misaligned: Counter = Counter()
    for unit in iter_gold(train_part):
        make_example(nlp, unit, misaligned)
    model_version = f"{name}-{version}"
    nlp.meta.update(
        {
            "name": name,
            "version": version,
            "lang": "zh",
            "description": "Pre-labels work-safety notice units: measure type and "
            "RESPONSIBLE_BODY/DEADLINE/FREQUENCY spans (corpus-tools).",
            "corpus_tools": {
                "model_version": model_version,
                "measure_types": list(MEASURE_TYPES),
                "span_labels": list(SPAN_LABELS),
                "export": str(export_dir),
                "seed": seed,
                "best_step": best_step,
                "validation_scores": best_scores,
                "measure_type_mix": mix,
                "rules": [asdict(r) for r in rules],
                "misaligned_spans": dict(misaligned),
            },
        }
    )
    if output_dir.exists():
        shutil.rmtree(output_dir)
    nlp.to_disk(output_dir)
    return TrainResult(
        model_dir=output_dir,
        model_version=model_version,
        best_score=float(best_score),
        best_step=best_step,
        steps=last_step,
        n_train=len(train_part),
        n_validation=len(dev_part),
        misaligned_spans=dict(misaligned),
        rules=tuple(rules),
        validation_scores=best_scores,
        seconds=time.perf_counter() - started,
        measure_type_mix=mix,
    )


def _check_output_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise ModelError(f"{path}: is a file; give a directory for the model")
    if path.is_dir() and any(path.iterdir()) and not (path / "meta.json").is_file():
        raise ModelError(
            f"{path}: directory is not empty and holds no model; choose a new or empty directory"
        )


# ---------------------------------------------------------------- measure-type mix


def choose_mix(nlp, gold: list[GoldUnit]) -> dict[str, Any] | None:
    """Validation macro-F1 of doc.cats = w × char n-gram LR + (1 − w) × textcat
    for each w of `MIX_WEIGHTS`; set the best on the component (ties: the larger w)."""
    if _pipeline.NGRAM_COMPONENT not in nlp.pipe_names:
        return None
    ngram = nlp.get_pipe(_pipeline.NGRAM_COMPONENT)
    labels = list(ngram.labels)
    with nlp.select_pipes(enable=[_pipeline.TEXTCAT_COMPONENT]):
        textcat = [[d.cats.get(lab, 0.0) for lab in labels] for d in nlp.pipe(u.text for u in gold)]
    import numpy

    p_textcat = numpy.asarray(textcat)
    p_ngram = numpy.asarray([ngram.probabilities(u.text) for u in gold])
    truth = [u.measure_type for u in gold]
    f1 = {}
    for w in MIX_WEIGHTS:
        mixed = (w * p_ngram + (1 - w) * p_textcat).argmax(axis=1)
        f1[str(w)] = classification_scores(truth, [labels[i] for i in mixed]).macro_f1
    weight = max(MIX_WEIGHTS, key=lambda w: (round(f1[str(w)], 6), w))
    ngram.weight = weight
    return {"weight": weight, "validation_macro_f1": f1}


# ---------------------------------------------------------------- rules vs learned


def _rule_pipe_names(nlp) -> list[str]:
    return [n for n in nlp.pipe_names if nlp.get_pipe_meta(n).factory == "rule_spans"]


def choose_rules(nlp, gold: list[GoldUnit]) -> tuple[RuleChoice, ...]:
    """Per span label, validation F1 of the learned spans alone, of rules
    replacing them, added to them and overriding them; pick the best (ties: rules)."""
    disabled = _rule_pipe_names(nlp)
    with nlp.select_pipes(disable=disabled):
        docs = list(nlp.pipe(u.text for u in gold))
    choices = []
    for label in SPAN_LABELS:
        f1 = {}
        for option in RULE_OPTIONS:
            rule = _pipeline.RuleSpans(
                "select",
                replace=[label] if option == "replace" else [],
                add=[label] if option == "add" else [],
                rule_score=0.9,
                override=[label] if option == "override" else [],
            )
            predicted = [
                {(s, e, lab) for s, e, lab, *_ in _pipeline.prediction_of(rule(_copy(d))).spans}
                for d in docs
            ]
            f1[option] = (
                span_scores([set(u.spans) for u in gold], predicted, labels=(label,))
                .per_label[label]
                .f1
            )
        choices.append(RuleChoice(label=label, f1=f1, chosen=pick_rule_option(f1)))
    return tuple(choices)


def pick_rule_option(f1: Mapping[str, float]) -> str:
    """The option with the best validation F1; on a tie, the one leaning most on rules."""
    return max(RULE_OPTIONS, key=lambda o: (round(f1[o], 6), _TIE_PREFERENCE[o]))


def _copy(doc):
    from spacy.tokens import Doc

    copy = Doc(doc.vocab).from_bytes(doc.to_bytes(exclude=["user_data"]))
    copy.user_data[_pipeline.SCORES_KEY] = dict(doc.user_data.get(_pipeline.SCORES_KEY, {}))
    return copy


def _apply_rules(nlp, rules: Iterable[RuleChoice]) -> None:
    rules = list(rules)
    for name in _rule_pipe_names(nlp):
        nlp.remove_pipe(name)
    nlp.add_pipe(
        "rule_spans",
        config={
            "replace": [r.label for r in rules if r.chosen == "replace"],
            "add": [r.label for r in rules if r.chosen == "add"],
            "override": [r.label for r in rules if r.chosen == "override"],
            "rule_score": 0.9,
        },
    )


# ---------------------------------------------------------------- scores


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


# ---------------------------------------------------------------- evaluation


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

    def to_dict(self) -> dict:
        return asdict(self)


def tfidf_baseline(train_texts: list[str], train_labels: list[str], *, seed: int = 0):
    """Character 1–3-gram TF-IDF + logistic regression, fitted on the train split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1),
        LogisticRegression(max_iter=2000, C=10.0, random_state=seed),
    )
    if len(set(train_labels)) < 2:  # a one-class split: predict that class
        only = train_labels[0] if train_labels else MEASURE_TYPES[-1]
        return lambda texts: [only for _ in texts]
    model.fit(train_texts, train_labels)
    return lambda texts: list(model.predict(list(texts)))


BASELINE_NAME = "char 1-3-gram TF-IDF + logistic regression (scikit-learn)"


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
    nlp = _pipeline.load_model(model_dir)
    info = _pipeline.model_info(nlp)
    dataset = load_export(export_dir)
    if gold_files:
        gold = [unit for path in gold_files for unit in read_gold_file(path)]
        split = " + ".join(Path(path).name for path in gold_files)
    else:
        gold = list(iter_gold(export_split(dataset, split, source=str(export_dir))))
    if not gold:
        raise ExportError(f"{export_dir}: the '{split}' split is empty; nothing to evaluate")
    started = time.perf_counter()
    predictions = [_pipeline.prediction_of(doc) for doc in nlp.pipe(u.text for u in gold)]
    speed = len(gold) / max(time.perf_counter() - started, 1e-9)
    measure = classification_scores(
        [u.measure_type for u in gold], [p.measure_type for p in predictions]
    )
    gold_spans = [set(u.spans) for u in gold]
    spans = span_scores(
        gold_spans, [{(s, e, lab) for s, e, lab, *_ in p.spans} for p in predictions]
    )
    rules = span_scores(gold_spans, [_rule_spans(nlp, u.text) for u in gold])
    if baseline:
        train_gold = list(iter_gold(export_split(dataset, "train", source=str(export_dir))))
        predict = tfidf_baseline(
            [u.text for u in train_gold], [u.measure_type for u in train_gold], seed=seed
        )
        base = classification_scores([u.measure_type for u in gold], predict(u.text for u in gold))
    else:
        base = classification_scores([], [])
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
    )


def _rule_spans(nlp, text: str) -> set[tuple[int, int, str]]:
    """The rule finders' spans, read as the pipeline reads them (`rule_finds`)."""
    doc = nlp.make_doc(text)
    return {
        (s, e, label)
        for label in _pipeline.RULE_FINDERS
        for s, e in _pipeline.rule_finds(doc, text, label)
    }
