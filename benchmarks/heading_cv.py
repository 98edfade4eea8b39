"""Screen context blocks for the measure type by grouped cross-validation: the
section heading above a unit, the outermost heading, the notice's title, the
neighbouring units, jieba words — each as one more TF-IDF block beside the
model's own (char 1–3-grams of the text without markers, its first clause at
0.7, cue words), whole sectors held out, the TF-IDF baseline on the same folds.

A linear SVM (seconds per fold) stands in for the model's classifier (the
logistic regression it had then, minutes per fold; SVMs since): it ranks the
blocks; `corpus-tools evaluate --group-by` then measures the chosen config.

    uv run python benchmarks/heading_cv.py [--export exports/corpus] [--group-by sector]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scipy.sparse import hstack  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from corpus_tools.model import load_export  # noqa: E402
from corpus_tools.model.char_ngram_cats import cue_words, measure_text  # noqa: E402
from corpus_tools.model.context import heading_of  # noqa: E402
from corpus_tools.model.cross_validation import grouped_folds  # noqa: E402
from corpus_tools.model.scores import pooled_and_group_macro_f1  # noqa: E402

Block = tuple[Callable[[], TfidfVectorizer], list[str], float]


def char_block() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)


def token_block() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer=str.split, lowercase=False, sublinear_tf=True, min_df=2)


def score(rows, labels, keys, folds, blocks: list[Block], *, baseline=False) -> tuple[float, float]:
    """Pooled and mean-over-groups macro-F1 of one feature setup."""
    predicted = [""] * len(rows)
    for held in folds:
        held_set = set(held)
        train = [i for i in range(len(rows)) if i not in held_set]
        fitted = [(make(), texts, weight) for make, texts, weight in blocks]
        x_train = hstack([v.fit_transform([t[i] for i in train]) * w for v, t, w in fitted])
        x_held = hstack([v.transform([t[i] for i in held]) * w for v, t, w in fitted])
        model = (
            LogisticRegression(C=10.0, max_iter=3000)
            if baseline
            else LinearSVC(C=0.3, class_weight="balanced")
        )
        model.fit(x_train.tocsr(), [labels[i] for i in train])
        for i, label in zip(held, model.predict(x_held.tocsr()), strict=True):
            predicted[i] = label
    return pooled_and_group_macro_f1(labels, predicted, keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, default=ROOT / "exports" / "corpus")
    parser.add_argument("--group-by", default="sector", choices=["issuer", "sector", "genre"])
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--jieba", action="store_true", help="also try jieba words")
    args = parser.parse_args()

    dataset = load_export(args.export)
    rows = [r for split in dataset for r in dataset[split]]
    names = dataset["train"].features["measure_type"].names
    labels = [names[r["measure_type"]] for r in rows]
    keys = [r[args.group_by] for r in rows]
    folds = list(grouped_folds(keys, folds=args.folds))
    parts = [measure_text(r["text"], strip_markers=True) for r in rows]
    text, first = [p[0] for p in parts], [p[1] for p in parts]
    heading = [heading_of(r["section_path"]) for r in rows]
    outer = [heading_of(r["section_path"][:1]) for r in rows]
    title = [r["title"] for r in rows]
    neighbours = defaultdict(list)
    for i, r in enumerate(rows):
        neighbours[r["doc_id"]].append((r["unit_index"], i))
    before, after = [""] * len(rows), [""] * len(rows)
    for units in neighbours.values():
        units.sort()
        for k, (_, i) in enumerate(units):
            before[i] = text[units[k - 1][1]] if k else ""
            after[i] = text[units[k + 1][1]] if k + 1 < len(units) else ""
    model = [
        (char_block, text, 1.0),
        (char_block, first, 0.7),
        (token_block, [" ".join(cue_words(r["text"])) for r in rows], 1.0),
    ]
    setups: dict[str, list[Block]] = {
        "the model's blocks (no context)": model,
        "+ section heading 0.2": model + [(char_block, heading, 0.2)],
        "+ section heading 0.3": model + [(char_block, heading, 0.3)],
        "+ section heading 0.5": model + [(char_block, heading, 0.5)],
        "+ outermost heading 0.3": model + [(char_block, outer, 0.3)],
        "+ title 0.3": model + [(char_block, title, 0.3)],
        "+ heading 0.3 + units before/after 0.2": model
        + [(char_block, heading, 0.3), (char_block, before, 0.2), (char_block, after, 0.2)],
    }
    if args.jieba:
        import jieba

        jieba.setLogLevel(60)
        words = [" ".join(jieba.lcut(t)) for t in text]
        setups["+ heading 0.3 + jieba words 0.5"] = model + [
            (char_block, heading, 0.3),
            (token_block, words, 0.5),
        ]
    raw = [r["text"] for r in rows]
    plain = lambda: TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)  # noqa: E731
    print(f"{len(rows)} units, {len(set(keys))} groups by {args.group_by}, {len(folds)} folds")
    print(f"{'setup':46s} {'pooled':>7s} {'mean':>7s} {'s':>5s}")
    for name, blocks in [("baseline: char TF-IDF + LR", [(plain, raw, 1.0)])] + list(
        setups.items()
    ):
        started = time.perf_counter()
        pooled, mean = score(rows, labels, keys, folds, blocks, baseline=name.startswith("base"))
        print(f"{name:46s} {pooled:7.3f} {mean:7.3f} {time.perf_counter() - started:5.0f}")


if __name__ == "__main__":
    main()
