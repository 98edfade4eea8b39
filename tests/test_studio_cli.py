"""The studio commands through the real CLI: errors are one line, no traceback, no token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from test_studio import notice_units, sdk, unique_title

from corpus_tools.studio.ports import free_port

CLI = Path(sys.executable).parent / "corpus-tools"
SECRET = "not-a-real-token-7f3a9c1e5b"


def run_cli(
    *args: str, home: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO_")}
    # A private user data dir, and a wide console so a message is not wrapped.
    env.update(XDG_DATA_HOME=str(home), COLUMNS="1000", **(extra_env or {}))
    return subprocess.run(
        [str(CLI), *args], capture_output=True, text=True, env=env, timeout=600
    )  # a first start migrates for minutes on a busy 2-core machine


def assert_one_clean_error(
    result: subprocess.CompletedProcess, *phrases: str, secret: str = SECRET
) -> str:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert secret not in output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, output  # exactly one line: no progress-bar residue, no wrapping
    for phrase in phrases:
        assert phrase in lines[0], output
    return lines[0]


@pytest.fixture
def units_file(tmp_path: Path) -> Path:
    path = tmp_path / "units.jsonl"
    path.write_text(
        "".join(json.dumps(u.to_dict(), ensure_ascii=False) + "\n" for u in notice_units())
    )
    return path


@pytest.fixture
def not_label_studio() -> str:
    """Some other web server: every path is an HTML 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self._not_found()

        def do_POST(self):  # noqa: N802
            self._not_found()

        def _not_found(self):
            body = b"<html><body>Not Found</body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_push_without_any_server_says_to_start_one(tmp_path: Path, units_file: Path):
    result = run_cli("push", str(units_file), "--project", "p", home=tmp_path)
    assert_one_clean_error(result, "corpus-tools studio start", "LABEL_STUDIO_URL")


def test_push_to_a_server_that_is_not_running(tmp_path: Path, units_file: Path):
    url = f"http://127.0.0.1:{free_port('127.0.0.1')}"
    result = run_cli(
        "push", str(units_file), "--project", "p", "--url", url, "--api-key", SECRET, home=tmp_path
    )
    assert_one_clean_error(result, "not reachable", url, "corpus-tools studio start")


def test_status_and_stop_when_nothing_runs(tmp_path: Path):
    status = run_cli("studio", "status", home=tmp_path)
    assert (
        status.returncode == 1
        and "not running" in status.stdout
        and "Traceback" not in status.stderr
    )
    stop = run_cli("studio", "stop", home=tmp_path)
    assert stop.returncode == 0 and "was not running" in stop.stdout


@pytest.mark.integration
def test_wrong_url_is_reported_as_not_label_studio(
    tmp_path: Path, units_file: Path, not_label_studio: str
):
    result = run_cli(
        "pull", "--project", "p", "-o", str(tmp_path / "x.json"),
        "--url", not_label_studio, "--api-key", SECRET, home=tmp_path,
    )  # fmt: skip
    assert_one_clean_error(result, "did not answer like Label Studio", not_label_studio)


@pytest.mark.integration
def test_wrong_url_path_on_a_label_studio_host(tmp_path: Path, units_file: Path, studio_server):
    url = f"{studio_server.url}/not-here"
    result = run_cli(
        "push", str(units_file), "--project", "p", "--url", url, "--api-key", studio_server.api_key,
        home=tmp_path,
    )  # fmt: skip
    assert_one_clean_error(result, "did not answer like Label Studio", secret=studio_server.api_key)


@pytest.mark.integration
def test_wrong_token_is_an_auth_error_without_the_token(
    tmp_path: Path, units_file: Path, studio_server
):
    result = run_cli(
        "push", str(units_file), "--project", "p", home=tmp_path,
        extra_env={"LABEL_STUDIO_URL": studio_server.url, "LABEL_STUDIO_API_KEY": SECRET},
    )  # fmt: skip
    assert_one_clean_error(result, "refused the API key", "LABEL_STUDIO_API_KEY")


@pytest.mark.integration
def test_ambiguous_project_title_through_the_cli(tmp_path: Path, units_file: Path, studio_server):
    title = unique_title("dup")
    client = sdk(studio_server)
    client.projects.create(title=title)
    client.projects.create(title=title)
    result = run_cli(
        "pull", "--project", title, "-o", str(tmp_path / "x.json"), home=tmp_path,
        extra_env={"LABEL_STUDIO_URL": studio_server.url, "LABEL_STUDIO_API_KEY": studio_server.api_key},
    )  # fmt: skip
    assert_one_clean_error(result, "2 Label Studio projects", title, secret=studio_server.api_key)


