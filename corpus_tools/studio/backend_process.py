"""The ML backend (`corpus-tools serve-model`) as a background process beside the embedded server.

Like the embedded Label Studio it keeps a pid file and a log in the studio home
(`backend.pid`, `backend.log`), plus `backend.json`: the URL and what it serves
(no secrets — the Label Studio token reaches the process through its
environment, never its argv). A backend already running with the same model,
seed export and Label Studio is reused; one serving something else is replaced.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from corpus_tools.errors import ModelBackendError
from corpus_tools.studio.connection import ENV_API_KEY, ENV_URL, studio_home
from corpus_tools.studio.ports import free_port, port_is_free
from corpus_tools.studio.server import (
    _log_tail,
    _terminate,
    read_running_pid,
    spawn_detached,
)

DEFAULT_BACKEND_PORT = 9090
# A retrain runs in the backend's own interpreter and can hold it for seconds:
# status and reuse checks wait this long for /health before calling it unresponsive.
BUSY_HEALTH_TIMEOUT = 10.0
START_HINT = (
    "run `corpus-tools quickstart` (or `corpus-tools serve-model` in a terminal of its own)"
)


@dataclass(frozen=True, slots=True)
class BackendInfo:
    """The background backend after `start_backend`."""

    url: str
    pid: int
    model_dir: Path
    model_version: str  # what /health said once it answered
    log_path: Path
    already_running: bool = False
    replaced_pid: int | None = None  # a backend serving something else, stopped first
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class BackendStatus:
    """The background backend of a studio home: `running` means it answers /health."""

    running: bool
    url: str | None
    pid: int | None
    log_path: Path
    model_version: str | None = None
    retraining: bool = False
    last_retrain: str = ""
    started: bool = False  # a backend was ever started in this home (backend.json exists)
    new_annotations: int | None = None  # annotations since the last retrain, when it says
    retrain_after: int | None = None
    stopped_pid: int | None = None  # set by `stop_backend`

    @property
    def summary(self) -> str:
        """One line for `studio status`."""
        if self.running:
            line = f"ML backend is running: {self.url} (pid {self.pid}, model {self.model_version}"
            if self.retraining:
                line += ", retraining now"
            if self.new_annotations is not None and self.retrain_after:
                line += (
                    f", {self.new_annotations} annotations since the last retrain, "
                    f"retrains at {self.retrain_after}"
                )
            line += ")"
            return line + (f"; last retrain: {self.last_retrain}" if self.last_retrain else "")
        if self.pid is not None:
            return (
                f"ML backend (pid {self.pid}) does not answer {self.url}/health within "
                f"{BUSY_HEALTH_TIMEOUT:.0f} s (a retrain may hold it; see {self.log_path}); "
                f"if it stays so, run `corpus-tools studio stop`, then {START_HINT}"
            )
        if self.started:
            return f"ML backend is down (was {self.url}); {START_HINT}"
        return f"ML backend is not running; {START_HINT}"


def _pid_path(home: Path) -> Path:
    return home / "backend.pid"


def _state_path(home: Path) -> Path:
    return home / "backend.json"


def _log_path(home: Path) -> Path:
    return home / "backend.log"


def _read_pid(home: Path) -> int | None:
    return read_running_pid(_pid_path(home), b"serve-model")


def _read_state(home: Path) -> dict[str, Any]:
    try:
        state = json.loads(_state_path(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _health(url: str, timeout: float = 3.0) -> dict[str, Any] | None:
    try:
        response = httpx.get(f"{url}/health", timeout=timeout)
        body = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    ok = response.status_code == 200 and isinstance(body, dict) and body.get("status") == "UP"
    return body if ok else None


def start_backend(
    *,
    model_dir: Path,
    seed_export: Path | None,
    work_dir: Path,
    studio_url: str | None = None,
    studio_api_key: str | None = None,
    retrain_after: int | None = None,
    retrain_steps: int | None = None,
    home: Path | None = None,
    port: int | None = None,
    host: str = "127.0.0.1",
    timeout: float = 180.0,
) -> BackendInfo:
    """Start `corpus-tools serve-model` in the background and wait until it answers /health.

    It serves `model_dir`, retrains on `seed_export` plus the project's
    annotations pulled from `studio_url` (no retraining without a seed export),
    and listens on `port` (default: the port it had last time, else 9090, else
    a free one). A backend of this studio home that answers and serves the same
    model (unchanged since it started), seed export and Label Studio is left
    running and reported; any other one is stopped first.
    """
    started = time.perf_counter()
    home = studio_home(home=home)
    home.mkdir(parents=True, exist_ok=True)
    model_dir, work_dir = Path(model_dir).resolve(), Path(work_dir).resolve()
    from corpus_tools.model.loading import model_version_of

    try:
        model_version = model_version_of(model_dir)
    except (OSError, ValueError) as error:
        raise ModelBackendError(
            f"{model_dir}: not a model directory ({error.__class__.__name__}: no readable "
            "meta.json); pass a directory written by `corpus-tools train`"
        ) from None
    wanted = {
        "model_dir": str(model_dir),
        "model_version_at_start": model_version,
        "seed_export": str(Path(seed_export).resolve()) if seed_export else None,
        "work_dir": str(work_dir),
        "studio_url": studio_url,
        "retrain_after": retrain_after,
        "retrain_steps": retrain_steps,
    }
    log_path = _log_path(home)
    previous = _read_state(home)
    pid = _read_pid(home)
    replaced = None
    if pid is not None:
        url = previous.get("url")
        health = _health(url, timeout=BUSY_HEALTH_TIMEOUT) if url else None
        same = all(previous.get(key) == value for key, value in wanted.items())
        if health is not None and same and port in (None, previous.get("port")):
            return BackendInfo(
                url=previous["url"],
                pid=pid,
                model_dir=model_dir,
                model_version=str(health.get("model_version", "")),
                log_path=log_path,
                already_running=True,
                seconds=time.perf_counter() - started,
            )
        _terminate(pid)
        replaced = pid
    _pid_path(home).unlink(missing_ok=True)

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name, value in ((ENV_URL, studio_url), (ENV_API_KEY, studio_api_key)):
        env.pop(name, None)
        if value:
            env[name] = value  # the environment, not argv: `ps` shows argv
    for attempt in range(3):
        if port is None or attempt > 0:
            remembered = int(previous.get("port") or DEFAULT_BACKEND_PORT)
            chosen = (
                remembered if attempt == 0 and port_is_free(host, remembered) else free_port(host)
            )
        else:
            if not port_is_free(host, port):
                raise ModelBackendError(
                    f"port {port} on {host} is in use; pass another port or stop what listens there"
                )
            chosen = port
        url = f"http://{host}:{chosen}"
        command = [
            sys.executable,
            "-m",
            "corpus_tools.cli",
            "serve-model",
            "--model",
            str(model_dir),
            "--host",
            host,
            "--port",
            str(chosen),
            "--work-dir",
            str(work_dir),
        ]
        if seed_export:
            command += ["--seed-export", str(wanted["seed_export"])]
        if retrain_after:
            command += ["--retrain-after", str(retrain_after)]
        if retrain_steps:
            command += ["--retrain-steps", str(retrain_steps)]
        process, log_offset = spawn_detached(
            command, cwd=home, env=env, log_path=log_path, pid_path=_pid_path(home)
        )
        try:
            health = _wait_until_healthy(process, url, log_path, timeout)
        except BaseException:
            _terminate(process.pid)
            _pid_path(home).unlink(missing_ok=True)
            raise
        if health is not None:
            break
        # it exited: another program took the port between our look and its bind; try another
        _pid_path(home).unlink(missing_ok=True)
        if port is not None or not _lost_the_port(log_path, log_offset):
            raise ModelBackendError(
                f"the ML backend exited during start (code {process.returncode}); "
                f"see {log_path}: {_log_tail(log_path)}"
            )
    else:
        raise ModelBackendError(f"the ML backend found no free port on {host}; see {log_path}")

    state = {**wanted, "url": url, "port": chosen, "pid": process.pid}
    _state_path(home).write_text(json.dumps(state, indent=2), encoding="utf-8")
    return BackendInfo(
        url=url,
        pid=process.pid,
        model_dir=model_dir,
        model_version=str(health.get("model_version", "")),
        log_path=log_path,
        replaced_pid=replaced,
        seconds=time.perf_counter() - started,
    )


def _lost_the_port(log_path: Path, offset: int) -> bool:
    with open(log_path, "rb") as log:
        log.seek(offset)
        return b"address already in use" in log.read().lower()


def _wait_until_healthy(
    process: subprocess.Popen, url: str, log_path: Path, timeout: float
) -> dict[str, Any] | None:
    """/health's answer once it comes; None if the process exited first."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            return None
        health = _health(url, timeout=2.0)
        if health is not None:
            return health
        if time.monotonic() > deadline:
            raise ModelBackendError(
                f"the ML backend did not answer {url}/health within {timeout:.0f} s; see {log_path}"
            )
        time.sleep(0.3)


