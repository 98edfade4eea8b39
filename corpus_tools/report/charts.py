"""The report's charts: Altair (Vega-Lite) specs drawn from the tables, each
with a one-line reading of what it shows, rendered offline to inline SVG by
`vl-convert` (no browser, no network: data is inlined, no URL is allowed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import altair as alt
import polars as pl

from corpus_tools.report.tables import MEASURE_NAMES, NOT_A_MEASURE
from corpus_tools.schema import MEASURE_TYPES

# CJK-capable families first: vl-convert measures text with them and the
# browser draws it with them (Debian fonts-droid-fallback, or the Noto/PingFang
# /YaHei an analyst's machine has).
FONT = (
    '"Droid Sans Fallback", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", '
    '"Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif'
)
CHART_CONFIG = {
    "font": FONT,
    "axis": {"labelFont": FONT, "titleFont": FONT, "labelLimit": 260},
    "legend": {"labelFont": FONT, "titleFont": FONT, "labelLimit": 220},
    "title": {"font": FONT},
    "view": {"stroke": None},
}
WIDTH = 620
MAX_NOTICES = 40
MAX_GROUPS = 30
MAX_BODIES = 20

# One colour per measure type in every chart (`other` is not a measure).
_MEASURE_ORDER = [MEASURE_NAMES[m] for m in MEASURE_TYPES if m != NOT_A_MEASURE]
_MEASURE_COLOR = alt.Color(
    "measure_name:N",
    title="measure type",
    scale=alt.Scale(domain=_MEASURE_ORDER, scheme="tableau10"),
    sort=_MEASURE_ORDER,
)


@dataclass(frozen=True, slots=True)
class Chart:
    key: str  # also the id of its section in the page
    title: str
    reading: str  # one line: what the chart shows, in numbers
    spec: dict  # Vega-Lite
    tables: tuple[str, ...]  # names of the tables it draws from (CSV/Parquet beside the page)


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _measures_only(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("measure_type") != NOT_A_MEASURE)


def measure_mix_by_notice(mix: pl.DataFrame) -> Chart | None:
    if mix.is_empty():
        return None
    totals = (
        mix.group_by("notice")
        .agg(pl.col("units").sum())
        .sort(["units", "notice"], descending=[True, False])
    )
    shown = totals.head(MAX_NOTICES)["notice"].to_list()
    data = mix.filter(pl.col("notice").is_in(shown))
    by_type = mix.group_by("measure_name").agg(pl.col("units").sum()).sort("units", descending=True)
    top = totals.row(0, named=True)
    reading = (
        f"Each bar is one notice's measures by type: {top['notice']} demands the most "
        f"({top['units']}); over all notices {by_type['measure_name'][0]} is the largest type "
        f"({_pct(by_type['units'][0] / by_type['units'].sum())} of {by_type['units'].sum()} measures)."
    )
    if totals.height > MAX_NOTICES:
        reading += (
            f" Showing the {MAX_NOTICES} largest of {totals.height} notices; the table has all."
        )
    order = (
        data.select("notice", "year")
        .unique()
        .sort("year", "notice", nulls_last=True)["notice"]
        .to_list()
    )
    spec = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("sum(units):Q", title="measures (units)"),
            y=alt.Y("notice:N", sort=order, title=None),
            color=_MEASURE_COLOR,
            order=alt.Order("measure_type:N"),
            tooltip=["notice:N", "measure_name:N", "units:Q", alt.Tooltip("share:Q", format=".0%")],
        )
        .properties(width=WIDTH, height=alt.Step(16), title="Measure types per notice")
    )
    return Chart(
        "mix-by-notice",
        "Measure types per notice",
        reading,
        spec.to_dict(),
        ("measure_mix_by_notice",),
    )


def measure_mix_by_group(mix: pl.DataFrame, by: str) -> Chart | None:
    if mix.is_empty():
        return None
    totals = (
        mix.group_by(by).agg(pl.col("units").sum()).sort(["units", by], descending=[True, False])
    )
    data = mix.filter(pl.col(by).is_in(totals.head(MAX_GROUPS)[by].to_list()))
    leaders = (
        mix.sort(["units", "measure_name"], descending=[True, False])
        .group_by(by, maintain_order=True)
        .first()
    )
    lead = (
        leaders.group_by("measure_name")
        .len()
        .sort(["len", "measure_name"], descending=[True, False])
        .row(0)
    )
    reading = (
        f"Share of each measure type per {by}: {lead[0]} is the largest type in {lead[1]} "
        f"of {totals.height} {by} groups."
    )
    if totals.height > MAX_GROUPS:
        reading += f" Showing the {MAX_GROUPS} largest groups; the table has all."
    spec = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "sum(units):Q",
                stack="normalize",
                title="share of measures",
                axis=alt.Axis(format="%"),
            ),
            # years in order; other groups largest first
            y=alt.Y(
                f"{by}:N",
                title=by,
                sort=sorted(totals[by]) if by == "year" else totals[by].to_list(),
            ),
            color=_MEASURE_COLOR,
            order=alt.Order("measure_type:N"),
            tooltip=[f"{by}:N", "measure_name:N", "units:Q", alt.Tooltip("share:Q", format=".0%")],
        )
        .properties(width=WIDTH, height=alt.Step(18), title=f"Measure types per {by}")
    )
    return Chart(
        "mix-by-group",
        f"Measure types per {by}",
        reading,
        spec.to_dict(),
        ("measure_mix_by_group",),
    )


def measure_share_by_year(shares: pl.DataFrame) -> Chart | None:
    if shares.is_empty():
        return None
    issuer = shares["issuer"][0]
    years = shares["year"].unique().sort()
    first, last = years[0], years[-1]
    ends = (
        shares.filter(pl.col("year").is_in([first, last]))
        .pivot("year", index="measure_name", values="share")
        .fill_null(0)
    )
    ends = ends.with_columns((pl.col(str(last)) - pl.col(str(first))).alias("change")).sort(
        pl.col("change").abs(), descending=True
    )
    moved = ends.row(0, named=True)
    reading = (
        f"{issuer}, {years.len()} years {first}–{last}: {moved['measure_name']} moved most, "
        f"from {_pct(moved[str(first)])} of its measures in {first} to {_pct(moved[str(last)])} in {last}."
    )
    spec = (
        alt.Chart(shares)
        .mark_line(point=True)
        .encode(
            x=alt.X("year:O", title="year"),
            y=alt.Y("share:Q", title="share of the year's measures", axis=alt.Axis(format="%")),
            color=_MEASURE_COLOR,
            tooltip=["year:O", "measure_name:N", "units:Q", alt.Tooltip("share:Q", format=".0%")],
        )
        .properties(width=WIDTH, height=300, title=f"{issuer}: measure types year by year")
    )
    return Chart(
        "share-by-year",
        f"{issuer}: measure types year by year",
        reading,
        spec.to_dict(),
        ("measure_share_by_year",),
    )


def bodies(by_type: pl.DataFrame, merged_mentions: int) -> Chart | None:
    measures = _measures_only(by_type)
    if measures.is_empty():
        return None
    totals = (
        measures.group_by("body")
        .agg(pl.col("units").sum())
        .sort(["units", "body"], descending=[True, False])
    )
    shown = totals.head(MAX_BODIES)["body"].to_list()
    top = totals.row(0, named=True)
    top_type = (
        measures.filter(pl.col("body") == top["body"]).sort(
            ["units", "measure_name"], descending=[True, False]
        )
    )["measure_name"][0]
    reading = (
        f"Who is named most as responsible: {top['body']} in {top['units']} measures, most often for "
        f"{top_type}; {totals.height} distinct bodies after normalisation, {merged_mentions} mentions "
        "merged through the alias table."
    )
    spec = (
        alt.Chart(measures.filter(pl.col("body").is_in(shown)))
        .mark_bar()
        .encode(
            x=alt.X("sum(units):Q", title="measures naming the body"),
            y=alt.Y("body:N", sort=shown, title=None),
            color=_MEASURE_COLOR,
            order=alt.Order("measure_type:N"),
            tooltip=["body:N", "measure_name:N", "units:Q"],
        )
        .properties(
            width=WIDTH,
            height=alt.Step(18),
            title=f"The {len(shown)} responsible bodies named most",
        )
    )
    return Chart(
        "bodies",
        "Responsible bodies",
        reading,
        spec.to_dict(),
        ("bodies_by_measure_type", "body_aliases"),
    )


def deadline_timeline(points: pl.DataFrame, relative: int, not_normalised: int) -> Chart | None:
    if points.is_empty():
        return None
    months = (
        points.group_by(pl.col("date").str.slice(0, 7).alias("month"))
        .agg(pl.col("units").sum())
        .sort(["units", "month"], descending=[True, False])
    )
    reading = (
        f"{points['units'].sum()} dated deadlines from {points['date'].min()} to {points['date'].max()}; "
        f"the busiest month is {months['month'][0]} ({months['units'][0]}). "
        f"{relative} relative and {not_normalised} not normalised deadlines are listed below the chart."
    )
    spec = (
        alt.Chart(points)
        .mark_circle(opacity=0.75)
        .encode(
            x=alt.X("date:T", title="deadline"),
            y=alt.Y("group:N", title=None),
            size=alt.Size("units:Q", title="units", scale=alt.Scale(range=[40, 400])),
            color=_MEASURE_COLOR,
            tooltip=[
                alt.Tooltip("date:T", format="%Y-%m-%d"),
                "group:N",
                "measure_name:N",
                "units:Q",
                "expression:N",
                "example:N",
            ],
        )
        .properties(width=WIDTH, height=alt.Step(28), title="Deadlines on a timeline")
    )
    return Chart(
        "deadlines", "Deadlines", reading, spec.to_dict(), ("deadline_points", "deadlines")
    )


def frequencies(by_type: pl.DataFrame) -> Chart | None:
    measures = _measures_only(by_type)
    if measures.is_empty():
        return None
    periods = (
        measures.group_by("frequency")
        .agg(pl.col("units").sum())
        .sort(["units", "frequency"], descending=[True, False])
    )
    top = periods.row(0, named=True)
    top_type = measures.filter(pl.col("frequency") == top["frequency"]).sort(
        ["units", "measure_name"], descending=[True, False]
    )["measure_name"][0]
    reading = (
        f"{measures['units'].sum()} frequency demands in measures; {top['frequency']} is the most common "
        f"({top['units']}), most often in {top_type}."
    )
    spec = (
        alt.Chart(measures)
        .mark_bar()
        .encode(
            x=alt.X("sum(units):Q", title="measures demanding it"),
            y=alt.Y("frequency:N", sort=periods["frequency"].to_list(), title=None),
            color=_MEASURE_COLOR,
            order=alt.Order("measure_type:N"),
            tooltip=["frequency:N", "measure_name:N", "units:Q", "as_written:N"],
        )
        .properties(width=WIDTH, height=alt.Step(20), title="Frequency demands by measure type")
    )
    return Chart(
        "frequencies",
        "Frequency demands",
        reading,
        spec.to_dict(),
        ("frequencies_by_measure_type",),
    )


_STATUS_ORDER = ["new", "carried over", "dropped"]


def changes(summary: pl.DataFrame) -> Chart | None:
    if summary.is_empty():
        return None
    data = summary.with_columns(
        pl.col("measure_type")
        .replace_strict(MEASURE_NAMES, default=pl.col("measure_type"))
        .alias("measure_name"),
        pl.concat_str("earlier", pl.lit(" → "), "later").alias("pair"),
    )
    parts = []
    for pair in data["pair"].unique(maintain_order=True):
        counts = data.filter(pl.col("pair") == pair).group_by("status").agg(pl.col("units").sum())
        count = dict(zip(counts["status"], counts["units"], strict=True))
        parts.append(
            f"{pair}: {count.get('new', 0)} new, {count.get('dropped', 0)} dropped, "
            f"{count.get('carried over', 0)} carried over"
        )
    reading = "Measures of the later notice against the earlier one — " + "; ".join(parts) + "."
    spec = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("sum(units):Q", title="measures"),
            y=alt.Y("measure_name:N", title=None, sort=_MEASURE_ORDER),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=_STATUS_ORDER, range=["#59a14f", "#bab0ac", "#e15759"]),
                sort=_STATUS_ORDER,
            ),
            order=alt.Order("status:N"),
            row=alt.Row(
                "pair:N",
                title=None,
                header=alt.Header(
                    labelFont=FONT, labelAngle=0, labelOrient="top", labelAnchor="start"
                ),
            ),
            tooltip=["pair:N", "measure_name:N", "status:N", "units:Q"],
        )
        .properties(width=WIDTH - 120, height=alt.Step(16))
    )
    return Chart(
        "changes", "What changed", reading, spec.to_dict(), ("changes_by_measure_type", "changes")
    )


# ---------------------------------------------------------------- rendering

_MARK_WITH_LABEL = re.compile(
    r'<(path|rect|circle|line)\b([^>]*?)aria-label="([^"]*)"([^>]*?role="graphics-symbol"[^>]*?)/>'
)


def render_svg(spec: dict) -> str:
    """The chart as an SVG string; each mark gets its tooltip as an SVG <title>,
    so hovering shows it in any browser without a script."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec, config=CHART_CONFIG, allowed_base_urls=[])
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    return _MARK_WITH_LABEL.sub(r'<\1\2aria-label="\3"\4><title>\3</title></\1>', svg)
