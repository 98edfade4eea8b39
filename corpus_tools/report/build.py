"""`build_report`: inputs → tables → charts → `DIR/index.html` and its tables."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import polars as pl

from corpus_tools.bodies import load_body_aliases
from corpus_tools.errors import OutputPathError, ReportError
from corpus_tools.report import changes as change_matching
from corpus_tools.report import charts, tables
from corpus_tools.report.loading import LoadedUnits, load_units
from corpus_tools.report.page import Section, page_html, table_html, write_tables
from corpus_tools.report.tables import DeadlineStatus, GroupBy

DEFAULT_TITLE = "What the notices demand"

# progress(what is being done, done so far, total or None when not known)
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True, slots=True)
class ReportResult:
    index: Path
    out_dir: Path
    tables: tuple[Path, ...]  # CSV and Parquet beside the page
    charts: tuple[str, ...]  # keys of the charts drawn
    units: int  # labelled units reported on
    measures: int  # of them, measures (type other than `other`)
    notices: int
    problems: tuple[str, ...]  # bad lines and unreadable inputs, skipped
    seconds: float


def _counts(units: pl.DataFrame) -> dict[str, int]:
    return {
        "units": units.height,
        "measures": tables.measures(units).height,
        "notices": units["doc_id"].n_unique(),
        "issuers": units.filter(pl.col("issuer") != "")["issuer"].n_unique(),
    }


def _check_out_dir(out_dir: Path) -> None:
    """Refuse an `out_dir` that cannot be the report's folder, before any work:
    `-o r.html` would otherwise make a folder named `r.html`."""
    if out_dir.suffix.lower() in (".html", ".htm"):
        folder = out_dir.with_suffix("")
        raise OutputPathError(
            f"{out_dir}: the report is a folder (index.html and its tables), not an HTML file; "
            f"give a folder, e.g. -o {folder} (the page is then {folder / 'index.html'})"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputPathError(
            f"{out_dir}: is a file; the report needs a folder (or a path to create)"
        )


def _no_units_error(paths: list[Path], loaded: LoadedUnits) -> ReportError:
    if not paths:
        return ReportError("no input given; name a prelabel file or an exported dataset")
    if loaded.problems:
        more = (
            f" (and {len(loaded.problems) - 1} more problems)" if len(loaded.problems) > 1 else ""
        )
        return ReportError(
            f"no labelled units to report: {loaded.problems[0]}{more}. No report was written."
        )
    read = ", ".join(f"{i.path} ({i.rows_read} records)" for i in loaded.inputs)
    return ReportError(
        f"no labelled units to report in {read}: none is a body unit with a measure_type. "
        "Expected `corpus-tools prelabel` output or an exported dataset (`corpus-tools export` DIR); "
        "make one with `corpus-tools prelabel NOTICES -o prelabels.jsonl`. No report was written."
    )


def build_report(
    inputs: Iterable[Path | str],
    out_dir: Path | str,
    *,
    by: GroupBy = GroupBy.ISSUER,
    title: str | None = None,
    aliases: Iterable[Path | str] = (),
    progress: Progress | None = None,
) -> ReportResult:
    """Write `out_dir/index.html` and every table behind its charts.

    Bad lines and unreadable inputs are skipped and listed (in the result and
    on the page); no units at all is a `ReportError` and nothing is written.
    An `out_dir` that cannot be a folder (`r.html`, a file) is an `OutputPathError`."""
    started = time.perf_counter()
    paths = [Path(p) for p in inputs]
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    report_progress = progress or (lambda what, done, total: None)
    alias_table = load_body_aliases(aliases)  # a bad alias file fails before any work

    read = {"rows": 0}

    def on_rows(rows: int) -> None:
        read["rows"] += rows
        report_progress("reading", read["rows"], None)

    loaded = load_units(paths, on_rows=on_rows)
    if loaded.frame.is_empty():
        raise _no_units_error(paths, loaded)

    steps = ["tables", "charts", "page"]
    report_progress(steps[0], 0, len(steps))
    units = tables.with_notice_columns(loaded.frame, by)
    mentions = tables.body_mentions(units, alias_table)
    deadline_rows = tables.deadlines(units)  # all; `other` units' too, for deadlines.csv
    # the page places, counts and lists measures' deadlines only, as it does bodies and frequencies
    measure_deadlines = tables.measures(deadline_rows)
    issuer = tables.series_issuer(units)
    pairs = change_matching.notice_pairs(units)
    change_rows = change_matching.changes_frame(
        [c for pair in pairs for c in change_matching.changes_between(units, pair)]
    )
    frames: dict[str, pl.DataFrame] = {
        "measure_mix_by_notice": tables.measure_mix_by_notice(units),
        "measure_mix_by_group": tables.measure_mix_by_group(units, by),
        # no issuer with enough years: the table is there, with its columns and no rows
        "measure_share_by_year": tables.measure_share_by_year(units, issuer or ""),
        "bodies_by_measure_type": tables.bodies_by_measure_type(mentions),
        "body_aliases": tables.aliases_applied(mentions, alias_table),
        "deadlines": deadline_rows,
        "deadline_points": tables.deadline_points(deadline_rows),
        "frequencies_by_measure_type": tables.frequencies_by_measure_type(units),
        "changes": change_rows,
        "changes_by_measure_type": change_matching.changes_by_measure_type(change_rows),
    }
    report_progress(steps[1], 1, len(steps))

    status_counts = dict(measure_deadlines.group_by("status").len().iter_rows())
    merged = int(frames["body_aliases"]["mentions"].sum())
    drawn = {
        "mix-by-notice": charts.measure_mix_by_notice(frames["measure_mix_by_notice"]),
        "mix-by-group": charts.measure_mix_by_group(frames["measure_mix_by_group"], by.value),
        "share-by-year": charts.measure_share_by_year(frames["measure_share_by_year"]),
        "bodies": charts.bodies(frames["bodies_by_measure_type"], merged),
        "deadlines": charts.deadline_timeline(
            frames["deadline_points"],
            status_counts.get(DeadlineStatus.RELATIVE.value, 0),
            status_counts.get(DeadlineStatus.NOT_NORMALISED.value, 0),
        ),
        "frequencies": charts.frequencies(frames["frequencies_by_measure_type"]),
        "changes": charts.changes(frames["changes_by_measure_type"]),
    }
    svgs = {key: charts.render_svg(chart.spec) for key, chart in drawn.items() if chart is not None}
    report_progress(steps[2], 2, len(steps))

    sections = _sections(
        drawn,
        svgs,
        frames,
        measure_deadlines,
        alias_sources=alias_table.sources,
        pairs=pairs,
    )
    counts = _counts(units)
    problems = tuple(str(p) for p in loaded.problems)
    title = title or DEFAULT_TITLE
    html = page_html(
        title=title,
        header_html=_header_html(loaded, counts, problems, by=by),
        sections=sections,
        tables=frames,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = write_tables(out_dir, frames)
    index = out_dir / "index.html"
    index.write_text(html, encoding="utf-8")
    report_progress("done", len(steps), len(steps))
    return ReportResult(
        index=index,
        out_dir=out_dir,
        tables=written,
        charts=tuple(svgs),
        units=counts["units"],
        measures=counts["measures"],
        notices=counts["notices"],
        problems=problems,
        seconds=time.perf_counter() - started,
    )


# ---------------------------------------------------------------- page parts


def _header_html(
    loaded: LoadedUnits, counts: dict[str, int], problems: tuple[str, ...], *, by: GroupBy
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    inputs = "".join(
        f"<tr><td>{escape(str(i.path))}</td><td>{escape(i.kind.value)}</td>"
        f'<td class="num">{i.rows_read}</td><td class="num">{i.units}</td>'
        f'<td class="num">{i.bad_lines}</td></tr>'
        for i in loaded.inputs
    )
    labels = ", ".join(sorted(set(loaded.frame["labels"].unique().to_list())))
    summary = "".join(
        f'<tr><th>{escape(name)}</th><td class="num" data-count="{escape(name)}">{value}</td></tr>'
        for name, value in counts.items()
    )
    problem_html = ""
    if problems:
        items = "".join(f"<li>{escape(p)}</li>" for p in problems[:200])
        more = f"<li>… and {len(problems) - 200} more</li>" if len(problems) > 200 else ""
        problem_html = (
            f'<div class="problems" data-testid="problems"><strong>{len(problems)} problems '
            f"in the input were skipped; the rest is reported:</strong><ul>{items}{more}</ul></div>"
        )
    return f"""<p class="meta">Written {when} by <code>corpus-tools report</code>; labels: {escape(labels)}
