"""Move a studio home's Label Studio database from SQLite to PostgreSQL.

Label Studio's own advice (Django `dumpdata` / `loaddata`) replays every row
through the ORM: post-save signals fire again (a user's `authtoken` is created
twice, label-studio#1658), content types must be cleared by hand, and the whole
dump sits in memory as one JSON document. This copies table by table instead:

1. Label Studio's own migrations create the schema on PostgreSQL
   (`label_studio.server version`, which migrates and exits, with the home's
   data dir and the target's settings), and the two databases must have applied
   the same migrations (same Label Studio version).
2. In one transaction (foreign keys deferred): every table Label Studio made is
   emptied and filled from SQLite with `COPY`, columns by name, ids kept, so
   users, their password hashes and personal access tokens, projects, tasks,
   annotations and predictions are the same rows. PostgreSQL parses each value
   from its text form by the column's type (SQLite's 0/1 booleans, JSON text,
   UTC timestamps).
3. Every copied table's row count is compared with SQLite's before commit; a
   mismatch rolls back. Id sequences are set past the copied ids.

The SQLite file is opened read-only and left untouched; the token in the
studio config keeps working (the same row, signed with the same secret key in
the data dir). Only after the commit does the home's remembered database switch.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from corpus_tools.errors import StudioError
from corpus_tools.studio.backup import COUNTED_TABLES, sqlite_path
from corpus_tools.studio.connection import read_config, studio_home, write_config
from corpus_tools.studio.postgres import (
    LOCAL_CLUSTER_KEY,
    DatabaseKind,
    PostgresSettings,
    check_reachable,
    cluster_dir,
    connect,
    data_dir,
    database_kind,
    local_cluster_config,
    parse_database_url,
    settings_to_config,
    start_local_postgres,
    stop_local_postgres,
)

# Kept as PostgreSQL's own migrations wrote it; compared, not copied.
_MIGRATIONS_TABLE = "django_migrations"


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What `migrate_to_postgres` moved: counts of the work tables on both sides."""

    home: Path
    source: Path
    kind: DatabaseKind
    target: str  # a URL without the password
    counts_before: dict[str, int]
    counts_after: dict[str, int]
    tables: int
    rows: int
    seconds: float


def migrate_to_postgres(
    *, home: Path | None = None, database_url: str | None = None, timeout: float = 600.0
) -> MigrationReport:
    """Copy the home's SQLite database into PostgreSQL and switch the home to it.

    The target is the home's own cluster (created like `studio start --postgres`)
    or the empty database at `database_url`. Label Studio must be stopped; the
    SQLite file is not changed. Counts of every table are checked before commit.
    """
    from corpus_tools.studio.server import _read_pid

    started = time.perf_counter()
    home = studio_home(home=home)
    config = read_config(home)
    kind = database_kind(config)
    if kind != DatabaseKind.SQLITE:
        raise StudioError(
            f"the studio in {home} already runs on PostgreSQL ({kind}); "
            "migrate moves a SQLite home only"
        )
    source = sqlite_path(home)
    if not source.exists():
        raise StudioError(
            f"{source}: no SQLite database to migrate; run `corpus-tools studio start` first, "
            "or `corpus-tools studio start --postgres` to begin on PostgreSQL"
        )
    if _read_pid(home) is not None:
        raise StudioError(
            f"Label Studio for {home} is running; run `corpus-tools studio stop` before migrating"
        )

    target_kind = DatabaseKind.EXTERNAL_POSTGRES if database_url else DatabaseKind.LOCAL_POSTGRES
    new_cluster = False
    if database_url:
        settings = parse_database_url(database_url)
        check_reachable(settings)
    else:
        new_cluster = not (data_dir(home) / "PG_VERSION").exists()
        settings = start_local_postgres(home=home, previous=local_cluster_config(config))
    succeeded = False
    try:
        _refuse_a_used_target(settings, local=None if database_url else cluster_dir(home))
        _run_label_studio_migrations(home, settings, timeout=timeout)
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as sqlite:
            counts_before = _sqlite_counts(sqlite)
            tables, rows = _copy_tables(sqlite, settings)
        counts_after = _postgres_counts(settings, list(COUNTED_TABLES))
        if counts_after != {table: counts_before[table] for table in COUNTED_TABLES}:
            raise StudioError(
                f"row counts differ after the copy to {settings.display}: SQLite "
                f"{_counts_text(counts_before)}, PostgreSQL {_counts_text(counts_after)}"
            )
        config["database"] = settings_to_config(target_kind, settings)
        if target_kind == DatabaseKind.LOCAL_POSTGRES:
            config[LOCAL_CLUSTER_KEY] = config["database"]
        if config.get("api_key"):
            # The SQLite database's own token, for `studio start --sqlite` later.
            config.setdefault("api_keys", {}).setdefault(
                str(DatabaseKind.SQLITE), config["api_key"]
            )
        write_config(home, config)
        succeeded = True
    finally:
        if target_kind == DatabaseKind.LOCAL_POSTGRES:
            stop_local_postgres(home=home)
            if new_cluster and not succeeded:
                # Nothing of a failed run is left behind: a retry starts afresh.
                shutil.rmtree(cluster_dir(home), ignore_errors=True)
    return MigrationReport(
        home=home,
        source=source,
        kind=target_kind,
        target=settings.display,
        counts_before={table: counts_before[table] for table in COUNTED_TABLES},
        counts_after=counts_after,
        tables=tables,
        rows=rows,
        seconds=time.perf_counter() - started,
    )


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{table} {n}" for table, n in counts.items() if table in COUNTED_TABLES)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_tables(sqlite: sqlite3.Connection) -> list[str]:
    return [
        name
        for (name,) in sqlite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]


