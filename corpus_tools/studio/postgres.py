"""The studio's PostgreSQL: a local cluster owned by the tool, or an existing server.

A local cluster lives in `studio_home()/postgres/data` (Debian's `postgresql`
server binaries: `initdb` on first start, `pg_ctl` on a free loopback port,
TCP only, scram-sha-256). Its superuser password is generated once and kept
in the studio config (mode 600); it never appears in messages or reprs.

PostgreSQL refuses to run as root, so when this process is root the cluster
is owned by, and run as, the `postgres` system user (via `runuser`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlsplit

from corpus_tools.errors import PostgresError
from corpus_tools.studio.ports import free_port, port_is_free

LOOPBACK = "127.0.0.1"
SUPERUSER = "corpus_tools"
DATABASE = "label_studio"
# Who owns and runs the cluster when we are root (created by Debian's package).
ROOT_RUN_AS = "postgres"
# Debian keeps the server binaries off PATH, one directory per major version.
_DEBIAN_BINDIRS = "/usr/lib/postgresql"
_INSTALL_HINT = "install PostgreSQL's server binaries (Debian: `apt-get install postgresql`)"


class DatabaseKind(StrEnum):
    """Which database Label Studio runs on; remembered in the studio config."""

    SQLITE = "sqlite"
    LOCAL_POSTGRES = "postgres"  # the cluster in the studio home, started and stopped with it
    EXTERNAL_POSTGRES = "database-url"  # someone else's server: never started or stopped


@dataclass(frozen=True, slots=True)
class PostgresSettings:
    """Where Label Studio's PostgreSQL database is; `password` is kept out of repr."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str

    def label_studio_env(self) -> dict[str, str]:
        """Label Studio's documented database settings (core/settings/base.py)."""
        return {
            "DJANGO_DB": "default",
            "POSTGRE_NAME": self.database,
            "POSTGRE_USER": self.user,
            "POSTGRE_PASSWORD": self.password,
            "POSTGRE_HOST": self.host,
            "POSTGRE_PORT": str(self.port),
        }

    @property
    def display(self) -> str:
        """A URL without the password, for messages."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"


@dataclass(frozen=True, slots=True)
class PostgresStatus:
    """The studio's PostgreSQL: running and answering, or why not (one line)."""

    kind: DatabaseKind
    running: bool
    display: str
    pid: int | None = None
    problem: str | None = None
    data_dir: Path | None = None


# --- settings from the config / a URL ---


def parse_database_url(url: str) -> PostgresSettings:
    """`postgresql://user:password@host:port/database` -> settings (clear error otherwise)."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgresql", "postgres"}:
        raise PostgresError(
            f"--database-url must start with postgresql:// (got {parts.scheme or 'no'} scheme); "
            "example: postgresql://USER:PASSWORD@HOST:5432/DATABASE"
        )
    database = parts.path.lstrip("/")
    if not parts.hostname or not parts.username or not database:
        raise PostgresError(
            "--database-url needs a user, a host and a database name; "
            "example: postgresql://USER:PASSWORD@HOST:5432/DATABASE"
        )
    try:
        port = parts.port or 5432
    except ValueError:
        raise PostgresError("--database-url has a port that is not a number") from None
    return PostgresSettings(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        database=unquote(database),
    )


def settings_from_config(config: dict) -> PostgresSettings:
    db = config["database"]
    return PostgresSettings(
        host=db["host"],
        port=int(db["port"]),
        user=db["user"],
        password=db["password"],
        database=db["database"],
    )


def settings_to_config(kind: DatabaseKind, settings: PostgresSettings) -> dict:
    return {
        "kind": str(kind),
        "host": settings.host,
        "port": settings.port,
        "user": settings.user,
        "password": settings.password,
        "database": settings.database,
    }


def database_kind(config: dict) -> DatabaseKind:
    return DatabaseKind(config.get("database", {}).get("kind", DatabaseKind.SQLITE))


# The home's own cluster, remembered apart from the current database: a home
# switched to SQLite (`start --sqlite`) keeps its cluster's port and password.
LOCAL_CLUSTER_KEY = "local_postgres"


def local_cluster_config(config: dict) -> dict | None:
    """The remembered entry of the home's own cluster (current or not), if any."""
    if database_kind(config) == DatabaseKind.LOCAL_POSTGRES:
        return config["database"]
    return config.get(LOCAL_CLUSTER_KEY)


# --- the local cluster ---


def cluster_dir(home: Path) -> Path:
    return home / "postgres"


def data_dir(home: Path) -> Path:
    return cluster_dir(home) / "data"


def log_path(home: Path) -> Path:
    return cluster_dir(home) / "postgres.log"


