"""`prelabel --push` against the real Label Studio of the `studio_server` fixture."""

from __future__ import annotations

import uuid

import pytest
from conftest import SAMPLE_NOTICES
from typer.testing import CliRunner

from corpus_tools import studio
from corpus_tools.cli import app
from corpus_tools.prelabel import prelabel_files, read_prelabels
from corpus_tools.segment import iter_units, write_units
from corpus_tools.studio.client import checked_client
from corpus_tools.studio.projects import find_project, task_index

NOTICE = SAMPLE_NOTICES / "001_adfa3942083f85c1.txt"


def _client(server):
    return checked_client(studio.StudioConnection(url=server.url, api_key=server.api_key))


def _predictions_by_unit(server, title: str) -> dict[str, list]:
    client = _client(server)
    project = find_project(client, server.url, title)
    task_to_unit = {
        task_id: unit_id
        for unit_id, (task_id, _text) in task_index(client, server.url, project.id).items()
    }
    found: dict[str, list] = {uid: [] for uid in task_to_unit.values()}
    for prediction in client.predictions.list(project=project.id):
        found[task_to_unit[prediction.task]].append(prediction)
    return found


def _measure_choice(prediction) -> str:
    (choice,) = [r for r in prediction.result if r["from_name"] == "measure_type"]
    return choice["value"]["choices"][0]


@pytest.mark.integration
@pytest.mark.slow
def test_prelabel_push_attaches_predictions_to_existing_tasks_once(
    studio_server, tiny_model, tmp_path
):
    title = f"prelabel-{uuid.uuid4().hex[:8]}"
    units_file = tmp_path / "units.jsonl"
    write_units((u for u in iter_units([NOTICE]) if not isinstance(u, Exception)), units_file)
    pushed = studio.push_units(
        units_file, project=title, url=studio_server.url, api_key=studio_server.api_key
    )
    assert pushed.tasks_created > 50

    out = tmp_path / "pre.jsonl"
    report = prelabel_files(
        [units_file],
        out,
        model_dir=tiny_model,
        push_project=title,
        url=studio_server.url,
        api_key=studio_server.api_key,
    )
    assert report.push.tasks_created == 0  # the units were there: predictions added, no new task
    assert report.push.predictions_created == report.units_labelled == pushed.tasks_created

    records = {r["unit_id"]: r for r in read_prelabels(out) if r["kind"] == "body"}
    by_unit = _predictions_by_unit(studio_server, title)
    assert set(by_unit) == set(records)
    for unit_id, predictions in by_unit.items():
        assert len(predictions) == 1, unit_id  # on the right task, once
        (prediction,) = predictions
        record = records[unit_id]
        assert prediction.model_version == record["model_version"] == report.model_version
        assert _measure_choice(prediction) == record["measure_type"]
        assert prediction.score == pytest.approx(record["measure_type_score"])
        spans = sorted(
            (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
            for r in prediction.result
            if r["from_name"] == "spans"
        )
        assert spans == sorted((s["start"], s["end"], s["label"]) for s in record["spans"])

    # Again (through the CLI): nothing new, no duplicates.
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        app,
        [
            "prelabel", str(units_file), "-o", str(tmp_path / "again.parquet"),
            "--model", str(tiny_model), "--push", "--project", title,
            "--url", studio_server.url, "--api-key", studio_server.api_key,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "0 new tasks, 0 predictions added" in result.output
    assert studio_server.api_key not in result.output
    assert all(len(p) == 1 for p in _predictions_by_unit(studio_server, title).values())


@pytest.mark.integration
@pytest.mark.slow
def test_prelabel_push_to_a_new_project_orders_least_certain_first(
    studio_server, tiny_model, tmp_path
):
    title = f"prelabel-new-{uuid.uuid4().hex[:8]}"
    report = prelabel_files(
        [NOTICE],
        tmp_path / "pre.jsonl",
        model_dir=tiny_model,
        push_project=title,
        url=studio_server.url,
        api_key=studio_server.api_key,
    )
    assert report.push.tasks_created == report.units_labelled
    by_unit = _predictions_by_unit(studio_server, title)
    assert all(len(p) == 1 for p in by_unit.values())
    by_task = sorted((p[0].task, p[0].score) for p in by_unit.values())
    scores = [score for _task, score in by_task]
    assert scores == sorted(scores)