(predicted by the model for <code>prelabel</code> output, annotated for an exported dataset); grouped by
{escape(by.value)}. A measure is a unit whose type is not <code>other</code> (非措施). Charts, their readings
and the deadline lists count measures only: the bodies, deadlines and frequencies of units typed
<code>other</code> are left out there and kept, with that type, in <code>bodies_by_measure_type.csv</code>,
<code>deadlines.csv</code> and <code>frequencies_by_measure_type.csv</code>. Hover a mark for its numbers.</p>
<table data-testid="summary"><tbody>{summary}</tbody></table>
<table data-testid="inputs"><thead><tr><th>input</th><th>kind</th><th>records read</th>
<th>labelled units</th><th>bad lines</th></tr></thead><tbody>{inputs}</tbody></table>
{problem_html}"""


_EMPTY_NOTES = {
    "mix-by-notice": "No measures in the input: every unit is typed other.",
    "mix-by-group": "No measures in the input: every unit is typed other.",
    "share-by-year": "No issuer has notices in three or more years, so there is no time series.",
    "bodies": "No RESPONSIBLE_BODY span in any measure.",
    "deadlines": "No deadline with a date in the input.",
    "frequencies": "No FREQUENCY span in any measure.",
    "changes": (
        "No issuer has notices of one genre in two different years, so there is nothing "
        "comparable (notices of different genres, or with no genre, are not compared)."
    ),
}
_TITLES = {
    "mix-by-notice": "Measure types per notice",
    "mix-by-group": "Measure types per group",
    "share-by-year": "An issuer's measure types year by year",
    "bodies": "Responsible bodies",
    "deadlines": "Deadlines",
    "frequencies": "Frequency demands",
    "changes": "What changed",
}


def _sections(
    drawn: dict[str, charts.Chart | None],
    svgs: dict[str, str],
    frames: dict[str, pl.DataFrame],
    measure_deadlines: pl.DataFrame,
    *,
    alias_sources: tuple[Path, ...],
    pairs: list[change_matching.NoticePair],
) -> list[Section]:
    extra = {
        "bodies": _aliases_html(frames["body_aliases"], alias_sources),
        "deadlines": _deadlines_html(measure_deadlines),
        "changes": _changes_html(frames["changes"], pairs),
    }
    return [
        Section(
            key=key,
            title=chart.title if chart is not None else _TITLES[key],
            chart=chart,
            svg=svgs.get(key),
            empty_note=_EMPTY_NOTES[key],
            extra_html=extra.get(key, ""),
            # tables the section's own text shows whole: once, not also as a preview
            in_extra=_SHOWN_IN_EXTRA.get(key, ()),
        )
        for key, chart in drawn.items()
    ]


_SHOWN_IN_EXTRA = {"bodies": ("body_aliases",), "changes": ("changes",)}


def _aliases_html(applied: pl.DataFrame, sources: tuple[Path, ...]) -> str:
    files = ", ".join(f"<code>{escape(str(s))}</code>" for s in sources)
    return (
        f'<h3>Alias table</h3><p class="note">Bodies are compared after NFKC folding (full-width '
        f"brackets and digits) and removing spaces, then each alias is counted as its canonical name. "
        f"Read from {files}. Extend it by adding <code>alias,canonical</code> rows to "
        f"<code>data/body-aliases.csv</code> or by passing your own CSV with "
        f"<code>corpus-tools report … --aliases FILE</code> (a later row for the same alias wins).</p>"
        + table_html(applied, limit=None, test_id="aliases")
    )


def _deadlines_html(rows: pl.DataFrame) -> str:
    columns = ["expression", "measure_name", "notice", "unit_text"]
    dated = (
        rows.filter(pl.col("status") == DeadlineStatus.DATED.value)
        .sort("date")
        .select("date", "date_start", *columns)
    )
    unplaced = rows.filter(pl.col("status") != DeadlineStatus.DATED.value).select(
        "status", "relative", *columns
    )
    return (
        f"<details><summary>Dated deadlines and their units ({dated.height})</summary>"
        f"{table_html(dated, limit=200, test_id='deadlines-dated')}</details>"
        f"<h3>Deadlines not on the timeline ({unplaced.height})</h3>"
        '<p class="note">Relative deadlines (<code>3个月内</code>: a duration, no date) and expressions '
        "the normaliser could not resolve (<code>汛期前</code>; a <code>年底前</code> in a notice "
        "that gives no year in its date, 文号 or title); none is dropped. Deadlines of units typed "
        "<code>other</code> are in <code>deadlines.csv</code> only.</p>"
        + table_html(unplaced, limit=500, test_id="deadlines-unplaced")
    )


def _changes_html(rows: pl.DataFrame, pairs: list[change_matching.NoticePair]) -> str:
    if not pairs:
        return ""  # the section's note says why there is nothing to compare
    compared = "".join(
        f"<li>{escape(p.issuer)}, {escape(p.genre)}: {escape(p.earlier)} → {escape(p.later)}</li>"
        for p in pairs
    )
    shown = rows.sort("issuer", "status", "similarity", descending=[False, False, True])
    return (
        f'<div class="note" data-testid="change-method">Compared, per issuer, its latest notice of '
        f"one genre against the latest of that genre in an earlier year: <ul>{compared}</ul>"
        f"How matched: {escape(change_matching.METHOD)}. Carried over = matched; new = a measure of the "
        "later notice with no match; dropped = a measure of the earlier notice with no match. "
        "<code>matched_text</code> is the match, or for new and dropped the closest measure below "
        "the threshold with its similarity; <code>type_changed</code> marks a carried-over measure "
        "now of another type.</div>"
        + f"<details><summary>Every measure compared ({shown.height})</summary>"
        + table_html(
            shown.select(
                "status",
                "measure_type",
                "similarity",
                "type_changed",
                "text",
                "matched_text",
                "later",
            ),
            limit=300,
            test_id="changes",
        )
        + "</details>"
    )
