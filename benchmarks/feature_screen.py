"""Screen generalisation ideas for the measure type by grouped cross-validation,
whole sectors held out, beside the model's own blocks and the TF-IDF baseline on
the same folds: n-grams seen in few documents dropped, each document weighted
alike, longer n-grams, the regularisation, rule-found bodies masked out of the
text, and predictions smoothed over the units under the same heading.

A linear SVM stands in for the model's regression, as in `heading_cv.py`
(seconds a fold); a setup that wins here is then measured with the model
itself by `corpus-tools evaluate --group-by`.

    uv run python benchmarks/feature_screen.py [--export exports/corpus] [--group-by sector]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy  # noqa: E402
from scipy.sparse import hstack  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from corpus_tools.model import load_export  # noqa: E402
from corpus_tools.model.char_ngram_cats import cue_words, measure_text  # noqa: E402
from corpus_tools.model.context import heading_of  # noqa: E402
from corpus_tools.model.cross_validation import grouped_folds  # noqa: E402
from corpus_tools.model.rule_spans import find_rule_bodies  # noqa: E402
from corpus_tools.model.scores import pooled_and_group_macro_f1  # noqa: E402

Block = tuple[Callable[[], TfidfVectorizer], list[str], float]


def char_block(*, high: int = 3, min_df: int = 2) -> Callable[[], TfidfVectorizer]:
    return lambda: TfidfVectorizer(
        analyzer="char", ngram_range=(1, high), sublinear_tf=True, min_df=min_df
    )


def token_block() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer=str.split, lowercase=False, sublinear_tf=True, min_df=2)


@dataclass(frozen=True)
class Setup:
    blocks: list[Block]
    min_documents: int = 1  # keep n-grams seen in at least this many training documents
    document_weight: Callable[[int], float] | None = None  # of a unit, by its document's size
    C: float = 0.3
    sibling_share: float = 0.0  # of the mean score of the units under the same heading
    baseline: bool = False
    notes: dict = field(default_factory=dict)


def in_documents(matrix, documents: numpy.ndarray, at_least: int) -> numpy.ndarray:
    """Columns whose n-gram occurs in at least `at_least` distinct documents."""
    present = (matrix > 0).tocsc()
    keep = [
        j
        for j in range(present.shape[1])
        if len(set(documents[present.indices[present.indptr[j] : present.indptr[j + 1]]]))
        >= at_least
    ]
    return numpy.array(keep, dtype=int)


def scores_by_fold(rows, labels, documents, folds, setup: Setup):
    """Held-out decision scores (units × classes) and the classes."""
    scores, classes = None, None
    for held in folds:
        held_set = set(held)
        train = [i for i in range(len(rows)) if i not in held_set]
        x_train, x_held = [], []
        for make, texts, weight in setup.blocks:
            vectorizer = make()
            fitted = vectorizer.fit_transform([texts[i] for i in train])
            unseen = vectorizer.transform([texts[i] for i in held])
            if setup.min_documents > 1:
                keep = in_documents(fitted, documents[train], setup.min_documents)
                fitted, unseen = fitted[:, keep], unseen[:, keep]
            x_train.append(fitted * weight)
            x_held.append(unseen * weight)
        sample_weight = None
        if setup.document_weight is not None:
            sizes = defaultdict(int)
            for i in train:
                sizes[documents[i]] += 1
            sample_weight = numpy.array([setup.document_weight(sizes[documents[i]]) for i in train])
            sample_weight /= sample_weight.mean()
        model = (
            LogisticRegression(C=10.0, max_iter=3000)
            if setup.baseline
            else LinearSVC(C=setup.C, class_weight="balanced")
        )
        model.fit(hstack(x_train).tocsr(), labels[train], sample_weight=sample_weight)
        held_scores = model.decision_function(hstack(x_held).tocsr())
        if scores is None:
            scores, classes = numpy.zeros((len(rows), held_scores.shape[1])), model.classes_
        scores[held] = held_scores
    return scores, classes


def smooth(scores: numpy.ndarray, siblings: list[list[int]], share: float) -> numpy.ndarray:
    """Each unit's scores mixed with the mean of the other units under its heading."""
    mixed = scores.copy()
    for group in siblings:
        if len(group) < 2:
            continue
        total = scores[group].sum(axis=0)
        for i in group:
            mixed[i] = (1 - share) * scores[i] + share * (total - scores[i]) / (len(group) - 1)
    return mixed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, default=ROOT / "exports" / "corpus")
    parser.add_argument("--group-by", default="sector", choices=["issuer", "sector", "genre"])
    parser.add_argument("--folds", type=int, default=10)
    args = parser.parse_args()

    dataset = load_export(args.export)
    rows = [r for split in dataset for r in dataset[split]]
    names = dataset["train"].features["measure_type"].names
    labels = numpy.array([names[r["measure_type"]] for r in rows])
    keys = [r[args.group_by] for r in rows]
    documents = numpy.array([r["doc_id"] for r in rows])
    folds = list(grouped_folds(keys, folds=args.folds))

    def blocks_of(texts: list[str], *, high: int = 3) -> list[Block]:
        parts = [measure_text(t, strip_markers=True) for t in texts]
        return [
            (char_block(high=high), [p[0] for p in parts], 1.0),
            (char_block(), [p[1] for p in parts], 0.7),
            (token_block, [" ".join(cue_words(t)) for t in texts], 1.0),
            (char_block(), [heading_of(r["section_path"]) for r in rows], 0.3),
        ]

    raw = [r["text"] for r in rows]
    # `者` for each body the rule finders read: who acts, not what is done
    masked = []
    for text in raw:
        for start, end in sorted(find_rule_bodies(text), reverse=True):
            text = text[:start] + "者" + text[end:]
        masked.append(text)
    siblings = defaultdict(list)
    for i, r in enumerate(rows):
        if r["section_path"]:
            siblings[(r["doc_id"], tuple(r["section_path"]))].append(i)
    model = blocks_of(raw)
    setups = {
        "baseline: char TF-IDF + LR": Setup([(char_block(min_df=1), raw, 1.0)], baseline=True),
        "the model's blocks (heading 0.3)": Setup(model),
        "n-grams of 2+ training documents": Setup(model, min_documents=2),
        "n-grams of 3+ training documents": Setup(model, min_documents=3),
        "each unit 1/sqrt(its document's units)": Setup(model, document_weight=lambda n: n**-0.5),
        "each document the same weight": Setup(model, document_weight=lambda n: 1.0 / n),
        "char 1-4-grams": Setup(blocks_of(raw, high=4)),
        "C = 0.1": Setup(model, C=0.1),
        "C = 1": Setup(model, C=1.0),
        "rule-found bodies masked": Setup(blocks_of(masked)),
        "scores smoothed over the heading's units, 0.2": Setup(model, sibling_share=0.2),
        "scores smoothed over the heading's units, 0.35": Setup(model, sibling_share=0.35),
    }
    print(f"{len(rows)} units, {len(set(keys))} groups by {args.group_by}, {len(folds)} folds")
    print(f"{'setup':48s} {'pooled':>7s} {'mean':>7s} {'s':>5s}")
    for name, setup in setups.items():
        started = time.perf_counter()
        scores, classes = scores_by_fold(rows, labels, documents, folds, setup)
        if setup.sibling_share:
            scores = smooth(scores, list(siblings.values()), setup.sibling_share)
        pooled, mean = pooled_and_group_macro_f1(
            list(labels), list(classes[scores.argmax(axis=1)]), keys
        )
        print(
            f"{name:48s} {pooled:7.3f} {mean:7.3f} {time.perf_counter() - started:5.0f}", flush=True
        )


if __name__ == "__main__":
    main()
