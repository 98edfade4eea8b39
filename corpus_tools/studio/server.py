"""The embedded Label Studio: its process (start / stop / status) and the admin's token.

The server runs with SQLite under `studio_home()`, or on PostgreSQL (`postgres`:
a cluster in the studio home, or an existing server by URL); the choice is
remembered in the config. On first start it gets a personal access token minted
for its admin user, so legacy tokens stay off.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from corpus_tools.errors import (
    StudioAuthError,
    StudioError,
    StudioUnavailableError,
    TokenExistsError,
)
from corpus_tools.studio.client import checked_client
from corpus_tools.studio.connection import (
    ENV_API_KEY,
    StudioConnection,
    config_file,
    read_config,
    studio_home,
    write_config,
)
from corpus_tools.studio.ports import free_port, port_is_free
from corpus_tools.studio.postgres import (
    LOCAL_CLUSTER_KEY,
    DatabaseKind,
    PostgresSettings,
    PostgresStatus,
    check_reachable,
    database_kind,
    local_cluster_config,
    parse_database_url,
    postgres_status,
    settings_from_config,
    settings_to_config,
    start_local_postgres,
    stop_local_postgres,
)

if TYPE_CHECKING:
    from corpus_tools.studio.backend_process import BackendStatus

DEFAULT_PORT = 8080
ADMIN_EMAIL = "admin@corpus-tools.local"

# Switch off everything that talks to outside hosts. The LABEL_STUDIO_ prefix
# wins over a bare name in Label Studio's get_env, so a SENTRY_DSN the user set
# for their own apps cannot leak in.
_OFFLINE_ENV = {
    "LABEL_STUDIO_SENTRY_DSN": "",
    "LABEL_STUDIO_FRONTEND_SENTRY_DSN": "",
    "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
    "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
    "LABEL_STUDIO_FEATURE_FLAGS_OFFLINE": "true",
    "LABEL_STUDIO_CONVERTER_DOWNLOAD_RESOURCES": "false",
    "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
    # The ML backend (`serve-model`) listens on loopback beside this loopback-only server;
    # 1.23 refuses a loopback backend URL and its webhook (the SSRF guards) by default.
    "ML_BLOCK_LOCAL_IP": "false",
    "SSRF_PROTECTION_ENABLED": "false",
}


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """The embedded server after `start_server`."""

    url: str
    username: str
    password: str = field(repr=False)
    pid: int = 0
    home: Path = Path()
    config_path: Path = Path()
    log_path: Path = Path()
    already_running: bool = False
    first_start: bool = False
    seconds: float = 0.0
    database: str = "sqlite"


@dataclass(frozen=True, slots=True)
class ServerStatus:
    running: bool
    url: str | None
    pid: int | None
    home: Path
    username: str | None = None
    stopped: bool = False
    database: DatabaseKind = DatabaseKind.SQLITE
    postgres: PostgresStatus | None = None
    postgres_stopped_pid: int | None = None
    # the ML backend started beside it (`backend_process`): its status, or the pid `stop` ended
    backend: BackendStatus | None = None
    backend_stopped_pid: int | None = None


def _pid_path(home: Path) -> Path:
    return home / "server.pid"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of this process still answers kill(0); reap it.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _runs(pid: int, marker: bytes) -> bool:
    """True if `pid`'s command line holds `marker` (guards against a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return _pid_alive(pid)  # no /proc (macOS): trust the pid file
    return marker in cmdline


def spawn_detached(
    command: list[str], *, cwd: Path, env: dict[str, str], log_path: Path, pid_path: Path
) -> tuple[subprocess.Popen, int]:
    """Start a server in its own process group (so a stop ends it with its children),
    output appended to `log_path`, its pid written to `pid_path`. Returns the process
    and the log's size before it started (where its own lines begin)."""
    log_offset = log_path.stat().st_size if log_path.exists() else 0
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_path.write_text(str(process.pid))
    return process, log_offset


