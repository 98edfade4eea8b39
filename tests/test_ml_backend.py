"""The ML backend: protocol answers against a tiny model, the retrain swap, and a real
Label Studio talking to a real backend process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import annotated_task
from starlette.testclient import TestClient

from corpus_tools.label_config import sentence_tagging_config
from corpus_tools.model.loading import model_version_of
from corpus_tools.schema import MEASURE_TYPES, SPAN_LABELS
from corpus_tools.studio.ml_backend import (
    BackendState,
    create_app,
    load_served_model,
)
from corpus_tools.studio.ports import free_port
from corpus_tools.studio.retraining import RetrainOutcome

TEXTS = (
    "各县（区）人民政府要年底前全面排查整治重大事故隐患。",
    "市应急局要每季度开展联合执法检查。",
    "安全生产形势总体平稳。",
)


@pytest.fixture(scope="module")
def served(tiny_model):
    return load_served_model(tiny_model)


def _client(served, retrain=None, retrain_after=20) -> tuple[TestClient, BackendState]:
    state = BackendState(served=served, retrain=retrain, retrain_after=retrain_after)
    return TestClient(create_app(state)), state


def test_health_says_up_with_the_model_version(served):
    client, _ = _client(served)
    body = client.get("/health").json()
    assert body["status"] == "UP"
    assert body["model_class"]
    assert body["model_version"] == served.model_version
    assert served.model_version.startswith("zh_worksafety_prelabel-0.1.0+")


def test_model_version_follows_the_files_not_the_training_speed(tiny_model, tmp_path):
    """A model retrained on the same data keeps its version (quickstart then keeps
    its backend); any other change to the model's files gives a new one."""
    again = shutil.copytree(tiny_model, tmp_path / "again")
    meta = json.loads((again / "meta.json").read_text())
    meta["corpus_tools"]["validation_scores"]["speed"] = 1.0  # another run's speed
    (again / "meta.json").write_text(json.dumps(meta))
    assert model_version_of(again) == model_version_of(tiny_model)
    weights = again / "char_ngram_cats" / "weights.npz"
    weights.write_bytes(weights.read_bytes() + b"\0")
    assert model_version_of(again) != model_version_of(tiny_model)


def test_setup_accepts_the_generated_config(served):
    client, _ = _client(served)
    response = client.post(
        "/setup", json={"project": "1.1700000000", "schema": sentence_tagging_config()}
    )
    assert response.status_code == 200
    assert response.json() == {"model_version": served.model_version}


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ('<View><Text name="text" value="$text"/></View>', 'no <Choices name="measure_type">'),
        (sentence_tagging_config().replace('alias="DEADLINE"', 'alias="DUE"'), "DEADLINE"),
        (sentence_tagging_config().replace('toName="text"', 'toName="other"'), "points to 'other'"),
        ("<View", "not XML"),
    ],
)
def test_setup_refuses_a_config_it_cannot_serve(served, config, named):
    client, _ = _client(served)
    response = client.post("/setup", json={"project": "1.1", "schema": config})
    assert response.status_code == 400
    assert named in response.json()["error"]


def test_predict_returns_choice_and_spans_in_code_points(served):
    client, _ = _client(served)
    tasks = [{"id": i, "data": {"text": t, "unit_id": f"u{i}"}} for i, t in enumerate(TEXTS)]
    response = client.post("/predict", json={"tasks": tasks, "project": "1.1"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == len(TEXTS)
    spans_seen = 0
    for text, prediction in zip(TEXTS, results, strict=True):
        assert prediction["model_version"] == served.model_version
        assert 0.0 < prediction["score"] <= 1.0
        choices = [r for r in prediction["result"] if r["type"] == "choices"]
        assert len(choices) == 1 and choices[0]["from_name"] == "measure_type"
        assert choices[0]["value"]["choices"][0] in MEASURE_TYPES
        for item in prediction["result"]:
            if item["type"] == "labels":
                value = item["value"]
                # code-point offsets: Chinese text slices back to the span's text
                assert text[value["start"] : value["end"]] == value["text"]
                assert value["labels"][0] in SPAN_LABELS
                spans_seen += 1
    assert spans_seen >= 2  # the body and the deadline / frequency of the first two texts


def test_predict_gives_a_task_without_text_an_empty_prediction_and_goes_on(served):
    client, _ = _client(served)
    tasks = [{"id": 1, "data": {}}, {"id": 2, "data": {"text": TEXTS[0]}}]
    results = client.post("/predict", json={"tasks": tasks}).json()["results"]
    assert results[0]["result"] == []
    assert results[1]["result"]


def test_a_text_longer_than_the_model_reads_gets_an_empty_prediction_not_a_500(tiny_model, caplog):
    served = load_served_model(tiny_model)
    served.nlp.max_length = 40  # stands in for spaCy's million characters
    client, _ = _client(served)
    tasks = [{"id": 1, "data": {"text": "要" * 41}}, {"id": 2, "data": {"text": TEXTS[0]}}]
    with caplog.at_level("WARNING"):
        response = client.post("/predict", json={"tasks": tasks})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["result"] == [] and results[1]["result"]
    assert "task 1: its data.text has 41 characters, more than the model reads (40)" in (
        caplog.text
    )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "not a JSON object"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"annotation": {}}', "no 'action'"),
        (b'{"action": "ANNOTATION_CREATED", "project": {"title": "p"}}', "no 'annotation'"),
        (b'{"action": "ANNOTATION_CREATED", "annotation": {"id": 1}}', "no 'project'"),
    ],
)
def test_malformed_webhook_is_a_400_with_a_reason_and_counts_nothing(served, payload, reason):
    client, state = _client(served)
    response = client.post("/webhook", content=payload)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert state.new_annotations == 0
    # the next good payload is counted
    good = {
        "action": "ANNOTATION_CREATED",
        "annotation": {"id": 1},
        "project": {"id": 1, "title": "p"},
    }
    assert client.post("/webhook", json=good).json()["new_annotations"] == 1


