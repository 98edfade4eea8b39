"""Choose the model by grouped cross-validation: whole sectors (or issuers,
genres) held out, each setup beside the TF-IDF baseline fitted on the same folds.

Each setup is the training config with `--set`-style overrides; the table gives
pooled and mean-over-groups macro-F1 (model and baseline), span F1 per label,
the measure-type calibration error (ECE) and the wall time.

    uv run python benchmarks/grouped_cv.py [--export exports/corpus] [--group-by sector] [--folds 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus_tools.model import GroupBy, cross_validate, iter_gold, load_export  # noqa: E402

SETUPS: dict[str, dict] = {
    "as configured": {},
    "whole text (no marker strip, no first clause)": {
        "components.char_ngram_cats.strip_markers": False,
        "components.char_ngram_cats.first_clause_weight": 0.0,
    },
    "cue words (directive / defect / purpose / definition / target)": {
        "components.char_ngram_cats.cues": True
    },
    "C=3": {"components.char_ngram_cats.C": 3.0},
    "n-grams seen in 2+ units": {"components.char_ngram_cats.min_df": 2},
    "n-grams seen in 3+ units": {"components.char_ngram_cats.min_df": 3},
    "1-4-grams": {"components.char_ngram_cats.ngram_range": [1, 4]},
    "no class balance": {"components.char_ngram_cats.balanced": False},
}


def word_setup(units, *, group_by: str, folds: int, words: bool) -> tuple[float, float]:
    """Char 1-3-gram TF-IDF of the measure text (+ its first clause), plus jieba word
    1-2-grams when `words`, balanced LR: pooled and mean-over-groups macro-F1.
    jieba ships its dictionary on PyPI (a dev dependency: the model does not use it)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from corpus_tools.model.char_ngram_cats import measure_text
    from corpus_tools.model.cross_validation import group_key, grouped_folds
    from corpus_tools.model.scores import pooled_and_group_macro_f1

    if words:
        import jieba

        jieba.setLogLevel(60)
    parts = [measure_text(u.text, strip_markers=True) for u in units]
    keys = [group_key(u, group_by) for u in units]
    predicted = [""] * len(units)
    for held in grouped_folds(keys, folds=folds):
        held_set = set(held)
        train = [i for i in range(len(units)) if i not in held_set]
        vectorizers = [
            (TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True), 0, 1.0),
            (TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True), 1, 0.7),
        ]
        if words:
            vectorizers.append(
                (
                    TfidfVectorizer(
                        tokenizer=jieba.lcut,
                        token_pattern=None,
                        ngram_range=(1, 2),
                        sublinear_tf=True,
                        lowercase=False,
                    ),
                    0,
                    1.0,
                )
            )

        def matrix(rows, fit=False, vectorizers=vectorizers):
            blocks = []
            for vec, part, weight in vectorizers:
                texts = [parts[i][part] for i in rows]
                blocks.append((vec.fit_transform(texts) if fit else vec.transform(texts)) * weight)
            return hstack(blocks).tocsr()

        model = LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced")
        model.fit(matrix(train, fit=True), [units[i].measure_type for i in train])
        for i, label in zip(held, model.predict(matrix(held)), strict=True):
            predicted[i] = label
    return pooled_and_group_macro_f1([u.measure_type for u in units], predicted, keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, default=ROOT / "exports" / "corpus")
    parser.add_argument("--group-by", default="sector", choices=[g.value for g in GroupBy])
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--setups", nargs="*", default=list(SETUPS), help="names of SETUPS")
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="fit the measure-type classifier alone, the first setup too (no span columns)",
    )
    parser.add_argument(
        "--words", action="store_true", help="also char n-grams with and without jieba words"
    )
    args = parser.parse_args()

    dataset = load_export(args.export)
    units = [u for name in dataset for u in iter_gold(dataset[name])]
    print(
        f"{len(units)} units, {len({u.doc_id for u in units})} documents, "
        f"{len({getattr(u, args.group_by) for u in units})} groups by {args.group_by}, "
        f"at most {args.folds} folds"
    )
    header = (
        f"{'setup':<46} {'macro-F1':>8} {'base':>6} {'mean/grp':>8} {'base':>6} "
        f"{'RB':>5} {'DL':>5} {'FQ':>5} {'ECE':>6} {'s':>5}"
    )
    print(header)
    for name in args.setups:
        started = time.perf_counter()
        # the first setup fits the whole pipeline; the others change the measure-type
        # classifier alone, so they fit it alone (their span columns repeat the first's)
        first = name == args.setups[0]
        only = None if first and not args.measure_only else ["char_ngram_cats"]
        r = cross_validate(
            units,
            group_by=args.group_by,
            folds=args.folds,
            overrides=SETUPS[name],
            components=only,
            baseline=first,
        )
        if first:
            base, spans = r, r.spans
        f1 = {label: prf.f1 for label, prf in spans.per_label.items()}
        print(
            f"{name:<46} {r.measure_type.macro_f1:>8.3f} {base.baseline_measure_type.macro_f1:>6.3f} "
            f"{r.mean_group_macro_f1:>8.3f} {base.mean_group_baseline_macro_f1:>6.3f} "
            f"{f1['RESPONSIBLE_BODY']:>5.3f} {f1['DEADLINE']:>5.3f} {f1['FREQUENCY']:>5.3f} "
            f"{r.calibration_error:>6.3f} {time.perf_counter() - started:>5.0f}",
            flush=True,
        )
    if args.words:
        for words in (False, True):
            started = time.perf_counter()
            pooled, mean = word_setup(units, group_by=args.group_by, folds=args.folds, words=words)
            name = "scikit-learn: char n-grams" + (" + jieba words" if words else "")
            print(
                f"{name:<46} {pooled:>8.3f} {'':>6} {mean:>8.3f} {'':>6} "
                f"{'':>5} {'':>5} {'':>5} {'':>6} {time.perf_counter() - started:>5.0f}",
                flush=True,
            )
    print("baseline: char 1-3-gram TF-IDF + logistic regression, fitted on the same folds")


if __name__ == "__main__":
    main()
