"""Label Studio: label config, push, annotate, pull, idempotency, predictions.

Integration tests run against the real server of the `studio_server` fixture.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import annotate_in_studio

from corpus_tools import studio
from corpus_tools.errors import InputFileError, ProjectLookupError, StudioAuthError
from corpus_tools.label_config import SENTENCE_TAGGING_PATH, sentence_tagging_config
from corpus_tools.schema import MEASURE_TYPES, SPAN_LABELS, Unit
from corpus_tools.studio.client import checked_client
from corpus_tools.studio.connection import write_config
from corpus_tools.studio.projects import find_project, task_index
from corpus_tools.studio.tasks import (
    measure_result,
    prelabel_prediction,
    span_results,
    unit_records,
    with_context,
)


def make_unit(doc_id: str, index: int, text: str, kind: str = "body", **extra) -> Unit:
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return Unit(
        unit_id=f"{doc_id}:{index:04d}:{digest}",
        doc_id=doc_id,
        unit_index=index,
        kind=kind,
        text=text,
        title="大同市人民政府关于做好2025年安全生产工作的通知",
        issuer="大同市人民政府",
        date="2025-03-06",
        **extra,
    )


SENTENCES = (
    "各县（区）人民政府要在2025年6月底前完成重大事故隐患排查整治；",
    "市应急局每季度至少开展1次“四不两直”暗查暗访，对发现的问题“挂牌督办”。",
    "企业要加大安全投入，年底前完成自动化改造！",
    "2025年，全市上下要坚持人民至上、生命至上。",
)


def notice_units(doc_id: str = "d1", sentences: tuple[str, ...] = SENTENCES) -> list[Unit]:
    """A tiny notice: a meta line, a heading, then body sentences."""
    section = ("一、压实安全生产责任", "（一）强化党政领导责任")
    units = [
        make_unit(doc_id, 0, "大同市人民政府文件", kind="meta"),
        make_unit(doc_id, 1, "（一）强化党政领导责任。", kind="heading", section_path=section),
    ]
    for i, text in enumerate(sentences, start=2):
        units.append(
            make_unit(
                doc_id,
                i,
                text,
                section_path=section,
                item_parenthetical="（责任单位：市应急局、市消防救援局）",
                item_responsible_bodies=("市应急局", "市消防救援局"),
            )
        )
    return units


def synthetic_units(count: int, doc_prefix: str = "syn") -> list[Unit]:
    return [
        make_unit(
            f"{doc_prefix}{i // 50}",
            i % 50,
            f"第{i}条：各级各部门要在年底前完成隐患排查（编号{i}）。",
        )
        for i in range(count)
    ]


def unique_title(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def sdk(server):
    return checked_client(studio.StudioConnection(url=server.url, api_key=server.api_key))


def project_tasks(server, title: str) -> list[dict]:
    client = sdk(server)
    project = find_project(client, server.url, title)
    index = task_index(client, server.url, project.id)
    return [{"unit_id": uid, "id": ids[0], "text": ids[1]} for uid, ids in index.items()]


def span(text: str, fragment: str, label: str) -> dict:
    start = text.index(fragment)
    return {"start": start, "end": start + len(fragment), "label": label, "text": fragment}


# --- label config ----------------------------------------------------------


def test_committed_label_config_equals_the_generated_one():
    assert SENTENCE_TAGGING_PATH.read_text(encoding="utf-8") == sentence_tagging_config(), (
        "label_configs/sentence_tagging.xml is stale: run `corpus-tools studio config`"
    )


def test_label_config_shows_chinese_names_and_stores_schema_ids():
    config = sentence_tagging_config()
    for measure in MEASURE_TYPES:
        assert f'alias="{measure}"' in config
    for label in SPAN_LABELS:
        assert f'alias="{label}"' in config
    assert 'value="风险管控与隐患排查治理"' in config
    for key in ("$text", "$title", "$section", "$item_parenthetical", "$prev_text", "$next_text"):
        assert f'value="{key}"' in config


def test_each_choice_hints_what_the_annotator_guide_says_it_takes_in(project_root: Path):
    import re
    import xml.etree.ElementTree as ET

    from corpus_tools.schema import MEASURE_TYPE_HINTS_ZH

    guide = (project_root / "docs" / "annotator-guide.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| [0-9] \| [^|]+ \| `(\w+)` \| (.+) \|$", guide, flags=re.MULTILINE)
    assert dict(rows) == {m.value: hint for m, hint in MEASURE_TYPE_HINTS_ZH.items()}
    choices = ET.fromstring(sentence_tagging_config()).iter("Choice")
    assert {c.get("alias"): c.get("hint") for c in choices} == dict(rows)


def test_the_span_header_says_to_choose_the_label_before_selecting():
    # Label Studio 1.23 makes no span of text selected before the label is chosen
    assert "先点标签或按 r / d / f，再选中文字" in sentence_tagging_config()


def test_task_data_has_the_unit_and_display_strings():
    unit = notice_units()[2]
    data = studio.task_data(unit, prev_text="上一句。", next_text="")
    assert data["unit_id"] == unit.unit_id
    assert data["section"] == "一、压实安全生产责任 › （一）强化党政领导责任"
    assert (data["prev_text"], data["next_text"]) == ("上一句。", "")
    assert data["item_parenthetical"] == "（责任单位：市应急局、市消防救援局）"


def test_bad_prediction_span_is_refused_before_any_request(tmp_path: Path):
    row = notice_units()[2].to_dict() | {
        "measure_type": "risk_hazard",
        "spans": [{"start": 0, "end": 3, "label": "RESPONSIBLE_BODY", "text": "不对的"}],
    }
    with pytest.raises(InputFileError, match="does not match the unit text"):
        prelabel_prediction(studio.task_data(Unit.from_dict(row)), row, "<units>")


def test_resolution_prefers_options_then_environment_then_config(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    write_config(tmp_path, {"url": "http://127.0.0.1:9", "api_key": "embedded-key"})
    assert studio.resolve_connection(home=tmp_path).api_key == "embedded-key"
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://example.invalid:8080")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "env-key")
    assert studio.resolve_connection(home=tmp_path).api_key == "env-key"
    connection = studio.resolve_connection(url="http://other:1", api_key="opt-key", home=tmp_path)
    assert (connection.url, connection.api_key) == ("http://other:1", "opt-key")
    assert "opt-key" not in repr(connection)
    # The embedded token is never sent to another URL.
    monkeypatch.delenv("LABEL_STUDIO_API_KEY")
    with pytest.raises(StudioAuthError, match="no API key"):
        studio.resolve_connection(home=tmp_path)
    assert oct((tmp_path / "config.json").stat().st_mode & 0o777) == "0o600"


# --- against the real server -------------------------------------------------


@pytest.mark.integration
def test_project_gets_the_generated_config_and_the_guide(studio_server):
    title = unique_title("config")
    studio.push_units(
        notice_units(), project=title, url=studio_server.url, api_key=studio_server.api_key
    )
    client = sdk(studio_server)
    project = client.projects.get(id=find_project(client, studio_server.url, title).id)
    parsed = project.parsed_label_config
    assert parsed["measure_type"]["labels"] == list(MEASURE_TYPES)
    assert parsed["spans"]["labels"] == list(SPAN_LABELS)
    assert project.show_instruction and "疑难案例" in project.expert_instruction


@pytest.mark.integration
def test_push_annotate_pull_keeps_spans_annotator_lead_time_and_skips(
    studio_server, tmp_path: Path
):
    title = unique_title("roundtrip")
    units = notice_units()
    report = studio.push_units(
        units, project=title, url=studio_server.url, api_key=studio_server.api_key
    )
    assert (report.project_created, report.units_read, report.body_units, report.tasks_created) == (
        True,
        6,
        4,
        4,
    )

    client = sdk(studio_server)
    tasks = {t["unit_id"]: t["id"] for t in project_tasks(studio_server, title)}
    assert set(tasks) == {u.unit_id for u in units if u.kind == "body"}
    first = client.tasks.get(id=tasks[units[2].unit_id])
    assert first.data["section"] == "一、压实安全生产责任 › （一）强化党政领导责任"
    assert first.data["prev_text"] == "（一）强化党政领导责任。"  # the heading before it
    assert first.data["next_text"] == SENTENCES[1]
    last = client.tasks.get(id=tasks[units[-1].unit_id])
    assert last.data["next_text"] == ""

    # An annotator labels two sentences and skips one, as the UI would send it.
    plans = {
        units[2].unit_id: (
            "risk_hazard",
            [
                span(SENTENCES[0], "各县（区）人民政府", "RESPONSIBLE_BODY"),
                span(SENTENCES[0], "2025年6月底前", "DEADLINE"),
            ],
        ),
        units[3].unit_id: (
            "enforcement",
            [
                span(SENTENCES[1], "市应急局", "RESPONSIBLE_BODY"),
                span(SENTENCES[1], "每季度", "FREQUENCY"),
            ],
        ),
    }
    for unit_id, (measure, spans) in plans.items():
        result = [measure_result(measure, unit_id, "test")]
        result += span_results(
            next(u.text for u in units if u.unit_id == unit_id),
            spans,
            unit_id,
            "test",
            scored=False,
        )
        client.annotations.create(id=tasks[unit_id], result=result, lead_time=12.5)
    client.annotations.create(
        id=tasks[units[4].unit_id], result=[], was_cancelled=True, lead_time=3.0
    )

    out = tmp_path / "pulled.json"
    pulled = studio.pull(
        project=title, output=out, url=studio_server.url, api_key=studio_server.api_key
    )
    assert (pulled.tasks, pulled.annotations, pulled.cancelled) == (3, 3, 1)
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert {t["data"]["unit_id"] for t in exported} == {
        units[2].unit_id,
        units[3].unit_id,
        units[4].unit_id,
    }
    seen_spans = 0
    for task in exported:
        text = task["data"]["text"]
        for annotation in task["annotations"]:
            assert annotation["completed_by"]["email"] == studio_server.username
            assert annotation["lead_time"] in (12.5, 3.0)
            if annotation["was_cancelled"]:
                assert task["data"]["unit_id"] == units[4].unit_id
                continue
            choices = [r for r in annotation["result"] if r["from_name"] == "measure_type"]
            assert choices[0]["value"]["choices"][0] == plans[task["data"]["unit_id"]][0]
            for region in annotation["result"]:
                if region["from_name"] != "spans":
                    continue
                value = region["value"]
                assert text[value["start"] : value["end"]] == value["text"]
                assert value["labels"][0] in SPAN_LABELS
                seen_spans += 1
    assert seen_spans == 4


@pytest.mark.integration
def test_repush_of_same_and_overlapping_units_creates_no_duplicates(studio_server, tmp_path: Path):
    title = unique_title("repush")
    units = notice_units("a") + notice_units("b")
    path = tmp_path / "units.jsonl"
    path.write_text("".join(json.dumps(u.to_dict(), ensure_ascii=False) + "\n" for u in units[:6]))
    first = studio.push_units(
        path, project=title, url=studio_server.url, api_key=studio_server.api_key
    )
    again = studio.push_units(
        path, project=title, url=studio_server.url, api_key=studio_server.api_key
    )
    overlap = studio.push_units(
        units, project=title, url=studio_server.url, api_key=studio_server.api_key
    )
    assert (first.tasks_created, again.tasks_created, again.tasks_existing) == (4, 0, 4)
    assert (overlap.tasks_created, overlap.tasks_existing) == (4, 4)
    unit_ids = [t["unit_id"] for t in project_tasks(studio_server, title)]
    assert sorted(unit_ids) == sorted(u.unit_id for u in units if u.kind == "body")


@pytest.mark.integration
def test_interrupted_push_then_rerun_leaves_each_unit_once(studio_server):
    title = unique_title("interrupted")
    units = synthetic_units(250)
    calls: list[tuple[int, int]] = []

    def crash_after_first_batch(done: int, total: int) -> None:
        calls.append((done, total))
        if done >= 100:
            raise KeyboardInterrupt("interrupted by the test")

    with pytest.raises(KeyboardInterrupt):
        studio.push_units(
            units,
            project=title,
            url=studio_server.url,
            api_key=studio_server.api_key,
            batch_size=100,
            progress=crash_after_first_batch,
        )
    assert len(project_tasks(studio_server, title)) == 100
    report = studio.push_units(
        units, project=title, url=studio_server.url, api_key=studio_server.api_key, batch_size=100
    )
    assert (report.tasks_existing, report.tasks_created) == (100, 150)
    unit_ids = [t["unit_id"] for t in project_tasks(studio_server, title)]
    assert len(unit_ids) == len(set(unit_ids)) == 250


@pytest.mark.integration
def test_predictions_go_in_with_score_and_attach_to_existing_tasks(studio_server):
    title = unique_title("predictions")
    units = notice_units()
    body = [u for u in units if u.kind == "body"]
    studio.push_units(units, project=title, url=studio_server.url, api_key=studio_server.api_key)

    def prelabelled(version: str, scores: list[float]) -> list[dict]:
        rows = [u.to_dict() for u in units]
        for row, score in zip((r for r in rows if r["kind"] == "body"), scores, strict=True):
            row.update(
                measure_type="risk_hazard",
                measure_type_score=score,
                measure_type_top3=[{"label": "risk_hazard", "score": score}],
                spans=[span(row["text"], row["text"][:2], "RESPONSIBLE_BODY") | {"score": 0.9}],
                deadlines=[],
                model_version=version,
            )
        return rows

    first = studio.push_units(
        prelabelled("m1", [0.9, 0.2, 0.6, 0.4]),
        project=title,
        url=studio_server.url,
        api_key=studio_server.api_key,
    )
    assert (first.tasks_created, first.tasks_existing, first.predictions_created) == (0, 4, 4)
    again = studio.push_units(
        prelabelled("m1", [0.9, 0.2, 0.6, 0.4]),
        project=title,
        url=studio_server.url,
        api_key=studio_server.api_key,
    )
    assert (again.predictions_created, again.predictions_skipped) == (0, 4)
    newer = studio.push_units(
        prelabelled("m2", [0.5, 0.5, 0.5, 0.5]),
        project=title,
        url=studio_server.url,
        api_key=studio_server.api_key,
    )
    assert newer.predictions_created == 4

    client = sdk(studio_server)
    project_id = find_project(client, studio_server.url, title).id
    predictions = client.predictions.list(project=project_id)
    assert len(predictions) == 8
    assert len(project_tasks(studio_server, title)) == 4
    by_version = {(p.task, p.model_version) for p in predictions}
    assert len(by_version) == 8
    m1 = sorted((p.score, p.task) for p in predictions if p.model_version == "m1")
    assert [score for score, _ in m1] == [0.2, 0.4, 0.6, 0.9]
    project = client.projects.get(id=project_id)
    assert project.sampling == "Uncertainty sampling" and project.model_version == "m2"
    assert body[0].text  # the units themselves are untouched


@pytest.mark.integration
def test_new_prelabelled_units_are_imported_least_certain_first(studio_server):
    title = unique_title("ordering")
    rows = [u.to_dict() for u in notice_units() if u.kind == "body"]
    for row, score in zip(rows, [0.9, 0.1, 0.5, 0.3], strict=True):
        row.update(measure_type="other", measure_type_score=score, spans=[], model_version="m1")
    studio.push_units(rows, project=title, url=studio_server.url, api_key=studio_server.api_key)
    tasks = sorted(project_tasks(studio_server, title), key=lambda t: t["id"])
    order = [
        next(r["measure_type_score"] for r in rows if r["unit_id"] == t["unit_id"]) for t in tasks
    ]
    assert order == [0.1, 0.3, 0.5, 0.9]


@pytest.mark.integration
def test_push_with_annotations_names_the_annotated_units_it_did_not_push(
    studio_server, tmp_path: Path
):
    title = unique_title("with annotations")
    units = notice_units()
    judged = [
        {"unit_id": units[2].unit_id, "measure_type": "risk_hazard", "spans": []},
        # a unit that is a heading now, or was never in this units file
        {"unit_id": "d1:0099:0badf00d", "measure_type": "other", "spans": []},
    ]
    report = studio.push_units(
        units,
        project=title,
        url=studio_server.url,
        api_key=studio_server.api_key,
        annotations=judged,
    )
    assert report.annotations_created == 1
    assert report.annotated_units_missing == ("d1:0099:0badf00d",)
    out = tmp_path / "pulled.json"
    studio.pull(project=title, output=out, url=studio_server.url, api_key=studio_server.api_key)
    tasks = json.loads(out.read_text(encoding="utf-8"))
    annotated = [t["data"]["unit_id"] for t in tasks if t["annotations"]]
    assert annotated == [units[2].unit_id]


@pytest.mark.integration
def test_push_annotations_attributes_annotators_and_is_idempotent(studio_server, tmp_path: Path):
    title = unique_title("seed")
    units = notice_units()
    studio.push_units(units, project=title, url=studio_server.url, api_key=studio_server.api_key)
    seed = tmp_path / "seed.jsonl"
    records = [
        {
            "unit_id": units[2].unit_id,
            "measure_type": "risk_hazard",
            "spans": [span(SENTENCES[0], "2025年6月底前", "DEADLINE")],
            "annotator": "annotator_a",
        },
        {
            "unit_id": units[2].unit_id,
            "measure_type": "risk_hazard",
            "spans": [],
            "annotator": "annotator_b",
        },
        {
            "unit_id": units[5].unit_id,
            "measure_type": "other",
            "spans": [],
            "annotator": "annotator_a",
        },
        {
            "unit_id": "missing:0000:00000000",
            "measure_type": "other",
            "spans": [],
            "annotator": "annotator_a",
        },
    ]
    seed.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    first = studio.push_annotations(
        seed, project=title, url=studio_server.url, api_key=studio_server.api_key
    )
    assert (first.annotations_created, first.annotations_existing) == (3, 0)
    assert first.units_missing == ("missing:0000:00000000",)
    again = studio.push_annotations(
        seed, project=title, url=studio_server.url, api_key=studio_server.api_key
    )
    assert (again.annotations_created, again.annotations_existing, again.annotators_created) == (
        0,
        3,
        (),
    )

    pulled = studio.pull(
        project=title,
        output=tmp_path / "out.json",
        url=studio_server.url,
        api_key=studio_server.api_key,
    )
    assert pulled.annotations == 3
    assert set(pulled.annotators) == {
        "annotator_a@corpus-tools.local",
        "annotator_b@corpus-tools.local",
    }


@pytest.mark.integration
def test_ambiguous_project_title_is_a_lookup_error(studio_server):
    title = unique_title("twice")
    client = sdk(studio_server)
    client.projects.create(title=title)
    second = client.projects.create(title=title)
    with pytest.raises(ProjectLookupError, match="2 Label Studio projects.*give its id"):
        studio.push_units(
            notice_units(), project=title, url=studio_server.url, api_key=studio_server.api_key
        )
    # one of them is picked by its id where a project is read
    from corpus_tools.studio.projects import require_project

    picked = require_project(client, studio_server.url, str(second.id), fix="-")
    assert picked.id == second.id and picked.title == title
    with pytest.raises(ProjectLookupError, match="no Label Studio project .* titled '999999'"):
        require_project(client, studio_server.url, "999999", fix="-")


@pytest.mark.integration
def test_push_record_is_checked_against_the_server(studio_server, tmp_path: Path):
    title = unique_title("record")
    units = notice_units()
    body = [u for u in units if u.kind == "body"]
    push = dict(
        project=title, url=studio_server.url, api_key=studio_server.api_key, record_dir=tmp_path
    )
    studio.push_units(units, **push)
    records = list((tmp_path / "studio-push").glob("*.json"))
    assert len(records) == 1
    assert set(json.loads(records[0].read_text())["units"]) == {u.unit_id for u in body}

    # Someone deletes a task in Label Studio: the record no longer matches the
    # server, so the next push asks the server and restores the missing unit.
    client = sdk(studio_server)
    tasks = {t["unit_id"]: t["id"] for t in project_tasks(studio_server, title)}
    client.tasks.delete(id=tasks[body[1].unit_id])
    report = studio.push_units(units, **push)
    assert (report.tasks_created, report.tasks_existing) == (1, 3)
    assert sorted(t["unit_id"] for t in project_tasks(studio_server, title)) == sorted(
        u.unit_id for u in body
    )

    # Without any record (another machine), nothing is duplicated either.
    records[0].unlink()
    report = studio.push_units(units, **push)
    assert (report.tasks_created, report.tasks_existing) == (0, 4)


def test_units_are_read_from_parquet_too(tmp_path: Path):
    import polars as pl

    units = notice_units()
    path = tmp_path / "units.parquet"
    pl.DataFrame([u.to_dict() for u in units]).write_parquet(path)
    origin, rows = unit_records(path)
    pairs = with_context(rows, origin)
    assert [data["unit_id"] for data, _ in pairs] == [u.unit_id for u in units if u.kind == "body"]
    assert pairs[0][0]["section_path"] == list(units[2].section_path)


def test_annotator_users_are_created_in_name_order():
    """New annotator accounts get their ids in name order, whatever order the names
    arrive in (a set), so re-building the stored Label Studio JSON gives the same ids."""
    from types import SimpleNamespace

    from corpus_tools.studio.push import _annotator_users

    class Users:
        def __init__(self):
            self.created = []

        def list(self):
            return [SimpleNamespace(id=1, email="owner@x", username="owner")]

        def create(self, *, email, username, first_name):
            self.created.append(username)
            return SimpleNamespace(id=len(self.created) + 1)

    for names in (
        ["review", "adjudicated", "annotator_1"],
        ["annotator_1", "review", "adjudicated"],
    ):
        client = SimpleNamespace(users=Users())
        ids, created = _annotator_users(client, "http://x", iter(names))
        assert client.users.created == ["adjudicated", "annotator_1", "review"] == created
        assert ids == {"adjudicated": 2, "annotator_1": 3, "review": 4}


@pytest.mark.integration
def test_a_project_set_up_for_other_work_keeps_its_config(studio_server):
    title = unique_title("foreign config")
    foreign = (
        '<View><Text name="body" value="$body"/>'
        '<Choices name="c" toName="body"><Choice value="yes"/></Choices></View>'
    )
    client = sdk(studio_server)
    created = client.projects.create(title=title, label_config=foreign)
    with pytest.raises(ProjectLookupError, match="has a label config of its own"):
        studio.push_units(
            notice_units(), project=title, url=studio_server.url, api_key=studio_server.api_key
        )
    assert client.projects.get(id=created.id).label_config.strip() == foreign
    assert project_tasks(studio_server, title) == []


@pytest.mark.integration
def test_an_older_config_of_ours_is_updated_and_said(studio_server):
    title = unique_title("older config")
    older = sentence_tagging_config().replace('hotkey="1"', 'hotkey="9"')
    client = sdk(studio_server)
    created = client.projects.create(title=title, label_config=older)
    access = dict(url=studio_server.url, api_key=studio_server.api_key)
    report = studio.push_units(notice_units(), project=title, **access)
    assert report.label_config_updated and report.tasks_created == 4
    assert (
        client.projects.get(id=created.id).label_config.strip() == sentence_tagging_config().strip()
    )
    again = studio.push_units(notice_units(), project=title, **access)
    assert not again.label_config_updated


@pytest.mark.integration
def test_judgements_of_units_already_pushed_are_counted_not_dropped_silently(studio_server):
    title = unique_title("late annotations")
    units = notice_units()
    access = dict(url=studio_server.url, api_key=studio_server.api_key)
    studio.push_units(units, project=title, **access)
    judged = [{"unit_id": units[2].unit_id, "measure_type": "risk_hazard", "spans": []}]
    report = studio.push_units(units, project=title, annotations=judged, **access)
    assert report.tasks_created == 0 and report.annotations_created == 0
    assert report.annotated_units_existing == 1


@pytest.mark.integration
def test_an_empty_units_file_creates_no_project(studio_server, tmp_path: Path):
    title = unique_title("empty")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(InputFileError, match="no body units to push"):
        studio.push_units(
            empty, project=title, url=studio_server.url, api_key=studio_server.api_key
        )
    assert find_project(sdk(studio_server), studio_server.url, title) is None


@pytest.mark.integration
def test_a_project_made_with_a_title_only_is_set_up_as_ours(studio_server):
    title = unique_title("title only")
    client = sdk(studio_server)
    created = client.projects.create(title=title)  # Label Studio's default `<View></View>`
    report = studio.push_units(
        notice_units(), project=title, url=studio_server.url, api_key=studio_server.api_key
    )
    assert report.tasks_created == 4 and report.label_config_updated
    assert (
        client.projects.get(id=created.id).label_config.strip() == sentence_tagging_config().strip()
    )


@pytest.mark.integration
def test_a_bad_span_in_an_annotations_file_is_named_before_any_project_exists(
    studio_server, tmp_path: Path
):
    title = unique_title("bad span")
    units = notice_units()
    bad = tmp_path / "judged.jsonl"
    row = {
        "unit_id": units[2].unit_id,
        "measure_type": "risk_hazard",
        "spans": [{"start": 0, "end": 3, "label": "RESPONSIBLE_BODY", "text": "不在这里"}],
    }
    bad.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"judged\.jsonl"):
        studio.push_units(
            units,
            project=title,
            url=studio_server.url,
            api_key=studio_server.api_key,
            annotations=bad,
        )
    assert find_project(sdk(studio_server), studio_server.url, title) is None


def test_the_guidelines_the_annotator_guide_defers_to_ship_with_the_schemas_ids(
    project_root: Path,
):
    guidelines = (project_root / "docs" / "annotation-guidelines.md").read_text(encoding="utf-8")
    for label in (*MEASURE_TYPES, *SPAN_LABELS):
        assert f"`{label}`" in guidelines, label
    assert "docs/annotation-guidelines.md" in (
        project_root / "docs" / "annotator-guide.md"
    ).read_text(encoding="utf-8")


def test_a_retrained_models_suggestions_replace_its_earlier_ones_on_unannotated_tasks(
    studio_server,
):
    title = unique_title("stale-predictions")
    units = notice_units()
    studio.push_units(units, project=title, url=studio_server.url, api_key=studio_server.api_key)

    def prelabelled(version: str) -> list[dict]:
        rows = [u.to_dict() for u in units]
        for row in (r for r in rows if r["kind"] == "body"):
            row.update(
                measure_type="risk_hazard",
                measure_type_score=0.5,
                measure_type_top3=[{"label": "risk_hazard", "score": 0.5}],
                spans=[],
                deadlines=[],
                model_version=version,
            )
        return rows

    access = {"project": title, "url": studio_server.url, "api_key": studio_server.api_key}
    studio.push_units(prelabelled("m-0.1.0+aaaa"), **access)
    client = sdk(studio_server)
    project_id = find_project(client, studio_server.url, title).id
    tasks = sorted(t.id for t in client.tasks.list(project=project_id))
    annotated = tasks[0]
    annotate_in_studio(client, annotated, "risk_hazard")
    newer = studio.push_units(prelabelled("m-0.1.0+r1+bbbb"), **access)
    assert newer.predictions_replaced == len(tasks) - 1
    versions = defaultdict(set)
    for p in client.predictions.list(project=project_id):
        versions[p.task].add(p.model_version)
    assert versions[annotated] == {"m-0.1.0+aaaa", "m-0.1.0+r1+bbbb"}  # what was shown stays
    assert all(versions[t] == {"m-0.1.0+r1+bbbb"} for t in tasks[1:])
