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

# A mark's hover is its aria-label (`render_svg` makes it the SVG <title>), which
# Vega-Lite builds from every encoding channel (axes, colour, size, order) and
# then the tooltip fields, keeping the first of each title. So a tooltip lists
# only what no channel shows, and channels that show one thing share a title.
_MEASURE_TITLE = "measure type"

# One colour per measure type in every chart (`other` is not a measure).
_MEASURE_ORDER = [MEASURE_NAMES[m] for m in MEASURE_TYPES if m != NOT_A_MEASURE]
_MEASURE_COLOR = alt.Color(
    "measure_name:N",
    title=_MEASURE_TITLE,
    scale=alt.Scale(domain=_MEASURE_ORDER, scheme="tableau10"),
    sort=_MEASURE_ORDER,
)
# Stacks in one order of types; titled as the colour, so the hover names the type once.
_STACK_ORDER = alt.Order("measure_type:N", title=_MEASURE_TITLE)
# Shares to one decimal (`~` drops a trailing .0, so ticks read 20%, not 20.0%);
# a share on an axis is shown in the hover in the axis's format.
SHARE_FORMAT = ".1~%"
_SHARE_AXIS = alt.Axis(format=SHARE_FORMAT)
# Dates labelled with their year at any range (Vega's default labels a tick
# inside a year "April" alone); the hover shows the day in the axis's format.
# No tick step under a day, so a single date does not get hourly ticks.
_DATE_AXIS = alt.Axis(
    format="%Y-%m-%d",
    labelExpr=(
        "timeFormat(datum.value, date(datum.value) !== 1 ? '%Y-%m-%d' "
        ": month(datum.value) !== 0 ? '%Y-%m' : '%Y')"
    ),
    tickMinStep=24 * 60 * 60 * 1000,  # ms
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


def _whole_ticks(most: int, *, first: int = 0) -> list[int] | alt.UndefinedType:
    """Ticks for a count that reaches `most`, named when the span is 1 or 2:
    `tickMinStep=1` still halves those (Vega asks for span + 1 ticks)."""
    return list(range(first, most + 1)) if most - first <= 2 else alt.Undefined


def _count_axis(most: int) -> alt.Axis:
    """Counts are whole numbers: no 0.5 tick."""
    return alt.Axis(format="d", tickMinStep=1, values=_whole_ticks(most))


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


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
            x=alt.X("sum(units):Q", title="measures (units)", axis=_count_axis(top["units"])),
            y=alt.Y("notice:N", sort=order, title=None),
            color=_MEASURE_COLOR,
            order=_STACK_ORDER,
            tooltip=[
                alt.Tooltip("share:Q", format=SHARE_FORMAT, title="share of the notice's measures")
            ],
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
                axis=_SHARE_AXIS,
            ),
            # years in order; other groups largest first
            y=alt.Y(
                f"{by}:N",
                title=by,
                sort=sorted(totals[by]) if by == "year" else totals[by].to_list(),
            ),
            color=_MEASURE_COLOR,
            order=_STACK_ORDER,
            tooltip=["units:Q"],  # the share is the bar's length
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
            y=alt.Y("share:Q", title="share of the year's measures", axis=_SHARE_AXIS),
            color=_MEASURE_COLOR,
            tooltip=["units:Q"],
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
            x=alt.X(
                "sum(units):Q", title="measures naming the body", axis=_count_axis(top["units"])
            ),
            y=alt.Y("body:N", sort=shown, title=None),
            color=_MEASURE_COLOR,
            order=_STACK_ORDER,
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
        .agg(pl.col("deadlines").sum())
        .sort(["deadlines", "month"], descending=[True, False])
    )
    reading = (
        f"{_count(points['deadlines'].sum(), 'dated deadline')} from {points['date'].min()} to "
        f"{points['date'].max()}; the busiest month is {months['month'][0]} "
        f"({months['deadlines'][0]}). "
        f"{relative} relative and {not_normalised} not normalised deadlines are listed below the chart."
    )
    spec = (
        alt.Chart(points)
        .mark_circle(opacity=0.75)
        .encode(
            x=alt.X("date:T", title="deadline", axis=_DATE_AXIS),
            y=alt.Y("group:N", title=None),
            size=alt.Size(
                "deadlines:Q",
                title="deadlines",
                scale=alt.Scale(range=[40, 400]),
                legend=alt.Legend(
                    format="d",
                    tickMinStep=1,
                    values=_whole_ticks(points["deadlines"].max(), first=1),
                ),
            ),
            color=_MEASURE_COLOR,
            tooltip=["expression:N", "example:N"],
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
    top = periods["units"][0]
    tied = periods.filter(pl.col("units") == top)["frequency"].to_list()
    if len(tied) == periods.height > 1:  # naming the first of a tie would misread it as the most
        lead = f"no frequency is more common than another (each {top})"
    elif len(tied) > 1:
        lead = f"{_and(tied)} are the most common ({top} each)"
    else:
        top_type = measures.filter(pl.col("frequency") == tied[0]).sort(
            ["units", "measure_name"], descending=[True, False]
        )["measure_name"][0]
        lead = f"{tied[0]} is the most common ({top}), most often in {top_type}"
    reading = f"{measures['units'].sum()} frequency demands in measures; {lead}."
    spec = (
        alt.Chart(measures)
        .mark_bar()
        .encode(
            x=alt.X("sum(units):Q", title="measures demanding it", axis=_count_axis(top)),
            y=alt.Y("frequency:N", sort=periods["frequency"].to_list(), title=None),
            color=_MEASURE_COLOR,
            order=_STACK_ORDER,
            tooltip=["as_written:N"],
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
    longest = data.group_by("pair", "measure_name").agg(pl.col("units").sum())["units"].max()
    spec = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("sum(units):Q", title="measures", axis=_count_axis(longest)),
            # titled for the hover only: the bars' labels need no axis title
            y=alt.Y(
                "measure_name:N",
                title=_MEASURE_TITLE,
                axis=alt.Axis(title=None),
                sort=_MEASURE_ORDER,
            ),
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
            tooltip=["pair:N"],
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


def _count(n: int, noun: str) -> str:
    """`1 dated deadline`, `24 dated deadlines`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
