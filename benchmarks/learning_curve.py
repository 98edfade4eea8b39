"""Learning curve: measure-type macro-F1 by grouped cross-validation against the
number of annotated documents the model is fitted on, the TF-IDF baseline beside it.

Each fold holds out whole sectors (or issuers/genres, `--group-by`); its training
units are thinned to N documents drawn at random (seeded) from the other groups,
for each N of `--documents`; the held-out units are the same at every N. Does the
curve still rise at the right end? That decides the next annotation round.

    uv run python benchmarks/learning_curve.py [--export exports/corpus] [--documents 8 16 32 48 0]
    (0 = every training document of the fold)
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus_tools.model import GroupBy, cross_validate, iter_gold, load_export  # noqa: E402


def thin_to(documents: int, seed: int):
    def keep(train):
        if not documents:
            return train
        docs = sorted({u.doc_id for u in train})
        chosen = set(random.Random(seed).sample(docs, min(documents, len(docs))))
        return [u for u in train if u.doc_id in chosen]

    return keep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, default=ROOT / "exports" / "corpus")
    parser.add_argument("--group-by", default="sector", choices=[g.value for g in GroupBy])
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--documents", type=int, nargs="+", default=[8, 16, 24, 36, 48, 0])
    parser.add_argument("--seeds", type=int, default=1, help="draws of documents per point")
    args = parser.parse_args()

    dataset = load_export(args.export)
    units = [u for name in dataset for u in iter_gold(dataset[name])]
    print(
        f"{len(units)} units, {len({u.doc_id for u in units})} documents, "
        f"grouped by {args.group_by}, {args.folds} folds"
    )
    print(
        f"{'documents':>10} {'units':>7} {'macro-F1':>9} {'baseline':>9} "
        f"{'mean/group':>10} {'baseline':>9} {'seconds':>8}"
    )
    for documents in args.documents:
        seeds = range(args.seeds) if documents else range(1)
        rows = []
        for seed in seeds:
            started = time.perf_counter()
            recorder = Recorder(thin_to(documents, seed))
            # the measure-type classifier alone: the curve is about macro-F1
            r = cross_validate(
                units,
                group_by=args.group_by,
                folds=args.folds,
                train_filter=recorder,
                components=["char_ngram_cats"],
            )
            rows.append((r, recorder.sizes, time.perf_counter() - started))
        print_row(rows)


class Recorder:
    """A train filter that remembers how many documents and units each fold kept."""

    def __init__(self, keep) -> None:
        self.keep, self.sizes = keep, []

    def __call__(self, train):
        kept = self.keep(train)
        self.sizes.append((len({u.doc_id for u in kept}), len(kept)))
        return kept


def print_row(rows) -> None:
    n = len(rows)
    folds = [size for _, sizes, _ in rows for size in sizes]
    docs = sum(d for d, _ in folds) / len(folds)
    kept = sum(k for _, k in folds) / len(folds)

    def mean(figure) -> float:
        return sum(figure(r) for r, _, _ in rows) / n

    print(
        f"{docs:>10.1f} {kept:>7.0f} {mean(lambda r: r.measure_type.macro_f1):>9.3f} "
        f"{mean(lambda r: r.baseline_measure_type.macro_f1):>9.3f} "
        f"{mean(lambda r: r.mean_group_macro_f1):>10.3f} "
        f"{mean(lambda r: r.mean_group_baseline_macro_f1):>9.3f} "
        f"{sum(t for _, _, t in rows) / n:>8.0f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
