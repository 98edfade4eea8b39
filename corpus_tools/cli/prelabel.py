"""`corpus-tools prelabel`: pre-label notices locally or on Ray, optionally push."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpus_tools.cli._common import (
    StudioKey,
    StudioUrl,
    app,
    clean_errors,
    console,
    spinner_progress,
)
from corpus_tools.engines import Engine
from corpus_tools.errors import CorpusToolsError


@app.command("prelabel")
@clean_errors
def prelabel_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Notice files/directories (any format `segment` reads) or units files."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output: .jsonl or .parquet.")],
    model: Annotated[
        Path | None, typer.Option(help="Model directory (default: the project's models/prelabel).")
    ] = None,
    n_process: Annotated[
        int | None,
        typer.Option(
            help="Worker processes for the model (local: default 1; ray: model actors, "
            "default all CPUs)."
        ),
    ] = None,
    body_only: Annotated[
        bool, typer.Option(help="Write only body units (default: headings/meta too, unlabelled).")
    ] = False,
    engine: Annotated[
        Engine,
        typer.Option(
            help="local: this machine's processes, one output file; ray: Ray Data over units "
            "files, -o is a directory of Parquet shards (needs `uv sync --extra ray`)."
        ),
    ] = Engine.LOCAL,
    address: Annotated[
        str | None,
        typer.Option(help="Ray cluster to join (--engine ray; default: start a local Ray)."),
    ] = None,
    push: Annotated[bool, typer.Option(help="Push the pre-labels to Label Studio.")] = False,
    project: Annotated[
        str | None, typer.Option("--project", "-p", help="Label Studio project for --push.")
    ] = None,
    url: StudioUrl = None,
    api_key: StudioKey = None,
) -> None:
    """Pre-label notices: measure type, spans with scores, normalised deadlines.

    Streams: units are read, labelled and written chunk by chunk. With --push the
    predictions go to Label Studio (existing units get the prediction added, least
    certain first). Unreadable files and lines are skipped and listed, the rest
    is written, and the exit code is 1. Example:
    corpus-tools prelabel data/new-notices -o out/prelabels.jsonl --push --project notices-2025
    """
    from corpus_tools.prelabel import PrelabelJob, run_prelabel

    if push and not project:
        raise CorpusToolsError("--push needs --project NAME (the Label Studio project title)")

    def warn(error) -> None:
        console.print(f"[yellow]skipped:[/yellow] {error}", highlight=False)

    with spinner_progress(" units") as bar:
        task = bar.add_task("Pre-labelling", total=None)
        job = PrelabelJob(
            paths=tuple(paths),
            output=output,
            model_dir=model,
            n_process=n_process,
            address=address,
            body_only=body_only,
            progress=lambda n: bar.update(task, completed=n),
            on_error=warn,
            push_project=project if push else None,
            url=url,
            api_key=api_key,
            push_progress=lambda done, total: bar.update(
                task, description="Pushing", completed=done, total=total
            ),
        )
        report = run_prelabel(job, engine=engine)
    typer.echo(
        f"wrote {report.output}: {report.units_labelled} units pre-labelled "
        f"({report.units_written} written) with {report.model_version} "
        f"in {report.seconds:.1f} s ({report.units_per_second:.0f} units/s)"
    )
    if report.push is not None:
        p = report.push
        typer.echo(
            f"pushed to {p.project_title!r}: {p.tasks_created} new tasks, "
            f"{p.predictions_created} predictions added, {p.predictions_skipped} already there"
            + (
                f", {p.predictions_replaced} earlier ones of the model removed from "
                "tasks not yet annotated"
                if p.predictions_replaced
                else ""
            )
        )
    if report.errors:  # the rest was written; the exit code tells a script that not all was
        console.print(
            "[red]some input was skipped[/red] (listed above); the rest was written",
            highlight=False,
        )
        raise typer.Exit(code=1)