@pytest.mark.integration
def test_push_and_pull_commands_end_to_end(tmp_path: Path, units_file: Path, studio_server):
    title = unique_title("cli")
    env = {"LABEL_STUDIO_URL": studio_server.url, "LABEL_STUDIO_API_KEY": studio_server.api_key}
    pushed = run_cli("push", str(units_file), "--project", title, home=tmp_path, extra_env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert "4 new tasks, 0 already there" in pushed.stdout
    again = run_cli("push", str(units_file), "--project", title, home=tmp_path, extra_env=env)
    assert "0 new tasks, 4 already there" in again.stdout
    seed = tmp_path / "seed.jsonl"
    unit = notice_units()[3]
    seed.write_text(
        json.dumps(
            {
                "unit_id": unit.unit_id,
                "measure_type": "enforcement",
                "spans": [],
                "annotator": "ann1",
            }
        )
        + "\n"
    )
    annotated = run_cli(
        "push-annotations", str(seed), "--project", title, home=tmp_path, extra_env=env
    )
    assert "1 annotations created" in annotated.stdout, annotated.stderr
    out = tmp_path / "pulled.json"
    pulled = run_cli("pull", "--project", title, "-o", str(out), home=tmp_path, extra_env=env)
    assert pulled.returncode == 0 and "1 tasks, 1 annotations" in pulled.stdout, pulled.stderr
    assert json.loads(out.read_text())[0]["data"]["unit_id"] == unit.unit_id
    # judgements of a unit that is not in the units file: named, not silently dropped
    stray = tmp_path / "stray.jsonl"
    stray.write_text(
        json.dumps({"unit_id": "d1:0099:0badf00d", "measure_type": "other", "spans": []}) + "\n"
    )
    with_stray = run_cli(
        *("push", str(units_file), "--project", unique_title("cli stray")),
        *("--annotations", str(stray)),
        home=tmp_path,
        extra_env=env,
    )
    assert with_stray.returncode == 0, with_stray.stderr
    assert "1 annotated units are not among the body units pushed" in with_stray.stderr
    assert "d1:0099:0badf00d" in with_stray.stderr
    for result in (pushed, again, annotated, pulled, with_stray):
        assert studio_server.api_key not in result.stdout + result.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_studio_start_status_stop_in_the_user_data_dir(tmp_path: Path, units_file: Path):
    """The embedded server from the CLI, under XDG_DATA_HOME: config 600, token never shown."""
    port = str(free_port("127.0.0.1"))
    started = run_cli("studio", "start", "--port", port, home=tmp_path)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        home = tmp_path / "corpus-tools" / "label-studio"
        config_path = home / "config.json"
        config = json.loads(config_path.read_text())
        assert oct(config_path.stat().st_mode & 0o777) == "0o600"
        assert config["url"] == f"http://127.0.0.1:{port}"
        assert config["url"] in started.stdout and config["password"] in started.stdout
        assert config["api_key"] not in started.stdout + started.stderr

        # Telemetry and error reporting are off in the pages served to browsers.
        import httpx

        with httpx.Client(base_url=config["url"]) as web:
            login = web.get("/user/login/").text
            assert "collect_analytics = false" in login and "googletagmanager" not in login
            web.post(
                "/user/login/",
                data={
                    "email": config["username"],
                    "password": config["password"],
                    "csrfmiddlewaretoken": web.cookies.get("csrftoken", ""),
                },
                headers={"Referer": f"{config['url']}/user/login/"},
            )
            app_page = web.get("/projects/", follow_redirects=True).text
        assert "sentry_dsn: null" in app_page and "collect_analytics: false" in app_page
        assert "sentry.io" not in login + app_page

        status = run_cli("studio", "status", home=tmp_path)
        assert status.returncode == 0 and config["url"] in status.stdout
        again = run_cli("studio", "start", home=tmp_path)
        assert "already running" in again.stdout

        # Other commands find the embedded server with no options or env.
        pushed = run_cli("push", str(units_file), "--project", "embedded", home=tmp_path)
        assert pushed.returncode == 0 and "4 new tasks" in pushed.stdout, pushed.stderr
        assert config["api_key"] not in pushed.stdout + pushed.stderr
        assert config["api_key"] not in (home / "server.log").read_text(errors="replace")
    finally:
        stopped = run_cli("studio", "stop", home=tmp_path)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    after = run_cli("studio", "status", home=tmp_path)
    assert after.returncode == 1 and "not running" in after.stdout


def test_a_stored_token_refused_until_minting_shows_it_exists_is_waited_for(monkeypatch):
    # a server just up on a restored PostgreSQL refused its token for longer than the
    # first check waits; minting then finds a token exists: wait for the stored one
    from corpus_tools.errors import TokenExistsError
    from corpus_tools.studio import server

    def mint(url, email, password):
        raise TokenExistsError("exists")

    checks = []

    def works(url, api_key, *, tries=3, pause=2.0):
        checks.append(tries)
        return len(checks) > 1  # refused at first, accepted when asked patiently

    monkeypatch.setattr(server, "_mint_personal_access_token", mint)
    monkeypatch.setattr(server, "_key_works", works)
    config = {"api_key": "stored"}
    token = server._working_token(config, server.DatabaseKind.SQLITE, None, "u", "a", "p")
    assert token == "stored" and checks == [3, server._PATIENT_TRIES]
    assert config["api_keys"] == {str(server.DatabaseKind.SQLITE): "stored"}

    # a token that never works: the clear error, after waiting
    monkeypatch.setattr(server, "_key_works", lambda url, api_key, **_: False)
    with pytest.raises(TokenExistsError):
        server._working_token(
            {"api_key": "foreign"}, server.DatabaseKind.SQLITE, None, "u", "a", "p"
        )


def test_a_token_refused_once_right_after_start_is_asked_again(monkeypatch):
    # a refusal followed by an answer keeps the token (minting would fail while it exists)
    from corpus_tools.errors import StudioAuthError
    from corpus_tools.studio import server

    answers = iter([StudioAuthError("401"), None])

    def checked(connection):
        answer = next(answers)
        if answer is not None:
            raise answer

    monkeypatch.setattr(server, "checked_client", checked)
    assert server._key_works("http://studio", "token", pause=0)

    def refused(connection):
        raise StudioAuthError("401")

    monkeypatch.setattr(server, "checked_client", refused)
    assert not server._key_works("http://studio", "token", pause=0)


@pytest.mark.integration
def test_wrong_files_and_outputs_are_one_line(studio_server, units_file, tmp_path: Path):
    access = ["--url", studio_server.url, "--api-key", studio_server.api_key]
    title = unique_title("cli files")
    pushed = run_cli("push", str(units_file), "-p", title, *access, home=tmp_path)
    assert pushed.returncode == 0, pushed.stderr
    binary = tmp_path / "scan.pdf"
    binary.write_bytes(b"%PDF-1.4\n\xff\xfe\x00garbage")
    assert_one_clean_error(
        run_cli("push", str(binary), "-p", title, *access, home=tmp_path),
        "scan.pdf: not UTF-8 text",
    )
    assert_one_clean_error(
        run_cli("push", str(tmp_path), "-p", title, *access, home=tmp_path),
        "a folder, not a file",
    )
    not_annotations = tmp_path / "na.jsonl"
    not_annotations.write_text('{"a": 1}\n')
    assert_one_clean_error(
        run_cli("push-annotations", str(not_annotations), "-p", title, *access, home=tmp_path),
        "record 1 is no annotation (no unit_id, measure_type)",
    )
    assert_one_clean_error(
        run_cli(
            "push-annotations", str(tmp_path / "gone.jsonl"), "-p", title, *access, home=tmp_path
        ),
        "no such file; pass annotators' JSON Lines",
    )
    a_dir = tmp_path / "somedir"
    a_dir.mkdir()
    assert_one_clean_error(
        run_cli("pull", "-p", title, "-o", str(a_dir), *access, home=tmp_path),
        "somedir: is a folder; give a file name inside it",
    )
    assert [p.name for p in tmp_path.iterdir() if "part" in p.name] == []


@pytest.mark.integration
def test_serve_model_on_a_taken_port_is_one_line_before_claiming_to_serve(tmp_path: Path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve-model", "--port", str(port), home=tmp_path)
    line = assert_one_clean_error(result, f"cannot listen on 127.0.0.1:{port}", "--port")
    assert "serving" not in result.stdout
    assert line.startswith("error:")
