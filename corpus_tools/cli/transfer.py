"""`push`, `push-annotations`, `pull`, `export`: units and annotations in and out of Label Studio."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from corpus_tools.cli._common import (
    ProjectTitle,
    StudioKey,
    StudioUrl,
    _LazyProgress,
    app,
    clean_errors,
    console,
)


@app.command("push")
@clean_errors
def push(
    units: Annotated[
        Path, typer.Argument(help="A `segment` or `prelabel` output (.jsonl or .parquet).")
    ],
    project: ProjectTitle,
    url: StudioUrl = None,
    api_key: StudioKey = None,
    batch_size: Annotated[int, typer.Option(help="Tasks per import request.")] = 1000,
    least_certain_first: Annotated[
        bool,
        typer.Option(help="With predictions: import by ascending score and sample by uncertainty."),
    ] = True,
    annotations: Annotated[
        Path | None,
        typer.Option(
            help="Seed-format annotations (JSONL) to import with the new tasks, one request per batch."
        ),
    ] = None,
) -> None:
    """Push the body units of UNITS to a Label Studio project as tasks (no duplicates).

    Creates the project with the sentence-tagging config if needed. Units already
    in the project are skipped, so re-running after an interruption is safe.
    Pre-label rows become predictions. Example:
    corpus-tools push out/units.jsonl --project notices-2025
    """
    from corpus_tools.studio import push_units

    with _LazyProgress(f"Pushing to {project}") as progress:
        report = push_units(
            units,
            project=project,
            url=url,
            api_key=api_key,
            batch_size=batch_size,
            least_certain_first=least_certain_first,
            progress=progress,
            annotations=annotations,
        )
    typer.echo(
        f"project {report.project_title!r} (id {report.project_id}{', created' if report.project_created else ''}): "
        f"{report.tasks_created} new tasks"
        + (
            f" ({report.annotations_created} with annotations)"
            if report.annotations_created
            else ""
        )
        + f", {report.tasks_existing} already there, "
        f"{report.predictions_created} predictions added ({report.predictions_skipped} already there) "
        f"from {report.body_units} body units in {report.seconds:.1f} s"
    )
    if report.annotated_units_missing:
        missing = report.annotated_units_missing
        typer.echo(
            f"{len(missing)} annotated units are not among the body units pushed, so their "
            f"annotations were not imported (first: {missing[0]}); push the units file they "
            "were made on, or re-align them (corpus_tools.seed.align_to_units)",
            err=True,
        )
    if report.annotated_units_existing:
        typer.echo(
            f"{report.annotated_units_existing} annotated units were in the project already: "
            "annotations come only with new tasks; `corpus-tools push-annotations "
            f"{shlex.quote(str(annotations))} --project {shlex.quote(project)}` adds any "
            "not there yet",
            err=True,
        )
    if report.label_config_updated:
        typer.echo(
            f"the label config of {report.project_title!r} was updated to the current schema",
            err=True,
        )


@app.command("push-annotations")
@clean_errors
def push_annotations_command(
    annotations: Annotated[
        Path, typer.Argument(help="Seed-set JSONL: {unit_id, measure_type, spans, annotator}.")
    ],
    project: ProjectTitle,
    url: StudioUrl = None,
    api_key: StudioKey = None,
) -> None:
    """Load annotations (e.g. the seed set) into a project whose units were pushed.

    Each annotation is attributed to its annotator's user (created if missing);
    re-running adds nothing. Example:
    corpus-tools push-annotations data/annotations/seed.jsonl --project notices-2025
    """
    from corpus_tools.studio import push_annotations

    with _LazyProgress(f"Annotations to {project}") as progress:
        report = push_annotations(
            annotations,
            project=project,
            url=url,
            api_key=api_key,
            progress=progress,
        )
    typer.echo(
        f"project id {report.project_id}: {report.annotations_created} annotations created, "
        f"{report.annotations_existing} already there, {len(report.units_missing)} units not in the project"
        + (f" (first: {report.units_missing[0]})" if report.units_missing else "")
    )


@app.command("pull")
@clean_errors
def pull_command(
    project: ProjectTitle,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Label Studio JSON file to write.")
    ],
    url: StudioUrl = None,
    api_key: StudioKey = None,
) -> None:
    """Save every annotated task of a project as Label Studio JSON (export snapshot).

    Keeps the annotator, lead time and cancelled (skipped) state. Example:
    corpus-tools pull --project notices-2025 -o out/annotations.json
    """
    from corpus_tools.studio import pull

    with console.status(f"Exporting {project}…"):
        report = pull(project=project, output=output, url=url, api_key=api_key)
    typer.echo(
        f"wrote {report.path}: {report.tasks} tasks, {report.annotations} annotations "
        f"({report.cancelled} skipped) by {len(report.annotators)} annotators in {report.seconds:.1f} s"
    )


@app.command("export")
@clean_errors
def export_command(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Label Studio JSON exports (as `corpus-tools pull` writes them); several make one dataset."
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("export"),
    project: Annotated[
        str | None,
        typer.Option(
            "--project", "-p", help="Pull this Label Studio project instead of reading SOURCES."
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="Label Studio URL for --project (default: LABEL_STUDIO_URL, embedded)."),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(help="API key for --project (default: LABEL_STUDIO_API_KEY, embedded)."),
    ] = None,
    policy: Annotated[
        Literal["majority", "latest", "drop-conflicts"],
        typer.Option(help="How several annotations of one unit become one."),
    ] = "majority",
    # None when not given: a re-export that keeps the output's splits refuses given ones.
    train: Annotated[
        float | None, typer.Option(help="Fraction of units for train (default 0.8).")
    ] = None,
    validation: Annotated[
        float | None, typer.Option(help="Fraction for validation (default 0.1).")
    ] = None,
    test: Annotated[float | None, typer.Option(help="Fraction for test (default 0.1).")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the split by document (default 13).")
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option(help="Leave out (and count) spans that do not match the text.")
    ] = False,
    license: Annotated[str, typer.Option(help="License id for the dataset card.")] = "cc-by-4.0",
    keep_splits: Annotated[
        Path | None,
        typer.Option(
            help="An earlier export directory: each of its documents stays in its split "
            "there, so corrections do not reshuffle a published test split (default: the "
            "output directory, when it holds an export)."
        ),
    ] = None,
    new_splits: Annotated[
        bool,
        typer.Option(
            help="Draw the splits afresh (--seed, fractions) even when the output directory "
            "holds an earlier export."
        ),
    ] = False,
    held_out: Annotated[
        list[Path] | None,
        typer.Option(
            help="Notices (a file or folder) kept for evaluation: tasks whose text shares a "
            "sentence with them are left out and counted; repeatable, e.g. "
            "--held-out data/new-notices."
        ),
    ] = None,
) -> None:
    """Export Label Studio annotations to a Hugging Face dataset (Arrow, Parquet, card).

    Writes DIR/dataset (save_to_disk), DIR/data/{split}.parquet, DIR/README.md
    (dataset card) and DIR/export-report.json; splits are by document. Re-exporting
    into DIR keeps each earlier document in its split (--new-splits to redraw, also
    needed there for --train/--validation/--test/--seed).

    Example: corpus-tools export data/annotations/label-studio/*.json -o exports/corpus
    (or: corpus-tools export --project "Work-safety notices" -o exports/corpus)
    """
    from rich.table import Table

    from corpus_tools.export import Policy, SplitSizes, export_annotations

    source = None if not sources else sources[0] if len(sources) == 1 else sources
    fractions = {"train": train, "validation": validation, "test": test}
    given = {name: value for name, value in fractions.items() if value is not None}
    report = export_annotations(
        source,
        out,
        project=project,
        url=url,
        api_key=api_key,
        policy=Policy(policy),
        sizes=SplitSizes(**given) if given else None,
        seed=seed,
        skip_invalid=skip_invalid,
        license=license,
        keep_splits_of=keep_splits,
        new_splits=new_splits,
        held_out=tuple(held_out or ()),
    )
    table = Table(title=f"export of {report.source} -> {out}")
    for column in ("split", "units", "documents", "missing measure types"):
        table.add_column(column)
    for name, split in report.splits.items():
        missing = ", ".join(split.missing_measure_types) or "-"
        table.add_row(name, str(split.units), str(split.documents), missing)
    stdout = Console()
    stdout.print(table)
    a = report.agreement

    def fmt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    stdout.print(
        f"{report.tasks} tasks, {report.annotations} annotations, "
        f"{report.units_exported} units exported (policy {report.policy})",
        highlight=False,
    )
    if report.splits_kept_from is not None:
        stdout.print(
            f"{report.documents_kept_in_split} of {report.documents} documents kept the split "
            f"they had in {report.splits_kept_from}",
            highlight=False,
        )
    if a.units:
        stdout.print(
            f"agreement on {a.units} doubly annotated units: measure type κ "
            f"{fmt(a.measure_type_kappa)} (observed {fmt(a.measure_type_observed)}), span F1 "
            f"{fmt(a.span_f1_micro)} ("
            + ", ".join(f"{label} {fmt(f1)}" for label, f1 in a.span_f1.items())
            + ")",
            highlight=False,
        )
    for note in report.notes():
        stdout.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    for problem in report.invalid_spans:
        stdout.print(f"[yellow]skipped:[/yellow] {problem.describe()}", highlight=False)
