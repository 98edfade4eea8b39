"""Span accuracy by cross-validation over notices, not sentences.

Pools the train and validation splits (19 notices), cuts them into k folds by
notice (`GroupKFold`), fits the span CRF on k−1 folds and tags the held-out
notices, and prints pooled exact-span P/R/F1 per label for:
- the named baseline: the rule finders alone (`rule_spans` replacing
  everything), which need no training;
- `crf_spans` without the rule finders' tags as features;
- `crf_spans` as configured in `corpus_tools/configs/train.cfg`;
- the same with the rules overriding it (what `train` may choose per label on
  the validation split).
The test split is not read.

    uv run python benchmarks/span_cv.py [--export exports/corpus] [--folds 6]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import spacy  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402

from corpus_tools.model import (  # noqa: E402
    DEFAULT_CONFIG,
    CrfSpans,
    GoldUnit,
    RuleSpans,
    export_split,
    iter_gold,
    load_export,
    make_example,
    prediction_of,
    span_scores,
)
from corpus_tools.schema import SPAN_LABELS  # noqa: E402

RB = "RESPONSIBLE_BODY"


def configured() -> dict:
    cfg = spacy.util.load_config(DEFAULT_CONFIG)["components"]["crf_spans"]
    return {k: v for k, v in cfg.items() if k != "factory"}


def variants() -> dict[str, tuple[dict | None, tuple[str, ...]]]:
    """name → (CRF settings or None for no CRF, labels the rules override)."""
    chosen = configured()
    return {
        "baseline: rules alone": (None, ()),
        "crf_spans, no rule features": ({**chosen, "rule_features": False}, ()),
        "crf_spans, as configured": (chosen, ()),
        "crf_spans, rules overriding RB": (chosen, (RB,)),
    }


def fit_predict(
    nlp, settings: dict | None, override: tuple[str, ...], train: list[GoldUnit], test: list
) -> list[set]:
    replace = [label for label in SPAN_LABELS if settings is None or label != RB]
    rules = RuleSpans("cv", replace=replace, add=[], rule_score=0.9, override=override)
    crf = None
    if settings is not None:
        crf = CrfSpans("cv", **settings)
        crf.initialize(lambda: [make_example(nlp, unit) for unit in train])
    predicted = []
    for unit in test:
        doc = nlp.make_doc(unit.text)
        if crf is not None:
            doc = crf(doc)
        doc = rules(doc)
        predicted.append({(s, e, label) for s, e, label, *_ in prediction_of(doc).spans})
    return predicted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, default=ROOT / "exports" / "corpus")
    parser.add_argument("--folds", type=int, default=6)
    args = parser.parse_args()

    dataset = load_export(args.export)
    units, groups = [], []
    for split in ("train", "validation"):
        part = export_split(dataset, split, source=str(args.export))
        units += list(iter_gold(part))
        groups += list(part["doc_id"])
    print(
        f"{len(units)} units of {len(set(groups))} notices, {args.folds} folds by notice "
        "(test split unread); DEADLINE and FREQUENCY: rules replace the CRF's, as `train` chose"
    )
    folds = list(GroupKFold(n_splits=args.folds).split(units, groups=groups))
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    gold = [set(u.spans) for u in units]
    header = f"{'spans':32s} {'RB P':>6s} {'RB R':>6s} {'RB F1':>6s} {'DL F1':>6s} {'FQ F1':>6s}"
    print(header + f" {'seconds':>8s}")
    for name, (settings, override) in variants().items():
        started = time.perf_counter()
        predicted: list[set] = [set() for _ in units]
        for fit, held_out in folds:
            guesses = fit_predict(
                nlp, settings, override, [units[i] for i in fit], [units[i] for i in held_out]
            )
            for i, guess in zip(held_out, guesses, strict=True):
                predicted[i] = guess
        per = span_scores(gold, predicted).per_label
        rb = per[RB]
        print(
            f"{name:32s} {rb.precision:6.3f} {rb.recall:6.3f} {rb.f1:6.3f} "
            f"{per['DEADLINE'].f1:6.3f} {per['FREQUENCY'].f1:6.3f} "
            f"{time.perf_counter() - started:8.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
