"""`corpus-tools segment`: notices to sentence units."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from corpus_tools.cli._common import (
    app,
    clean_errors,
    console,
)


@app.command()
@clean_errors
def segment(
    paths: Annotated[
        list[Path], typer.Argument(help="Notice files or directories (.txt .md .html .pdf .docx).")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Units file: .jsonl (default) or .parquet.")
    ] = Path("out/units.jsonl"),
) -> None:
    """Cut notices into sentence units with document metadata and structure.

    Reads every file given (directories recursively), splits files that hold
    several notices, and writes one record per unit (heading, body or meta).

    Example: corpus-tools segment data/notices -o out/units.jsonl
    """
    from rich.progress import Progress

    from corpus_tools.ingest import iter_input_files
    from corpus_tools.segment import segment_files

    files = list(iter_input_files(paths))
    with Progress(
        console=console, transient=True, disable=len(files) < 5 or not console.is_terminal
    ) as progress:
        task = progress.add_task("segmenting", total=len(files))
        report = segment_files(files, output=output, on_file=lambda _: progress.advance(task))
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(report.units_by_kind.items()))
    if report.units == 0 and report.failures:  # `segment_files` then leaves the output alone
        console.print(f"nothing read: {report.output} left as it was", highlight=False)
    else:
        console.print(
            f"{report.documents} documents from {report.files_read} files → {report.output} "
            f"({report.units} units: {kinds or 'none'})",
            highlight=False,
        )
    for failure in report.failures:
        console.print(f"[red]failed:[/red] {escape(str(failure))}", highlight=False)
    if report.failures:
        raise typer.Exit(code=1)
