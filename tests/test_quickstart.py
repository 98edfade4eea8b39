"""The whole loop end to end against the fixture's real Label Studio."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from corpus_tools import studio
from corpus_tools.model.loading import model_version_of
from corpus_tools.quickstart import Step, run_quickstart
from corpus_tools.studio.backend_process import backend_status, stop_backend
from corpus_tools.studio.client import checked_client, raw_json
from corpus_tools.studio.projects import find_project
from tests.conftest import NEW_NOTICES, PROJECT_ROOT, SAMPLE_NOTICES, annotate_in_studio

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Three notices: one for each split of the export.
DOCS = ("000_274cda8d185c1074", "001_adfa3942083f85c1", "002_bf9bfaf859591b6d")


@pytest.fixture
def small_corpus(tmp_path: Path) -> tuple[Path, Path, tuple[Path, ...]]:
    """Two sample notices, their seed annotations and one new notice: a short run."""
    notices = tmp_path / "notices"
    notices.mkdir()
    for doc in DOCS:
        shutil.copy(SAMPLE_NOTICES / f"{doc}.txt", notices)
    new = tmp_path / "new"
    new.mkdir()
    shutil.copy(NEW_NOTICES / "04_nea_guoneng_zongtong_anquan_2021_108_dianli_huozai_html.txt", new)
    (new / "empty.txt").write_text("")  # an unreadable input is said, and the rest goes on
    annotations = []
    for name in ("seed.jsonl",):
        rows = [
            line
            for line in (PROJECT_ROOT / "data" / "annotations" / name)
            .read_text(encoding="utf-8")
            .splitlines()
            if json.loads(line)["doc_id"] in DOCS
        ]
        # a judgement whose unit the segmenter no longer makes (now a heading, say)
        ghost = {**json.loads(rows[0]), "unit_id": "ghost:0001:00000000"}
        rows.append(json.dumps(ghost, ensure_ascii=False))
        path = tmp_path / name
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        annotations.append(path)
    return notices, new, tuple(annotations)


def test_quickstart_runs_the_loop_and_reruns_without_duplicates(
    studio_server, small_corpus, tmp_path
):
    notices, new, annotations = small_corpus
    steps = []
    options = dict(
        work_dir=tmp_path / "work",
        notices=notices,
        new_notices=new,
        annotations=annotations,
        project="quickstart test",
        url=studio_server.url,
        api_key=studio_server.api_key,
        max_steps=30,
        home=tmp_path / "studio-home",  # the ML backend's pid and log
    )
    try:
        _run_twice(studio_server, options, steps, tmp_path)
    finally:
        stop_backend(home=options["home"])


def _run_twice(studio_server, options, steps, tmp_path):
    report = run_quickstart(**options, on_step=steps.append)
    assert [done.step for done in steps] == list(Step)
    studio_step = next(done for done in steps if done.step is Step.STUDIO).summary
    assert studio_step == f"using {studio_server.url}"  # the server passed in, named once
    # The seed annotations travel with the imported tasks; nothing is left to load one by one.
    first_push = next(done for done in steps if done.step is Step.PUSH).summary
    assert re.search(r"\(([1-9]\d*) with annotations\)", first_push), first_push
    loaded = next(done for done in steps if done.step is Step.ANNOTATIONS).summary
    assert " 0 new" in loaded
    # said, not dropped silently
    assert "1 judged units not among the pushed units, not loaded (first: ghost:0001" in loaded
    assert report.export_dir.joinpath("dataset").is_dir()
    assert (report.model_dir / "meta.json").is_file()
    prelabels = [
        json.loads(line) for line in report.prelabel_path.read_text(encoding="utf-8").splitlines()
    ]
    assert prelabels and all(row["measure_type"] and row["model_version"] for row in prelabels)
    assert 0.0 <= report.macro_f1 <= 1.0
    # the report of the pre-labelled notices, beside them, with its tables
    assert report.report_path == tmp_path / "work" / "report" / "index.html"
    page = report.report_path.read_text(encoding="utf-8")
    assert "<svg" in page and f'data-count="units">{len(prelabels)}<' in page
    assert (report.report_path.parent / "measure_mix_by_notice.parquet").is_file()
    assert str(report.report_path) in next(d for d in steps if d.step is Step.REPORT).summary
    first_prelabel = next(d for d in steps if d.step is Step.PRELABEL).summary
    assert f"{len(prelabels)} units pre-labelled; {len(prelabels)} predictions added" in (
        first_prelabel
    )
    assert "1 inputs skipped (first: " in first_prelabel and "empty.txt: file is empty" in (
        first_prelabel
    )

    # the ML backend runs in the background, connected: a task opened gets its suggestion
    backend = report.backend
    assert backend is not None
    assert next(d for d in steps if d.step is Step.BACKEND).summary == (
        f"started at {backend.url} ({backend.model_version}); connected to the project; "
        "tasks are served least certain first"
    )
    status = backend_status(home=options["home"])
    assert status.running and status.pid == backend.pid
    assert status.model_version == backend.model_version == model_version_of(report.model_dir)
    client = checked_client(
        studio.StudioConnection(url=studio_server.url, api_key=studio_server.api_key)
    )
    project_id = find_project(client, studio_server.url, "quickstart test").id
    assert report.project_url == f"{studio_server.url.rstrip('/')}/projects/{project_id}/"
    linked = list(client.ml.list(project=project_id))
    assert [(b.url, b.state) for b in linked] == [(backend.url, "CO")]
    # every unlabelled task holds the served model's prediction (prelabel --push names the
    # model as the backend does): the project samples by it, least certain first
    full = client.projects.get(id=project_id)
    assert (full.model_version, full.sampling) == (backend.model_version, "Uncertainty sampling")
    served = [
        p
        for p in client.predictions.list(project=project_id)
        if p.model_version == backend.model_version
    ]
    assert {item["from_name"] for item in served[0].result} >= {"measure_type"}
    # what the labeling page's "Label All Tasks" asks for: the lowest score first
    following = raw_json(
        client, studio_server.url, f"api/projects/{project_id}/next", params={}, doing="next"
    )
    lowest = min(served, key=lambda p: p.score)
    assert following["id"] == lowest.task, (following["id"], lowest.task)

    pulled = studio.pull(
        project="quickstart test",
        output=tmp_path / "pulled.json",
        url=studio_server.url,
        api_key=studio_server.api_key,
    )
    first_count = pulled.tasks
    assert pulled.annotations == first_count > 100

    # an annotator judges a unit of the evaluation notice pre-labelled into the project
    annotated = lowest.task
    annotate_in_studio(client, annotated, "risk_hazard")

    rerun = run_quickstart(**options)
    push = next(done for done in rerun.steps if done.step is Step.PUSH)
    assert push.summary.startswith("0 new tasks")
    loaded = next(done for done in rerun.steps if done.step is Step.ANNOTATIONS)
    assert " 0 new" in loaded.summary
    # the evaluation notices pre-labelled into the project never reach the export
    exported = next(done for done in rerun.steps if done.step is Step.EXPORT).summary
    assert "1 tasks of the evaluation notices" in exported, exported
    # the same model version's predictions are there: the re-run says it added none
    prelabelled = next(done for done in rerun.steps if done.step is Step.PRELABEL).summary
    assert re.search(
        r"^(\d+) units pre-labelled; 0 predictions added \(\1 already there\); 1 inputs skipped",
        prelabelled,
    ), prelabelled
    # the re-run exported the same rows: the model trained from them is kept, so its
    # version is the same, and the backend serving it is kept, not restarted
    trained = next(done for done in rerun.steps if done.step is Step.TRAIN)
    assert trained.summary.endswith("kept: trained from the same export, settings and code")
    assert model_version_of(rerun.model_dir) == backend.model_version
    assert rerun.backend.already_running and rerun.backend.pid == backend.pid
    assert next(d for d in rerun.steps if d.step is Step.BACKEND).summary == (
        f"already running at {backend.url} ({backend.model_version}); already connected; "
        "tasks are served least certain first"
    )
    assert [(b.url, b.state) for b in client.ml.list(project=project_id)] == [(backend.url, "CO")]
    again = studio.pull(
        project="quickstart test",
        output=tmp_path / "pulled2.json",
        url=studio_server.url,
        api_key=studio_server.api_key,
    )
    # no annotation doubled: the first pull's and the one added on the evaluation notice
    assert again.tasks == again.annotations == first_count + 1


def test_quickstart_cli_reports_an_unreachable_server_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from corpus_tools.cli import app

    result = CliRunner().invoke(
        app,
        [
            "quickstart",
            "-o",
            str(tmp_path),
            "--url",
            "http://127.0.0.1:9",
            "--api-key",
            "secret-token-123",
        ],
        env={"COLUMNS": "1000"},
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "secret-token-123" not in result.output
    assert "… start Label Studio" in result.output
    assert sum(line.startswith("error:") for line in result.output.splitlines()) == 1
