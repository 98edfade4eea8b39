"""Train the pre-labeling model (the `train` stage).

Input: an export directory (see `corpus_tools.model.gold`). Output: a spaCy
model directory (`spacy.load`-able once `corpus_tools.model` is imported)
whose `meta.json` carries name + version (`model_version`), the labels, the
training figures and the choices made on the validation split: the
measure-type mix (`choose_mix`) and the rule option per span label
(`choose_rules`).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from corpus_tools.errors import ExportError, ModelError
from corpus_tools.model.char_ngram_cats import NGRAM_COMPONENT
from corpus_tools.model.context import unit_docs
from corpus_tools.model.gold import (  # gold registers the config's corpus reader
    GoldUnit,
    export_split,
    iter_gold,
    load_export,
    make_example,
)
from corpus_tools.model.loading import TEXTCAT_COMPONENT
from corpus_tools.model.prediction import prediction_of
from corpus_tools.model.rule_spans import RuleSpans
from corpus_tools.model.scores import classification_scores, span_scores
from corpus_tools.model.spans import SCORES_KEY
from corpus_tools.outputs import check_writable_dir
from corpus_tools.schema import MEASURE_TYPES, SPAN_LABELS

DEFAULT_CONFIG = Path(__file__).parent.parent / "configs" / "train.cfg"
DEFAULT_NAME = "zh_worksafety_prelabel"
DEFAULT_VERSION = "0.1.0"
RULE_OPTIONS = ("learned", "replace", "add", "override")
# On a validation tie the option that leans most on rules wins: rules carry no
# weights fitted to the sample corpus, so they carry over to other issuers
# (on the external notices, DEADLINE: rules 1.00, learned 0.00 after a tie).
_TIE_PREFERENCE = {"replace": 3, "override": 2, "add": 1, "learned": 0}
# share of the char n-gram classifier in doc.cats beside textcat's, tried on validation
MIX_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


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
    # the model in output_dir was trained from the same inputs, so it was kept as it is
    reused: bool = False

    def to_dict(self) -> dict:
        data = asdict(self)
        data["model_dir"] = str(self.model_dir)
        return data


def _schema_overrides(export_named: str, seed: int) -> dict[str, Any]:
    return {
        "paths.export": export_named,
        "system.seed": seed,
        "initialize.components.textcat.labels": list(MEASURE_TYPES),
        "components.crf_spans.labels": list(SPAN_LABELS),
    }


def _check_override_keys(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> None:
    """Each `--set section.key` names a setting the config has: spaCy would take
    a mistyped `training.dropuot` as a new setting and train without it."""
    for dotted in overrides:
        *sections, key = dotted.split(".")
        node: Any = base
        for depth, name in enumerate(sections):
            if not isinstance(node, Mapping) or name not in node:
                where = ".".join(sections[:depth]) or "the config"
                known = sorted(k for k in node if isinstance(node[k], Mapping))
                raise ModelError(
                    f"--set {dotted}: {where} has no section [{name}]; "
                    f"it has {', '.join(known)}" + _did_you_mean(name, known)
                )
            node = node[name]
        if key not in node:
            known = sorted(node)
            raise ModelError(
                f"--set {dotted}: [{'.'.join(sections)}] has no setting {key!r}; "
                f"it has {', '.join(known)}" + _did_you_mean(key, known)
            )


def _did_you_mean(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _validation_summary(error: Exception) -> str:
    """`crf_spans -> c3: extra fields not permitted` from thinc's multi-line message."""
    errors = getattr(error, "errors", None) or []
    parts = [
        " -> ".join(str(p) for p in item.get("loc", ())) + f": {item.get('msg', '')}"
        for item in errors
        if isinstance(item, Mapping)
    ]
    return "; ".join(parts[:3]) if parts else _first_line(error)


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
    whole_corpus: bool = False,
    reuse_if_unchanged: bool = False,
    progress: Callable[[TrainProgress], None] | None = None,
) -> TrainResult:
    """Train the pipeline of `config_path` (default: the project's config) on
    the export's train split, keep the best checkpoint on its validation
    split, choose rule options per span label there, and save to `output_dir`.

    With `whole_corpus` it trains on every split and keeps the config's
    measure-type mix and rule options (chosen by grouped cross-validation,
    `corpus-tools evaluate --group-by`): the validation split, now trained on,
    would favour what was fitted to it.

    With `reuse_if_unchanged` a model in `output_dir` trained from the same
    inputs — the export's rows, the config and its overrides, the seed and
    the toolkit's code (see `training_digest`) — is kept as it is: training is
    seeded, so it would come out the same."""
    from spacy.schemas import ConfigSchemaTraining
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import (
        create_evaluation_callback,
        create_train_batches,
        train_while_improving,
    )
    from spacy.util import fix_random_seed, load_config, registry, resolve_dot_names
    from thinc.api import ConfigValidationError

    started = time.perf_counter()
    # The model's config and meta record the export as it was named (a relative
    # path stays relative, as `spacy train` records its paths), not this
    # machine's absolute path; the reading below resolves it.
    export_named = Path(export_dir).as_posix()
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
    all_overrides = _schema_overrides(export_named, seed) | dict(overrides or {})
    if whole_corpus:
        all_overrides["corpora.train.split"] = ",".join(dataset)
        select_rules = False
    if max_steps is not None:
        all_overrides["training.max_steps"] = max_steps
    if max_epochs is not None:
        all_overrides["training.max_epochs"] = max_epochs
    try:
        _check_override_keys(load_config(config_path, interpolate=False), overrides or {})
        config = load_config(config_path, overrides=all_overrides, interpolate=False)
    except ModelError:
        raise
    except Exception as error:
        raise ModelError(f"{config_path}: bad config or override ({_first_line(error)})") from None
    digest = training_digest(
        dataset, config_path, all_overrides | {"select_rules": select_rules, "name": name}
    )
    if reuse_if_unchanged:
        kept = _reusable(output_dir, digest, started=started)
        if kept is not None:
            return kept
    steps_cap = int(config["training"]["max_steps"] or 0)
    if steps_cap and config["training"]["eval_frequency"] > steps_cap:
        config["training"]["eval_frequency"] = steps_cap  # evaluate at least at the end

    fix_random_seed(seed)
    random.seed(seed)
    try:
        # a value of the wrong type or a setting a component does not take is
        # found here, when the config is resolved
        nlp = init_nlp(config, use_gpu=-1)
        resolved = nlp.config.interpolate()
        T = registry.resolve(resolved["training"], schema=ConfigSchemaTraining)
    except ConfigValidationError as error:
        raise ModelError(
            f"{config_path}: a setting does not validate ({_validation_summary(error)}); "
            "check the --set values against the config"
        ) from None
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
    mix = None if whole_corpus else choose_mix(nlp, dev_gold)
    if (
        NGRAM_COMPONENT in nlp.pipe_names
        and nlp.get_pipe(NGRAM_COMPONENT).weight >= 1.0
        and TEXTCAT_COMPONENT in nlp.pipe_names
    ):
        # textcat's share of doc.cats is 0: saved disabled, it costs nothing a unit
        nlp.disable_pipe(TEXTCAT_COMPONENT)
    rules = choose_rules(nlp, dev_gold) if select_rules else ()
    if rules:
        _apply_rules(nlp, rules)
    misaligned: Counter = Counter()
    for unit in iter_gold(train_part):
        make_example(nlp, unit, misaligned)
    model_version = f"{name}-{version}"
    n_train = sum(len(dataset[split]) for split in dataset) if whole_corpus else len(train_part)
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
                "export": export_named,
                "trained_on": sorted(dataset) if whole_corpus else ["train"],
                "seed": seed,
                "best_step": best_step,
                "validation_scores": best_scores,
                "measure_type_mix": mix,
                "rules": [asdict(r) for r in rules],
                "misaligned_spans": dict(misaligned),
                "best_score": float(best_score),
                "steps": last_step,
                "n_train": n_train,
                "n_validation": len(dev_part),
                "training_digest": digest,
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
        n_train=n_train,
        n_validation=len(dev_part),
        misaligned_spans=dict(misaligned),
        rules=tuple(rules),
        validation_scores=best_scores,
        seconds=time.perf_counter() - started,
        measure_type_mix=mix,
    )


