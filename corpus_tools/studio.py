"""Label Studio for annotators: the embedded server, push, annotations and pull.

This is the only module that imports `label_studio_sdk` (SDK 2.x `LabelStudio`).

Connection: options > `LABEL_STUDIO_URL` / `LABEL_STUDIO_API_KEY` > the embedded
server's config file (`studio_home()/config.json`, mode 600). The API key may be
a personal access token (a JWT refresh token; the SDK swaps it for short-lived
access tokens) or a legacy token. The embedded server gets a personal access
token minted for its admin user on first start, so legacy tokens stay off.

Tokens never appear in messages, reprs or logs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from corpus_tools.errors import (
    InputFileError,
    ProjectLookupError,
    StudioAuthError,
    StudioError,
    StudioUnavailableError,
)
from corpus_tools.label_config import sentence_tagging_config
from corpus_tools.schema import (
    LS_MEASURE_TYPE,
    LS_SPANS,
    LS_TEXT,
    MEASURE_TYPES,
    SPAN_LABELS,
    Span,
    Unit,
    UnitAnnotation,
    UnitKind,
)

__all__ = [
    "AnnotationPushReport",
    "PullReport",
    "PushReport",
    "ServerInfo",
    "ServerStatus",
    "StudioConnection",
    "annotator_guide_html",
    "embedded_connection",
    "push_annotations",
    "push_units",
    "pull",
    "resolve_connection",
    "server_status",
    "start_server",
    "stop_server",
    "studio_home",
    "task_data",
]

ENV_URL = "LABEL_STUDIO_URL"
ENV_API_KEY = "LABEL_STUDIO_API_KEY"
DEFAULT_PORT = 8080
ADMIN_EMAIL = "admin@corpus-tools.local"
ANNOTATOR_EMAIL_DOMAIN = "corpus-tools.local"
GUIDE_PATH = Path(__file__).resolve().parent.parent / "docs" / "annotator-guide.md"
START_HINT = "run `corpus-tools studio start` or set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY"

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
}

ProgressCallback = Callable[[int, int], None]


# --------------------------------------------------------------------------
# Reports


@dataclass(frozen=True, slots=True)
class StudioConnection:
    """Where Label Studio is and the key to use; `api_key` is kept out of repr."""

    url: str
    api_key: str = field(repr=False)
    source: str = "options"


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


@dataclass(frozen=True, slots=True)
class ServerStatus:
    running: bool
    url: str | None
    pid: int | None
    home: Path
    username: str | None = None
    stopped: bool = False


@dataclass(frozen=True, slots=True)
class PushReport:
    project_id: int
    project_title: str
    project_created: bool
    units_read: int
    body_units: int
    tasks_created: int
    tasks_existing: int
    predictions_created: int
    predictions_skipped: int
    seconds: float
    annotations_created: int = 0


@dataclass(frozen=True, slots=True)
class AnnotationPushReport:
    project_id: int
    annotations_read: int
    annotations_created: int
    annotations_existing: int
    units_missing: tuple[str, ...]
    annotators_created: tuple[str, ...]
    seconds: float


@dataclass(frozen=True, slots=True)
class PullReport:
    project_id: int
    path: Path
    tasks: int
    annotations: int
    cancelled: int
    annotators: tuple[str, ...]
    export_id: int
    seconds: float


# --------------------------------------------------------------------------
# The embedded server


def studio_home(*, home: Path | None = None) -> Path:
    """The per-user directory of the embedded server (honours XDG_DATA_HOME)."""
    if home is not None:
        return Path(home)
    from platformdirs import user_data_dir

    return Path(user_data_dir("corpus-tools", appauthor=False)) / "label-studio"


def _config_path(home: Path) -> Path:
    return home / "config.json"


def _pid_path(home: Path) -> Path:
    return home / "server.pid"


def _read_config(home: Path) -> dict[str, Any]:
    path = _config_path(home)
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise StudioError(
            f"{path}: unreadable server config ({error.__class__.__name__}); delete it and run `corpus-tools studio start`"
        ) from None


def _write_config(home: Path, config: Mapping[str, Any]) -> Path:
    path = _config_path(home)
    home.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # Created 600 from the start: the file holds the admin password and token.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(dict(config), out, indent=2)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) != 0


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


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


def _is_label_studio(pid: int) -> bool:
    """True if `pid` runs Label Studio's server (guards against a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return _pid_alive(pid)  # no /proc (macOS): trust the pid file
    return b"label_studio" in cmdline