def read_running_pid(pid_file: Path, marker: bytes) -> int | None:
    """The pid in `pid_file` if that process is alive and still runs `marker`."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) and _runs(pid, marker) else None


def _read_pid(home: Path) -> int | None:
    return read_running_pid(_pid_path(home), b"label_studio")


def _healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        response = httpx.get(f"{url}/health", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and '"UP"' in response.text


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


def _mint_personal_access_token(url: str, email: str, password: str) -> str:
    """Log in as `email` and create its personal access token (a JWT refresh token).

    Label Studio has no API call for this that takes a password, so this does
    what a user does in the browser: the login form, then POST /api/token/.
    """
    with httpx.Client(base_url=url, timeout=30, follow_redirects=False) as web:
        web.get("/user/login/")
        response = web.post(
            "/user/login/",
            data={
                "email": email,
                "password": password,
                "csrfmiddlewaretoken": web.cookies.get("csrftoken", ""),
            },
            headers={"Referer": f"{url}/user/login/"},
        )
        if response.status_code != 302:
            raise StudioAuthError(
                f"{url}: the embedded server refused the stored admin login {email}; "
                f"delete {url and 'the server config'} and its data dir, or set LABEL_STUDIO_API_KEY"
            )
        response = web.post(
            "/api/token/",
            headers={"X-CSRFToken": web.cookies.get("csrftoken", ""), "Referer": f"{url}/"},
        )
        if response.status_code == 409:
            raise TokenExistsError(
                f"{url}: the admin user already has a personal access token that corpus-tools did not store; "
                "revoke it in Label Studio (Account & Settings › Personal Access Token) and run "
                "`corpus-tools studio start` again, or set LABEL_STUDIO_API_KEY"
            )
        if response.status_code != 201:
            raise StudioAuthError(
                f"{url}: could not create a personal access token (HTTP {response.status_code}); "
                "set LABEL_STUDIO_API_KEY to a token from Account & Settings"
            )
        return response.json()["token"]


def _database_for_start(
    home: Path, config: dict, *, postgres: bool, database_url: str | None, sqlite: bool = False
) -> tuple[DatabaseKind, PostgresSettings | None]:
    """The database asked for (flags > the remembered choice), started or checked."""
    remembered = database_kind(config)
    if sum((bool(database_url), postgres, sqlite)) > 1:
        raise StudioError("choose one database: --sqlite, --postgres or --database-url")
    if sqlite:
        kind = DatabaseKind.SQLITE
    elif database_url:
        kind = DatabaseKind.EXTERNAL_POSTGRES
    elif postgres:
        kind = DatabaseKind.LOCAL_POSTGRES
    else:
        kind = remembered
    if _read_pid(home) is not None and kind != remembered:
        raise StudioError(
            f"Label Studio for {home} is running on {remembered}; "
            "run `corpus-tools studio stop` before switching its database"
        )
    if kind == DatabaseKind.SQLITE:
        return kind, None
    if kind == DatabaseKind.LOCAL_POSTGRES:
        return kind, start_local_postgres(home=home, previous=local_cluster_config(config))
    settings = parse_database_url(database_url) if database_url else settings_from_config(config)
    check_reachable(settings)
    return kind, settings


def _database_env(settings: PostgresSettings | None) -> dict[str, str]:
    if settings is None:
        return {"DJANGO_DB": "sqlite"}
    return settings.label_studio_env()


def label_studio_env(*, data_dir: Path, settings: PostgresSettings | None) -> dict[str, str]:
    """The environment a Label Studio process of the studio home runs with:
    offline, its data dir, its database (SQLite when `settings` is None)."""
    env = {
        **os.environ,
        **_OFFLINE_ENV,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",  # the "Starting development server at" line, promptly
    }
    for leaked in (ENV_API_KEY, "LABEL_STUDIO_USER_TOKEN", "LABEL_STUDIO_HOST"):
        env.pop(leaked, None)
    for name, value in _database_env(settings).items():
        # Label Studio's get_env prefers LABEL_STUDIO_X and HEARTEX_X over X.
        env.pop(f"LABEL_STUDIO_{name}", None)
        env.pop(f"HEARTEX_{name}", None)
        env[name] = value
    return env


def start_server(
    *,
    home: Path | None = None,
    port: int | None = None,
    host: str = "127.0.0.1",
    timeout: float = 240.0,
    postgres: bool = False,
    database_url: str | None = None,
    sqlite: bool = False,
) -> ServerInfo:
    """Start the embedded Label Studio and wait until it answers.

    Its database is SQLite under `home` (`sqlite`), or with `postgres` a PostgreSQL
    cluster in `home` (started first), or the server at `database_url`; without
    any of them the remembered choice is used. The first start runs the database
    migrations (about 40 s), creates the admin user, mints its personal access
    token and stores URL, login, token and database in `home/config.json`
    (mode 600). A running server is left alone and reported.
    """
    started = time.perf_counter()
    home = studio_home(home=home)
    home.mkdir(parents=True, exist_ok=True)
    config = read_config(home)
    log_path = home / "server.log"

    kind, settings = _database_for_start(
        home, config, postgres=postgres, database_url=database_url, sqlite=sqlite
    )
    database = settings.display if settings else "sqlite"
    config["database"] = (
        settings_to_config(kind, settings) if settings else {"kind": str(DatabaseKind.SQLITE)}
    )
    if kind == DatabaseKind.LOCAL_POSTGRES:
        config[LOCAL_CLUSTER_KEY] = config["database"]
    pid = _read_pid(home)
    if pid is not None and config.get("url") and _healthy(config["url"]):
        return ServerInfo(
            url=config["url"],
            username=config.get("username", ""),
            password=config.get("password", ""),
            pid=pid,
            home=home,
            config_path=config_file(home),
            log_path=log_path,
            already_running=True,
            seconds=time.perf_counter() - started,
            database=database,
        )
    if pid is not None:
        raise StudioUnavailableError(
            f"a Label Studio process (pid {pid}) for {home} is running but does not answer; "
            "run `corpus-tools studio stop` first"
        )

    first_start = not config.get("api_key")
    username = config.get("username") or ADMIN_EMAIL
    password = config.get("password") or secrets.token_urlsafe(12)
    if port is None:
        wanted = int(config.get("port") or DEFAULT_PORT)
        port = wanted if port_is_free(host, wanted) else free_port(host)
    elif not port_is_free(host, port):
        raise StudioUnavailableError(
            f"port {port} on {host} is in use; pass another --port or stop what listens there"
        )

    data_dir = home / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = label_studio_env(data_dir=data_dir, settings=settings)
    # Passed in the environment, not argv, so `ps` does not show the password.
    env["LABEL_STUDIO_USERNAME"] = username
    env["LABEL_STUDIO_PASSWORD"] = password
    command = [
        sys.executable,
        "-m",
        "label_studio.server",
        "start",
        "--no-browser",
        "--internal-host",
        host,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    process, log_offset = spawn_detached(
        command, cwd=home, env=env, log_path=log_path, pid_path=_pid_path(home)
    )
    try:
        url = _wait_until_serving(process, log_path, log_offset, host, timeout)
        port = int(url.rsplit(":", 1)[1])
        config.update({"url": url, "port": port, "username": username, "password": password})
        config["api_key"] = _working_token(config, kind, settings, url, username, password)
        config_path = write_config(home, config)
    except BaseException:
        _terminate(process.pid)
        _pid_path(home).unlink(missing_ok=True)
        if kind == DatabaseKind.LOCAL_POSTGRES:
            stop_local_postgres(home=home)
        raise
    return ServerInfo(
        url=url,
        username=username,
        password=password,
        pid=process.pid,
        home=home,
        config_path=config_path,
        log_path=log_path,
        first_start=first_start,
        seconds=time.perf_counter() - started,
        database=database,
    )


_SERVING = re.compile(rb"Starting development server at (http://[^/\s]+)/")


def _wait_until_serving(
    process: subprocess.Popen, log_path: Path, log_offset: int, host: str, timeout: float
) -> str:
    """The URL our process serves on, once it answers /health.

    Label Studio silently moves to the next port when its port is taken (another
    server may still be migrating when we looked), so the URL is read from the
    process's own log line, not assumed.
    """
    deadline = time.monotonic() + timeout
    url = None
    while True:
        if process.poll() is not None:
            raise StudioUnavailableError(
                f"Label Studio exited during start (code {process.returncode}); "
                f"see {log_path}: {_log_tail(log_path)}"
            )
        if url is None:
            with open(log_path, "rb") as log:
                log.seek(log_offset)
                match = _SERVING.search(log.read())
            if match:
                url = match.group(1).decode().replace("0.0.0.0", host)
        if url is not None and _healthy(url):
            return url
        if time.monotonic() > deadline:
            raise StudioUnavailableError(
                f"Label Studio did not answer {url or 'its port'}/health within {timeout:.0f} s; see {log_path}"
            )
        time.sleep(0.5)


def _database_id(kind: DatabaseKind, settings: PostgresSettings | None) -> str:
    """Which database a token belongs to: the home's SQLite or cluster, or a server."""
    return settings.display if kind == DatabaseKind.EXTERNAL_POSTGRES and settings else str(kind)


