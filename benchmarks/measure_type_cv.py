"""Measure-type accuracy by cross-validation over notices, not sentences.

The validation split holds 3 notices (207 units), too few to choose features
by. This script pools the train and validation splits (19 notices), cuts them
into k folds by notice (`GroupKFold`), fits on k−1 folds and predicts the
held-out notices, and prints pooled macro-F1 and accuracy for:
- the named baseline: `evaluate`'s char 1-3-gram TF-IDF + logistic regression;
- `CharNgramCats` on the whole text (the model's classifier before this choice);
- `CharNgramCats` with item numbers and closing parentheticals stripped;
- `CharNgramCats` as configured in `corpus_tools/configs/train.cfg`.
The test split is not read.

    uv run python benchmarks/measure_type_cv.py [--export exports/corpus] [--folds 6]
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
from spacy.training import Example  # noqa: E402

from corpus_tools.model import (  # noqa: E402
    DEFAULT_CONFIG,
    CharNgramCats,
    classification_scores,
    export_split,
    load_export,
    tfidf_baseline,
)
from corpus_tools.schema import MEASURE_TYPES  # noqa: E402


def configured() -> dict:
    cfg = spacy.util.load_config(DEFAULT_CONFIG)["components"]["char_ngram_cats"]
    return {k: v for k, v in cfg.items() if k != "factory"}


def variants() -> dict[str, dict | None]:
    chosen = configured()
    whole = {**chosen, "strip_markers": False, "first_clause_weight": 0.0}
    return {
        "baseline (evaluate's TF-IDF + LR)": None,
        "CharNgramCats, whole text": whole,
        "CharNgramCats, markers stripped": {**whole, "strip_markers": True},
        "CharNgramCats, as configured": chosen,
    }


def fit_predict(settings: dict | None, train: list, test: list) -> list[str]:
    if settings is None:
        predict = tfidf_baseline([t for t, _, _ in train], [m for _, m, _ in train])
        return predict(t for t, _, _ in test)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    examples = [
        Example.from_dict(nlp.make_doc(t), {"cats": {m: float(m == label) for m in MEASURE_TYPES}})
        for t, label, _ in train
    ]
    component = CharNgramCats("cv", **settings)
    component.initialize(lambda: examples)
    return [MEASURE_TYPES[int(component.probabilities(t).argmax())] for t, _, _ in test]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, default=ROOT / "exports" / "corpus")
    parser.add_argument("--folds", type=int, default=6)
    args = parser.parse_args()

    dataset = load_export(args.export)
    units = [
        (row["text"], part.features["measure_type"].int2str(row["measure_type"]), row["doc_id"])
        for split in ("train", "validation")
        for part in [export_split(dataset, split, source=str(args.export))]
        for row in part.select_columns(["text", "measure_type", "doc_id"])
    ]
    notices = len({doc for _, _, doc in units})
    print(
        f"{len(units)} units of {notices} notices, {args.folds} folds by notice (test split unread)"
    )
    folds = list(GroupKFold(n_splits=args.folds).split(units, groups=[doc for _, _, doc in units]))
    truth = [m for _, m, _ in units]
    print(f"{'classifier':40s} {'macro-F1':>8s} {'accuracy':>8s} {'seconds':>8s}")
    for name, settings in variants().items():
        started = time.perf_counter()
        predicted = [""] * len(units)
        for fit, held_out in folds:
            guesses = fit_predict(settings, [units[i] for i in fit], [units[i] for i in held_out])
            for i, guess in zip(held_out, guesses, strict=True):
                predicted[i] = guess
        scores = classification_scores(truth, predicted)
        seconds = time.perf_counter() - started
        print(
            f"{name:40s} {scores.macro_f1:8.3f} {scores.accuracy:8.3f} {seconds:8.1f}", flush=True
        )


if __name__ == "__main__":
    main()