def _read_pid(home: Path) -> int | None:
    try:
        pid = int(_pid_path(home).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) and _is_label_studio(pid) else None


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
            raise StudioAuthError(
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


def start_server(
    *,
    home: Path | None = None,
    port: int | None = None,
    host: str = "127.0.0.1",
    timeout: float = 240.0,
) -> ServerInfo:
    """Start the embedded Label Studio (SQLite under `home`) and wait until it answers.

    The first start runs the database migrations (about 40 s), creates the admin
    user, mints its personal access token and stores URL, login and token in
    `home/config.json` (mode 600). A running server is left alone and reported.
    """
    started = time.perf_counter()
    home = studio_home(home=home)
    home.mkdir(parents=True, exist_ok=True)
    config = _read_config(home)
    log_path = home / "server.log"

    pid = _read_pid(home)
    if pid is not None and config.get("url") and _healthy(config["url"]):
        return ServerInfo(
            url=config["url"],
            username=config.get("username", ""),
            password=config.get("password", ""),
            pid=pid,
            home=home,
            config_path=_config_path(home),
            log_path=log_path,
            already_running=True,
            seconds=time.perf_counter() - started,
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
        port = wanted if _port_is_free(host, wanted) else _free_port(host)
    elif not _port_is_free(host, port):
        raise StudioUnavailableError(
            f"port {port} on {host} is in use; pass another --port or stop what listens there"
        )

    data_dir = home / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **_OFFLINE_ENV,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        # Passed in the environment, not argv, so `ps` does not show the password.
        "LABEL_STUDIO_USERNAME": username,
        "LABEL_STUDIO_PASSWORD": password,
        "DJANGO_DB": "sqlite",
        "PYTHONUNBUFFERED": "1",  # the "Starting development server at" line, promptly
    }
    for leaked in (ENV_API_KEY, "LABEL_STUDIO_USER_TOKEN", "LABEL_STUDIO_HOST"):
        env.pop(leaked, None)
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
    log_offset = log_path.stat().st_size if log_path.exists() else 0
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop kills runserver's children too
        )
    _pid_path(home).write_text(str(process.pid))
    try:
        url = _wait_until_serving(process, log_path, log_offset, host, timeout)
        port = int(url.rsplit(":", 1)[1])
        config.update({"url": url, "port": port, "username": username, "password": password})
        api_key = config.get("api_key")
        if not api_key or not _key_works(url, api_key):
            config["api_key"] = _mint_personal_access_token(url, username, password)
        config_path = _write_config(home, config)
    except BaseException:
        _terminate(process.pid)
        _pid_path(home).unlink(missing_ok=True)
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


def _key_works(url: str, api_key: str) -> bool:
    try:
        _checked_client(StudioConnection(url=url, api_key=api_key, source="embedded server"))
    except StudioAuthError:
        return False
    return True


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
    """Stop the embedded server started by `start_server` (by its recorded pid)."""
    home = studio_home(home=home)
    config = _read_config(home)
    pid = _read_pid(home)
    if pid is not None:
        _terminate(pid, timeout=timeout)
    _pid_path(home).unlink(missing_ok=True)
    return ServerStatus(
        running=False,
        url=config.get("url"),
        pid=pid,
        home=home,
        username=config.get("username"),
        stopped=pid is not None,
    )


def server_status(*, home: Path | None = None) -> ServerStatus:
    """Whether the embedded server runs and answers, with its URL and login name."""
    home = studio_home(home=home)
    config = _read_config(home)
    pid = _read_pid(home)
    url = config.get("url")
    running = pid is not None and bool(url) and _healthy(url)
    return ServerStatus(
        running=running, url=url, pid=pid, home=home, username=config.get("username")
    )


# --------------------------------------------------------------------------
# Connection and errors


def resolve_connection(
    *, url: str | None = None, api_key: str | None = None, home: Path | None = None
) -> StudioConnection:
    """Options > LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY > the embedded server's config."""
    url_source = "options" if url else None
    if not url and os.environ.get(ENV_URL):
        url, url_source = os.environ[ENV_URL], "environment"
    key_source = "options" if api_key else None
    if not api_key and os.environ.get(ENV_API_KEY):
        api_key, key_source = os.environ[ENV_API_KEY], "environment"
    config = _read_config(studio_home(home=home))
    embedded_url = config.get("url")
    if not url:
        if not embedded_url:
            raise StudioUnavailableError(f"no Label Studio server is configured: {START_HINT}")
        url, url_source = embedded_url, "embedded server"
    url = url.rstrip("/")
    if not api_key:
        # Never send the embedded server's token to some other server.
        if embedded_url and url == embedded_url.rstrip("/") and config.get("api_key"):
            api_key, key_source = config["api_key"], "embedded server"
        else:
            raise StudioAuthError(
                f"no API key for {url}: set LABEL_STUDIO_API_KEY or pass --api-key "
                "(a personal access token from Account & Settings)"
            )
    source = url_source if url_source == key_source else f"{url_source} + {key_source}"
    return StudioConnection(url=url, api_key=api_key, source=source)


def embedded_connection(*, home: Path | None = None) -> StudioConnection:
    """The embedded server's URL and token from its config file (environment ignored)."""
    home = studio_home(home=home)
    config = _read_config(home)
    if not config.get("url") or not config.get("api_key"):
        raise StudioUnavailableError(
            f"no embedded Label Studio has been started in {home}: {START_HINT}"
        )
    return StudioConnection(url=config["url"], api_key=config["api_key"], source="embedded server")