def server_bindir() -> Path:
    override = os.environ.get("CORPUS_TOOLS_PG_BINDIR")
    candidates = [Path(override)] if override else []
    with contextlib.suppress(OSError):
        versions = sorted(
            Path(_DEBIAN_BINDIRS).iterdir(),
            key=lambda path: int(path.name) if path.name.isdigit() else -1,
            reverse=True,
        )
        candidates += [version / "bin" for version in versions]
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise PostgresError(f"no PostgreSQL server binaries (initdb, pg_ctl) found: {_INSTALL_HINT}")


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged user to run PostgreSQL as, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(ROOT_RUN_AS)
    except KeyError:
        raise PostgresError(
            f"running as root, but there is no `{ROOT_RUN_AS}` user to run PostgreSQL as "
            f"(it refuses root): {_INSTALL_HINT}, or run corpus-tools as a normal user"
        ) from None


def _command(owner: pwd.struct_passwd | None, *argv: str) -> list[str]:
    return ["runuser", "-u", owner.pw_name, "--", *argv] if owner else list(argv)


def _check_reachable_by(owner: pwd.struct_passwd, path: Path) -> None:
    """The run-as user must be able to walk down to the cluster directory."""
    for parent in reversed(path.resolve().parents):
        info = parent.stat()
        if info.st_uid == owner.pw_uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid == owner.pw_gid:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            raise PostgresError(
                f"{parent} (mode {stat.S_IMODE(info.st_mode):o}) cannot be entered by the "
                f"`{owner.pw_name}` user that runs PostgreSQL for root; "
                f"use a studio home it can reach or run corpus-tools as a normal user"
            )


def _run(argv: list[str], what: str, *, timeout: float = 120.0) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise PostgresError(f"{what} did not finish within {timeout:.0f} s") from None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _initdb(home: Path, owner: pwd.struct_passwd | None, password: str) -> None:
    bindir = server_bindir()
    cluster = cluster_dir(home)
    cluster.mkdir(parents=True, exist_ok=True)
    os.chmod(cluster, 0o700)
    if owner:
        _check_reachable_by(owner, cluster)
        os.chown(cluster, owner.pw_uid, owner.pw_gid)
    # initdb reads the password from a file; it exists (mode 600) only while initdb runs.
    pwfile = cluster / ".initdb-password"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password + "\n")
    try:
        if owner:
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        done = _run(
            _command(
                owner,
                str(bindir / "initdb"),
                "-D",
                str(data_dir(home)),
                "-U",
                SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
            ),
            "initdb",
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        shutil.rmtree(data_dir(home), ignore_errors=True)
        raise PostgresError(f"initdb failed in {data_dir(home)}: {_last_line(done.stderr)}")
    # TCP on loopback only: no Unix socket directory to own, nothing on outside interfaces.
    with open(data_dir(home) / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(
            "\n# corpus-tools: loopback TCP only; the port is passed by pg_ctl\n"
            f"listen_addresses = '{LOOPBACK}'\n"
            "unix_socket_directories = ''\n"
            "max_connections = 200\n"
        )


def cluster_running(home: Path) -> tuple[bool, int | None]:
    if not (data_dir(home) / "PG_VERSION").exists():
        return False, None
    done = _run(
        _command(_run_as(), str(server_bindir() / "pg_ctl"), "status", "-D", str(data_dir(home))),
        "pg_ctl status",
    )
    if done.returncode != 0:
        return False, None
    pid = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data_dir(home) / "postmaster.pid").read_text().split()[0])
    if pid is not None and _is_zombie(pid):
        return False, None  # killed, not yet reaped: pg_ctl's kill(pid, 0) still succeeds
    return True, pid


