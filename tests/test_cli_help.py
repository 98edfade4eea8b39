"""`--help` reads like a mature tool's: every command has it, its summary fits the
command list's one row, and it shows an example to copy."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from corpus_tools.cli import app

runner = CliRunner(env={"COLUMNS": "100"})


def _commands(command, path=()):
    """Every leaf command of the app with its path (`studio start` …)."""
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield path, command
        return
    for name, sub in subcommands.items():
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_every_pipeline_stage_has_a_command():
    names = {" ".join(path) for path, _ in COMMANDS}
    for stage in ("segment", "push", "pull", "export", "train", "evaluate", "prelabel", "report"):
        assert stage in names


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_help_exits_0_with_a_one_line_summary_and_an_example(path):
    command = dict(COMMANDS)[path]
    summary = (command.help or "").strip().split("\n\n")[0]
    # the command list shows the first paragraph; a line break in it breaks the row
    assert summary and "\n" not in summary and len(summary) <= 100, summary
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert "Traceback" not in result.output