def _detail(error: ApiError) -> str:
    body = error.body
    if isinstance(body, Mapping):
        for key in ("detail", "validation_errors", "error", "message"):
            if key in body:
                return str(body[key])[:300]
    return str(body)[:200] if isinstance(body, str) and "<html" not in body.lower() else ""


@contextlib.contextmanager
def _translated(url: str, doing: str) -> Iterator[None]:
    """Turn SDK/HTTP failures into the toolkit's one-line errors (never with the key)."""
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:
        raise StudioUnavailableError(
            f"Label Studio is not reachable at {url} ({error.__class__.__name__}): {START_HINT}"
        ) from None
    except httpx.TimeoutException:
        raise StudioUnavailableError(
            f"Label Studio at {url} timed out while {doing}; try again"
        ) from None
    except httpx.HTTPError as error:
        raise StudioUnavailableError(
            f"HTTP error talking to {url} while {doing} ({error.__class__.__name__}): {START_HINT}"
        ) from None
    except ApiError as error:
        status = error.status_code
        if status in (401, 403):
            raise StudioAuthError(
                f"Label Studio at {url} refused the API key (HTTP {status}{': ' + _detail(error) if _detail(error) else ''}); "
                "set LABEL_STUDIO_API_KEY / --api-key to a valid personal access token, "
                "or unset them to use the embedded server"
            ) from None
        if (
            status == 404
            or status is None
            or (status >= 500 and not isinstance(error.body, Mapping))
        ):
            raise StudioUnavailableError(
                f"{url} did not answer like Label Studio while {doing} (HTTP {status}): "
                f"check the URL; {START_HINT}"
            ) from None
        raise StudioError(
            f"Label Studio at {url} failed while {doing} (HTTP {status}): {_detail(error)}"
        ) from None
    except ValueError as error:
        # A non-JSON answer (another web server on that URL) surfaces as a decode error.
        if error.__class__.__name__ in ("JSONDecodeError", "ValidationError"):
            raise StudioUnavailableError(
                f"{url} did not answer like Label Studio while {doing}: check the URL; {START_HINT}"
            ) from None
        raise


def _checked_client(connection: StudioConnection, *, timeout: float = 120.0) -> LabelStudio:
    """A `LabelStudio` client that has answered one authenticated call."""
    with _translated(connection.url, "checking the connection"):
        client = LabelStudio(base_url=connection.url, api_key=connection.api_key, timeout=timeout)
        client.users.whoami()
    return client


def _client(
    *, url: str | None, api_key: str | None, home: Path | None = None
) -> tuple[LabelStudio, StudioConnection]:
    connection = resolve_connection(url=url, api_key=api_key, home=home)
    return _checked_client(connection), connection


def _raw_json(
    client: LabelStudio, url: str, path: str, *, params: Mapping[str, Any], doing: str
) -> Any:
    """GET through the SDK's own HTTP client (auth included) and parse the JSON.

    Used where the SDK's typed pager is the bottleneck: building 10k pydantic
    task models costs more than the request itself.
    """
    with _translated(url, doing):
        response = client._client_wrapper.httpx_client.request(
            path, method="GET", params=dict(params)
        )
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text
            raise ApiError(status_code=response.status_code, body=body)
        return response.json()


# --------------------------------------------------------------------------
# Projects


def annotator_guide_html(path: Path = GUIDE_PATH) -> str:
    """The annotator guide as HTML for the project's instructions."""
    from markdown_it import MarkdownIt  # a dependency of rich

    if not path.exists():
        return ""
    return MarkdownIt("commonmark").enable("table").render(path.read_text(encoding="utf-8"))


def _find_project(client: LabelStudio, url: str, title: str) -> Any | None:
    with _translated(url, f"looking up project {title!r}"):
        matches = [p for p in client.projects.list(title=title, page_size=100) if p.title == title]
    if len(matches) > 1:
        ids = ", ".join(str(p.id) for p in matches)
        raise ProjectLookupError(
            f"{len(matches)} Label Studio projects at {url} are titled {title!r} (ids {ids}): "
            "rename all but one in Label Studio, or use another --project title"
        )
    return matches[0] if matches else None


def _ensure_project(client: LabelStudio, url: str, title: str) -> tuple[Any, bool]:
    """The project titled `title`, created with the current config and guide if missing.

    An existing project gets the current label config and guide when they differ.
    """
    config = sentence_tagging_config()
    guide = annotator_guide_html()
    project = _find_project(client, url, title)
    if project is None:
        with _translated(url, f"creating project {title!r}"):
            project = client.projects.create(
                title=title,
                label_config=config,
                expert_instruction=guide,
                show_instruction=bool(guide),
                show_skip_button=True,
                description="Sentence tagging of work-safety notices (corpus-tools)",
            )
        return project, True
    with _translated(url, f"reading project {title!r}"):
        full = client.projects.get(id=project.id)
    changes: dict[str, Any] = {}
    if (full.label_config or "").strip() != config.strip():
        changes["label_config"] = config
    if guide and (full.expert_instruction or "") != guide:
        changes.update(expert_instruction=guide, show_instruction=True)
    if changes:
        with _translated(url, f"updating the label config of project {title!r}"):
            client.projects.update(id=project.id, **changes)
    return full, False


