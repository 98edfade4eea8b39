"""`corpus-tools studio …`: the embedded Label Studio and its database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpus_tools.cli._common import (
    ProjectTitle,
    StudioKey,
    StudioUrl,
    app,
    clean_errors,
    console,
)

studio_app = typer.Typer(
    help=(
        "Run the embedded Label Studio (127.0.0.1, SQLite in your user data dir).\n\n"
        "Example: corpus-tools studio start"
    ),
    no_args_is_help=True,
)
app.add_typer(studio_app, name="studio")


@studio_app.command("start")
@clean_errors
def studio_start(
    port: Annotated[
        int | None,
        typer.Option(
            help="Port on 127.0.0.1 (default: the port of the last start, else 8080, or a "
            "free one when that is taken)."
        ),
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
    sqlite: Annotated[
        bool,
        typer.Option(
            "--sqlite",
            help="Run on the SQLite file in the studio home (back from PostgreSQL: its data as left there).",
        ),
    ] = False,
) -> None:
    """Start the embedded Label Studio and print its URL and login.

    The first start migrates the database (about 40 s), creates the admin user
    and a personal access token, and stores them in a config file (mode 600) in
    your user data directory. The database (--sqlite, the default; --postgres or
    --database-url) is remembered for later starts.
    Example: corpus-tools studio start --postgres
    """
    from corpus_tools.studio import start_server

    with console.status("Starting Label Studio (the first start takes about 40 s)…"):
        info = start_server(
            port=port,
            timeout=timeout,
            postgres=postgres,
            database_url=database_url,
            sqlite=sqlite,
        )
    state = "already running" if info.already_running else f"started in {info.seconds:.0f} s"
    typer.echo(f"Label Studio {state}: {info.url}  database: {info.database}")
    typer.echo(f"login: {info.username}  password: {info.password}")
    typer.echo(f"config: {info.config_path}  log: {info.log_path}")


@studio_app.command("stop")
@clean_errors
def studio_stop() -> None:
    """Stop the embedded Label Studio and the ML backend started beside it.

    Example: corpus-tools studio stop
    """
    from corpus_tools.studio import stop_server

    status = stop_server()
    if status.backend_stopped_pid is not None:
        typer.echo(f"ML backend stopped (pid {status.backend_stopped_pid})")
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
    """Say whether the embedded Label Studio and the ML backend beside it run.

    Prints Label Studio's URL and login name, and the backend's URL, pid, model
    version and last retrain, or that it is down.

    Exits 1 when Label Studio does not run (a down backend is reported, not an
    error: Label Studio serves tasks without it). Example: corpus-tools studio status
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
    else:
        typer.echo(
            f"Label Studio is running: {status.url} (pid {status.pid}, login {status.username})"
        )
    if status.backend is not None:
        typer.echo(status.backend.summary)
    if not status.running:
        raise typer.Exit(code=1)
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


@studio_app.command("migrate")
@clean_errors
def studio_migrate(
    to_postgres: Annotated[
        bool,
        typer.Option(
            "--to-postgres",
            help="Move the SQLite database to PostgreSQL (the only direction there is).",
        ),
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            help=(
                "An existing, empty PostgreSQL database: postgresql://USER:PASSWORD@HOST:PORT/DATABASE "
                "(default: a cluster in the studio home, as `start --postgres`)."
            ),
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds to allow Label Studio's migrations on PostgreSQL.")
    ] = 600.0,
) -> None:
    """Move the embedded Label Studio from SQLite to PostgreSQL (stop it first).

    Users (with their logins and tokens), projects, tasks, annotations and
    predictions are copied with their ids; every table's row count is checked
    before the copy is committed. The SQLite file is left as it was, and later
    `studio start` runs on PostgreSQL.
    Example: corpus-tools studio stop && corpus-tools studio migrate --to-postgres
    """
    from corpus_tools.errors import StudioError
    from corpus_tools.studio.migrate import migrate_to_postgres

    if not to_postgres:
        raise StudioError("say where to: `corpus-tools studio migrate --to-postgres`")
    with console.status("Migrating to PostgreSQL (Label Studio's migrations take 1–2 minutes)…"):
        report = migrate_to_postgres(database_url=database_url, timeout=timeout)
    counts = ", ".join(
        f"{table} {report.counts_before[table]} → {report.counts_after[table]}"
        for table in report.counts_before
    )
    typer.echo(
        f"migrated {report.source} to {report.target} in {report.seconds:.0f} s: "
        f"{report.tables} tables, {report.rows} rows; {counts}"
    )
    typer.echo("the SQLite file is unchanged; `corpus-tools studio start` now runs on PostgreSQL")


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
        + (f"; removed the earlier one at {', '.join(link.replaced)}" if link.replaced else "")
        + (
            "; tasks are served least certain first"
            if link.least_certain_first
            else "; tasks get the model's suggestion as they open"
        )
    )