def _wait_until_reaped(home: Path, timeout: float = 15.0) -> None:
    """A killed postmaster stays a zombie until init reaps it, and PostgreSQL
    refuses to start while the pid in postmaster.pid exists."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data_dir(home) / "postmaster.pid").read_text().split()[0])
        deadline = time.monotonic() + timeout
        while _is_zombie(pid) and time.monotonic() < deadline:
            time.sleep(0.2)


def _is_zombie(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state == "Z"


def connect(settings: PostgresSettings, *, database: str | None = None, timeout: int = 5):
    import psycopg  # a dependency of Label Studio

    return psycopg.connect(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        password=settings.password,
        dbname=database or settings.database,
        connect_timeout=timeout,
        autocommit=True,
    )


def check_reachable(settings: PostgresSettings) -> None:
    """Connect and run `SELECT 1`; any failure is one clear line."""
    import psycopg

    try:
        with connect(settings) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        reason = (
            _last_line(str(error)).replace(settings.password, "***")
            if settings.password
            else _last_line(str(error))
        )
        raise PostgresError(f"PostgreSQL at {settings.display} is unreachable: {reason}") from None


def _ensure_database(settings: PostgresSettings) -> None:
    with connect(settings, database="postgres") as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (settings.database,)
        ).fetchone()
        if not exists:
            # The name is our own constant, never user input.
            connection.execute(f'CREATE DATABASE "{settings.database}"')


def start_local_postgres(
    *, home: Path, previous: dict | None = None, timeout: float = 60.0
) -> PostgresSettings:
    """Start (initdb on first use) the cluster in `home`; return where it listens.

    `previous` is the remembered database entry of the studio config: its port
    is reused when free and its password is the cluster's superuser password.
    """
    previous = previous if previous and previous.get("kind") == DatabaseKind.LOCAL_POSTGRES else {}
    owner = _run_as()
    initialised = (data_dir(home) / "PG_VERSION").exists()
    if initialised and not previous.get("password"):
        raise PostgresError(
            f"{data_dir(home)} holds a PostgreSQL cluster but the studio config has no password for it; "
            f"restore {home / 'config.json'} or delete {cluster_dir(home)} to start afresh"
        )
    password = previous.get("password") or secrets.token_urlsafe(24)
    if not initialised:
        _initdb(home, owner, password)
    running, _ = cluster_running(home)
    port = int(previous.get("port") or 0)
    if not running:
        _wait_until_reaped(home)
        if not port or not port_is_free(LOOPBACK, port):
            port = free_port(LOOPBACK)
        log = log_path(home)
        if owner and not log.exists():
            log.touch(mode=0o600)
            os.chown(log, owner.pw_uid, owner.pw_gid)
        done = _run(
            _command(
                owner,
                str(server_bindir() / "pg_ctl"),
                "start",
                "-D",
                str(data_dir(home)),
                "-l",
                str(log),
                "-w",
                "-t",
                str(int(timeout)),
                "-o",
                f"-p {port}",
            ),
            "pg_ctl start",
            timeout=timeout + 10,
        )
        if done.returncode != 0:
            raise PostgresError(
                f"PostgreSQL in {data_dir(home)} did not start: {_log_tail(log)}; see {log}"
            )
    settings = PostgresSettings(
        host=LOOPBACK, port=port, user=SUPERUSER, password=password, database=DATABASE
    )
    check_reachable(PostgresSettings(**{**_asdict(settings), "database": "postgres"}))
    _ensure_database(settings)
    return settings


def _asdict(settings: PostgresSettings) -> dict:
    return {name: getattr(settings, name) for name in PostgresSettings.__slots__}


def _log_tail(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1].strip() if lines else "empty log"


def stop_local_postgres(*, home: Path, timeout: float = 60.0) -> int | None:
    """Stop the cluster in `home` (fast shutdown); the pid it had, or None if it was not running."""
    running, pid = cluster_running(home)
    if not running:
        return None
    done = _run(
        _command(
            _run_as(),
            str(server_bindir() / "pg_ctl"),
            "stop",
            "-D",
            str(data_dir(home)),
            "-m",
            "fast",
            "-w",
            "-t",
            str(int(timeout)),
        ),
        "pg_ctl stop",
        timeout=timeout + 10,
    )
    if done.returncode != 0:
        raise PostgresError(
            f"PostgreSQL in {data_dir(home)} did not stop: {_last_line(done.stderr)}"
        )
    return pid


def postgres_status(*, home: Path, config: dict) -> PostgresStatus | None:
    """The remembered PostgreSQL's state, or None when the studio runs on SQLite."""
    kind = database_kind(config)
    if kind == DatabaseKind.SQLITE:
        return None
    settings = settings_from_config(config)
    pid = None
    if kind == DatabaseKind.LOCAL_POSTGRES:
        running, pid = cluster_running(home)
        if not running:
            return PostgresStatus(
                kind=kind,
                running=False,
                display=settings.display,
                data_dir=data_dir(home),
                problem=(
                    f"PostgreSQL ({data_dir(home)}) is not running (stopped, or killed/crashed; "
                    f"last log line: {_log_tail(log_path(home))}); "
                    "run `corpus-tools studio start` to start it again"
                ),
            )
    try:
        check_reachable(settings)
    except PostgresError as error:
        return PostgresStatus(
            kind=kind, running=False, display=settings.display, pid=pid, problem=str(error)
        )
    return PostgresStatus(
        kind=kind,
        running=True,
        display=settings.display,
        pid=pid,
        data_dir=data_dir(home) if kind == DatabaseKind.LOCAL_POSTGRES else None,
    )
