"""The ML backend as a background process beside Label Studio: start / reuse / replace,
`studio status` and `studio stop` showing and stopping it, and Label Studio going on
serving tasks when its connected backend is down."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from corpus_tools.studio.backend_process import backend_status, start_backend, stop_backend
from corpus_tools.studio.server import _pid_alive

CLI = Path(sys.executable).parent / "corpus-tools"

pytestmark = pytest.mark.slow  # each test starts real backend processes (model load: seconds)


def _alive(pid: int) -> bool:
    return _pid_alive(pid) and b"serve-model" in Path(f"/proc/{pid}/cmdline").read_bytes()


def _retagged_model(model_dir: Path, out: Path, version: str) -> Path:
    shutil.copytree(model_dir, out)
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    meta["version"] = version
    (out / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return out


def test_a_running_backend_is_reused_and_one_serving_another_model_replaced(
    background_backend, tiny_model, tmp_path
):
    first, home = background_backend(model_dir=tiny_model)
    assert not first.already_running and _alive(first.pid)
    assert (home / "backend.pid").read_text() == str(first.pid)
    assert "ML backend serving" in (home / "backend.log").read_text()
    health = httpx.get(first.url + "/health").json()
    assert health["model_version"] == first.model_version
    # the pid file's process runs the backend; the Label Studio token is not in its argv
    assert b"serve-model" in Path(f"/proc/{first.pid}/cmdline").read_bytes()

    # quickstart re-run: same model, seed and server → the same process, at once
    again = start_backend(model_dir=tiny_model, seed_export=None, work_dir=home / "work", home=home)
    assert again.already_running and again.pid == first.pid and again.url == first.url
    assert again.seconds < 5

    # the model was retrained meanwhile (its meta.json changed) → the old process is replaced
    newer = _retagged_model(tiny_model, tmp_path / "newer", "0.2.0")
    replaced = start_backend(model_dir=newer, seed_export=None, work_dir=home / "work", home=home)
    assert replaced.replaced_pid == first.pid and replaced.pid != first.pid
    assert not _alive(first.pid)
    assert "0.2.0" in httpx.get(replaced.url + "/health").json()["model_version"]
    assert replaced.url == first.url  # it keeps its port, so the project's link stays valid

    status = backend_status(home=home)
    assert status.running and status.pid == replaced.pid
    assert status.model_version == replaced.model_version
    assert f"ML backend is running: {replaced.url} (pid {replaced.pid}" in status.summary

    stopped = stop_backend(home=home)
    assert stopped.stopped_pid == replaced.pid and not _alive(replaced.pid)
    assert not (home / "backend.pid").exists()
    down = backend_status(home=home)
    assert not down.running and down.pid is None
    assert down.summary.startswith(f"ML backend is down (was {replaced.url})")


def test_a_backend_that_cannot_start_is_one_clear_error(tmp_path):
    from corpus_tools.errors import ModelBackendError

    with pytest.raises(ModelBackendError, match="not a model directory"):
        start_backend(model_dir=tmp_path, seed_export=None, work_dir=tmp_path, home=tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "meta.json").write_text('{"name": "x", "version": "1"}')  # meta but no pipeline
    with pytest.raises(ModelBackendError, match="exited during start") as raised:
        start_backend(model_dir=broken, seed_export=None, work_dir=tmp_path, home=tmp_path)
    assert "backend.log" in str(raised.value)
    assert not (tmp_path / "backend.pid").exists()


def _cli(*args: str, data_home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO_")}
    env.update(XDG_DATA_HOME=str(data_home), COLUMNS="1000")
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, env=env, timeout=300)


def test_studio_status_shows_the_backend_and_studio_stop_stops_it(
    background_backend, tiny_model, tmp_path, monkeypatch
):
    from corpus_tools.studio import studio_home

    data_home = tmp_path / "data-home"
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    home = studio_home()  # as the CLI below will see it
    assert home.is_relative_to(data_home)

    never = _cli("studio", "status", data_home=data_home)
    assert "ML backend" not in never.stdout  # none ever started here: no line about it

    info, _ = background_backend(model_dir=tiny_model, home=home)
    status = _cli("studio", "status", data_home=data_home)
    assert status.returncode == 1  # Label Studio itself is not running here
    assert "Label Studio is not running" in status.stdout
    line = next(row for row in status.stdout.splitlines() if row.startswith("ML backend"))
    assert line == (
        f"ML backend is running: {info.url} (pid {info.pid}, model {info.model_version}, "
        "0 annotations since the last retrain, retrains at 20)"
    )

    stop = _cli("studio", "stop", data_home=data_home)
    assert stop.returncode == 0, stop.stderr
    assert f"ML backend stopped (pid {info.pid})" in stop.stdout
    assert not _alive(info.pid)

    down = _cli("studio", "status", data_home=data_home)
    lines = [row for row in down.stdout.splitlines() if row.startswith("ML backend")]
    assert lines == [
        f"ML backend is down (was {info.url}); run `corpus-tools quickstart` "
        "(or `corpus-tools serve-model` in a terminal of its own)"
    ]
    assert "Traceback" not in down.stdout + down.stderr


@pytest.mark.integration
def test_label_studio_serves_tasks_while_its_backend_is_down(
    studio_server, background_backend, tiny_model, tmp_path
):
    """Connected backend stopped: listing and opening tasks and annotating still work,
    promptly, and the CLI says one line about the dead backend."""
    from test_studio import notice_units, sdk, unique_title

    from corpus_tools.studio import push_units
    from corpus_tools.studio.backend_link import connect_model
    from corpus_tools.studio.projects import find_project, task_index

    title = unique_title("backend-down")
    access = {"url": studio_server.url, "api_key": studio_server.api_key}
    units = [u for u in notice_units("down1") if u.kind == "body"]  # what push makes tasks of
    push_units(units[:2], project=title, **access)
    info, home = background_backend(model_dir=tiny_model, studio_url=studio_server.url)
    link = connect_model(project=title, backend_url=info.url, **access)
    assert link.created and link.state == "CO"
    client = sdk(studio_server)
    project_id = find_project(client, studio_server.url, title).id
    # listing tasks (push, pull, export do) asks the backend nothing: no mass prediction
    listed = task_index(client, studio_server.url, project_id)
    assert len(listed) == 2 and list(client.predictions.list(project=project_id)) == []
    first = next(iter(client.tasks.list(project=project_id)))
    client.tasks.get(id=first.id)
    assert list(client.predictions.list(task=first.id))  # while up, opening a task predicts

    stop_backend(home=home)
    assert not _alive(info.pid)
    push_units(units[2:], project=title, **access)  # new tasks: nothing predicted for them yet

    started = time.monotonic()
    tasks = list(client.tasks.list(project=project_id))
    assert len(tasks) == len(units)
    fresh = next(t for t in tasks if t.data["unit_id"] == units[-1].unit_id)
    opened = client.tasks.get(id=fresh.id)
    assert opened.data["text"] == units[-1].text
    assert list(client.predictions.list(task=fresh.id)) == []  # no suggestion, no error
    # an annotator's work is stored even though the webhook has no one to tell
    client.annotations.create(
        id=fresh.id,
        result=[
            {
                "from_name": "measure_type",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["other"]},
            }
        ],
    )
    assert len(client.annotations.list(id=fresh.id)) == 1
    assert time.monotonic() - started < 30  # no waiting on the dead backend's timeouts

    assert backend_status(home=home).summary.startswith("ML backend is down")
    dead = subprocess.run(
        [
            str(CLI),
            "studio",
            "connect-model",
            "--project",
            title,
            "--backend-url",
            info.url,
            "--url",
            studio_server.url,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "LABEL_STUDIO_API_KEY": studio_server.api_key, "COLUMNS": "1000"},
        timeout=120,
    )
    assert dead.returncode == 1
    assert "Traceback" not in dead.stdout + dead.stderr
    assert dead.stderr.splitlines() == [
        f"error: the ML backend is not reachable at {info.url} (ConnectError); "
        "start it with `corpus-tools serve-model` or pass --backend-url"
    ]


def test_a_backend_process_that_does_not_answer_is_named_and_stopped(tmp_path):
    """A recorded backend pid alive but deaf (hung, or its port lost): status says so in
    one line with what to do, and stop ends it."""
    from corpus_tools.studio.backend_process import BUSY_HEALTH_TIMEOUT

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    deaf = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", "serve-model"],
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not _alive(deaf.pid):  # until the child has exec'd (its cmdline is pytest's before)
            assert time.monotonic() < deadline
            time.sleep(0.05)
        (tmp_path / "backend.pid").write_text(str(deaf.pid))
        url = f"http://127.0.0.1:{port}"
        (tmp_path / "backend.json").write_text(json.dumps({"url": url, "port": port}))
        status = backend_status(home=tmp_path)
        assert not status.running and status.pid == deaf.pid
        assert status.summary.startswith(
            f"ML backend (pid {deaf.pid}) does not answer {url}/health within "
            f"{BUSY_HEALTH_TIMEOUT:.0f} s"
        )
        assert "corpus-tools studio stop" in status.summary
        assert stop_backend(home=tmp_path).stopped_pid == deaf.pid
        assert deaf.wait(10) is not None
    finally:
        if deaf.poll() is None:
            deaf.kill()
            deaf.wait()
