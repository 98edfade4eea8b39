"""The `corpus-tools` command line: thin typer commands over library functions."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

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

# --- train / evaluate / prelabel commands ---

# --- quickstart command ---