def test_other_webhook_actions_are_ignored(served):
    client, state = _client(served)
    response = client.post("/webhook", json={"action": "PROJECT_UPDATED", "project": {"id": 1}})
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert state.new_annotations == 0


def _annotation(n: int) -> dict:
    return {
        "action": "ANNOTATION_CREATED",
        "annotation": {"id": n},
        "project": {"id": 1, "title": "p"},
    }


def test_a_retrain_that_raises_leaves_the_served_model_and_predictions_unchanged(served):
    entered, release = threading.Event(), threading.Event()

    def failing_retrain(project: str, current: Path) -> RetrainOutcome:
        entered.set()
        release.wait(10)
        raise RuntimeError("disk full")

    client, state = _client(served, retrain=failing_retrain, retrain_after=2)
    before = client.post("/predict", json={"tasks": [{"id": 1, "data": {"text": TEXTS[0]}}]}).json()
    assert client.post("/webhook", json=_annotation(1)).json()["retrain_started"] is False
    assert client.post("/webhook", json=_annotation(2)).json()["retrain_started"] is True
    assert entered.wait(10)
    # during the retrain /predict and /health keep answering
    during = client.post("/predict", json={"tasks": [{"id": 1, "data": {"text": TEXTS[0]}}]}).json()
    assert during == before
    assert client.get("/health").json()["retraining"] is True
    release.set()
    state.wait_for_retrain(10)
    health = client.get("/health").json()
    assert health["model_version"] == served.model_version
    assert health["retraining"] is False
    assert "retrain failed" in health["last_retrain"] and "disk full" in health["last_retrain"]
    assert state.served is served


def _copy_with_new_meta(model_dir: Path, out: Path) -> Path:
    shutil.copytree(model_dir, out)
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    meta["version"] = "0.1.0+r1"
    (out / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return out


def test_an_accepted_retrain_swaps_in_a_new_model_version(served, tiny_model, tmp_path):
    candidate = _copy_with_new_meta(tiny_model, tmp_path / "retrained")

    def retrain(project: str, current: Path) -> RetrainOutcome:
        assert current == served.model_dir and project == "p"
        return RetrainOutcome(candidate, True, 0.8, 0.7, 20, 1.0)

    client, state = _client(served, retrain=retrain, retrain_after=1)
    client.post("/webhook", json=_annotation(1))
    state.wait_for_retrain(60)
    new_version = client.get("/health").json()["model_version"]
    assert new_version != served.model_version and "0.1.0+r1" in new_version
    result = client.post("/predict", json={"tasks": [{"id": 1, "data": {"text": TEXTS[0]}}]}).json()
    assert result["results"][0]["model_version"] == new_version


def test_a_worse_retrain_is_not_swapped_in(served, tiny_model, tmp_path):
    candidate = _copy_with_new_meta(tiny_model, tmp_path / "retrained")
    client, state = _client(
        served,
        retrain=lambda project, current: RetrainOutcome(candidate, False, 0.5, 0.7, 20, 1.0),
    )
    client.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 1, "title": "p"}})
    state.wait_for_retrain(60)
    health = client.get("/health").json()
    assert health["model_version"] == served.model_version
    assert "kept" in health["last_retrain"]


