"""The segmenter scored against hand-checked gold units (tests/gold/README.md).

Boundary F1: unit ends as offsets into the document's text with whitespace
removed (so the two sides are comparable even where spaces differ), gold vs.
predicted. Body exact match: share of gold body units the segmenter produced
exactly, as body.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from corpus_tools.segment import iter_units
from tests.conftest import NEW_NOTICES, SAMPLE_NOTICES

GOLD = Path(__file__).resolve().parent / "gold"
CASES = {
    "002_bf9bfaf859591b6d": SAMPLE_NOTICES / "002_bf9bfaf859591b6d.txt",
    "003_5b1f32f4b5edf1e8#2012": SAMPLE_NOTICES / "003_5b1f32f4b5edf1e8.txt",
    "003_5b1f32f4b5edf1e8#2014": SAMPLE_NOTICES / "003_5b1f32f4b5edf1e8.txt",
    "04_nea_guoneng_zongtong_anquan_2021_108_dianli_huozai_html": NEW_NOTICES
    / "04_nea_guoneng_zongtong_anquan_2021_108_dianli_huozai_html.txt",
}


def boundaries(texts: list[str]) -> set[int]:
    ends, position = set(), 0
    for text in texts:
        position += len(re.sub(r"\s+", "", text))
        ends.add(position)
    return ends


def score(gold: list[dict], predicted: list[tuple[str, str]]) -> tuple[float, float]:
    gold_ends = boundaries([g["text"] for g in gold])
    predicted_ends = boundaries([text for _, text in predicted])
    true = len(gold_ends & predicted_ends)
    f1 = 2 * true / (len(gold_ends) + len(predicted_ends))
    predicted_bodies = {text for kind, text in predicted if kind == "body"}
    gold_bodies = [g["text"] for g in gold if g["kind"] == "body"]
    exact = sum(text in predicted_bodies for text in gold_bodies) / len(gold_bodies)
    return f1, exact


@pytest.mark.parametrize("doc_id", sorted(CASES))
def test_segmenter_matches_gold_units(doc_id: str):
    gold = [
        json.loads(line)
        for line in (GOLD / f"{doc_id}.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    predicted = [(u.kind, u.text) for u in iter_units([CASES[doc_id]]) if u.doc_id == doc_id]
    assert predicted, f"segmenter produced no document {doc_id}"
    f1, exact = score(gold, predicted)
    print(
        f"\n{doc_id}: boundary F1 {f1:.4f}, body exact match {exact:.4f} ({len(gold)} gold units)"
    )
    assert f1 >= 0.99
    assert exact >= 0.95


def test_scoring_fails_on_a_wrong_cut():
    gold = [{"kind": "body", "text": "甲。"}, {"kind": "body", "text": "乙。"}]
    assert score(gold, [("body", "甲。"), ("body", "乙。")]) == (1.0, 1.0)
    f1, exact = score(gold, [("body", "甲。乙。")])
    assert f1 < 0.99 and exact == 0.0
