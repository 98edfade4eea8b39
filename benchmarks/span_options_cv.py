"""Which spans to trust on sectors the model has not seen: the CRF's, the rules',
or both — by grouped cross-validation, whole sectors held out.

For each fold the span CRF is fitted on the other sectors and tags the held-out
units; then, per span label, each rule option `train` knows is applied to the
same tagged docs: learned (the CRF alone), replace (the rules alone), add
(rules where no learned span lies), override (rules first, learned spans where
no rule span lies). Pooled exact-span F1 per label and option, and the mean
over sectors. The config's `rule_spans` options should be the best here.

    uv run python benchmarks/span_options_cv.py [--export exports/corpus] [--group-by sector]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus_tools.model import RuleSpans, iter_gold, load_export, prediction_of  # noqa: E402
from corpus_tools.model.cross_validation import (  # noqa: E402
    fit_pipeline,
    group_key,
    grouped_folds,
)
from corpus_tools.model.scores import span_scores  # noqa: E402
from corpus_tools.model.training import RULE_OPTIONS, _copy  # noqa: E402
from corpus_tools.schema import SPAN_LABELS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, default=ROOT / "exports" / "corpus")
    parser.add_argument("--group-by", default="sector")
    parser.add_argument("--folds", type=int, default=10)
    args = parser.parse_args()

    dataset = load_export(args.export)
    units = [u for name in dataset for u in iter_gold(dataset[name])]
    keys = [group_key(u, args.group_by) for u in units]
    docs = [None] * len(units)
    started = time.perf_counter()
    for held in grouped_folds(keys, folds=args.folds):
        held_set = set(held)
        train = [u for i, u in enumerate(units) if i not in held_set]
        nlp = fit_pipeline(train, components=["crf_spans"])
        for i, doc in zip(held, nlp.pipe(units[i].text for i in held), strict=True):
            docs[i] = doc
        print(
            f"  fold of {len(held)} units done, {time.perf_counter() - started:.0f} s", flush=True
        )
    gold = [set(u.spans) for u in units]
    groups = sorted(set(keys))
    print(f"{len(units)} units, {len(groups)} groups by {args.group_by}")
    print(
        f"{'label':<18} "
        + " ".join(f"{o:>18}" for o in RULE_OPTIONS)
        + "   (pooled F1 / mean over groups)"
    )
    for label in SPAN_LABELS:
        cells = []
        for option in RULE_OPTIONS:
            rule = RuleSpans(
                "study",
                replace=[label] if option == "replace" else [],
                add=[label] if option == "add" else [],
                override=[label] if option == "override" else [],
                rule_score=0.9,
            )
            predicted = [
                {(s, e, lab) for s, e, lab, *_ in prediction_of(rule(_copy(d))).spans} for d in docs
            ]
            pooled = span_scores(gold, predicted, labels=(label,)).per_label[label].f1
            per_group = []
            for g in groups:
                idx = [i for i, k in enumerate(keys) if k == g]
                scores = span_scores(
                    [gold[i] for i in idx], [predicted[i] for i in idx], labels=(label,)
                )
                if scores.per_label[label].support:
                    per_group.append(scores.per_label[label].f1)
            cells.append(f"{pooled:.3f} / {sum(per_group) / max(len(per_group), 1):.3f}")
        print(f"{label:<18} " + " ".join(f"{c:>18}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
