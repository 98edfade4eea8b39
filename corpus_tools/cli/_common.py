"""What every command shares: the typer app, the console, clean errors, common options."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from corpus_tools.errors import CorpusToolsError
from corpus_tools.outputs import describe_os_error

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
console = Console(stderr=True, soft_wrap=True)


def clean_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a `CorpusToolsError`, or an `OSError` on a path the user gave (a
    folder that cannot be created, a full disk), into one red line and exit code
    1, no traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CorpusToolsError as error:
            message = str(error)
        except OSError as error:
            if error.filename is None:  # not about a path: a bug to see whole
                raise
            message = describe_os_error(error)
        console.print(f"[red]error:[/red] {escape(message)}", highlight=False)
        raise typer.Exit(code=1) from None

    return wrapper


StudioUrl = Annotated[
    str | None,
    typer.Option(help="Label Studio URL (default: $LABEL_STUDIO_URL, else the embedded server)."),
]
StudioKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        show_default=False,
        help="Personal access token (default: $LABEL_STUDIO_API_KEY, else the embedded server's); never printed.",
    ),
]
ProjectTitle = Annotated[
    str,
    typer.Option(
        "--project",
        "-p",
        help="Label Studio project title (where a project is read, its id picks one of two "
        "of the same title).",
    ),
]


class _LazyProgress:
    """A rich progress bar that appears on the first update, so an error raised
    before any work (no server, bad token) prints as one clean line."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.bar = None
        self.task = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                disable=not console.is_terminal,  # a log or a pipe gets the summary only
            )
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=total)
        self.bar.update(self.task, completed=done, total=total)

    def __enter__(self) -> _LazyProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def spinner_progress(count_label: str):
    """A transient spinner with a running count, for work whose total is unknown."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed}" + count_label),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # a log or a pipe gets the summary only
    )
