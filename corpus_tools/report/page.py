"""The report page: one self-contained `index.html` (inline CSS and SVG, no
script, no font or file fetched), with its tables beside it as CSV and Parquet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path

import polars as pl

from corpus_tools.report.charts import FONT, Chart

PREVIEW_ROWS = 50

_CSS = f"""
body {{ font-family: {FONT}; margin: 2rem auto; max-width: 1100px; color: #222; line-height: 1.45; }}
h1 {{ font-size: 1.6rem; margin-bottom: .2rem; }}
h2 {{ font-size: 1.25rem; margin-top: 2.4rem; border-bottom: 1px solid #ddd; }}
p.reading {{ font-weight: 600; }}
p.note, .meta {{ color: #555; font-size: .9rem; }}
figure {{ margin: .5rem 0; overflow-x: auto; }}
table {{ border-collapse: collapse; font-size: .85rem; margin: .4rem 0 1rem; }}
th, td {{ border: 1px solid #ddd; padding: .2rem .45rem; vertical-align: top; text-align: left; }}
th {{ background: #f4f4f4; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.text {{ min-width: 320px; max-width: 560px; }}
details {{ margin: .3rem 0 1rem; }}
summary {{ cursor: pointer; color: #245; }}
.problems {{ background: #fff6e5; border: 1px solid #f0c36d; padding: .5rem 1rem; }}
"""


@dataclass(frozen=True, slots=True)
class Section:
    """A part of the page: a chart (or a note why there is none) and what goes with it."""

    key: str
    title: str
    chart: Chart | None
    svg: str | None
    empty_note: str  # shown when there is no chart
    extra_html: str = ""  # tables and notes beside the chart
    in_extra: tuple[str, ...] = ()  # chart tables `extra_html` shows whole: no preview of them


def table_html(frame: pl.DataFrame, *, limit: int | None = PREVIEW_ROWS, test_id: str = "") -> str:
    shown = frame.head(limit) if limit is not None else frame
    numeric = {c for c, t in frame.schema.items() if t.is_numeric()}
    head = "".join(f"<th>{escape(c)}</th>" for c in frame.columns)
    rows = []
    for row in shown.iter_rows():
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            css = (
                "num"
                if column in numeric
                else ("text" if isinstance(value, str) and len(value) > 40 else "")
            )
            text = (
                ""
                if value is None
                else (f"{value:.3f}" if isinstance(value, float) else str(value))
            )
            cells.append(
                f'<td class="{css}">{escape(text)}</td>' if css else f"<td>{escape(text)}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (
        f'<p class="note">{shown.height} of {frame.height} rows shown; the CSV has all.</p>'
        if shown.height < frame.height
        else ""
    )
    attr = f' data-testid="{escape(test_id)}"' if test_id else ""
    return (
        f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"
    )


def _links(names: Iterable[str]) -> str:
    return " · ".join(
        f'<a href="{escape(n)}.csv">{escape(n)}.csv</a> (<a href="{escape(n)}.parquet">Parquet</a>)'
        for n in names
    )


def _section_html(section: Section, tables: Mapping[str, pl.DataFrame]) -> str:
    parts = [f'<section id="{escape(section.key)}"><h2>{escape(section.title)}</h2>']
    if section.chart is None:
        parts.append(f'<p class="note">{escape(section.empty_note)}</p>')
    else:
        chart = section.chart
        parts.append(f'<p class="reading">{escape(chart.reading)}</p>')
        parts.append(
            f'<figure class="chart" data-chart="{escape(chart.key)}">{section.svg}</figure>'
        )
        parts.append(f'<p class="meta">Tables behind the chart: {_links(chart.tables)}</p>')
        for name in (n for n in chart.tables if n not in section.in_extra):
            parts.append(
                f"<details><summary>{escape(name)} ({tables[name].height} rows)</summary>"
                f"{table_html(tables[name])}</details>"
            )
    parts.append(section.extra_html)
    parts.append("</section>")
    return "\n".join(parts)


def write_tables(out_dir: Path, tables: Mapping[str, pl.DataFrame]) -> tuple[Path, ...]:
    written = []
    for name, frame in tables.items():
        csv, parquet = out_dir / f"{name}.csv", out_dir / f"{name}.parquet"
        frame.write_csv(csv)
        frame.write_parquet(parquet)
        written += [csv, parquet]
    return tuple(written)


def page_html(
    *,
    title: str,
    header_html: str,
    sections: list[Section],
    tables: Mapping[str, pl.DataFrame],
) -> str:
    toc = " · ".join(f'<a href="#{escape(s.key)}">{escape(s.title)}</a>' for s in sections)
    body = "\n".join(_section_html(s, tables) for s in sections)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{escape(title)}</h1>
{header_html}
<nav class="meta">{toc}</nav>
{body}
</body>
</html>
"""
