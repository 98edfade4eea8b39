"""Active-learning curve: a simulated annotator, uncertainty-first against random order.

Whole sectors (about a fifth of the units) are held out; from a random seed of
annotated units of the other sectors the annotator is handed batch after batch —
least certain first, or in random order (the baseline, same seed) — each batch's
gold labels revealed, the project's measure-type classifier (`char_ngram_cats`'s
estimator with the training config's settings) refitted and scored by macro-F1
on the held-out sectors. Averaged over `--draws` held-out draws. Prints the curve
and how many units each order needs to reach a macro-F1 (0.75, the issue's, and
lower levels when neither reaches it); writes the curve as CSV and PNG.

    uv run python benchmarks/active_learning_curve.py [--export exports/corpus] [--draws 3]
        [--batch 100] [--max-units 2500] [--measures margin least-confident entropy]
    uv run python benchmarks/active_learning_curve.py --from-csv benchmarks/results-active-learning.csv
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# one BLAS thread: the machine's two cores are shared, and a fit this size gains little
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import polars as pl  # noqa: E402

from corpus_tools.model import GroupBy, iter_gold, load_export  # noqa: E402
from corpus_tools.model.active_learning import (  # noqa: E402
    DEFAULT_UNCERTAINTY,
    Order,
    Uncertainty,
    classifier_settings,
    hold_out_groups,
    simulate_annotator,
    units_to_reach,
)

GOAL_THRESHOLD = 0.75
GOAL_RATIO = 0.7
LOWER_THRESHOLDS = (0.70, 0.65, 0.60)
RANDOM = "random"


def curve_name(order: Order, measure: Uncertainty) -> str:
    return RANDOM if order is Order.RANDOM else f"{order.value} ({measure.value})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, default=ROOT / "exports" / "corpus")
    parser.add_argument("--group-by", default="sector", choices=[g.value for g in GroupBy])
    parser.add_argument("--share", type=float, default=0.2, help="share of units held out")
    parser.add_argument("--draws", type=int, default=3, help="held-out draws to average over")
    parser.add_argument("--seed-units", type=int, default=100)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--max-units", type=int, default=2500)
    parser.add_argument(
        "--measures",
        nargs="+",
        default=[DEFAULT_UNCERTAINTY.value],
        choices=[m.value for m in Uncertainty],
        help="uncertainty measures to run uncertainty-first with (the first is the one reported)",
    )
    parser.add_argument("--from-csv", type=Path, help="re-report and re-plot a run's CSV")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results-active-learning")
    args = parser.parse_args()

    started = time.perf_counter()
    if args.from_csv:  # re-report and re-plot a finished run
        frame = pl.read_csv(args.from_csv)
        args.draws = frame["draw"].n_unique()
        args.batch = int(frame["units"].unique().sort().diff().drop_nulls().min())
        names = [RANDOM] + sorted(set(frame["order"]) - {RANDOM}, key=_measure_rank)
    else:
        frame, names = simulate(args)
    mean = (
        frame.group_by("order", "units")
        .agg(
            pl.col("macro_f1").mean().alias("macro_f1"),
            pl.col("macro_f1").min().alias("min"),
            pl.col("macro_f1").max().alias("max"),
            pl.col("documents").mean().alias("documents"),
            pl.len().alias("draws"),
        )
        .filter(pl.col("draws") == args.draws)  # a unit count every draw's pool reached
        .sort("order", "units")
    )
    print_table(mean, names)
    report(frame, mean, names, draws=args.draws)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not args.from_csv:
        frame.write_csv(args.out.with_suffix(".csv"))
    write_plot(mean, names, args.out.with_suffix(".png"), batch=args.batch, draws=args.draws)
    written = [args.out.with_suffix(".png")] + (
        [] if args.from_csv else [args.out.with_suffix(".csv")]
    )
    print(f"wrote {' and '.join(map(str, written))}")
    print(f"total {time.perf_counter() - started:.0f} s")


def simulate(args) -> tuple[pl.DataFrame, list[str]]:
    """Every curve of every held-out draw, one row per point; the curves' names."""
    dataset = load_export(args.export)
    units = [u for name in dataset for u in iter_gold(dataset[name])]
    settings = classifier_settings()
    measures = [Uncertainty(m) for m in args.measures]
    print(
        f"{len(units)} units, {len({u.doc_id for u in units})} notices; held out: whole "
        f"{args.group_by} groups, ~{args.share:.0%} of the units, {args.draws} draws; seed "
        f"{args.seed_units} random units, batches of {args.batch}, up to {args.max_units}"
    )
    print(
        "classifier refitted in the loop: char_ngram_cats (character n-gram TF-IDF + "
        f"class-balanced linear model) with train.cfg's settings {settings}"
    )
    runs = [(Order.RANDOM, measures[0])] + [(Order.UNCERTAINTY_FIRST, m) for m in measures]
    names = [curve_name(o, m) for o, m in runs]
    rows = []
    started = time.perf_counter()
    for draw in range(args.draws):
        held = hold_out_groups(units, group_by=GroupBy(args.group_by), share=args.share, seed=draw)
        print(
            f"draw {draw}: {len(held.held_out)} held-out units of {len(held.groups)} groups "
            f"({', '.join(held.groups)}); pool {len(held.pool)} units",
            flush=True,
        )
        for order, measure in runs:
            for point in simulate_annotator(
                held.pool,
                held.held_out,
                order=order,
                seed_units=args.seed_units,
                batch_size=args.batch,
                max_units=args.max_units,
                measure=measure,
                settings=settings,
                group_by=GroupBy(args.group_by),
                seed=draw,
            ):
                rows.append(
                    {
                        "draw": draw,
                        "order": curve_name(order, measure),
                        "units": point.units,
                        "documents": point.documents,
                        "macro_f1": point.macro_f1,
                        "accuracy": point.accuracy,
                    }
                )
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    return pl.DataFrame(rows), names


