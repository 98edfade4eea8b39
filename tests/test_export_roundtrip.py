"""Round trip through a real Label Studio: units -> push -> annotate via the API ->
pull -> export -> load the dataset back (the `studio_server` session fixture)."""

from __future__ import annotations

import hashlib
import uuid

import datasets
import pytest
from typer.testing import CliRunner

from corpus_tools import studio
from corpus_tools.export import export_annotations
from corpus_tools.schema import MEASURE_TYPES, SPAN_LABELS, Unit, dataset_features
from corpus_tools.studio.client import checked_client
from corpus_tools.studio.projects import find_project, task_index

pytestmark = pytest.mark.integration

BASE = "市应急局要在2025年6月底前完成全市危化企业隐患排查"  # 市应急局 [0,4), 2025年6月底前 [6,15)
RB = {"start": 0, "end": 4, "label": "RESPONSIBLE_BODY", "text": "市应急局"}
DL = {"start": 6, "end": 15, "label": "DEADLINE", "text": "2025年6月底前"}
RB3 = {"start": 0, "end": 3, "label": "RESPONSIBLE_BODY", "text": "市应急"}


def make_unit(doc: str, index: int, kind: str = "body") -> Unit:
    text = f"{BASE}（第{doc}号第{index}项）。" if kind == "body" else f"（{index}）强化责任。"
    return Unit(
        unit_id=f"{doc}:{index:04d}:{hashlib.sha1(text.encode()).hexdigest()[:8]}",
        doc_id=doc,
        unit_index=index,
        kind=kind,
        text=text,
        section_path=("一、压实安全生产责任",),
        item_responsible_bodies=("市应急局",),
        title=f"{doc}关于做好安全生产工作的通知",
        issuer="大同市人民政府",
        doc_number="同政发〔2025〕1号",
        date="2025-01-16",
    )


def test_push_annotate_pull_export_load(studio_server, tmp_path):
    title = f"export-roundtrip-{uuid.uuid4().hex[:8]}"
    docs = [f"doc{d}" for d in range(9)]
    units = [make_unit(doc, 0, "heading") for doc in docs]
    units += [make_unit(doc, i) for doc in docs for i in range(1, 5)]
    body = [u for u in units if u.kind == "body"]
    studio.push_units(units, project=title, url=studio_server.url, api_key=studio_server.api_key)

    # Annotator a labels every body unit but two; annotator b doubles the four
    # units of doc0 with the constructed disagreement (kappa 7/11, see below).
    records = []
    for n, u in enumerate(body[:-2]):
        records.append(
            {
                "unit_id": u.unit_id,
                "measure_type": MEASURE_TYPES[n % len(MEASURE_TYPES)],
                "spans": [RB, DL] if n % 3 == 0 else [RB] if n % 3 == 1 else [],
                "annotator": "ann-a",
            }
        )
    doubled = body[:4]
    a_types = ["enforcement", "enforcement", "training", "other"]
    b_types = ["enforcement", "training", "training", "other"]
    a_spans = [[RB, DL], [RB], [RB], []]
    b_spans = [[RB, DL], [RB3], [], []]
    for i, u in enumerate(doubled):
        records[i] |= {"measure_type": a_types[i], "spans": a_spans[i]}
        records.append(
            {
                "unit_id": u.unit_id,
                "measure_type": b_types[i],
                "spans": b_spans[i],
                "annotator": "ann-b",
            }
        )
    pushed = studio.push_annotations(
        records, project=title, url=studio_server.url, api_key=studio_server.api_key
    )
    assert pushed.annotations_created == len(records)
    # One task skipped by an annotator, one never opened.
    client = checked_client(
        studio.StudioConnection(url=studio_server.url, api_key=studio_server.api_key)
    )
    project = find_project(client, studio_server.url, title)
    task_ids = {
        uid: ids[0] for uid, ids in task_index(client, studio_server.url, project.id).items()
    }
    client.annotations.create(id=task_ids[body[-2].unit_id], result=[], was_cancelled=True)

    out = tmp_path / "export"
    report = export_annotations(
        None, out, project=title, url=studio_server.url, api_key=studio_server.api_key, seed=3
    )

    # Counted, not dropped: the skip; the unit never opened is not in the pull.
    assert report.cancelled_annotations == 1
    assert report.tasks_without_usable_annotation == 1
    assert report.units_exported == len(body) - 2
    assert report.multi_annotated_tasks == 4

    # Agreement on the constructed case (hand computed in tests/test_export.py).
    a = report.agreement
    assert (a.units, a.pairs) == (4, 4)
    assert a.measure_type_kappa == pytest.approx(7 / 11)
    assert a.span_f1["RESPONSIBLE_BODY"] == pytest.approx(0.4)
    assert a.span_f1["DEADLINE"] == pytest.approx(1.0)
    assert a.span_f1["FREQUENCY"] is None

    features = dataset_features()
    from_disk = datasets.load_from_disk(str(out / "dataset"))
    from_parquet = datasets.load_dataset(
        "parquet", data_files={s: str(out / "data" / f"{s}.parquet") for s in from_disk}
    )
    expected = {r["unit_id"]: r for r in records if r["annotator"] == "ann-a"}
    docs_by_split = {}
    for loaded in (from_disk, from_parquet):
        assert set(loaded) == {"train", "validation", "test"}
        for name, split in loaded.items():
            assert split.features == features
            docs_by_split[name] = set(split["doc_id"])
            for row in split:
                assert row["tokens"] == list(row["text"])
                for s in row["spans"]:
                    assert row["text"][s["start"] : s["end"]] == s["text"]
                if row["id"] not in {u.unit_id for u in doubled}:
                    want = expected[row["id"]]
                    assert MEASURE_TYPES[row["measure_type"]] == want["measure_type"]
                    assert [
                        (s["start"], s["end"], SPAN_LABELS[s["label"]]) for s in row["spans"]
                    ] == [(s["start"], s["end"], s["label"]) for s in want["spans"]]
                    assert row["annotator"].isdigit()  # a user id, no e-mail
                else:
                    assert len(row["annotator"].split(",")) == 2
    names = list(docs_by_split)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert not docs_by_split[first] & docs_by_split[second]
    assert set().union(*docs_by_split.values()) == set(docs)


def test_cli_export_project_prints_summary_and_no_token(studio_server, tmp_path):
    import typer

    from corpus_tools.cli import app

    title = f"export-cli-{uuid.uuid4().hex[:8]}"
    units = [make_unit(f"cli{d}", 1) for d in range(3)]
    studio.push_units(units, project=title, url=studio_server.url, api_key=studio_server.api_key)
    studio.push_annotations(
        [
            {"unit_id": u.unit_id, "measure_type": "training", "spans": [RB], "annotator": "ann-a"}
            for u in units
        ],
        project=title,
        url=studio_server.url,
        api_key=studio_server.api_key,
    )
    cli = typer.Typer()
    cli.registered_commands = app.registered_commands
    cli.callback()(lambda: None)
    out = tmp_path / "out"
    args = [
        "export",
        "--project",
        title,
        "--url",
        studio_server.url,
        "--api-key",
        studio_server.api_key,
    ]
    result = CliRunner().invoke(cli, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 units exported" in result.output
    assert studio_server.api_key not in result.output
    assert datasets.load_from_disk(str(out / "dataset"))["train"].num_rows >= 1
    missing = CliRunner().invoke(
        cli, [*args[:1], "--project", "no-such-project-x", *args[3:], "-o", str(tmp_path / "o2")]
    )
    assert missing.exit_code == 1 and "no-such-project-x" in missing.output
    assert "Traceback" not in missing.output
