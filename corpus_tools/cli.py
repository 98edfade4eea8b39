"""The `corpus-tools` command line: thin typer commands over library functions."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape

from corpus_tools.engines import Engine
from corpus_tools.errors import CorpusToolsError
from corpus_tools.schema import SPAN_LABELS

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
    """Turn a `CorpusToolsError` into one red line and exit code 1, no traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CorpusToolsError as error:
            console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
            raise typer.Exit(code=1) from None

    return wrapper


# --- segment commands ---


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
    with Progress(console=console, transient=True, disable=len(files) < 5) as progress:
        task = progress.add_task("segmenting", total=len(files))
        report = segment_files(files, output=output, on_file=lambda _: progress.advance(task))
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(report.units_by_kind.items()))
    console.print(
        f"{report.documents} documents from {report.files_read} files → {report.output} "
        f"({report.units} units: {kinds or 'none'})",
        highlight=False,
    )
    for failure in report.failures:
        console.print(f"[red]failed:[/red] {escape(str(failure))}", highlight=False)
    if report.failures:
        raise typer.Exit(code=1)


# --- studio commands ---

studio_app = typer.Typer(
    help=(
        "Run the embedded Label Studio (127.0.0.1, SQLite in your user data dir).\n\n"
        "Example: corpus-tools studio start"
    ),
    no_args_is_help=True,
)
app.add_typer(studio_app, name="studio")

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
ProjectTitle = Annotated[str, typer.Option("--project", "-p", help="Label Studio project title.")]


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
            )
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=total)
        self.bar.update(self.task, completed=done, total=total)

    def __enter__(self) -> _LazyProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@studio_app.command("start")