_FIRST_TRIES = 3
_PATIENT_TRIES = 30  # about 60 s more, once minting shows that a token exists (30 s once
# fell short in a CI run on a loaded machine, after `studio migrate --to-postgres`)


def _working_token(
    config: dict,
    kind: DatabaseKind,
    settings: PostgresSettings | None,
    url: str,
    username: str,
    password: str,
) -> str:
    """The stored token if this database accepts it, else the one minted earlier on
    this database (a home switched between SQLite and PostgreSQL has one token in
    each, and Label Studio mints only one per user), else a new one; remembered
    per database in `config["api_keys"]`."""
    tokens = config.setdefault("api_keys", {})
    database = _database_id(kind, settings)
    candidates = [c for c in dict.fromkeys((config.get("api_key"), tokens.get(database))) if c]

    def accepted(tries: int) -> str | None:
        return next((c for c in candidates if _key_works(url, c, tries=tries)), None)

    token = accepted(_FIRST_TRIES)
    if token is None:
        try:
            token = _mint_personal_access_token(url, username, password)
        except TokenExistsError:
            # A token exists, and a stored one may be it: a server just up on a restored
            # PostgreSQL has refused its token for longer than the first check waits
            # (seen in CI). Wait for it before telling the user to revoke a token.
            token = accepted(_PATIENT_TRIES)
            if token is None:
                raise
    tokens[database] = token
    return token


