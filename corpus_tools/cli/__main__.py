"""`python -m corpus_tools.cli …`: the command line without its entry-point script
(how background processes such as the ML backend are started)."""

from corpus_tools.cli import app

app(prog_name="corpus-tools")