def test_retrain_model_trains_on_seed_plus_annotations_and_scores_held_out(
    tiny_export, tiny_model, tmp_path, monkeypatch
):
    """The real retrain job on a tiny seed export; the project's tasks come from a
    Label Studio JSON built from the seed's train rows (the pull is the only fake)."""
    from corpus_tools.model import export_split, load_export
    from corpus_tools.studio import retraining

    train = export_split(load_export(tiny_export), "train", source="tiny")
    tasks = [
        annotated_task(
            i + 1,
            unit_id=f"new-{i}",
            doc_id=f"new-doc{i // 10}",
            unit_index=i % 10,
            text=row["text"],
            measure_type=MEASURE_TYPES[row["measure_type"]],
            spans=[(s["start"], s["end"], SPAN_LABELS[s["label"]]) for s in row["spans"]],
        )
        for i, row in enumerate(train.select(range(30)))
    ]
    monkeypatch.setattr(
        "corpus_tools.export.reading.pull_project_tasks",
        lambda project, url=None, api_key=None: tasks,
    )
    outcome = retraining.retrain_model(
        project="p",
        current_model=tiny_model,
        seed_export=tiny_export,
        work_dir=tmp_path,
        max_steps=30,
    )
    assert outcome.n_new_units == 30
    assert (outcome.model_dir / "meta.json").is_file()
    assert 0.0 <= outcome.new_score <= 1.0 and 0.0 <= outcome.old_score <= 1.0
    assert outcome.accepted == (outcome.new_score >= outcome.old_score)
    assert (
        load_served_model(outcome.model_dir).model_version
        != load_served_model(tiny_model).model_version
    )


# ---------------------------------------------------------------- real servers