def _measure_rank(name: str) -> int:
    """The default measure first (the one reported), then the enum's order."""
    ranks = [DEFAULT_UNCERTAINTY] + [m for m in Uncertainty if m is not DEFAULT_UNCERTAINTY]
    return next((i for i, m in enumerate(ranks) if f"({m.value})" in name), len(ranks))


def print_table(mean: pl.DataFrame, names: list[str]) -> None:
    wide = mean.pivot(on="order", index="units", values="macro_f1").sort("units")
    docs = mean.pivot(on="order", index="units", values="documents").sort("units")
    print("\nmacro-F1 on the held-out sectors (mean over draws; notices the units come from)")
    print(f"{'units':>6} " + " ".join(f"{n:>34}" for n in names))
    for row, doc_row in zip(wide.iter_rows(named=True), docs.iter_rows(named=True), strict=True):
        cells = [
            f"{row[n]:.3f} ({doc_row[n]:.0f} notices)" if row.get(n) is not None else "–"
            for n in names
        ]
        print(f"{row['units']:>6} " + " ".join(f"{c:>34}" for c in cells))


def report(frame: pl.DataFrame, mean: pl.DataFrame, names: list[str], *, draws: int) -> None:
    curves = {
        n: list(mean.filter(pl.col("order") == n).select("units", "macro_f1").iter_rows())
        for n in names
    }
    reported = names[1]
    print(
        "\nhighest mean macro-F1: "
        + ", ".join(f"{n} {max(f for _, f in c):.3f}" for n, c in curves.items())
    )
    for threshold in (GOAL_THRESHOLD, *LOWER_THRESHOLDS):
        needs = {n: units_to_reach(c, threshold) for n, c in curves.items()}
        line = ", ".join(f"{n}: {u if u is not None else 'not reached'}" for n, u in needs.items())
        random_units, ours = needs[RANDOM], needs[reported]
        ratio = (
            f"; ratio {ours / random_units:.2f}× random (goal ≤ {GOAL_RATIO}×: "
            f"{'met' if ours / random_units <= GOAL_RATIO else 'not met'})"
            if random_units and ours
            else ""
        )
        print(f"units to reach macro-F1 {threshold:.2f} (mean curve): {line}{ratio}")
        per_draw = []
        for draw in range(draws):
            part = frame.filter(pl.col("draw") == draw)
            draw_needs = {
                n: units_to_reach(
                    list(part.filter(pl.col("order") == n).select("units", "macro_f1").iter_rows()),
                    threshold,
                )
                for n in (RANDOM, reported)
            }
            per_draw.append(f"{draw_needs[reported] or '–'}/{draw_needs[RANDOM] or '–'}")
        print(f"    per draw ({reported} / random): {', '.join(per_draw)}")


def write_plot(mean: pl.DataFrame, names: list[str], path: Path, *, batch: int, draws: int) -> None:
    import altair as alt
    import vl_convert as vlc

    colors = alt.Scale(
        domain=names, range=["#7f7f7f", "#d62728", "#1f77b4", "#2ca02c"][: len(names)]
    )
    base = alt.Chart(mean)  # altair reads polars frames (narwhals)
    band = base.mark_area(opacity=0.15).encode(
        x=alt.X("units:Q", title="annotated units"),
        y=alt.Y("min:Q", title="macro-F1 on held-out sectors", scale=alt.Scale(zero=False)),
        y2="max:Q",
        color=alt.Color("order:N", scale=colors, title="order"),
    )
    line = base.mark_line(point=True, strokeWidth=2).encode(
        x="units:Q",
        y="macro_f1:Q",
        color=alt.Color("order:N", scale=colors, title="order"),
        tooltip=["order", "units", "macro_f1"],
    )
    goal = (
        alt.Chart(alt.Data(values=[{"y": GOAL_THRESHOLD}]))
        .mark_rule(strokeDash=[6, 4], color="black")
        .encode(y="y:Q")
    )
    chart = (band + line + goal).properties(
        width=640,
        height=380,
        title=alt.Title(
            "Simulated annotator: measure-type macro-F1 vs annotated units",
            subtitle=(
                f"char_ngram_cats refitted per batch of {batch}; mean of "
                f"{draws} held-out sector draws (band: min–max); dashed: 0.75"
            ),
        ),
    )
    chart = chart.configure_legend(symbolType="stroke", symbolOpacity=1, symbolStrokeWidth=3)
    path.write_bytes(vlc.vegalite_to_png(chart.to_dict(), scale=2))


if __name__ == "__main__":
    main()