def _key_works(url: str, api_key: str, *, tries: int = _FIRST_TRIES, pause: float = 2.0) -> bool:
    """Whether the server accepts `api_key`. Asked up to `tries` times: a server that
    has just come up on a migrated PostgreSQL once refused a token it accepted
    seconds later (seen in CI), and minting instead fails while that token exists."""
    for attempt in range(tries):
        try:
            checked_client(StudioConnection(url=url, api_key=api_key, source="embedded server"))
        except StudioAuthError:
            if attempt + 1 < tries:
                time.sleep(pause)
            continue
        return True
    return False


def _terminate(pid: int, timeout: float = 30.0) -> None:
    """SIGTERM the server's process group, SIGKILL it if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return
            time.sleep(0.2)


def stop_server(*, home: Path | None = None, timeout: float = 30.0) -> ServerStatus:
    """Stop the ML backend started beside the embedded server, the server started
    by `start_server` (by its recorded pid), then the studio's own PostgreSQL
    cluster if it runs on one."""
    from corpus_tools.studio.backend_process import stop_backend  # it imports this module

    home = studio_home(home=home)
    config = read_config(home)
    backend = stop_backend(home=home)
    pid = _read_pid(home)
    if pid is not None:
        _terminate(pid, timeout=timeout)
    _pid_path(home).unlink(missing_ok=True)
    kind = database_kind(config)
    postgres_pid = stop_local_postgres(home=home) if kind == DatabaseKind.LOCAL_POSTGRES else None
    return ServerStatus(
        running=False,
        url=config.get("url"),
        pid=pid,
        home=home,
        username=config.get("username"),
        stopped=pid is not None,
        database=kind,
        postgres_stopped_pid=postgres_pid,
        backend_stopped_pid=backend.stopped_pid,
    )


def server_status(*, home: Path | None = None) -> ServerStatus:
    """Whether the embedded server runs and answers, with its URL and login name,
    and the ML backend beside it (None if none was ever started in `home`)."""
    from corpus_tools.studio.backend_process import backend_status  # it imports this module

    home = studio_home(home=home)
    backend = backend_status(home=home)
    config = read_config(home)
    pid = _read_pid(home)
    url = config.get("url")
    running = pid is not None and bool(url) and _healthy(url)
    return ServerStatus(
        running=running,
        url=url,
        pid=pid,
        home=home,
        username=config.get("username"),
        database=database_kind(config),
        postgres=postgres_status(home=home, config=config),
        backend=backend if backend.started or backend.pid is not None else None,
    )
