"""The light refit: a trained model's cheap components refitted on new gold units.

What a model directory holds (`train`): the character tokenizer, `textcat`
(saved disabled once `choose_mix` gives the char n-gram classifier the whole
of `doc.cats`, as in models/prelabel), `char_ngram_cats` (TF-IDF + linear
model: the measure type), `crf_spans` (the span CRF) and `rule_spans`
(the rule options chosen on validation). The measure type and the spans are
decided by `char_ngram_cats`, `crf_spans` and the rules; `textcat` only counts
when the mix weight is below 1.

`refit_model` loads a fresh copy of a model, refits `char_ngram_cats` and
`crf_spans` on the given units and keeps everything else — tokenizer,
`textcat`, the mix weight, the rule options, every hyperparameter of its
config — then writes a complete model directory that `load_model` reads like
any other. It is the ML backend's default retrain: seconds where `train`
(spaCy's loop over `textcat`, the mix and rule choices on validation) takes
minutes.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus_tools.errors import ModelError
from corpus_tools.model.char_ngram_cats import NGRAM_COMPONENT
from corpus_tools.model.crf_spans import SPAN_COMPONENT
from corpus_tools.model.gold import GoldUnit
from corpus_tools.model.loading import load_model

# scikit-learn solver of the measure-type regression (the `log` loss; the SVMs have
# one solver) and CRFsuite algorithm of the span CRF in a light refit (see
# CharNgramCats.fit and CrfSpans.fit for the figures)
LIGHT_LR_SOLVER = "newton-cg"
LIGHT_CRF_ALGORITHM = "l2sgd"
# Passes of the span CRF's SGD: about 40k sequence updates, 3 to 10 passes (10 over the
# 3.4k-unit seed, 3 over seed + 10k annotations). Seed + 10k annotations
# (benchmarks/ml_backend.py's data), test span micro-F1 / CRF alone / CPU s of the fit:
# 3 passes 0.912 / 0.897 / 8.2; 5: 0.906 / 0.897 / 8.7; 10: 0.914 / 0.904 / 10.4.
LIGHT_CRF_UPDATES = 40_000
LIGHT_CRF_EPOCHS = (3, 10)


def light_crf_epochs(n_units: int) -> int:
    low, high = LIGHT_CRF_EPOCHS
    return max(low, min(high, round(LIGHT_CRF_UPDATES / max(n_units, 1))))


@dataclass(frozen=True, slots=True)
class RefitResult:
    nlp: Any = field(repr=False)  # the refitted pipeline, as written to model_dir
    model_dir: Path
    n_units: int
    misaligned_spans: dict[str, int]
    seconds: dict[str, float]  # load, fit (both components), measure_type (within fit), save


def gold_doc(nlp, unit: GoldUnit, misaligned: Counter | None = None):
    """The unit as a doc with its spans as `ents` (a span off the token bounds is
    counted in `misaligned` and left out, as `make_example` does)."""
    doc = nlp.make_doc(unit.text)
    ents = []
    for start, end, label in sorted(unit.spans):
        span = doc.char_span(start, end, label=label, alignment_mode="strict")
        if span is None or unit.text[start:end] != span.text:
            if misaligned is not None:
                misaligned[label] += 1
            continue
        if ents and span.start < ents[-1].end:  # overlapping: the first is kept
            continue
        ents.append(span)
    doc.ents = ents
    return doc


def refit_model(
    base_model_dir: Path | str,
    units: Sequence[GoldUnit],
    output_dir: Path | str,
    *,
    version: str,
    trained_on: Sequence[str],
    crf_epochs: int | None = None,
    overlap: bool = True,
) -> RefitResult:
    """Refit `char_ngram_cats` and `crf_spans` of the model at `base_model_dir` on
    `units`, keep the rest, and save it to `output_dir` (replaced if it holds a model).

    `crf_epochs`: passes of the CRF's SGD (default `light_crf_epochs`); `overlap`:
    fit the regression while the CRF trains (off: one after the other)."""
    if not units:
        raise ModelError("no annotated units to refit the model on")
    epochs = crf_epochs or light_crf_epochs(len(units))
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    nlp = load_model(base_model_dir)  # a fresh copy: the served one is never touched
    missing = [c for c in (NGRAM_COMPONENT, SPAN_COMPONENT) if c not in nlp.component_names]
    if missing:
        raise ModelError(
            f"{base_model_dir}: the model has no {', '.join(missing)} to refit; "
            "retrain it whole (`serve-model --retrain full` or `corpus-tools train`)"
        )
    seconds["load"] = time.perf_counter() - started

    # The CRF trains in a thread of its own without the GIL; the regression is fitted
    # meanwhile, so on two free cores the two overlap.
    started = time.perf_counter()
    misaligned: Counter = Counter()
    docs = [gold_doc(nlp, u, misaligned) for u in units]

    def fit_measure_type() -> None:
        clock = time.perf_counter()
        nlp.get_pipe(NGRAM_COMPONENT).fit(
            [u.text for u in units],
            [u.measure_type for u in units],
            [u.heading for u in units],
            solver=LIGHT_LR_SOLVER,
        )
        seconds["measure_type"] = time.perf_counter() - clock

    if not overlap:
        fit_measure_type()
    nlp.get_pipe(SPAN_COMPONENT).fit(
        docs,
        algorithm=LIGHT_CRF_ALGORITHM,
        epochs=epochs,
        while_training=fit_measure_type if overlap else None,
    )
    seconds["fit"] = time.perf_counter() - started

    started = time.perf_counter()
    base_meta = nlp.meta.get("corpus_tools", {})
    nlp.meta["version"] = version
    nlp.meta["corpus_tools"] = {
        **base_meta,
        "model_version": f"{nlp.meta.get('name', 'model')}-{version}",
        "trained_on": list(trained_on),
        "misaligned_spans": dict(misaligned),
        "refit": {
            "from": str(base_model_dir),
            "from_version": str(base_meta.get("model_version", "")),
            "units": len(units),
            "components": [NGRAM_COMPONENT, SPAN_COMPONENT],
            "measure_type_solver": LIGHT_LR_SOLVER,
            "span_algorithm": LIGHT_CRF_ALGORITHM,
            "span_epochs": epochs,
        },
    }
    output_dir = Path(output_dir)
    if output_dir.exists():
        if any(output_dir.iterdir()) and not (output_dir / "meta.json").is_file():
            raise ModelError(
                f"{output_dir}: directory is not empty and holds no model; choose a new directory"
            )
        shutil.rmtree(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output_dir)
    seconds["save"] = time.perf_counter() - started
    return RefitResult(
        nlp=nlp,
        model_dir=output_dir,
        n_units=len(units),
        misaligned_spans=dict(misaligned),
        seconds={k: round(v, 2) for k, v in seconds.items()},
    )