@pytest.fixture
def backend_process(tiny_model, tiny_export, studio_server, tmp_path):
    """`corpus-tools serve-model` as a real process, retraining after every annotation
    on the tiny seed export, pulling from the test Label Studio (key in the environment)."""
    import os

    port = free_port("127.0.0.1")
    log = (tmp_path / "backend.log").open("wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "corpus-tools"),
            "serve-model",
            "--model",
            str(tiny_model),
            "--port",
            str(port),
            "--work-dir",
            str(tmp_path / "work"),
            "--seed-export",
            str(tiny_export),
            "--retrain-after",
            "1",
            "--retrain-steps",
            "20",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={
            **os.environ,
            "LABEL_STUDIO_URL": studio_server.url,
            "LABEL_STUDIO_API_KEY": studio_server.api_key,
        },
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None, (tmp_path / "backend.log").read_text()
        time.sleep(0.3)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(20)
        log.close()


@pytest.mark.integration
def test_label_studio_connects_the_backend_and_shows_its_predictions(
    studio_server, backend_process, tmp_path
):
    from label_studio_sdk import LabelStudio
    from typer.testing import CliRunner

    from corpus_tools.cli import app
    from corpus_tools.studio import push_units

    project = "ml-backend-test"
    units = [
        {
            "unit_id": f"mlb-{i}",
            "doc_id": "mlb-doc",
            "unit_index": i,
            "kind": "body",
            "text": text,
            "section_path": [],
            "item_responsible_bodies": [],
            "item_parenthetical": None,
            "title": "关于做好安全生产工作的通知",
            "issuer": "",
            "doc_number": "",
            "date": "2025-03-06",
            "source_file": "x.txt",
        }
        for i, text in enumerate(TEXTS)
    ]
    push_units(
        units,
        project=project,
        url=studio_server.url,
        api_key=studio_server.api_key,
        record_dir=tmp_path,
    )
    args = [
        "studio",
        "connect-model",
        "--project",
        project,
        "--backend-url",
        backend_process,
        "--url",
        studio_server.url,
        "--api-key",
        studio_server.api_key,
    ]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "connected to project" in first.output and "already" not in first.output
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and "already connected" in again.output

    client = LabelStudio(base_url=studio_server.url, api_key=studio_server.api_key)
    found = [p for p in client.projects.list(title=project) if p.title == project][0]
    backends = list(client.ml.list(project=found.id))
    assert len(backends) == 1  # idempotent
    assert backends[0].state == "CO" and backends[0].is_interactive
    version = httpx.get(backend_process + "/health").json()["model_version"]
    assert backends[0].model_version == version

    # opening a task (the task API an annotator's browser calls) fetches its prediction
    task = next(iter(client.tasks.list(project=found.id)))
    client.tasks.get(id=task.id)
    predictions = list(client.predictions.list(task=task.id))
    assert predictions and predictions[0].model_version == version
    kinds = {item["type"] for item in predictions[0].result}
    assert "choices" in kinds
    text = task.data["text"]
    for item in predictions[0].result:
        if item["type"] == "labels":
            assert text[item["value"]["start"] : item["value"]["end"]] == item["value"]["text"]

    # an annotator accepts the suggestion: Label Studio's webhook reaches the backend,
    # which pulls the project, retrains on seed + annotation and scores on held-out notices
    client.annotations.create(id=task.id, result=predictions[0].result, lead_time=3.0)
    # the retrain runs in a child process: /health answers within Label Studio's
    # ~1 s the whole time (timeout=1 raises otherwise)
    deadline = time.monotonic() + 300
    health = httpx.get(backend_process + "/health", timeout=1).json()
    while time.monotonic() < deadline and (health["retraining"] or not health["last_retrain"]):
        time.sleep(0.1)
        health = httpx.get(backend_process + "/health", timeout=1).json()
    assert health["last_retrain"].startswith(("now ", "kept ")), health["last_retrain"]
    if health["last_retrain"].startswith("now "):
        assert health["model_version"] != version
        # a task added after the swap (listing tasks fetched predictions for the old ones)
        push_units(
            [dict(units[0], unit_id="mlb-new", unit_index=9)],
            project=project,
            url=studio_server.url,
            api_key=studio_server.api_key,
            record_dir=tmp_path,
        )
        new_task = [
            t for t in client.tasks.list(project=found.id) if t.data["unit_id"] == "mlb-new"
        ][0]
        client.tasks.get(id=new_task.id)
        latest = list(client.predictions.list(task=new_task.id))
        assert latest[0].model_version == health["model_version"]
    else:
        assert health["model_version"] == version


def test_connect_model_says_one_line_when_the_backend_is_down():
    from typer.testing import CliRunner

    from corpus_tools.cli import app

    port = free_port("127.0.0.1")
    result = CliRunner().invoke(
        app,
        ["studio", "connect-model", "--project", "p", "--backend-url", f"http://127.0.0.1:{port}"],
    )
    assert result.exit_code == 1
    assert "ML backend is not reachable" in result.output and "serve-model" in result.output
    assert "Traceback" not in result.output


def _exit_at_once() -> None:
    import os

    os._exit(3)  # a retrain killed half-way (OOM killer, kill -9)


def test_a_retrain_runs_in_a_child_process_and_a_killed_one_is_an_error_here():
    import os
    from concurrent.futures.process import BrokenProcessPool

    from corpus_tools.studio.ml_backend import in_child_process

    assert in_child_process(os.getpid) != os.getpid()
    with pytest.raises(BrokenProcessPool):
        in_child_process(_exit_at_once)


def test_a_killed_retrain_leaves_the_served_model_serving(served):
    from corpus_tools.studio.ml_backend import in_child_process

    client, state = _client(
        served, retrain=lambda project, current: in_child_process(_exit_at_once)
    )
    before = client.get("/health").json()["model_version"]
    assert state.start_retrain("p")
    state.wait_for_retrain(60)
    health = client.get("/health").json()
    assert health["model_version"] == before and health["retraining"] is False
    assert health["last_retrain"].startswith("retrain failed, kept ")
    task = {"id": 1, "data": {"text": "各单位要加强检查。"}}
    assert client.post("/predict", json={"tasks": [task]}).status_code == 200


def test_health_counts_the_annotations_toward_the_next_retrain(served):
    # what `studio status` shows an annotator lead: their work counts
    client, _ = _client(served, retrain=lambda project, current: None, retrain_after=5)
    for n in (1, 2):
        client.post("/webhook", json=_annotation(n))
    health = client.get("/health").json()
    assert (health["new_annotations"], health["retrain_after"]) == (2, 5)
    # a backend that does not retrain says no threshold
    plain, _ = _client(served)
    assert plain.get("/health").json()["retrain_after"] is None


def test_status_line_says_how_far_the_next_retrain_is():
    from corpus_tools.studio.backend_process import BackendStatus

    status = BackendStatus(
        running=True,
        url="http://127.0.0.1:9090",
        pid=7,
        log_path=Path("b.log"),
        model_version="m+1",
        new_annotations=3,
        retrain_after=20,
    )
    assert status.summary == (
        "ML backend is running: http://127.0.0.1:9090 (pid 7, model m+1, "
        "3 annotations since the last retrain, retrains at 20)"
    )
