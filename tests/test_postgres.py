"""The studio's PostgreSQL: a real cluster (Debian's server binaries) in a temp dir,
and Label Studio on it through the real CLI."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from corpus_tools import studio
from corpus_tools.cli import app
from corpus_tools.errors import PostgresError, StudioError
from corpus_tools.schema import Unit
from corpus_tools.studio import postgres, server
from corpus_tools.studio.backup import backup_studio, restore_studio, sqlite_path
from corpus_tools.studio.ports import free_port

runner = CliRunner()


def body_units(count: int) -> list[Unit]:
    return [
        Unit(
            unit_id=f"pg-doc:{index:04d}",
            doc_id="pg-doc",
            unit_index=index,
            kind="body",
            text=f"各县（区）要在年底前完成第{index}批重大事故隐患排查整治。",
            section_path=("一、压实安全生产责任",),
            title="关于做好安全生产工作的通知",
            issuer="大同市人民政府",
            doc_number="同政发〔2025〕1号",
            date="2025-01-16",
        )
        for index in range(count)
    ]


def count_rows(settings: postgres.PostgresSettings, table: str) -> int:
    with psycopg.connect(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        password=settings.password,
        dbname=settings.database,
    ) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def kill_postmaster(home: Path) -> int:
    pid = int((postgres.data_dir(home) / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    return pid


# --- unit tests: URLs ---------------------------------------------------------


def test_database_url_is_parsed_and_bad_ones_say_what_to_write():
    settings = postgres.parse_database_url("postgresql://ann:s%40cret@db.lan:6543/ls")
    assert (settings.user, settings.password, settings.host, settings.port, settings.database) == (
        "ann",
        "s@cret",
        "db.lan",
        6543,
        "ls",
    )
    assert "s@cret" not in repr(settings) and "s@cret" not in settings.display
    assert settings.label_studio_env()["DJANGO_DB"] == "default"
    with pytest.raises(PostgresError, match="must start with postgresql://"):
        postgres.parse_database_url("mysql://ann@db/ls")
    with pytest.raises(PostgresError, match="needs a user, a host and a database"):
        postgres.parse_database_url("postgresql://db.lan:5432/")


def test_start_takes_one_database_and_migrate_needs_a_direction_and_a_sqlite_file(tmp_path):
    with pytest.raises(StudioError, match="choose one database: --sqlite, --postgres"):
        server.start_server(home=tmp_path, sqlite=True, postgres=True)
    env = {"XDG_DATA_HOME": str(tmp_path)}
    no_direction = runner.invoke(app, ["studio", "migrate"], env=env)
    assert no_direction.exit_code == 1 and "--to-postgres" in no_direction.output
    nothing = runner.invoke(app, ["studio", "migrate", "--to-postgres"], env=env)
    assert nothing.exit_code == 1 and "no SQLite database to migrate" in nothing.output
    assert not list(tmp_path.rglob("postgres"))


# --- a real cluster, no Label Studio ----------------------------------------


@pytest.mark.slow
def test_cluster_starts_restarts_after_a_kill_and_reports_it_in_one_line(postgres_home):
    settings = postgres.start_local_postgres(home=postgres_home)
    config = {
        "database": postgres.settings_to_config(postgres.DatabaseKind.LOCAL_POSTGRES, settings)
    }
    assert settings.host == "127.0.0.1" and count_rows(settings, "pg_database") >= 3
    # The initdb password file existed only while initdb ran.
    assert not list(postgres.cluster_dir(postgres_home).glob(".initdb-password"))
    status = postgres.postgres_status(home=postgres_home, config=config)
    assert status.running and status.pid

    kill_postmaster(postgres_home)
    time.sleep(0.5)
    down = postgres.postgres_status(home=postgres_home, config=config)
    assert not down.running
    assert "PostgreSQL" in down.problem and "not running" in down.problem
    assert "\n" not in down.problem and settings.password not in down.problem

    # A start after the crash recovers, on the remembered port and password.
    again = postgres.start_local_postgres(home=postgres_home, previous=config["database"])
    assert again.port == settings.port and count_rows(again, "pg_database") >= 3
    assert postgres.stop_local_postgres(home=postgres_home) is not None
    assert postgres.stop_local_postgres(home=postgres_home) is None


@pytest.mark.slow
def test_a_wrong_password_for_database_url_is_one_line_without_the_password(postgres_home):
    settings = postgres.start_local_postgres(home=postgres_home)
    url = f"postgresql://{settings.user}:not-the-password@127.0.0.1:{settings.port}/label_studio"
    with pytest.raises(PostgresError) as error:
        server.start_server(home=postgres_home / "other-home", database_url=url)
    message = str(error.value)
    assert "unreachable" in message and "password authentication failed" in message
    assert "not-the-password" not in message and "\n" not in message
    # Nothing was remembered for a server that could not be reached.
    assert not (postgres_home / "other-home" / "config.json").exists()


# --- Label Studio on the cluster, through the CLI ----------------------------


@pytest.mark.integration
@pytest.mark.slow
def test_studio_on_postgres_start_push_status_kill_restart_stop(postgres_home):
    env = {"XDG_DATA_HOME": str(postgres_home)}
    home = postgres_home / "corpus-tools" / "label-studio"
    try:
        started = runner.invoke(
            app,
            [
                "studio",
                "start",
                "--postgres",
                "--port",
                str(free_port("127.0.0.1")),
                "--timeout",
                "400",
            ],
            env=env,
        )
        assert started.exit_code == 0, started.output
        config = json.loads((home / "config.json").read_text())
        assert oct((home / "config.json").stat().st_mode & 0o777) == "0o600"
        assert config["database"]["kind"] == "postgres"
        password = config["database"]["password"]
        assert len(password) >= 24 and password not in started.output
        assert f"postgresql://corpus_tools@127.0.0.1:{config['database']['port']}" in started.output
        # Label Studio really runs on PostgreSQL: no SQLite database was created.
        assert not list(home.rglob("*.sqlite3"))

        connection = studio.embedded_connection(home=home)
        report = studio.push_units(
            body_units(5), project="pg-project", url=connection.url, api_key=connection.api_key
        )
        assert (report.project_created, report.tasks_created) == (True, 5)
        settings = postgres.settings_from_config(config)
        assert count_rows(settings, "task") == 5 and count_rows(settings, "project") == 1

        status = runner.invoke(app, ["studio", "status"], env=env)
        assert status.exit_code == 0, status.output
        assert (
            "PostgreSQL is running" in status.output and "Label Studio is running" in status.output
        )
        assert password not in status.output

        backup_file = postgres_home / "studio.backup"
        backed_up = runner.invoke(app, ["studio", "backup", "-o", str(backup_file)], env=env)
        assert backed_up.exit_code == 0, backed_up.output
        assert "task 5" in backed_up.output and backup_file.read_bytes().startswith(b"PGDMP")
        studio.push_units(
            body_units(8), project="pg-project", url=connection.url, api_key=connection.api_key
        )
        assert count_rows(settings, "task") == 8

        kill_postmaster(home)
        time.sleep(0.5)
        status = runner.invoke(app, ["studio", "status"], env=env)
        assert status.exit_code == 1
        first = status.output.splitlines()[0]
        # Right after SIGKILL the postmaster may still be exiting: "unreachable";
        # once it is gone: "not running". Either way one line naming PostgreSQL.
        assert first.startswith("PostgreSQL") and ("not running" in first or "unreachable" in first)
        assert "Traceback" not in status.output and password not in status.output

        # Stop, then a start without flags: the remembered PostgreSQL comes back with the data.
        stopped = runner.invoke(app, ["studio", "stop"], env=env)
        assert stopped.exit_code == 0 and "Label Studio stopped" in stopped.output
        # Restore starts the (killed) cluster for the restore and stops it again.
        restored = runner.invoke(app, ["studio", "restore", str(backup_file)], env=env)
        assert restored.exit_code == 0, restored.output
        assert "project 1, task 5" in restored.output
        again = runner.invoke(app, ["studio", "start", "--timeout", "400"], env=env)
        assert again.exit_code == 0, again.output
        assert "database: postgresql://" in again.output and password not in again.output
        assert count_rows(settings, "task") == 5
        tasks = studio.push_units(
            body_units(8), project="pg-project", url=connection.url, api_key=connection.api_key
        )
        assert (tasks.tasks_existing, tasks.tasks_created) == (5, 3)  # the API sees the restore

        stopped = runner.invoke(app, ["studio", "stop"], env=env)
        assert stopped.exit_code == 0, stopped.output
        assert "Label Studio stopped" in stopped.output and "PostgreSQL stopped" in stopped.output
        assert postgres.postgres_status(home=home, config=config).running is False
        assert server.server_status(home=home).running is False
        for output in (started.output, status.output, again.output, stopped.output):
            assert password not in output
        assert password not in (home / "server.log").read_text(errors="replace")
    finally:
        server.stop_server(home=home)


@pytest.mark.integration
def test_sqlite_backup_of_a_running_server_restores_with_the_same_counts(studio_server, tmp_path):
    studio.push_units(
        body_units(3), project="sqlite-backup", url=studio_server.url, api_key=studio_server.api_key
    )
    report = backup_studio(home=studio_server.home, output=tmp_path / "studio.sqlite3")
    assert report.counts["task"] >= 3 and report.counts["project"] >= 1
    fresh = tmp_path / "fresh-home"
    restored = restore_studio(home=fresh, backup=report.path)
    assert restored.counts == report.counts
    assert sqlite_path(fresh).exists()
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello", encoding="utf-8")
    with pytest.raises(StudioError, match="not a SQLite backup"):
        restore_studio(home=fresh, backup=not_a_backup)
    assert _counts_unchanged(fresh, report.counts)


def _counts_unchanged(home: Path, counts: dict[str, int]) -> bool:
    import sqlite3

    with sqlite3.connect(sqlite_path(home)) as connection:
        return all(
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n
            for table, n in counts.items()
        )


# --- migrate a SQLite home to PostgreSQL -------------------------------------


def count_rows_after_start(home: Path, table: str) -> int:
    """Rows in the home's own cluster (started for the count, stopped again)."""
    config = json.loads((home / "config.json").read_text())
    settings = postgres.start_local_postgres(home=home, previous=config["local_postgres"])
    try:
        return count_rows(settings, table)
    finally:
        postgres.stop_local_postgres(home=home)


