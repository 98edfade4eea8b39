"""The annotators' batch tool: span texts become checked `[start, end)` offsets."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "annotation_batches", Path(__file__).parent.parent / "scripts" / "annotation_batches.py"
)
batches = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(batches)

TEXT = "各部门要每月召开1次安全例会，各部门负责人参加，应急管理厅（局）列席。"


def record(spans, measure_type="institution"):
    return {
        "unit_id": "u",
        "doc_id": "d",
        "text": TEXT,
        "measure_type": measure_type,
        "spans": spans,
    }


def test_span_texts_become_offsets_into_the_unit_text():
    out = batches.resolve_record(
        record(
            [
                {"label": "RESPONSIBLE_BODY", "text": "各部门"},
                {"label": "FREQUENCY", "text": "每月"},
            ]
        )
    )
    assert [(s["start"], s["end"], s["label"]) for s in out["spans"]] == [
        (0, 3, "RESPONSIBLE_BODY"),
        (4, 6, "FREQUENCY"),
    ]
    assert all(TEXT[s["start"] : s["end"]] == s["text"] for s in out["spans"])


def test_a_name_may_close_with_its_bracketed_qualifier():
    out = batches.resolve_record(
        record([{"label": "RESPONSIBLE_BODY", "text": "应急管理厅（局）"}])
    )
    (span,) = out["spans"]
    assert TEXT[span["start"] : span["end"]] == "应急管理厅（局）"


def test_a_repeated_string_takes_the_next_free_occurrence_or_the_nth():
    twice = batches.resolve_record(record([{"label": "RESPONSIBLE_BODY", "text": "各部门"}] * 2))
    assert [s["start"] for s in twice["spans"]] == [0, 15]
    nth = batches.resolve_record(
        record([{"label": "RESPONSIBLE_BODY", "text": "各部门", "nth": 1}])
    )
    assert nth["spans"][0]["start"] == 15


@pytest.mark.parametrize(
    ("spans", "measure_type", "problem"),
    [
        ([{"label": "RESPONSIBLE_BODY", "text": "市应急局"}], "institution", "not in the text"),
        ([{"label": "RESPONSIBLE_BODY", "text": "各部门要"}], "institution", None),
        ([{"label": "FREQUENCY", "text": "每月，"}], "institution", "punctuation"),
        ([{"label": "RESPONSIBLE_BODY", "text": "（局"}], "institution", "unpaired bracket"),
        ([{"label": "RESPONSIBLE_BODY", "text": "各部门", "nth": 2}], "institution", "occurs 2"),
        ([{"label": "BODY", "text": "各部门"}], "institution", "span label"),
        ([], "meeting", "measure_type"),
        (
            [
                {"label": "RESPONSIBLE_BODY", "text": "各部门要"},
                {"label": "FREQUENCY", "text": "要每月", "nth": 0},
            ],
            "institution",
            "overlaps",
        ),
    ],
)
def test_bad_judgements_are_refused_with_the_reason(spans, measure_type, problem):
    if problem is None:  # a well-formed span is accepted (the guidelines judge its extent)
        assert batches.resolve_record(record(spans, measure_type))["spans"]
        return
    with pytest.raises(ValueError, match=problem):
        batches.resolve_record(record(spans, measure_type))