def backend_status(*, home: Path | None = None) -> BackendStatus:
    """Whether this studio home's background backend runs and answers, and what it serves."""
    home = studio_home(home=home)
    state = _read_state(home)
    pid = _read_pid(home)
    url = state.get("url")
    health = _health(url, timeout=BUSY_HEALTH_TIMEOUT) if pid is not None and url else None
    return BackendStatus(
        running=health is not None,
        url=url,
        pid=pid,
        log_path=_log_path(home),
        model_version=str(health["model_version"]) if health else None,
        retraining=bool(health and health.get("retraining")),
        last_retrain=str(health.get("last_retrain") or "") if health else "",
        started=bool(state),
        new_annotations=_int_or_none(health, "new_annotations"),
        retrain_after=_int_or_none(health, "retrain_after"),
    )


def _int_or_none(health: dict | None, key: str) -> int | None:
    value = health.get(key) if health else None
    return value if isinstance(value, int) else None


def stop_backend(*, home: Path | None = None, timeout: float = 20.0) -> BackendStatus:
    """Stop this studio home's background backend (by its recorded pid), if it runs."""
    home = studio_home(home=home)
    state = _read_state(home)
    pid = _read_pid(home)
    if pid is not None:
        _terminate(pid, timeout=timeout)
    _pid_path(home).unlink(missing_ok=True)
    return BackendStatus(
        running=False,
        url=state.get("url"),
        pid=None,
        log_path=_log_path(home),
        started=bool(state),
        stopped_pid=pid,
    )
