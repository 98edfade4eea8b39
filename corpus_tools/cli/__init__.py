"""The `corpus-tools` command line: thin typer commands over library functions,
one command group a file. Importing a module registers its commands on `app`;
the order below (the pipeline's) is the order `--help` lists them in."""

# isort: skip_file
from corpus_tools.cli._common import app
from corpus_tools.cli import segment  # noqa: F401
from corpus_tools.cli import studio  # noqa: F401
from corpus_tools.cli import transfer  # noqa: F401
from corpus_tools.cli import training  # noqa: F401
from corpus_tools.cli import prelabel  # noqa: F401
from corpus_tools.cli import serve  # noqa: F401
from corpus_tools.cli import report  # noqa: F401
from corpus_tools.cli import quickstart  # noqa: F401

__all__ = ["app"]