_CODE_DIR = Path(__file__).resolve().parent.parent


def training_digest(dataset, config_path: Path, overrides: Mapping[str, Any]) -> str:
    """A digest of what a training run reads: every split's rows, the config
    file, the overrides (seed and steps among them) and the toolkit's own code
    (rule finders and components are code: a change there retrains)."""
    digest = hashlib.sha256()
    for split in sorted(dataset):
        digest.update(split.encode())
        for row in dataset[split]:
            digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
    digest.update(Path(config_path).read_bytes())
    digest.update(json.dumps(dict(overrides), sort_keys=True, default=str).encode())
    for source in sorted(_CODE_DIR.rglob("*.py")):
        digest.update(source.relative_to(_CODE_DIR).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _reusable(output_dir: Path, digest: str, *, started: float) -> TrainResult | None:
    """The result of the training that made `output_dir`, if it read the same inputs."""
    try:
        meta = json.loads((output_dir / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    made = meta.get("corpus_tools") or {}
    if made.get("training_digest") != digest:
        return None
    return TrainResult(
        model_dir=output_dir,
        model_version=str(made.get("model_version", "")),
        best_score=float(made.get("best_score", 0.0)),
        best_step=int(made.get("best_step", 0)),
        steps=int(made.get("steps", 0)),
        n_train=int(made.get("n_train", 0)),
        n_validation=int(made.get("n_validation", 0)),
        misaligned_spans=dict(made.get("misaligned_spans") or {}),
        rules=tuple(RuleChoice(**r) for r in made.get("rules") or ()),
        validation_scores=dict(made.get("validation_scores") or {}),
        seconds=time.perf_counter() - started,
        measure_type_mix=made.get("measure_type_mix"),
        reused=True,
    )


def _check_output_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise ModelError(f"{path}: is a file; give a directory for the model")
    if path.is_dir() and any(path.iterdir()) and not (path / "meta.json").is_file():
        raise ModelError(
            f"{path}: directory is not empty and holds no model; choose a new or empty directory"
        )
    check_writable_dir(path)  # before a minute of fitting, not after it


# ---------------------------------------------------------------- measure-type mix


def choose_mix(nlp, gold: list[GoldUnit]) -> dict[str, Any] | None:
    """Validation macro-F1 of doc.cats = w × char n-gram LR + (1 − w) × textcat
    for each w of `MIX_WEIGHTS`; set the best on the component (ties: the larger w)."""
    if NGRAM_COMPONENT not in nlp.pipe_names:
        return None
    ngram = nlp.get_pipe(NGRAM_COMPONENT)
    labels = list(ngram.labels)
    with nlp.select_pipes(enable=[TEXTCAT_COMPONENT]):
        textcat = [[d.cats.get(lab, 0.0) for lab in labels] for d in nlp.pipe(unit_docs(nlp, gold))]
    import numpy

    p_textcat = numpy.asarray(textcat)
    p_ngram = numpy.asarray([ngram.probabilities(u.text, u.heading) for u in gold])
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
        docs = list(nlp.pipe(unit_docs(nlp, gold)))
    choices = []
    for label in SPAN_LABELS:
        f1 = {}
        for option in RULE_OPTIONS:
            rule = RuleSpans(
                "select",
                replace=[label] if option == "replace" else [],
                add=[label] if option == "add" else [],
                rule_score=0.9,
                override=[label] if option == "override" else [],
            )
            predicted = [
                {(s, e, lab) for s, e, lab, *_ in prediction_of(rule(_copy(d))).spans} for d in docs
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
    copy.user_data[SCORES_KEY] = dict(doc.user_data.get(SCORES_KEY, {}))
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