def _task_index(client: LabelStudio, url: str, project_id: int) -> dict[str, tuple[int, str]]:
    """unit_id -> (task id, text) for every task of the project, in one Data Manager request.

    `tasks.list` pages with `fields=all` and builds typed models (26 s for 10k);
    asking for `id,data` only and parsing the JSON ourselves takes about 4 s.
    """
    found: dict[str, tuple[int, str]] = {}
    page = 1
    while True:
        body = _raw_json(
            client,
            url,
            "api/tasks/",
            params={
                "project": project_id,
                "fields": "task_only",
                "include": "id,data",
                "page_size": 10_000,
                "page": page,
            },
            doing="listing the project's tasks",
        )
        tasks = body.get("tasks", []) if isinstance(body, Mapping) else body
        for task in tasks:
            data = task.get("data") or {}
            if data.get("unit_id"):
                found.setdefault(data["unit_id"], (task["id"], data.get("text", "")))
        total = body.get("total", 0) if isinstance(body, Mapping) else len(tasks)
        if not tasks or page * 10_000 >= total:
            return found
        page += 1


# --------------------------------------------------------------------------
# Units -> tasks


def _read_records(path: Path) -> list[dict[str, Any]]:
    """Rows of a units (or pre-label) JSONL / Parquet file as dicts, extra fields kept."""
    if not path.exists():
        raise InputFileError(
            str(path), "no such file; pass a `corpus-tools segment` output (.jsonl or .parquet)"
        )
    if path.suffix == ".parquet":
        import polars as pl

        try:
            return pl.read_parquet(path).to_dicts()
        except Exception as error:  # polars raises many kinds for a bad file
            raise InputFileError(
                str(path), f"not a readable Parquet file ({error.__class__.__name__})"
            ) from None
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise InputFileError(
                    str(path), f"line {number} is not JSON; expected one unit per line"
                ) from None
            if not isinstance(row, dict):
                raise InputFileError(str(path), f"line {number} is not a JSON object")
            rows.append(row)
    return rows


def _records(
    source: Path | str | Iterable[Mapping[str, Any] | Unit],
) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(source, str | Path):
        return str(source), _read_records(Path(source))
    rows = [item.to_dict() if isinstance(item, Unit) else dict(item) for item in source]
    return "<units>", rows


def task_data(unit: Unit, *, prev_text: str = "", next_text: str = "") -> dict[str, Any]:
    """A Label Studio task's `data`: the unit record plus display strings."""
    return {
        **unit.to_dict(),
        "section": " › ".join(unit.section_path),
        "prev_text": prev_text,
        "next_text": next_text,
    }