def _sqlite_counts(sqlite: sqlite3.Connection) -> dict[str, int]:
    return {
        table: sqlite.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]
        for table in _sqlite_tables(sqlite)
    }


def _postgres_counts(settings: PostgresSettings, tables: list[str]) -> dict[str, int]:
    with connect(settings) as connection:
        return {
            table: connection.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]
            for table in tables
        }


def _refuse_a_used_target(settings: PostgresSettings, *, local: Path | None) -> None:
    """Never overwrite someone's Label Studio: the target must hold no users yet."""
    with connect(settings) as connection:
        exists = connection.execute("SELECT to_regclass('htx_user') IS NOT NULL").fetchone()[0]
        users = connection.execute("SELECT count(*) FROM htx_user").fetchone()[0] if exists else 0
    if users:
        raise StudioError(
            f"{settings.display} already holds a Label Studio database ({users} users) "
            + (
                f"(the studio home's own cluster, used by an earlier `studio start --postgres`); "
                f"start on it with `corpus-tools studio start --postgres`, or delete {local} "
                "to migrate into a fresh one"
                if local
                else "; migrate into an empty database"
            )
        )


def _run_label_studio_migrations(home: Path, settings: PostgresSettings, *, timeout: float) -> None:
    """Create Label Studio's schema on the target with its own migrations."""
    from corpus_tools.studio.server import label_studio_env

    log = home / "migrate.log"
    env = label_studio_env(data_dir=home / "data", settings=settings)
    with open(log, "ab") as out:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "label_studio.server", "version"],
                cwd=home,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise StudioError(
                f"Label Studio's migrations on {settings.display} did not finish within "
                f"{timeout:.0f} s; see {log}"
            ) from None
    if done.returncode != 0:
        raise StudioError(
            f"Label Studio's migrations on {settings.display} failed (exit {done.returncode}); "
            f"see {log}"
        )


def _applied_migrations(rows) -> set[tuple[str, str]]:
    return {(app, name) for app, name in rows}


def _check_same_migrations(sqlite: sqlite3.Connection, connection) -> None:
    source = _applied_migrations(sqlite.execute(f"SELECT app, name FROM {_MIGRATIONS_TABLE}"))
    target = _applied_migrations(
        connection.execute(f"SELECT app, name FROM {_MIGRATIONS_TABLE}").fetchall()
    )
    if source - target:
        example = "/".join(sorted(source - target)[0])
        raise StudioError(
            f"the SQLite database has {len(source - target)} migrations this Label Studio "
            f"does not know (e.g. {example}): it was made by a newer Label Studio; "
            "migrate with that version"
        )
    if target - source:
        example = "/".join(sorted(target - source)[0])
        raise StudioError(
            f"the SQLite database lacks {len(target - source)} of this Label Studio's "
            f"migrations (e.g. {example}); run `corpus-tools studio start` once on SQLite "
            "to bring it up to date, `corpus-tools studio stop`, then migrate"
        )


