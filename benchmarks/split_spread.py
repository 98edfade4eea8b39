"""How much a two-notice test split's scores vary, by cross-validation.

The seed export's test split holds 2 notices. This script asks what scores a
split of that size gives when the model is as good as cross-validation says:
it pools the train and validation splits (19 notices), predicts every unit with
a model fitted on the other folds (6 folds by notice, as `span_cv.py` and
`measure_type_cv.py` do, with the configured `crf_spans` and `char_ngram_cats`,
and the rules overriding RESPONSIBLE_BODY, as `train` chose for `models/prelabel`),
then scores every pair of notices as if that pair were the test split, and
prints the spread of measure-type macro-F1 and RESPONSIBLE_BODY span F1 over
the 171 pairs beside the pooled figure and the issue's target. The named
baselines (the TF-IDF classifier of `evaluate`; the rule finders alone) are
scored over the same pairs. The test split is not read.

    uv run python benchmarks/split_spread.py [--export exports/corpus] [--folds 6] [--size 2]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS.parent))
sys.path.insert(0, str(BENCHMARKS))

import measure_type_cv  # noqa: E402
import numpy  # noqa: E402
import spacy  # noqa: E402
import span_cv  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402

from corpus_tools.model import (  # noqa: E402
    classification_scores,
    export_split,
    iter_gold,
    load_export,
    span_scores,
)

RB = "RESPONSIBLE_BODY"
TARGETS = {"measure-type macro-F1": 0.80, "RESPONSIBLE_BODY F1": 0.85}


def cross_validated(units, types, groups, folds: int) -> dict[str, dict[str, list]]:
    """Held-out predictions of every unit: {"types"|"spans": {"model"|"baseline": [...]}}."""
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    crf, cats = span_cv.configured(), measure_type_cv.configured()
    predicted = {name: [None] * len(units) for name in ("model", "baseline")}
    spans = {name: [None] * len(units) for name in ("model", "baseline")}
    for fit, held in GroupKFold(n_splits=folds).split(units, groups=groups):
        train = [units[i] for i in fit]
        test = [units[i] for i in held]
        typed_train = [(units[i].text, types[i], groups[i]) for i in fit]
        typed_test = [(units[i].text, types[i], groups[i]) for i in held]
        found = {
            "model": span_cv.fit_predict(nlp, crf, (RB,), train, test),
            "baseline": span_cv.fit_predict(nlp, None, (), train, test),
        }
        guessed = {
            "model": measure_type_cv.fit_predict(cats, typed_train, typed_test),
            "baseline": measure_type_cv.fit_predict(None, typed_train, typed_test),
        }
        for name in predicted:
            for i, spans_of, type_of in zip(held, found[name], guessed[name], strict=True):
                spans[name][i], predicted[name][i] = spans_of, type_of
    return {"types": predicted, "spans": spans}


def scores_of(idx, units, types, predicted, spans, name) -> dict[str, float]:
    macro = classification_scores([types[i] for i in idx], [predicted[name][i] for i in idx])
    per = span_scores([set(units[i].spans) for i in idx], [spans[name][i] for i in idx])
    return {"measure-type macro-F1": macro.macro_f1, "RESPONSIBLE_BODY F1": per.per_label[RB].f1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, default=BENCHMARKS.parent / "exports" / "corpus")
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--size", type=int, default=2, help="notices per imagined test split")
    args = parser.parse_args()

    dataset = load_export(args.export)
    units, types, groups = [], [], []
    for split in ("train", "validation"):
        part = export_split(dataset, split, source=str(args.export))
        units += list(iter_gold(part))
        types += [part.features["measure_type"].int2str(m) for m in part["measure_type"]]
        groups += list(part["doc_id"])
    notices = sorted(set(groups))
    print(
        f"{len(units)} units of {len(notices)} notices, {args.folds} folds by notice "
        f"(test split unread); every set of {args.size} notices scored as a test split"
    )
    held_out = cross_validated(units, types, groups, args.folds)
    predicted, spans = held_out["types"], held_out["spans"]
    everything = list(range(len(units)))
    subsets = [
        [i for i, g in enumerate(groups) if g in chosen]
        for chosen in itertools.combinations(notices, args.size)
    ]
    print(
        f"{'score':24s} {'who':9s} {'pooled':>7s} {'median':>7s} {'p10':>6s} {'p25':>6s} "
        f"{'min':>6s} {'max':>6s} {'below target':>13s}"
    )
    by_name = {}
    for name in ("model", "baseline"):
        pooled = scores_of(everything, units, types, predicted, spans, name)
        per_subset = [scores_of(idx, units, types, predicted, spans, name) for idx in subsets]
        for score, target in TARGETS.items():
            values = by_name[name, score] = numpy.array([s[score] for s in per_subset])
            print(
                f"{score:24s} {name:9s} {pooled[score]:7.3f} {numpy.median(values):7.3f} "
                f"{numpy.percentile(values, 10):6.3f} {numpy.percentile(values, 25):6.3f} "
                f"{values.min():6.3f} {values.max():6.3f} "
                f"{(values < target).mean():8.0%} of {len(values)}"
            )
    for score in TARGETS:
        ahead = (by_name["model", score] > by_name["baseline", score]).mean()
        print(f"{score}: the model scores above the baseline on {ahead:.0%} of the splits")
    print("baseline: TF-IDF + LR for the measure type, the rule finders alone for the spans")


if __name__ == "__main__":
    main()
