"""The `corpus-tools` command line: thin typer commands over library functions."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console

from corpus_tools.errors import CorpusToolsError

app = typer.Typer(
    name="corpus-tools",
    help=(
        "Turn Chinese work-safety notices into an annotated corpus and a model that "
        "pre-labels new ones.\n\n"
        "Example: corpus-tools segment data/notices -o out/units.jsonl"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


def clean_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a `CorpusToolsError` into one red line and exit code 1, no traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CorpusToolsError as error:
            console.print(f"[red]error:[/red] {error}", highlight=False, markup=True)
            raise typer.Exit(code=1) from None

    return wrapper


# --- segment commands ---

# --- studio commands ---

# --- export commands ---


@app.command("export")
@clean_errors
def export_command(
    source: Annotated[
        Path | None,
        typer.Argument(help="Label Studio JSON export (as `corpus-tools pull` writes it)."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("export"),
    project: Annotated[
        str | None, typer.Option(help="Pull this Label Studio project instead of reading FILE.")
    ] = None,
    policy: Annotated[
        Literal["majority", "latest", "drop-conflicts"],
        typer.Option(help="How several annotations of one unit become one."),
    ] = "majority",
    train: Annotated[float, typer.Option(help="Fraction of units for train.")] = 0.8,
    validation: Annotated[float, typer.Option(help="Fraction for validation.")] = 0.1,
    test: Annotated[float, typer.Option(help="Fraction for test.")] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed of the split by document.")] = 13,
    skip_invalid: Annotated[
        bool, typer.Option(help="Leave out (and count) spans that do not match the text.")
    ] = False,
    license: Annotated[str, typer.Option(help="License id for the dataset card.")] = "cc-by-4.0",
) -> None:
    """Export Label Studio annotations to a Hugging Face dataset (Arrow, Parquet, card).

    Example: corpus-tools export annotations.json -o exports/seed
    """
    from rich.table import Table

    from corpus_tools.export import Policy, SplitSizes, export_annotations

    report = export_annotations(
        source,
        out,
        project=project,
        policy=Policy(policy),
        sizes=SplitSizes(train=train, validation=validation, test=test),
        seed=seed,
        skip_invalid=skip_invalid,
        license=license,
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


# --- train / evaluate / prelabel commands ---

# --- quickstart command ---