def _postgres_columns(connection) -> tuple[dict[str, list[str]], set[tuple[str, str]]]:
    """Each table's columns, and the generated ones (computed by PostgreSQL, never copied)."""
    columns: dict[str, list[str]] = {}
    generated: set[tuple[str, str]] = set()
    for table, column, is_generated in connection.execute(
        "SELECT table_name, column_name, is_generated FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ):
        columns.setdefault(table, []).append(column)
        if is_generated == "ALWAYS":
            generated.add((table, column))
    return columns, generated


def _copy_tables(sqlite: sqlite3.Connection, settings: PostgresSettings) -> tuple[int, int]:
    """Copy every table into PostgreSQL in one transaction; (tables, rows) copied."""
    import psycopg

    counts = _sqlite_counts(sqlite)
    with connect(settings) as connection:
        _check_same_migrations(sqlite, connection)
        target_columns, generated = _postgres_columns(connection)
        tables = [table for table in counts if table != _MIGRATIONS_TABLE]
        missing = [table for table in tables if table not in target_columns and counts[table]]
        if missing:
            raise StudioError(
                f"PostgreSQL has no table for {', '.join(missing)} (rows in SQLite); "
                "the two Label Studio schemas differ"
            )
        tables = [table for table in tables if table in target_columns]
        try:
            with connection.transaction():
                # Django's SQLite stores naive UTC; read it as UTC.
                connection.execute("SET LOCAL TIME ZONE 'UTC'")
                connection.execute("SET CONSTRAINTS ALL DEFERRED")
                connection.execute(
                    "TRUNCATE " + ", ".join(_quote(table) for table in tables) + " CASCADE"
                )
                for table in tables:
                    columns = [
                        row[1]
                        for row in sqlite.execute(f"PRAGMA table_info({_quote(table)})")
                        if (table, row[1]) not in generated
                    ]
                    unknown = [column for column in columns if column not in target_columns[table]]
                    if unknown:
                        raise StudioError(
                            f"PostgreSQL's {table} has no column {', '.join(unknown)}; "
                            "the two Label Studio schemas differ"
                        )
                    names = ", ".join(_quote(column) for column in columns)
                    with connection.cursor().copy(
                        f"COPY {_quote(table)} ({names}) FROM STDIN"
                    ) as copy:
                        for row in sqlite.execute(f"SELECT {names} FROM {_quote(table)}"):
                            copy.write_row(row)
                _reset_sequences(connection, tables)
                copied = {
                    table: connection.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]
                    for table in tables
                }
                wrong = [table for table in tables if copied[table] != counts[table]]
                if wrong:
                    raise StudioError(
                        "row counts differ after the copy, nothing was committed: "
                        + ", ".join(
                            f"{table} SQLite {counts[table]} / PostgreSQL {copied[table]}"
                            for table in wrong
                        )
                    )
        except psycopg.Error as error:
            lines = [line for line in str(error).strip().splitlines() if line.strip()]
            raise StudioError(
                f"copying into {settings.display} failed, nothing was committed: "
                f"{lines[0] if lines else error.__class__.__name__}"
            ) from None
    return len(tables), sum(counts[table] for table in tables)


def _reset_sequences(connection, tables: list[str]) -> None:
    """Set each id sequence past the largest copied id (the next insert gets a new id)."""
    for table, column, sequence in connection.execute(
        "SELECT table_name, column_name, "
        "pg_get_serial_sequence(quote_ident(table_name), column_name) "
        "FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ANY(%s) "
        "AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL",
        (tables,),
    ).fetchall():
        connection.execute(
            f"SELECT setval(%s, COALESCE(max({_quote(column)}), 1), max({_quote(column)}) IS NOT NULL) "
            f"FROM {_quote(table)}",
            (sequence,),
        )
