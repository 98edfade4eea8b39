"""Backup and restore of the embedded Label Studio's database.

SQLite: a consistent copy through SQLite's online backup API (safe while the
server runs). PostgreSQL: `pg_dump --format=custom` / `pg_restore --clean`.
Both report row counts of the tables that hold the work, so a round trip can
be checked.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from corpus_tools.errors import StudioError
from corpus_tools.outputs import check_writable_file
from corpus_tools.studio.connection import read_config, studio_home
from corpus_tools.studio.postgres import (
    DatabaseKind,
    PostgresSettings,
    check_reachable,
    cluster_running,
    connect,
    database_kind,
    server_bindir,
    settings_from_config,
    start_local_postgres,
    stop_local_postgres,
)

# Label Studio's tables for users, projects, tasks, annotations, predictions.
COUNTED_TABLES = ("htx_user", "project", "task", "task_completion", "prediction")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_DUMP_MAGIC = b"PGDMP"


@dataclass(frozen=True, slots=True)
class BackupReport:
    database: DatabaseKind
    path: Path
    counts: dict[str, int]
    bytes: int


def sqlite_path(home: Path) -> Path:
    return home / "data" / "label_studio.sqlite3"


def _sqlite_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in COUNTED_TABLES
        }


def _postgres_counts(settings: PostgresSettings) -> dict[str, int]:
    with connect(settings) as connection:
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in COUNTED_TABLES
        }


def _pg_env(settings: PostgresSettings) -> dict[str, str]:
    # The password goes in the environment, not argv, so `ps` does not show it.
    return {**os.environ, "PGPASSWORD": settings.password}


def _pg_args(settings: PostgresSettings) -> list[str]:
    return ["-h", settings.host, "-p", str(settings.port), "-U", settings.user]


def _run_pg(argv: list[str], settings: PostgresSettings, what: str) -> None:
    done = subprocess.run(
        argv, env=_pg_env(settings), capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise StudioError(f"{what} failed: {lines[-1] if lines else f'exit {done.returncode}'}")


def _postgres_settings(home: Path, config: dict) -> tuple[PostgresSettings, bool]:
    """Settings of the remembered PostgreSQL, started if it is ours and down."""
    if database_kind(config) == DatabaseKind.LOCAL_POSTGRES:
        was_running, _ = cluster_running(home)
        settings = start_local_postgres(home=home, previous=config["database"])
        return settings, not was_running
    settings = settings_from_config(config)
    check_reachable(settings)
    return settings, False


def backup_studio(*, output: Path, home: Path | None = None) -> BackupReport:
    """Write a backup of the studio's database to `output` (the server may run)."""
    home = studio_home(home=home)
    config = read_config(home)
    kind = database_kind(config)
    output = check_writable_file(output)
    if kind == DatabaseKind.SQLITE:
        source = sqlite_path(home)
        if not source.exists():
            raise StudioError(
                f"{source}: no Label Studio database to back up; run `corpus-tools studio start` first"
            )
        with (
            sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src,
            sqlite3.connect(output) as dst,
        ):
            src.backup(dst)
        counts = _sqlite_counts(output)
    else:
        settings, started = _postgres_settings(home, config)
        try:
            counts = _postgres_counts(settings)
            _run_pg(
                [
                    str(server_bindir() / "pg_dump"),
                    *_pg_args(settings),
                    "--format=custom",
                    "--no-owner",
                    f"--file={output}",
                    settings.database,
                ],
                settings,
                "pg_dump",
            )
        finally:
            if started:
                stop_local_postgres(home=home)
    return BackupReport(database=kind, path=output, counts=counts, bytes=output.stat().st_size)


def restore_studio(*, backup: Path, home: Path | None = None) -> BackupReport:
    """Replace the studio's database with `backup`; Label Studio must be stopped."""
    from corpus_tools.studio.server import _read_pid

    home = studio_home(home=home)
    config = read_config(home)
    kind = database_kind(config)
    backup = Path(backup)
    try:
        magic = backup.read_bytes()[:16]
    except OSError as error:
        raise StudioError(f"{backup}: cannot read the backup ({error.strerror})") from None
    expected = _SQLITE_MAGIC if kind == DatabaseKind.SQLITE else _PG_DUMP_MAGIC
    if not magic.startswith(expected):
        made_by = "pg_dump" if kind != DatabaseKind.SQLITE else "SQLite"
        raise StudioError(
            f"{backup}: not a {made_by} backup, but the studio in {home} runs on {kind}; "
            "restore a backup made by `corpus-tools studio backup` of the same kind"
        )
    if _read_pid(home) is not None:
        raise StudioError(
            f"Label Studio for {home} is running; run `corpus-tools studio stop` before restoring"
        )
    if kind == DatabaseKind.SQLITE:
        target = sqlite_path(home)
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as src,
            sqlite3.connect(target) as dst,
        ):
            src.backup(dst)
        counts = _sqlite_counts(target)
    else:
        settings, started = _postgres_settings(home, config)
        try:
            _run_pg(
                [
                    str(server_bindir() / "pg_restore"),
                    *_pg_args(settings),
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    f"--dbname={settings.database}",
                    str(backup),
                ],
                settings,
                "pg_restore",
            )
            counts = _postgres_counts(settings)
        finally:
            if started:
                stop_local_postgres(home=home)
    return BackupReport(database=kind, path=backup, counts=counts, bytes=backup.stat().st_size)