def _with_context(
    rows: list[dict[str, Any]], origin: str
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(task data, input row) for every body unit, in input order.

    Neighbours are the units of the same document in the input, of any kind,
    by unit_index: the sentence before a paragraph's first sentence is the
    heading above it, which is what a reader of the notice sees.
    """
    units: list[Unit] = []
    for number, row in enumerate(rows, 1):
        try:
            units.append(Unit.from_dict(row))
        except (KeyError, TypeError, ValueError) as error:
            raise InputFileError(
                origin, f"record {number} is not a unit ({error.__class__.__name__}: {error})"
            ) from None
    by_doc: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        by_doc[unit.doc_id].append(unit)
    neighbours: dict[str, tuple[str, str]] = {}
    for doc_units in by_doc.values():
        doc_units.sort(key=lambda u: u.unit_index)
        for i, unit in enumerate(doc_units):
            prev_text = doc_units[i - 1].text if i > 0 else ""
            next_text = doc_units[i + 1].text if i + 1 < len(doc_units) else ""
            neighbours[unit.unit_id] = (prev_text, next_text)
    out = []
    seen: set[str] = set()
    for unit, row in zip(units, rows, strict=True):
        if unit.kind != UnitKind.BODY or unit.unit_id in seen:
            continue
        seen.add(unit.unit_id)
        prev_text, next_text = neighbours[unit.unit_id]
        out.append((task_data(unit, prev_text=prev_text, next_text=next_text), row))
    return out


def _span_results(
    text: str, spans: Iterable[Mapping[str, Any]], unit_id: str, origin: str, *, scored: bool
) -> list[dict]:
    results = []
    for number, raw in enumerate(spans, 1):
        span = Span(
            start=int(raw["start"]),
            end=int(raw["end"]),
            label=str(raw["label"]),
            text=str(raw.get("text", text[int(raw["start"]) : int(raw["end"])])),
            score=raw.get("score"),
        )
        if not span.is_valid_for(text):
            raise InputFileError(
                origin,
                f"unit {unit_id}: span {number} [{span.start}, {span.end}) {span.label} {span.text!r} "
                f"does not match the unit text (expected text[start:end] and a label in {', '.join(SPAN_LABELS)})",
            )
        result: dict[str, Any] = {
            "id": f"span{number}",
            "from_name": LS_SPANS,
            "to_name": LS_TEXT,
            "type": "labels",
            "value": {
                "start": span.start,
                "end": span.end,
                "text": span.text,
                "labels": [span.label],
            },
        }
        if scored and span.score is not None:
            result["score"] = float(span.score)
        results.append(result)
    return results


def _measure_result(
    measure_type: str, unit_id: str, origin: str, score: float | None = None
) -> dict:
    if measure_type not in MEASURE_TYPES:
        raise InputFileError(
            origin,
            f"unit {unit_id}: measure_type {measure_type!r} is not one of {', '.join(MEASURE_TYPES)}",
        )
    result: dict[str, Any] = {
        "id": "measure",
        "from_name": LS_MEASURE_TYPE,
        "to_name": LS_TEXT,
        "type": "choices",
        "value": {"choices": [measure_type]},
    }
    if score is not None:
        result["score"] = float(score)
    return result


def _prediction(
    data: Mapping[str, Any], row: Mapping[str, Any], origin: str
) -> dict[str, Any] | None:
    """A Label Studio prediction from a pre-label row, or None for a plain unit."""
    measure_type = row.get("measure_type")
    if not measure_type:
        return None
    unit_id, text = data["unit_id"], data["text"]
    score = row.get("measure_type_score")
    result = [_measure_result(measure_type, unit_id, origin, score)]
    result += _span_results(text, row.get("spans") or (), unit_id, origin, scored=True)
    prediction: dict[str, Any] = {
        "model_version": str(row.get("model_version") or "prelabel"),
        "result": result,
    }
    if score is not None:
        prediction["score"] = float(score)
    return prediction


class _PushRecord:
    """The unit_id -> task id map of one project, as last pushed from here.

    Keyed by server URL, project id and the project's creation time, so a new
    server or a re-created project never reuses an old record. It is only a
    shortcut: `matches` checks it against the server before it is trusted.
    """

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.units: dict[str, int] = {k: int(v) for k, v in (data.get("units") or {}).items()}
        self.task_count = int(data.get("task_count", -1))
        self.max_task_id = int(data.get("max_task_id", -1))

    @classmethod
    def load(cls, url: str, project: Any, *, home: Path | None = None) -> _PushRecord:
        from platformdirs import user_cache_dir

        root = (
            Path(home)
            if home is not None
            else Path(user_cache_dir("corpus-tools", appauthor=False))
        )
        key = hashlib.sha1(f"{url}|{project.id}|{project.created_at}".encode()).hexdigest()[:20]
        path = root / "studio-push" / f"{key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        return cls(path, data)

    def matches(self, task_count: int, max_task_id: int) -> bool:
        return (self.task_count, self.max_task_id) == (task_count, max_task_id)

    def reset(self, units: Mapping[str, int] | None = None) -> None:
        self.units = dict(units or {})
        self.task_count = len(self.units)
        self.max_task_id = max(self.units.values(), default=0)

    def add(self, unit_ids: Iterable[str], task_ids: list[int]) -> None:
        for unit_id, task_id in zip(unit_ids, task_ids, strict=True):
            self.units[unit_id] = task_id
        self.task_count += len(task_ids)
        self.max_task_id = max(self.max_task_id, *task_ids)

    def forget(self) -> None:
        self.task_count = self.max_task_id = -1
        self.save()

    def save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(
                json.dumps(
                    {
                        "task_count": self.task_count,
                        "max_task_id": self.max_task_id,
                        "units": self.units,
                    }
                ),
                encoding="utf-8",
            )
            tmp.replace(self.path)
        except OSError:
            pass  # a cache: without it the next push lists the tasks


def _task_count_and_max_id(client: LabelStudio, url: str, project_id: int) -> tuple[int, int]:
    """The project's task count and highest task id, in one small request."""
    body = _raw_json(
        client,
        url,
        "api/tasks/",
        params={
            "project": project_id,
            "fields": "task_only",
            "include": "id",
            "page_size": 1,
            "query": json.dumps({"ordering": ["-tasks:id"]}),
        },
        doing="counting the project's tasks",
    )
    tasks = body.get("tasks") or []
    return int(body.get("total", 0)), int(tasks[0]["id"]) if tasks else 0


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing_prediction_versions(
    client: LabelStudio, url: str, project_id: int
) -> dict[int, set[str]]:
    with _translated(url, "listing predictions"):
        predictions = client.predictions.list(project=project_id)
    versions: dict[int, set[str]] = defaultdict(set)
    for prediction in predictions:
        versions[prediction.task].add(prediction.model_version or "")
    return versions


def push_units(
    units: Path | str | Iterable[Mapping[str, Any] | Unit],
    *,
    project: str,
    url: str | None = None,
    api_key: str | None = None,
    batch_size: int = 1000,
    least_certain_first: bool = True,
    progress: ProgressCallback | None = None,
    home: Path | None = None,
    record_dir: Path | None = None,
    annotations: Path | str | Iterable[Mapping[str, Any] | UnitAnnotation] | None = None,
) -> PushReport:
    """Import the body units as tasks of project `project` (created if missing).

    `annotations` (the seed-set format of `push_annotations`) travel inside the
    import of the tasks they belong to: one request per batch instead of one
    per annotation. Annotations of units already in the project are not
    touched here; `push_annotations` loads those.

    `units` is a segment / pre-label JSONL or Parquet file, or an iterable of
    unit dicts / `Unit`s. Each task carries the stable `unit_id`; units already
    in the project are skipped, so a re-push or a re-run after an interrupted
    push leaves each unit exactly once. Rows with `measure_type` (pre-label
    output) become predictions with `model_version` and `score`; for a unit
    already in the project the prediction is added to its task unless one of
    that model_version is there. With `least_certain_first`, new tasks are
    imported in ascending score and the project samples by uncertainty, so the
    label stream serves the least certain predictions first.

    `progress(done, total)` is called after every batch (units handled so far).

    Which units a project holds is kept in a local push record (in the user
    cache dir, or `record_dir`) and trusted only while the project's task count
    and highest task id on the server still match it (one small request);
    otherwise the unit ids are listed from the server and the record rebuilt.
    """
    started = time.perf_counter()
    origin, rows = _records(units)
    pairs = _with_context(rows, origin)
    client, connection = _client(url=url, api_key=api_key, home=home)
    base = connection.url
    found, created = _ensure_project(client, base, project)
    project_id = found.id

    record = _PushRecord.load(base, found, home=record_dir)
    if created:
        record.reset()
    elif not record.matches(*_task_count_and_max_id(client, base, project_id)):
        # No record, or the project changed behind it: ask the server.
        record.reset({uid: ids[0] for uid, ids in _task_index(client, base, project_id).items()})
        record.save()
    existing = record.units
    judged = _annotations_by_unit(client, base, annotations)
    new: list[dict[str, Any]] = []
    attach: list[tuple[int, dict[str, Any]]] = []
    for data, row in pairs:
        prediction = _prediction(data, row, origin)
        task_id = existing.get(data["unit_id"])
        if task_id is None:
            task: dict[str, Any] = {"data": data}
            if prediction:
                task["predictions"] = [prediction]
            if data["unit_id"] in judged:
                task["annotations"] = judged[data["unit_id"]](data["text"])
            new.append(task)
        elif prediction:
            attach.append((task_id, prediction))

    has_predictions = any("predictions" in task for task in new) or bool(attach)
    if least_certain_first and has_predictions:

        def certainty(task: dict[str, Any]) -> float:
            predictions = task.get("predictions") or [{}]
            score = predictions[0].get("score")
            return float(score) if score is not None else 2.0

        new.sort(key=certainty)

    total = len(pairs)
    done = total - len(new)
    if progress:
        progress(done, total)
    predictions_created = annotations_created = 0
    for batch in _batches(new, batch_size):
        with _translated(base, f"importing tasks into project {project!r}"):
            response = client.projects.import_tasks(
                id=project_id, request=batch, return_task_ids=True
            )
        predictions_created += int(response.prediction_count or 0)
        annotations_created += int(response.annotation_count or 0)
        task_ids = list(response.task_ids or ())
        if len(task_ids) == len(batch):
            record.add((task["data"]["unit_id"] for task in batch), task_ids)
            record.save()
        else:  # not expected; the next push then lists the tasks instead
            record.forget()
        done += len(batch)
        if progress:
            progress(done, total)

    predictions_skipped = 0
    if attach:
        versions = _existing_prediction_versions(client, base, project_id)
        to_add = []
        for task_id, prediction in attach:
            if prediction["model_version"] in versions.get(task_id, set()):
                predictions_skipped += 1
                continue
            versions[task_id].add(prediction["model_version"])
            to_add.append({"task": task_id, **prediction})
        for batch in _batches(to_add, batch_size):
            with _translated(base, "adding predictions to existing tasks"):
                response = client.projects.import_predictions(id=project_id, request=batch)
            predictions_created += len(batch)

    if least_certain_first and has_predictions:
        newest = (new[0]["predictions"][0] if new and new[0].get("predictions") else attach[0][1])[
            "model_version"
        ]
        with _translated(base, "setting uncertainty sampling"):
            client.projects.update(
                id=project_id, sampling="Uncertainty sampling", model_version=newest
            )

    return PushReport(
        project_id=project_id,
        project_title=project,
        project_created=created,
        units_read=len(rows),
        body_units=total,
        tasks_created=len(new),
        tasks_existing=total - len(new),
        predictions_created=predictions_created,
        predictions_skipped=predictions_skipped,
        seconds=time.perf_counter() - started,
        annotations_created=annotations_created,
    )


# --------------------------------------------------------------------------
# Annotations (seed set, quickstart)


def _annotation_result(row: Mapping[str, Any], text: str, origin: str) -> list[dict]:
    """A seed-format judgement as Label Studio result items, checked against the task text."""
    unit_id = str(row["unit_id"])
    result = [_measure_result(str(row.get("measure_type") or ""), unit_id, origin)]
    return result + _span_results(text, row.get("spans") or (), unit_id, origin, scored=False)


def _annotations_by_unit(
    client: LabelStudio,
    url: str,
    annotations: Path | str | Iterable[Mapping[str, Any] | UnitAnnotation] | None,
) -> dict[str, Callable[[str], list[dict[str, Any]]]]:
    """unit_id -> a builder of that unit's import-ready annotations (checked against its text)."""
    if annotations is None:
        return {}
    origin, rows = _annotation_records(annotations)
    users, _ = _annotator_users(client, url, {str(r.get("annotator") or "") for r in rows})
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_unit.setdefault(str(row.get("unit_id") or ""), []).append(row)

    def builder(unit_rows: list[dict[str, Any]]) -> Callable[[str], list[dict[str, Any]]]:
        def build(text: str) -> list[dict[str, Any]]:
            built = []
            for row in unit_rows:
                annotation: dict[str, Any] = {"result": _annotation_result(row, text, origin)}
                annotator = str(row.get("annotator") or "")
                if annotator:
                    annotation["completed_by"] = users[annotator]
                built.append(annotation)
            return built

        return build

    return {unit_id: builder(unit_rows) for unit_id, unit_rows in by_unit.items()}


def _annotation_records(
    source: Path | str | Iterable[Mapping[str, Any] | UnitAnnotation],
) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(source, str | Path):
        return str(source), _read_records(Path(source))
    rows = []
    for item in source:
        if isinstance(item, UnitAnnotation):
            rows.append(
                {
                    "unit_id": item.unit_id,
                    "measure_type": item.measure_type,
                    "spans": [
                        {"start": s.start, "end": s.end, "label": s.label, "text": s.text}
                        for s in item.spans
                    ],
                    "annotator": item.annotator,
                }
            )
        else:
            rows.append(dict(item))
    return "<annotations>", rows


def _annotator_email(annotator: str) -> str:
    name = annotator.strip()
    return name if "@" in name else f"{name}@{ANNOTATOR_EMAIL_DOMAIN}"


def _annotator_users(
    client: LabelStudio, url: str, names: Iterable[str]
) -> tuple[dict[str, int], list[str]]:
    """Label Studio user ids for annotator names, creating the missing users.

    Users are created in the token owner's organisation (an admin's token can;
    others get a StudioAuthError). They have no password: an admin sets one in
    Label Studio if that person is to log in.
    """
    wanted = {name: _annotator_email(name) for name in names if name}
    with _translated(url, "listing users"):
        users = list(client.users.list())
    by_key: dict[str, int] = {}
    for user in users:
        for key in (user.email, getattr(user, "username", None)):
            if key:
                by_key[key] = user.id
    ids: dict[str, int] = {}
    created: list[str] = []
    for name, email in wanted.items():
        user_id = by_key.get(email) or by_key.get(name)
        if user_id is None:
            with _translated(url, f"creating annotator user {email}"):
                user = client.users.create(email=email, username=name, first_name=name)
            user_id = user.id
            created.append(name)
        ids[name] = user_id
    return ids, created


def _existing_annotations(client: LabelStudio, url: str, project_id: int) -> dict[int, set[int]]:
    """task id -> ids of users who already annotated it."""
    body = _raw_json(
        client,
        url,
        "api/tasks/",
        params={
            "project": project_id,
            "fields": "all",  # `include` would strip annotations down to their ids
            "page_size": 10_000,
            "query": json.dumps(
                {
                    "filters": {
                        "conjunction": "and",
                        "items": [
                            {
                                "filter": "filter:tasks:total_annotations",
                                "operator": "greater",
                                "type": "Number",
                                "value": 0,
                            }
                        ],
                    }
                }
            ),
        },
        doing="listing existing annotations",
    )
    tasks = body.get("tasks", []) if isinstance(body, Mapping) else body
    done: dict[int, set[int]] = defaultdict(set)
    for task in tasks:
        for annotation in task.get("annotations") or ():
            user = annotation.get("completed_by")
            done[task["id"]].add(user["id"] if isinstance(user, Mapping) else user)
    return done


def push_annotations(
    annotations: Path | str | Iterable[Mapping[str, Any] | UnitAnnotation],
    *,
    project: str,
    url: str | None = None,
    api_key: str | None = None,
    progress: ProgressCallback | None = None,
    home: Path | None = None,
) -> AnnotationPushReport:
    """Load seed-set annotations as real annotations on the project's tasks.

    Each record is `{unit_id, measure_type, spans: [{start, end, label, text}],
    annotator}`; the units must have been pushed first. An annotation is
    attributed to the annotator's Label Studio user (created if missing, as
    `NAME@corpus-tools.local`); a task that already has an annotation by that
    user is left alone, so a re-run creates nothing new.
    """
    started = time.perf_counter()
    origin, rows = _annotation_records(annotations)
    client, connection = _client(url=url, api_key=api_key, home=home)
    base = connection.url
    found = _find_project(client, base, project)
    if found is None:
        raise ProjectLookupError(
            f"no Label Studio project at {base} is titled {project!r}: push the units first "
            "(`corpus-tools push UNITS --project NAME`)"
        )
    tasks = _task_index(client, base, found.id)
    users, created_users = _annotator_users(
        client, base, {str(r.get("annotator") or "") for r in rows}
    )
    done = _existing_annotations(client, base, found.id)
    whoami = None

    missing: list[str] = []
    created = existing = 0
    for number, row in enumerate(rows, 1):
        unit_id = str(row.get("unit_id") or "")
        if unit_id not in tasks:
            missing.append(unit_id)
            continue
        task_id, text = tasks[unit_id]
        annotator = str(row.get("annotator") or "")
        if annotator:
            user_id = users[annotator]
        else:
            if whoami is None:
                with _translated(base, "reading the current user"):
                    whoami = client.users.whoami().id
            user_id = whoami
        if user_id in done.get(task_id, set()):
            existing += 1
        else:
            result = _annotation_result(row, text, origin)
            with _translated(base, f"creating the annotation of {unit_id}"):
                client.annotations.create(id=task_id, result=result, completed_by=user_id)
            done[task_id].add(user_id)
            created += 1
        if progress:
            progress(number, len(rows))
    return AnnotationPushReport(
        project_id=found.id,
        annotations_read=len(rows),
        annotations_created=created,
        annotations_existing=existing,
        units_missing=tuple(missing),
        annotators_created=tuple(created_users),
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------
# Pull


def pull(
    *,
    project: str,
    output: Path | str,
    url: str | None = None,
    api_key: str | None = None,
    timeout: float = 900.0,
    home: Path | None = None,
) -> PullReport:
    """Save every annotated task of `project` as Label Studio JSON via an export snapshot.

    Snapshots are built server-side and downloaded when ready, so large projects
    do not time out as the plain export does. Annotations keep `completed_by`
    (the annotator's user, with email), `lead_time` and `was_cancelled`
    (skipped); tasks with only skipped annotations are included.
    """
    started = time.perf_counter()
    output = Path(output)
    client, connection = _client(url=url, api_key=api_key, home=home)
    base = connection.url
    found = _find_project(client, base, project)
    if found is None:
        raise ProjectLookupError(
            f"no Label Studio project at {base} is titled {project!r}: check --project"
        )
    with _translated(base, "creating an export snapshot"):
        export = client.projects.exports.create(
            id=found.id,
            title=f"corpus-tools pull {time.strftime('%Y-%m-%d %H:%M:%S')}",
            task_filter_options={"only_with_annotations": True},
            serialization_options={"annotations__completed_by": {"only_id": False}},
        )
    deadline = time.monotonic() + timeout
    status = export.status
    while status not in ("completed", "failed"):
        if time.monotonic() > deadline:
            raise StudioError(
                f"the export snapshot of {project!r} was not ready after {timeout:.0f} s; try again"
            )
        time.sleep(0.5)
        with _translated(base, "waiting for the export snapshot"):
            status = client.projects.exports.get(id=found.id, export_pk=export.id).status
    if status == "failed":
        raise StudioError(
            f"Label Studio failed to build the export snapshot of {project!r}; see the server log"
        )

    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    with _translated(base, "downloading the export snapshot"), tmp.open("wb") as out:
        for chunk in client.projects.exports.download(
            id=found.id, export_pk=export.id, export_type="JSON"
        ):
            out.write(chunk)
    try:
        tasks = json.loads(tmp.read_text(encoding="utf-8"))
    except ValueError:
        raise StudioError(f"the export snapshot of {project!r} is not JSON; see {tmp}") from None
    tmp.replace(output)

    annotations = cancelled = 0
    annotators: set[str] = set()
    for task in tasks:
        for annotation in task.get("annotations") or ():
            annotations += 1
            cancelled += bool(annotation.get("was_cancelled"))
            user = annotation.get("completed_by")
            if isinstance(user, Mapping):
                annotators.add(str(user.get("email") or user.get("id")))
            elif user is not None:
                annotators.add(str(user))
    return PullReport(
        project_id=found.id,
        path=output,
        tasks=len(tasks),
        annotations=annotations,
        cancelled=cancelled,
        annotators=tuple(sorted(annotators)),
        export_id=export.id,
        seconds=time.perf_counter() - started,
    )
