"""The committed seed annotations: sound spans, schema ids, the promised counts."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from corpus_tools.schema import MEASURE_TYPES, SPAN_LABELS
from corpus_tools.seed import judgement_problem
from tests.conftest import PROJECT_ROOT

ANNOTATIONS = PROJECT_ROOT / "data" / "annotations"


def records(name: str) -> list[dict]:
    return [
        json.loads(line) for line in (ANNOTATIONS / name).read_text(encoding="utf-8").splitlines()
    ]


@pytest.mark.parametrize("name", ["seed.jsonl", "first_pass.jsonl", "second_pass.jsonl"])
def test_every_record_is_sound(name: str):
    rows = records(name)
    assert rows
    for row in rows:
        assert judgement_problem(row) == "", row["unit_id"]
        assert row["measure_type"] in MEASURE_TYPES
        assert all(span["label"] in SPAN_LABELS for span in row["spans"])
        assert all(row["text"][s["start"] : s["end"]] == s["text"] for s in row["spans"])
    assert len({row["unit_id"] for row in rows}) == len(rows)


def test_seed_counts():
    rows = records("seed.jsonl")
    assert len(rows) >= 1500
    doc_ids = {row["doc_id"] for row in rows}
    assert {d.split("_")[0] for d in doc_ids} >= {"000", "001", "002", "003"}
    assert len({d for d in doc_ids if d.startswith("003_")}) >= 8
    types = Counter(row["measure_type"] for row in rows)
    assert all(types[t] >= 30 for t in MEASURE_TYPES), types
    labels = Counter(span["label"] for row in rows for span in row["spans"])
    assert labels["RESPONSIBLE_BODY"] >= 100
    # The corpus holds fewer deadlines and frequencies (see data/annotations/README.md).
    assert labels["DEADLINE"] >= 60 and labels["FREQUENCY"] >= 60, labels


def test_second_pass_overlaps_the_first():
    first = {row["unit_id"] for row in records("first_pass.jsonl")}
    second = {row["unit_id"] for row in records("second_pass.jsonl")}
    assert len(first & second) >= 200
    assert {row["annotator"] for row in records("second_pass.jsonl")} == {"annotator_2"}


def test_final_set_takes_the_adjudicated_decisions():
    first = {row["unit_id"]: row for row in records("first_pass.jsonl")}
    second = {row["unit_id"]: row for row in records("second_pass.jsonl")}
    final = {row["unit_id"]: row for row in records("seed.jsonl")}
    adjudicated = [uid for uid, row in final.items() if row["annotator"] == "adjudicated"]
    assert len(adjudicated) >= 30
    for uid in adjudicated:
        # Each decision is one of the two passes' readings where they disagreed.
        assert uid in second
        readings = [(p["measure_type"], p["spans"]) for p in (first[uid], second[uid])]
        assert readings[0] != readings[1]
        assert (final[uid]["measure_type"], final[uid]["spans"]) in readings


def test_judgement_problem_catches_bad_records():
    good = {
        "measure_type": "other",
        "text": "市应急局负责。",
        "spans": [{"start": 0, "end": 4, "label": "RESPONSIBLE_BODY", "text": "市应急局"}],
    }
    assert judgement_problem(good) == ""
    assert "measure_type" in judgement_problem({**good, "measure_type": "mining"})
    shifted = {
        **good,
        "spans": [{"start": 1, "end": 5, "label": "RESPONSIBLE_BODY", "text": "市应急局"}],
    }
    assert "does not match" in judgement_problem(shifted)
    unknown = {**good, "spans": [{"start": 0, "end": 4, "label": "PLACE", "text": "市应急局"}]}
    assert "not one of" in judgement_problem(unknown)


def test_align_to_units_rekeys_by_id_then_text_and_reports_changed_units():
    from corpus_tools.schema import Unit
    from corpus_tools.seed import align_to_units

    units = [
        Unit(unit_id="d:0001:aaaa", doc_id="d", unit_index=1, kind="body", text="甲要落实。"),
        Unit(unit_id="d:0003:bbbb", doc_id="d", unit_index=3, kind="body", text="乙要检查。"),
        Unit(unit_id="d:0004:cccc", doc_id="d", unit_index=4, kind="heading", text="二、标题"),
    ]

    def judged(unit_id: str, text: str) -> dict:
        return {
            "unit_id": unit_id,
            "doc_id": "d",
            "text": text,
            "measure_type": "other",
            "spans": [],
        }

    alignment = align_to_units(
        [
            judged("d:0001:aaaa", "甲要落实。"),  # same id
            judged("d:0002:bbbb", "乙要检查。"),  # moved: found again by its text
            judged("d:0005:eeee", "丙要演练。"),  # text changed: not placed
            judged("d:0004:cccc", "二、标题"),  # now a heading: headings are not annotated
        ],
        units,
    )
    assert [r["unit_id"] for r in alignment.records] == ["d:0001:aaaa", "d:0003:bbbb"]
    assert [r["text"] for r in alignment.unplaced] == ["丙要演练。", "二、标题"]


def test_a_review_replaces_the_type_keeps_unreviewed_spans_and_refuses_strays():
    from corpus_tools.errors import InputFileError
    from corpus_tools.seed import apply_review

    text = "各地要修订应急预案。"
    body = {"start": 0, "end": 2, "label": "RESPONSIBLE_BODY", "text": "各地"}
    judged = [
        {
            "unit_id": "d:0001:a",
            "doc_id": "d",
            "text": text,
            "measure_type": "emergency",
            "spans": [body],
            "annotator": "annotator_1",
        },
        {
            "unit_id": "d:0002:b",
            "doc_id": "d",
            "text": "其他。",
            "measure_type": "other",
            "spans": [],
            "annotator": "annotator_1",
        },
    ]
    final = apply_review(judged, [{"unit_id": "d:0001:a", "measure_type": "institution"}])
    assert final[0]["measure_type"] == "institution" and final[0]["spans"] == [body]
    assert final[0]["annotator"] == "consistency-review" and final[1] == judged[1]
    assert judged[0]["measure_type"] == "emergency"  # the pass itself is left as it was
    with pytest.raises(InputFileError, match="reviewed twice"):
        apply_review(judged, [{"unit_id": "d:0001:a", "measure_type": "other"}] * 2)
    with pytest.raises(InputFileError, match="no judgement .*d:0009:z.*review the current unit"):
        apply_review(judged, [{"unit_id": "d:0009:z", "measure_type": "other"}])
    with pytest.raises(InputFileError, match="not one of the schema's ids"):
        apply_review(judged, [{"unit_id": "d:0002:b", "measure_type": "plan"}])


def test_every_seed_judgement_is_a_body_unit_of_the_sample_corpus():
    # quickstart loads them all: none is left over as "not among the pushed units"
    from corpus_tools.segment import iter_units
    from tests.conftest import SAMPLE_NOTICES

    body = {
        u.unit_id
        for u in iter_units([SAMPLE_NOTICES])
        if not isinstance(u, Exception) and u.kind == "body"
    }
    assert {row["unit_id"] for row in records("seed.jsonl")} == body
