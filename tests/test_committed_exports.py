"""The committed Label Studio JSON of the seed set and its Hugging Face export."""

from __future__ import annotations

import json

import datasets
import pytest

from corpus_tools.export import verify_export
from corpus_tools.schema import (
    LS_MEASURE_TYPE,
    LS_SPANS,
    MEASURE_TYPES,
    SPAN_LABELS,
    dataset_features,
)
from tests.conftest import PROJECT_ROOT

STORED = PROJECT_ROOT / "data" / "annotations" / "label-studio"
AGREEMENT = PROJECT_ROOT / "data" / "annotations" / "agreement"
EXPORT = PROJECT_ROOT / "exports" / "seed"


@pytest.fixture(scope="module")
def passes() -> list[dict]:
    return json.loads((AGREEMENT / "seed-passes.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", [AGREEMENT / "seed-passes.json", STORED / "seed.json"], ids=lambda p: p.name)
def test_stored_label_studio_json_is_sound(path):
    tasks = json.loads(path.read_text(encoding="utf-8"))
    assert len(tasks) >= 1500
    for task in tasks:
        text = task["data"]["text"]
        for annotation in task["annotations"]:
            assert not annotation["was_cancelled"]
            for item in annotation["result"]:
                value = item["value"]
                if item["from_name"] == LS_MEASURE_TYPE:
                    assert value["choices"][0] in MEASURE_TYPES
                else:
                    assert item["from_name"] == LS_SPANS
                    assert value["labels"][0] in SPAN_LABELS
                    assert text[value["start"] : value["end"]] == value["text"]


def test_each_pass_has_its_own_annotator_account(passes):
    annotators = {
        annotation["completed_by"]["email"] for task in passes for annotation in task["annotations"]
    }
    assert annotators == {"annotator_1@corpus-tools.local", "annotator_2@corpus-tools.local"}
    doubly = [task for task in passes if len(task["annotations"]) == 2]
    assert len(doubly) >= 200


def test_committed_export_loads_both_ways():
    counts = verify_export(EXPORT)
    assert sum(counts.values()) >= 1500
    from_disk = datasets.load_from_disk(str(EXPORT / "dataset"))
    assert from_disk["train"].features == dataset_features()
    parquet = datasets.load_dataset(
        "parquet",
        data_files={split: str(EXPORT / "data" / f"{split}.parquet") for split in from_disk},
    )
    assert {split: parquet[split].num_rows for split in parquet} == {
        split: from_disk[split].num_rows for split in from_disk
    }
    documents = [set(from_disk[split]["doc_id"]) for split in from_disk]
    assert all(a.isdisjoint(b) for i, a in enumerate(documents) for b in documents[i + 1 :])
    card = (EXPORT / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---") and "language:" in card and "zh" in card