def _access_token(url: str, refresh: str) -> str:
    import httpx

    response = httpx.post(f"{url}/api/token/refresh", json={"refresh": refresh}, timeout=30)
    response.raise_for_status()
    return response.json()["access"]


def _project_state(url: str, api_key: str, project: str) -> dict:
    """Counts and the annotation's result as the API returns them."""
    import httpx

    from corpus_tools.studio.client import checked_client
    from corpus_tools.studio.connection import StudioConnection
    from corpus_tools.studio.projects import find_project

    client = checked_client(StudioConnection(url=url, api_key=api_key))
    project_id = find_project(client, url, project).id
    headers = {"Authorization": f"Bearer {_access_token(url, api_key)}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as web:
        tasks = web.get("/api/tasks", params={"project": project_id, "page_size": 100}).json()
        annotated = [task for task in tasks["tasks"] if task["total_annotations"]]
        annotations = web.get(f"/api/tasks/{annotated[0]['id']}/annotations/").json()
        predictions = web.get("/api/predictions/", params={"project": project_id}).json()
        users = web.get("/api/users/").json()
    return {
        "tasks": tasks["total"],
        "annotated_task": annotated[0]["id"],
        "annotations": [(a["id"], a["result"], a["lead_time"]) for a in annotations],
        "predictions": sorted((p["id"], p["task"], p["score"]) for p in predictions),
        "users": sorted(user["email"] for user in users),
    }


_PG_SCHEMA = """
CREATE TABLE django_migrations (id serial PRIMARY KEY, app varchar(255), name varchar(255),
                                applied timestamptz NOT NULL);
CREATE TABLE parent (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                     flag boolean NOT NULL, meta jsonb, created timestamptz NOT NULL,
                     search text GENERATED ALWAYS AS (meta->>'k') STORED);
CREATE TABLE child (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    parent_id integer REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED,
                    note text);
INSERT INTO django_migrations (app, name, applied) VALUES ('tasks', '0001_initial', now());
INSERT INTO parent (flag, meta, created) VALUES (true, '{}', now());
"""
_SQLITE_SCHEMA = """
CREATE TABLE django_migrations (id integer PRIMARY KEY, app text, name text, applied datetime);
CREATE TABLE parent (id integer PRIMARY KEY, flag bool NOT NULL, meta text, created datetime NOT NULL,
                     search text);
CREATE TABLE child (id integer PRIMARY KEY, parent_id integer REFERENCES parent (id), note text);
INSERT INTO django_migrations VALUES (1, 'tasks', '0001_initial', '2025-01-16 10:00:00');
INSERT INTO parent VALUES (1, 0, '{"k": "甲"}', '2025-01-16 10:00:00.500000', NULL),
                          (2, 1, NULL, '2025-01-17 23:59:59', NULL);
INSERT INTO child VALUES (7, 2, '各县（区）要在年底前完成');
"""


@pytest.mark.slow
def test_table_copy_converts_types_defers_keys_moves_sequences_and_rolls_back(
    postgres_home, tmp_path
):
    """The copy at the heart of `migrate`, on a real cluster with a Django-like schema."""
    import datetime
    import sqlite3

    from corpus_tools.studio import migrate

    settings = postgres.start_local_postgres(home=postgres_home)
    with postgres.connect(settings) as connection:
        connection.execute(_PG_SCHEMA)
    source = tmp_path / "label_studio.sqlite3"
    with sqlite3.connect(source) as sqlite:
        sqlite.executescript(_SQLITE_SCHEMA)

    with sqlite3.connect(source) as sqlite:
        # "child" is copied before "parent": its foreign key is checked at commit.
        assert migrate._copy_tables(sqlite, settings) == (2, 3)
    with postgres.connect(settings) as connection:
        rows = connection.execute("SELECT * FROM parent ORDER BY id").fetchall()
        utc = datetime.UTC
        assert rows == [
            (1, False, {"k": "甲"}, datetime.datetime(2025, 1, 16, 10, 0, 0, 500000, utc), "甲"),
            (2, True, None, datetime.datetime(2025, 1, 17, 23, 59, 59, tzinfo=utc), None),
        ]
        assert connection.execute("SELECT * FROM child").fetchall() == [
            (7, 2, "各县（区）要在年底前完成")
        ]
        # New rows get ids past the copied ones.
        new_id = connection.execute(
            "INSERT INTO parent (flag, created) VALUES (true, now()) RETURNING id"
        ).fetchone()[0]
        assert new_id == 3
        connection.execute("DELETE FROM parent WHERE id = 3")

    def unchanged() -> bool:
        return count_rows(settings, "parent") == 2 and count_rows(settings, "child") == 1

    with sqlite3.connect(source) as sqlite:
        sqlite.execute("INSERT INTO child VALUES (8, 99, 'orphan')")
        sqlite.commit()
        with pytest.raises(StudioError, match="nothing was committed.*child") as orphan:
            migrate._copy_tables(sqlite, settings)
        assert "\n" not in str(orphan.value) and unchanged()
        sqlite.execute("INSERT INTO django_migrations VALUES (2, 'tasks', '0002_newer', '')")
        sqlite.commit()
        with pytest.raises(StudioError, match="tasks/0002_newer.*newer Label Studio"):
            migrate._copy_tables(sqlite, settings)
        assert unchanged()


@pytest.mark.integration
@pytest.mark.slow
def test_migrate_a_sqlite_home_to_postgres_keeps_work_token_and_sqlite_file(postgres_home):
    import hashlib

    import httpx

    from corpus_tools.schema import MEASURE_TYPES
    from corpus_tools.studio.tasks import measure_result

    env = {"XDG_DATA_HOME": str(postgres_home)}
    home = postgres_home / "corpus-tools" / "label-studio"
    try:
        server.start_server(home=home, port=free_port("127.0.0.1"), timeout=400)
        connection = studio.embedded_connection(home=home)
        rows = [unit.to_dict() for unit in body_units(4)]
        for row in rows[:2]:  # two pre-labelled units: two predictions
            row.update(
                measure_type="risk_hazard",
                measure_type_score=0.7,
                measure_type_top3=[{"label": "risk_hazard", "score": 0.7}],
                spans=[],
                deadlines=[],
                model_version="m1",
            )
        pushed = studio.push_units(
            rows, project="migrated", url=connection.url, api_key=connection.api_key
        )
        assert (pushed.tasks_created, pushed.predictions_created) == (4, 2)
        headers = {"Authorization": f"Bearer {_access_token(connection.url, connection.api_key)}"}
        tasks = httpx.get(
            f"{connection.url}/api/tasks",
            params={"project": pushed.project_id},
            headers=headers,
            timeout=60,
        ).json()["tasks"]
        annotation = httpx.post(
            f"{connection.url}/api/tasks/{tasks[-1]['id']}/annotations/",
            json={"result": [measure_result(MEASURE_TYPES[1], "", "a")], "lead_time": 2.5},
            headers=headers,
            timeout=60,
        )
        assert annotation.status_code == 201, annotation.text
        before = _project_state(connection.url, connection.api_key, "migrated")
        assert (before["tasks"], len(before["annotations"]), len(before["predictions"])) == (
            4,
            1,
            2,
        )

        # Refused while Label Studio runs, and nothing changes.
        refused = runner.invoke(app, ["studio", "migrate", "--to-postgres"], env=env)
        assert refused.exit_code == 1 and "studio stop" in refused.output
        assert not postgres.cluster_dir(home).exists()

        server.stop_server(home=home)
        sqlite_file = sqlite_path(home)
        digest = hashlib.sha256(sqlite_file.read_bytes()).hexdigest()
        migrated = runner.invoke(
            app, ["studio", "migrate", "--to-postgres", "--timeout", "900"], env=env
        )
        assert migrated.exit_code == 0, migrated.output
        output = " ".join(migrated.output.split())
        for counts in ("htx_user 1 → 1", "project 1 → 1", "task 4 → 4", "task_completion 1 → 1"):
            assert counts in output
        assert "prediction 2 → 2" in output
        assert hashlib.sha256(sqlite_file.read_bytes()).hexdigest() == digest
        config = json.loads((home / "config.json").read_text())
        assert config["database"]["kind"] == "postgres"
        assert config["database"]["password"] not in migrated.output
        # A second migrate is refused: the home runs on PostgreSQL now.
        again = runner.invoke(app, ["studio", "migrate", "--to-postgres"], env=env)
        assert again.exit_code == 1 and "already runs on PostgreSQL" in again.output

        # A plain start runs on PostgreSQL, with the same token and the same work.
        started = runner.invoke(app, ["studio", "start", "--timeout", "400"], env=env)
        assert started.exit_code == 0, started.output
        assert "database: postgresql://" in started.output
        config_after = json.loads((home / "config.json").read_text())
        assert config_after["api_key"] == connection.api_key  # not re-minted: it works as it was
        settings = postgres.settings_from_config(config_after)
        assert count_rows(settings, "task_completion") == 1 and count_rows(settings, "task") == 4
        connection = studio.embedded_connection(home=home)
        assert _project_state(connection.url, connection.api_key, "migrated") == before
        # New rows get new ids (the sequences were moved past the copied ones).
        more = studio.push_units(
            body_units(6), project="migrated", url=connection.url, api_key=connection.api_key
        )
        assert (more.tasks_existing, more.tasks_created) == (4, 2)
        assert count_rows(settings, "task") == 6

        # Back to SQLite: its data as it was left (4 tasks), the same token still works,
        # and the cluster's password is kept for the way back to PostgreSQL.
        server.stop_server(home=home)
        back = runner.invoke(app, ["studio", "start", "--sqlite", "--timeout", "400"], env=env)
        assert back.exit_code == 0, back.output
        assert "database: sqlite" in back.output
        on_sqlite = studio.embedded_connection(home=home)
        assert on_sqlite.api_key == connection.api_key
        assert _project_state(on_sqlite.url, on_sqlite.api_key, "migrated")["tasks"] == 4
        refused = runner.invoke(app, ["studio", "migrate", "--to-postgres"], env=env)
        assert refused.exit_code == 1 and "studio stop" in refused.output
        server.stop_server(home=home)
        # Migrating again would overwrite the cluster's newer work: refused, it says how.
        refused = runner.invoke(app, ["studio", "migrate", "--to-postgres"], env=env)
        assert refused.exit_code == 1 and "already holds a Label Studio database" in refused.output
        assert "studio start --postgres" in refused.output
        assert count_rows_after_start(home, "task") == 6
        forth = runner.invoke(app, ["studio", "start", "--postgres", "--timeout", "400"], env=env)
        assert forth.exit_code == 0, forth.output
        assert "database: postgresql://" in forth.output
        connection = studio.embedded_connection(home=home)
        assert _project_state(connection.url, connection.api_key, "migrated")["tasks"] == 6
        assert connection.api_key == on_sqlite.api_key
    finally:
        server.stop_server(home=home)