@clean_errors
def studio_start(
    port: Annotated[
        int | None, typer.Option(help="Port on 127.0.0.1 (default: 8080, or a free one).")
    ] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the server to answer.")
    ] = 240.0,
    postgres: Annotated[
        bool,
        typer.Option(
            "--postgres",
            help="Run on a PostgreSQL cluster kept in the studio home (started and stopped with it).",
        ),
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="Run on an existing PostgreSQL: postgresql://USER:PASSWORD@HOST:PORT/DATABASE.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start the embedded Label Studio and print its URL and login.

    The first start migrates the database (about 40 s), creates the admin user
    and a personal access token, and stores them in a config file (mode 600) in
    your user data directory. The database (SQLite, --postgres or --database-url)
    is remembered for later starts. Example: corpus-tools studio start --postgres
    """
    from corpus_tools.studio import start_server

    with console.status("Starting Label Studio (the first start takes about 40 s)…"):
        info = start_server(
            port=port, timeout=timeout, postgres=postgres, database_url=database_url
        )
    state = "already running" if info.already_running else f"started in {info.seconds:.0f} s"
    typer.echo(f"Label Studio {state}: {info.url}  database: {info.database}")
    typer.echo(f"login: {info.username}  password: {info.password}")
    typer.echo(f"config: {info.config_path}  log: {info.log_path}")


@studio_app.command("stop")
@clean_errors
def studio_stop() -> None:
    """Stop the embedded Label Studio. Example: corpus-tools studio stop"""
    from corpus_tools.studio import stop_server

    status = stop_server()
    typer.echo(
        f"Label Studio stopped (pid {status.pid})"
        if status.stopped
        else "Label Studio was not running"
    )
    if status.postgres_stopped_pid is not None:
        typer.echo(f"PostgreSQL stopped (pid {status.postgres_stopped_pid})")


@studio_app.command("status")
@clean_errors
def studio_status() -> None:
    """Say whether the embedded Label Studio runs, with URL and login name.

    Exits 1 when it does not run. Example: corpus-tools studio status
    """
    from corpus_tools.studio import server_status

    status = server_status()
    if status.postgres is not None:
        database = status.postgres
        typer.echo(
            f"PostgreSQL is running: {database.display}"
            + (f" (pid {database.pid})" if database.pid else "")
            if database.running
            else database.problem
        )
    if not status.running:
        typer.echo(
            f"Label Studio (pid {status.pid}) does not answer {status.url}/health; "
            "run `corpus-tools studio stop`, then `corpus-tools studio start`"
            if status.pid
            else f"Label Studio is not running (data in {status.home}); run `corpus-tools studio start`"
        )
        raise typer.Exit(code=1)
    typer.echo(f"Label Studio is running: {status.url} (pid {status.pid}, login {status.username})")
    if status.postgres is not None and not status.postgres.running:
        raise typer.Exit(code=1)


@studio_app.command("backup")
@clean_errors
def studio_backup(
    output: Annotated[Path, typer.Option("--output", "-o", help="Backup file to write.")],
) -> None:
    """Back up the embedded Label Studio's database (SQLite copy or pg_dump) to a file.

    Safe while the server runs. Example: corpus-tools studio backup -o studio.backup
    """
    from corpus_tools.studio.backup import backup_studio

    report = backup_studio(output=output)
    counts = ", ".join(f"{table} {n}" for table, n in report.counts.items())
    typer.echo(
        f"{report.database} backup written to {report.path} ({report.bytes} bytes): {counts}"
    )


@studio_app.command("restore")
@clean_errors
def studio_restore(
    backup: Annotated[Path, typer.Argument(help="A file written by `studio backup`.")],
) -> None:
    """Replace the embedded Label Studio's database with a backup (stop the server first).

    Example: corpus-tools studio restore studio.backup
    """
    from corpus_tools.studio.backup import restore_studio

    report = restore_studio(backup=backup)
    counts = ", ".join(f"{table} {n}" for table, n in report.counts.items())
    typer.echo(f"{report.database} database restored from {report.path}: {counts}")


@studio_app.command("config")
@clean_errors
def studio_config(
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="Where to write (default: label_configs/sentence_tagging.xml)."
        ),
    ] = None,
) -> None:
    """Regenerate the sentence-tagging label config from the schema.

    Example: corpus-tools studio config
    """
    from corpus_tools.label_config import SENTENCE_TAGGING_PATH, write_sentence_tagging_config

    typer.echo(f"wrote {write_sentence_tagging_config(output or SENTENCE_TAGGING_PATH)}")


@studio_app.command("connect-model")
@clean_errors
def studio_connect_model(
    project: ProjectTitle,
    backend: Annotated[
        str, typer.Option("--backend-url", help="URL of `corpus-tools serve-model`.")
    ] = "http://127.0.0.1:9090",
    url: StudioUrl = None,
    api_key: StudioKey = None,
) -> None:
    """Register the ML backend with a project (interactive pre-annotation on); idempotent.

    Example: corpus-tools studio connect-model --project notices-2025
    """
    from corpus_tools.studio.backend_link import connect_model

    link = connect_model(project=project, backend_url=backend, url=url, api_key=api_key)
    verb = "connected" if link.created else "already connected"
    typer.echo(
        f"ML backend {link.backend_url} {verb} to project {project!r} "
        f"(backend id {link.backend_id}, state {link.state}, model {link.model_version})"
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
    corpus-tools push-annotations data/seed/annotations.jsonl --project notices-2025
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


# --- export commands ---


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
        str | None, typer.Option(help="Pull this Label Studio project instead of reading FILE.")
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

    Writes DIR/dataset (save_to_disk), DIR/data/{split}.parquet, DIR/README.md
    (dataset card) and DIR/export-report.json; splits are by document.

    Example: corpus-tools export data/annotations/label-studio/*.json -o exports/corpus
    (or: corpus-tools export --project "Work-safety notices" -o exports/corpus)
    """
    from rich.table import Table

    from corpus_tools.export import Policy, SplitSizes, export_annotations

    source = None if not sources else sources[0] if len(sources) == 1 else sources
    report = export_annotations(
        source,
        out,
        project=project,
        url=url,
        api_key=api_key,
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


@app.command("train")
@clean_errors
def train_command(
    export_dir: Annotated[
        Path, typer.Argument(help="Export directory (`corpus-tools export -o DIR`).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model directory to write.")],
    config: Annotated[
        Path | None, typer.Option(help="spaCy training config (default: the project's).")
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Config override section.key=value (repeatable), e.g. --set training.dropout=0.2",
        ),
    ] = None,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many updates.")] = None,
    epochs: Annotated[
        int | None, typer.Option(help="Stop after this many epochs (0: no limit).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    name: Annotated[
        str, typer.Option(help="Model name (model_version = name-version).")
    ] = "zh_worksafety_prelabel",
    version: Annotated[str, typer.Option(help="Model version.")] = "0.1.0",
    select_rules: Annotated[
        bool,
        typer.Option(
            help="Choose rule spans per label where they beat the learned model on validation."
        ),
    ] = True,
    whole_corpus: Annotated[
        bool,
        typer.Option(
            help="Train on every split, keeping the config's measure-type mix and rule "
            "options (chosen by `evaluate --group-by`), as the shipped model is trained."
        ),
    ] = False,
) -> None:
    """Train the pre-labeling model (measure type + spans) on an export's train split.

    Keeps the best checkpoint on the validation split. Example:
    corpus-tools train exports/corpus -o models/prelabel --whole-corpus
    """
    from corpus_tools.model import parse_overrides, train_model

    def show(p) -> None:
        losses = " ".join(f"{k}={v:.1f}" for k, v in p.losses.items())
        mark = " *" if p.is_best else ""
        console.print(
            f"step {p.step:>5}/{p.max_steps or '∞'} epoch {p.epoch:>3}  {losses}  "
            f"measure macro-F1 {p.cats_macro_f or 0:.3f}  span F1 {p.ents_f or 0:.3f}  "
            f"score {p.score:.3f}{mark}",
            highlight=False,
        )

    result = train_model(
        export_dir,
        output,
        config_path=config,
        overrides=parse_overrides(overrides or []),
        max_steps=max_steps,
        max_epochs=epochs,
        seed=seed,
        name=name,
        version=version,
        select_rules=select_rules,
        whole_corpus=whole_corpus,
        progress=show,
    )
    for rule in result.rules:
        f1 = "  ".join(f"{k} {v:.3f}" for k, v in rule.f1.items())
        console.print(f"rules {rule.label}: {f1} -> {rule.chosen}", highlight=False)
    if result.misaligned_spans:
        console.print(f"spans not on token boundaries (left out): {result.misaligned_spans}")
    typer.echo(
        f"wrote {result.model_dir} ({result.model_version}): best score {result.best_score:.3f} "
        f"at step {result.best_step}, {result.n_train} train / {result.n_validation} validation "
        f"units, {result.seconds:.0f} s"
    )


def _prf_cells(s) -> list[str]:
    return [f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}"] if s else ["", "", ""]


@app.command("evaluate")
@clean_errors
def evaluate_command(
    model_dir: Annotated[Path, typer.Argument(help="Model directory (`corpus-tools train`).")],
    export_dir: Annotated[Path, typer.Argument(help="Export directory to score on.")],
    split: Annotated[str, typer.Option(help="Split to score.")] = "test",
    gold: Annotated[
        list[Path] | None,
        typer.Option(
            help="Score on the annotated units of this JSON Lines file (seed-set format) "
            "instead of a split; repeat to score several files together, e.g. "
            "--gold data/external-eval/new-notices-02-04.jsonl."
        ),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option(help="Also write the scores as JSON here.")
    ] = None,
    baseline: Annotated[
        bool, typer.Option(help="Train and score the TF-IDF baseline on the train split.")
    ] = True,
    group_by: Annotated[
        GroupByOption | None,
        typer.Option(
            help="Grouped cross-validation instead of one split: hold out each issuer, "
            "sector or genre whole, fit the model's config on the rest of the export "
            "(every split), and print per-group figures beside the baseline fitted on "
            "the same folds."
        ),
    ] = None,
    folds: Annotated[
        int, typer.Option(help="With --group-by: at most this many folds (groups are packed).")
    ] = 10,
) -> None:
    """Score a model on an export split beside a char TF-IDF + linear baseline.

    Prints per-label P/R/F1, macro-F1, accuracy, the confusion matrix and
    exact-span P/R/F1 per label (with the span rules alone for comparison).
    With --group-by, scores by grouped cross-validation over issuers, sectors or
    genres the model has not seen.
    Example: corpus-tools evaluate models/prelabel exports/corpus --group-by sector
    """
    import json

    from rich.table import Table

    from corpus_tools.model import evaluate_model

    if group_by is not None:
        _print_cross_validation(model_dir, export_dir, group_by.value, folds, json_out)
        return

    with console.status(f"Scoring on {', '.join(map(str, gold or [])) or split}…"):
        result = evaluate_model(
            model_dir, export_dir, split=split, gold_files=gold or (), baseline=baseline
        )
    split = result.split
    out = Console()
    m, b = result.measure_type, result.baseline_measure_type
    table = Table(
        title=f"measure type — {result.model_version} on {split} ({result.n_units} units)"
    )
    for column in ("label", "P", "R", "F1", "baseline P", "baseline R", "baseline F1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label in m.labels:
        s = m.per_label[label]
        table.add_row(label, *_prf_cells(s), *_prf_cells(b.per_label.get(label)), str(s.support))
    table.add_section()
    table.add_row("macro-F1", "", "", f"{m.macro_f1:.3f}", "", "", f"{b.macro_f1:.3f}", "")
    table.add_row("accuracy", "", "", f"{m.accuracy:.3f}", "", "", f"{b.accuracy:.3f}", "")
    out.print(table)
    if baseline:
        out.print(f"baseline: {result.baseline_name}", highlight=False)
    confusion = Table(title="confusion matrix (rows gold, columns predicted)")
    confusion.add_column("gold \\ predicted")
    for label in m.labels:
        confusion.add_column(label[:8], justify="right")
    for label, row in zip(m.labels, m.confusion, strict=True):
        confusion.add_row(label, *(str(n) if n else "·" for n in row))
    out.print(confusion)
    spans = Table(title="spans (exact match)")
    for column in ("label", "P", "R", "F1", "rules P", "rules R", "rules F1", "support"):
        spans.add_column(column, justify="left" if column == "label" else "right")
    for label, s in result.spans.per_label.items():
        r = result.rules_only_spans.per_label[label]
        spans.add_row(label, *_prf_cells(s), *_prf_cells(r), str(s.support))
    spans.add_section()
    spans.add_row(
        "micro",
        *_prf_cells(result.spans.micro),
        *_prf_cells(result.rules_only_spans.micro),
        str(result.spans.micro.support),
    )
    out.print(spans)
    if result.per_notice:
        title = "per notice (measure-type macro-F1 beside the baseline)"
        out.print(_group_table(title, "notice", result.per_notice))
    if baseline:
        out.print(f"baseline fitted on: {', '.join(result.baseline_trained_on)}", highlight=False)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(
            json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        console.print(f"wrote {json_out}")


def _group_table(title: str, name: str, groups) -> Any:
    """Model beside baseline for each group (`GroupScores`); – where F1 is undefined."""
    from rich.table import Table

    table = Table(title=title)
    columns = (name, "units", "docs", "macro-F1", "baseline", "accuracy", "baseline acc.")
    for column in columns + tuple(f"{label} F1" for label in SPAN_LABELS):
        table.add_column(column, justify="left" if column == name else "right")
    for g in groups:
        table.add_row(
            g.group,
            str(g.units),
            str(g.documents),
            f"{g.macro_f1:.3f}",
            f"{g.baseline_macro_f1:.3f}",
            f"{g.accuracy:.3f}",
            f"{g.baseline_accuracy:.3f}",
            *(f"{g.span_f1[label]:.2f}" if label in g.span_f1 else "–" for label in SPAN_LABELS),
        )
    return table


class GroupByOption(StrEnum):
    issuer = "issuer"
    sector = "sector"
    genre = "genre"


def _print_cross_validation(
    model_dir: Path, export_dir: Path, group_by: str, folds: int, json_out: Path | None
) -> None:
    import json

    from rich.progress import Progress

    from corpus_tools.model import cross_validate_export

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"cross-validating by {group_by}", total=None)

        def advance(p) -> None:
            bar.update(task, total=p.folds, completed=p.fold)

        result = cross_validate_export(
            model_dir, export_dir, group_by=group_by, folds=folds, progress=advance
        )
    out = Console()
    table = _group_table(
        f"grouped cross-validation by {group_by}: {result.n_groups} groups, "
        f"{result.folds} folds, {result.n_units} units",
        "group",
        result.groups,
    )
    table.add_section()
    table.add_row(
        "mean over groups",
        "",
        "",
        f"{result.mean_group_macro_f1:.3f}",
        f"{result.mean_group_baseline_macro_f1:.3f}",
        "",
        "",
        "",
        "",
        "",
    )
    m, b = result.measure_type, result.baseline_measure_type
    table.add_row(
        "pooled",
        str(result.n_units),
        "",
        f"{m.macro_f1:.3f}",
        f"{b.macro_f1:.3f}",
        f"{m.accuracy:.3f}",
        f"{b.accuracy:.3f}",
        *(f"{result.spans.per_label[label].f1:.2f}" for label in SPAN_LABELS),
    )
    out.print(table)
    out.print(
        f"baseline: {result.baseline_name}; spans pooled, rules alone: "
        + ", ".join(
            f"{label} {result.rules_only_spans.per_label[label].f1:.2f}" for label in SPAN_LABELS
        )
        + f"; measure-type calibration error (ECE, {10} bins): {result.calibration_error:.3f}",
        highlight=False,
    )
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(
            json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        console.print(f"wrote {json_out}")


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
    certain first). Example:
    corpus-tools prelabel data/new-notices -o out/prelabels.jsonl --push --project notices-2025
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from corpus_tools.prelabel import PrelabelJob, run_prelabel

    if push and not project:
        raise CorpusToolsError("--push needs --project NAME (the Label Studio project title)")

    def warn(error) -> None:
        console.print(f"[yellow]skipped:[/yellow] {error}", highlight=False)

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} units"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
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
        )


# --- report command ---


class ReportBy(StrEnum):
    ISSUER = "issuer"
    YEAR = "year"
    SECTOR = "sector"
    GENRE = "genre"


@app.command("serve-model")
@clean_errors
def serve_model_command(
    model: Annotated[
        Path | None, typer.Option(help="Model directory (default: models/prelabel).")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 9090,
    work_dir: Annotated[
        Path, typer.Option(help="Where retrained models and their exports go.")
    ] = Path("out/ml-backend"),
    seed_export: Annotated[
        Path | None,
        typer.Option(
            help="Export to retrain on beside the new annotations (default: exports/corpus if present; without one, no retraining)."
        ),
    ] = None,
    retrain_after: Annotated[
        int, typer.Option(min=1, help="Retrain after this many new annotations.")
    ] = 20,
    retrain_steps: Annotated[int, typer.Option(min=1, help="Training steps of a retrain.")] = 200,
    url: StudioUrl = None,
    api_key: StudioKey = None,
) -> None:
    """Serve the model to Label Studio as an ML backend (predict, setup, webhook retraining).

    Example: corpus-tools serve-model --port 9090, then corpus-tools studio connect-model -p NAME
    """
    from corpus_tools.prelabel import DEFAULT_MODEL_DIR
    from corpus_tools.studio.ml_backend import backend_state, serve

    default_seed = Path(__file__).resolve().parent.parent / "exports" / "corpus"
    seed = seed_export or (default_seed if (default_seed / "dataset").is_dir() else None)
    state = backend_state(
        model_dir=model or DEFAULT_MODEL_DIR,
        seed_export=seed,
        work_dir=work_dir,
        retrain_after=retrain_after,
        retrain_steps=retrain_steps,
        url=url,
        api_key=api_key,
    )
    import logging

    # the retrain outcomes (`corpus_tools.ml_backend` logger) go to the console
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    typer.echo(
        f"ML backend serving {state.served.model_version} on http://{host}:{port} "
        f"(retrain after {retrain_after} annotations: {'on' if state.retrain else 'off'})"
    )
    serve(state, host=host, port=port)


@app.command("report")
@clean_errors
def report_command(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="`prelabel` output (.jsonl/.parquet) or an exported dataset (export DIR, "
            "its dataset/ or a data/*.parquet split)."
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Directory for index.html and its tables.")
    ],
    by: Annotated[
        ReportBy, typer.Option(help="Group notices by this for the per-group charts.")
    ] = ReportBy.ISSUER,
    title: Annotated[str | None, typer.Option(help="Page title.")] = None,
    aliases: Annotated[
        list[Path] | None,
        typer.Option(
            help="Extra body-alias CSV (alias,canonical) over data/body-aliases.csv; repeatable."
        ),
    ] = None,
) -> None:
    """Write an offline HTML report of what the notices demand: measure types per
    notice and group, an issuer's years, responsible bodies, deadlines,
    frequencies and what changed between two notices of one issuer; each chart's
    table beside it as CSV and Parquet. Bad input lines are skipped and listed.

    Example: corpus-tools report out/prelabels.jsonl -o out/report --by year
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from corpus_tools.report import GroupBy, build_report

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("Report", total=None)
        result = build_report(
            inputs,
            output,
            by=GroupBy(by.value),
            title=title,
            aliases=aliases or (),
            progress=lambda what, done, total: bar.update(
                task, description=f"Report: {what}", completed=done, total=total
            ),
        )
    for problem in result.problems:
        console.print(f"[yellow]skipped:[/yellow] {escape(problem)}", highlight=False)
    typer.echo(
        f"wrote {result.index}: {result.units} units ({result.measures} measures) of "
        f"{result.notices} notice(s), {len(result.charts)} charts, {len(result.tables)} table files "
        f"in {result.seconds:.1f} s"
    )


# --- quickstart command ---


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
) -> None:
    """Run the whole loop on the embedded defaults: start Label Studio, segment
    the sample corpus, push it, load the seed annotations, export, train,
    evaluate, pre-label data/new-notices into the same project, and write the
    report of the pre-labelled notices (WORK_DIR/report/index.html).

    Re-running never duplicates tasks or annotations; a run stopped half-way
    finishes when started again.

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
        f"Report:       {report.report_path}",
        highlight=False,
    )
