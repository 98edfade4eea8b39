"""`corpus-tools quickstart`: the whole loop on the embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpus_tools.cli._common import (
    app,
    clean_errors,
    console,
)


@app.command()
@clean_errors
def quickstart(
    work_dir: Annotated[
        Path, typer.Option("--work-dir", "-o", help="Where units, export, model and pre-labels go.")
    ] = Path("out/quickstart"),
    project: Annotated[
        str, typer.Option(help="Label Studio project title.")
    ] = "corpus-tools quickstart",
    max_steps: Annotated[int, typer.Option(help="Training steps (short by default).")] = 400,
    url: Annotated[
        str | None, typer.Option(help="Label Studio URL (default: the embedded server).")
    ] = None,
    api_key: Annotated[str | None, typer.Option(help="Label Studio token (never printed).")] = None,
    backend: Annotated[
        bool,
        typer.Option(
            "--backend/--no-backend",
            help="Serve the trained model to the project as its ML backend (in the background).",
        ),
    ] = True,
    retrain_after: Annotated[
        int | None,
        typer.Option(
            min=1, help="The backend retrains after this many new annotations [default: 20]."
        ),
    ] = None,
) -> None:
    """Run the whole loop on the embedded defaults, from segmenting to the report.

    Starts Label Studio, segments the sample corpus, pushes it, loads the seed
    annotations, exports, trains, evaluates, pre-labels data/new-notices into the
    same project, starts the ML backend on the trained model and connects it to
    the project (every task an annotator opens gets the model's suggestion; it
    retrains on their annotations), and writes the report of the pre-labelled notices
    (WORK_DIR/report/index.html). `corpus-tools studio stop` stops the backend too.

    Re-running never duplicates tasks, annotations or backends; a run stopped
    half-way finishes when started again.

    Example: corpus-tools quickstart
    """
    from corpus_tools.quickstart import run_quickstart

    def starting(step) -> None:
        console.print(f"[dim]… {step.value}[/dim]", highlight=False)

    def show(done) -> None:
        console.print(
            f"[green]✓[/green] {done.step.value:44s} {done.seconds:7.1f} s  {done.summary}",
            highlight=False,
        )

    report = run_quickstart(
        work_dir=work_dir,
        project=project,
        url=url,
        api_key=api_key,
        max_steps=max_steps,
        backend=backend,
        retrain_after=retrain_after,
        on_step=show,
        on_start=starting,
    )
    spans = ", ".join(f"{label} {f1:.2f}" for label, f1 in report.span_f1.items())
    console.print(
        f"\nDone in {report.seconds:.0f} s.\n"
        f"Label Studio: {report.url}  (login: {report.username or 'your account'}"
        + (f" / {report.password}" if report.password else "")
        + ")\n"
        f"Project:      {report.project}\n"
        f"Units:        {report.units_path}\n"
        f"Dataset:      {report.export_dir}\n"
        f"Model:        {report.model_dir}  measure-type macro-F1 {report.macro_f1:.3f} "
        f"(TF-IDF baseline {report.baseline_macro_f1:.3f}); span F1: {spans}\n"
        f"Pre-labels:   {report.prelabel_path}\n"
        f"Report:       {report.report_path}"
        + (
            f"\nML backend:   {report.backend.url}  (model {report.backend.model_version}, "
            f"pid {report.backend.pid}, log {report.backend.log_path})"
            if report.backend
            else ""
        )
        + f"\nNext:         open {report.project_url} and press 'Label All Tasks' (the model's "
        "suggestions shown, least certain first; docs/annotator-guide.md says how to judge); "
        "`uv run corpus-tools studio stop` stops Label Studio and the backend",
        highlight=False,
    )
