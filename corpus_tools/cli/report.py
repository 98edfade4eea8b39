"""`corpus-tools report`: the analyst's HTML report."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from corpus_tools.cli._common import (
    app,
    clean_errors,
    console,
    spinner_progress,
)


class ReportBy(StrEnum):
    ISSUER = "issuer"
    YEAR = "year"
    SECTOR = "sector"
    GENRE = "genre"


@app.command("report")
@clean_errors
def report_command(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="`prelabel` output (.jsonl/.parquet) or an exported dataset (export DIR, "
            "its dataset/ or a data/*.parquet split)."
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Directory for index.html and its tables.")
    ],
    by: Annotated[
        ReportBy, typer.Option(help="Group notices by this for the per-group charts.")
    ] = ReportBy.ISSUER,
    title: Annotated[str | None, typer.Option(help="Page title.")] = None,
    aliases: Annotated[
        list[Path] | None,
        typer.Option(
            help="Extra body-alias CSV (alias,canonical) over data/body-aliases.csv; repeatable."
        ),
    ] = None,
) -> None:
    """Write an offline HTML report of what pre-labelled notices demand.

    Measure types per notice and group, an issuer's years, responsible bodies, deadlines,
    frequencies and what changed between two notices of one issuer; each chart's
    table beside it as CSV and Parquet. Bad input lines are skipped and listed.

    Example: corpus-tools report out/prelabels.jsonl -o out/report --by year
    """
    from corpus_tools.report import GroupBy, build_report

    with spinner_progress("") as bar:
        task = bar.add_task("Report", total=None)
        result = build_report(
            inputs,
            output,
            by=GroupBy(by.value),
            title=title,
            aliases=aliases or (),
            progress=lambda what, done, total: bar.update(
                task, description=f"Report: {what}", completed=done, total=total
            ),
        )
    for problem in result.problems:
        console.print(f"[yellow]skipped:[/yellow] {escape(problem)}", highlight=False)
    typer.echo(
        f"wrote {result.index}: {result.units} units ({result.measures} measures) of "
        f"{result.notices} notice(s), {len(result.charts)} charts, {len(result.tables)} table files "
        f"in {result.seconds:.1f} s"
    )
