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
    "1-4-grams": {"components.char_ngram_cats.ngram_range": [1, 4]},
    "no class balance": {"components.char_ngram_cats.balanced": False},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, default=ROOT / "exports" / "corpus")
    parser.add_argument("--group-by", default="sector", choices=[g.value for g in GroupBy])
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--setups", nargs="*", default=list(SETUPS), help="names of SETUPS")
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
        only = None if name == args.setups[0] else ["char_ngram_cats"]
        r = cross_validate(
            units,
            group_by=args.group_by,
            folds=args.folds,
            overrides=SETUPS[name],
            components=only,
            baseline=only is None,
        )
        if only is None:
            base = r
        if only is None:
            spans = r.spans
        f1 = {label: prf.f1 for label, prf in spans.per_label.items()}
        print(
            f"{name:<46} {r.measure_type.macro_f1:>8.3f} {base.baseline_measure_type.macro_f1:>6.3f} "
            f"{r.mean_group_macro_f1:>8.3f} {base.mean_group_baseline_macro_f1:>6.3f} "
            f"{f1['RESPONSIBLE_BODY']:>5.3f} {f1['DEADLINE']:>5.3f} {f1['FREQUENCY']:>5.3f} "
            f"{r.calibration_error:>6.3f} {time.perf_counter() - started:>5.0f}",
            flush=True,
        )
    print("baseline: char 1-3-gram TF-IDF + logistic regression, fitted on the same folds")


if __name__ == "__main__":
    main()
