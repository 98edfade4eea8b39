"""Export of Label Studio JSON to a Hugging Face dataset, on hand-built LS JSON."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import datasets
import pytest
import yaml

from corpus_tools.errors import ExportError
from corpus_tools.export import (
    Policy,
    SplitSizes,
    assign_splits,
    build_export,
    cohen_kappa,
    export_annotations,
    previous_splits,
    read_label_studio_json,
    verify_export,
)
from corpus_tools.schema import MEASURE_TYPES, NER_TAGS, SPAN_LABELS, Unit, dataset_features

TEXTS = [
    "市应急局要在2025年6月底前完成全市危化企业隐患排查。",
    "各县（区）人民政府每季度至少开展1次联合执法检查；",
    "企业要加大安全投入，落实全员安全生产责任制。",
    "2024年全市安全生产形势总体平稳。",
]


def unit(doc: str, index: int, text: str | None = None) -> dict:
    text = text or TEXTS[index % len(TEXTS)]
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    record = Unit(
        unit_id=f"{doc}:{index:04d}:{digest}",
        doc_id=doc,
        unit_index=index,
        kind="body",
        text=text,
        section_path=("一、总体要求",),
        item_responsible_bodies=("市应急局",),
        title=f"关于做好{doc}安全生产工作的通知",
        issuer="大同市人民政府",
        sector="地方政府综合监管",
        genre="年度工作通知",
        doc_number="同政发〔2025〕1号",
        date="2025-01-16",
    ).to_dict()
    return record | {"section": "一、总体要求", "prev_text": "", "next_text": ""}


def ann(
    data: dict,
    measure_type: str | None,
    spans: list[tuple[int, int, str]] = (),
    *,
    annotator: int | dict = 1,
    ann_id: int = 1,
    updated_at: str = "2025-03-01T10:00:00.000000Z",
    cancelled: bool = False,
    span_text: str | None = None,
) -> dict:
    """An annotation as Label Studio exports it (choices + labels results)."""
    result = []
    if measure_type is not None:
        result.append(
            {
                "id": f"m{ann_id}",
                "type": "choices",
                "from_name": "measure_type",
                "to_name": "text",
                "origin": "manual",
                "value": {"choices": [measure_type]},
            }
        )
    for i, (start, end, label) in enumerate(spans):
        result.append(
            {
                "id": f"s{ann_id}-{i}",
                "type": "labels",
                "from_name": "spans",
                "to_name": "text",
                "origin": "manual",
                "value": {
                    "start": start,
                    "end": end,
                    "text": span_text if span_text is not None else data["text"][start:end],
                    "labels": [label],
                },
            }
        )
    return {
        "id": ann_id,
        "completed_by": annotator,
        "result": [] if cancelled else result,
        "was_cancelled": cancelled,
        "ground_truth": False,
        "created_at": updated_at,
        "updated_at": updated_at,
        "lead_time": 12.5,
        "task": None,
        "project": 1,
    }


_next_task = iter(range(1, 1_000_000))


def task(data: dict, *annotations: dict) -> dict:
    task_id = next(_next_task)
    return {
        "id": task_id,
        "data": data,
        "annotations": [a | {"task": task_id} for a in annotations],
        "predictions": [],
        "meta": {},
        "created_at": "2025-03-01T09:00:00.000000Z",
        "updated_at": "2025-03-01T10:00:00.000000Z",
        "inner_id": task_id,
        "total_annotations": len(annotations),
        "cancelled_annotations": sum(a["was_cancelled"] for a in annotations),
        "file_upload": None,
        "drafts": [],
        "project": 1,
    }


def corpus(docs: int = 12) -> list[dict]:
    """`docs` documents of 4 units; types rotate so each appears in many documents."""
    tasks = []
    for d in range(docs):
        doc = f"doc{d:02d}"
        for i in range(4):
            data = unit(doc, i)
            measure_type = MEASURE_TYPES[(d + i) % len(MEASURE_TYPES)]
            spans = [(0, 4, "RESPONSIBLE_BODY")] if i == 0 else []
            tasks.append(task(data, ann(data, measure_type, spans)))
    return tasks


def write(tmp_path: Path, tasks) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- output


def test_export_loads_back_with_declared_features(tmp_path):
    out = tmp_path / "out"
    report = export_annotations(write(tmp_path, corpus()), out, seed=7)
    features = dataset_features()

    from_disk = datasets.load_from_disk(str(out / "dataset"))
    files = {s: str(out / "data" / f"{s}.parquet") for s in ("train", "validation", "test")}
    from_parquet = datasets.load_dataset("parquet", data_files=files)
    from_card = datasets.load_dataset(str(out))  # the card's `configs` point at data/
    for loaded in (from_disk, from_parquet, from_card):
        assert set(loaded) == {"train", "validation", "test"}
        for split in loaded.values():
            assert split.features == features
    assert sum(s.num_rows for s in from_disk.values()) == report.units_exported == 48

    rows = [row for split in from_parquet.values() for row in split]
    for row in rows:
        assert row["tokens"] == list(row["text"])
        assert len(row["ner_tags"]) == len(row["text"])
        for span in row["spans"]:
            assert row["text"][span["start"] : span["end"]] == span["text"]
    first = next(r for r in rows if r["unit_index"] == 0)
    b, i = NER_TAGS.index("B-RESPONSIBLE_BODY"), NER_TAGS.index("I-RESPONSIBLE_BODY")
    assert first["ner_tags"][:5] == [b, i, i, i, 0]
    assert first["spans"] == [
        {"start": 0, "end": 4, "label": SPAN_LABELS.index("RESPONSIBLE_BODY"), "text": "市应急局"}
    ]
    assert first["annotator"] == "1"
    assert first["section_path"] == ["一、总体要求"] and first["date"] == "2025-01-16"
    assert (first["sector"], first["genre"]) == ("地方政府综合监管", "年度工作通知")


def test_several_label_studio_files_make_one_dataset(tmp_path):
    tasks = corpus(12)
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    paths = [write(first, tasks[:24]), write(second, tasks[24:])]
    report = export_annotations(paths, tmp_path / "out", seed=7)
    assert report.units_exported == 48
    assert report.source == "export.json + export.json"
    docs = [
        set(datasets.load_from_disk(str(tmp_path / "out" / "dataset"))[s]["doc_id"])
        for s in ("train", "validation", "test")
    ]
    assert set().union(*docs) == {f"doc{d:02d}" for d in range(12)}


def test_dataset_card_has_hf_yaml_header_and_figures(tmp_path):
    out = tmp_path / "out"
    report = export_annotations(write(tmp_path, corpus()), out)
    card = (out / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n")
    header = yaml.safe_load(card.split("---\n")[1])
    assert header["language"] == ["zh"]
    assert header["license"] == "cc-by-4.0"
    assert "token-classification" in header["task_categories"]
    names = [f["name"] for f in header["dataset_info"]["features"]]
    assert names == list(dataset_features())
    splits = {s["name"]: s["num_examples"] for s in header["dataset_info"]["splits"]}
    assert splits == {name: s.units for name, s in report.splits.items()}
    assert header["configs"][0]["data_files"][0] == {"split": "train", "path": "data/train.parquet"}
    assert "## Agreement" in card and "## How the data was made" in card
    assert f"| train | {report.splits['train'].units} |" in card
    saved = json.loads((out / "export-report.json").read_text(encoding="utf-8"))
    assert saved["units_exported"] == 48


def test_card_says_no_unit_of_this_export_is_doubly_annotated_and_measures_nothing(tmp_path):
    """Agreement may have been measured on a second pass kept out of the export (as
    data/annotations/agreement/ is): the card speaks of its own rows only, with no figure."""
    out = tmp_path / "out"
    export_annotations(write(tmp_path, corpus()), out)
    card = (out / "README.md").read_text(encoding="utf-8")
    section = card.split("## Agreement")[1].split("##")[0]
    assert "No unit of this export carries two annotations" in section
    assert "the project README reports it" in section
    assert "κ" not in section and not any(c.isdigit() for c in section)


def test_verify_export_accepts_an_export_and_names_a_broken_one(tmp_path):
    out = tmp_path / "out"
    report = export_annotations(write(tmp_path, corpus()), out)
    rows = verify_export(out)
    assert rows == {name: s.units for name, s in report.splits.items()}
    (out / "data" / "test.parquet").unlink()
    with pytest.raises(ExportError, match="not a readable export"):
        verify_export(out)


def test_re_export_replaces_an_earlier_export_but_not_other_files(tmp_path):
    path = write(tmp_path, corpus())
    out = tmp_path / "out"
    export_annotations(path, out, seed=1)
    export_annotations(path, out, seed=2, new_splits=True)  # an earlier export is replaced
    assert datasets.load_from_disk(str(out / "dataset"))["train"].num_rows > 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match="not empty"):
        export_annotations(path, other)
    assert (other / "notes.txt").read_text() == "keep me"


# --------------------------------------------------------------------------- splits


def test_splits_by_document_are_deterministic_and_cover_types():
    tasks = corpus(docs=24)
    first = build_export(tasks, seed=5).dataset
    again = build_export(tasks, seed=5).dataset
    other = build_export(tasks, seed=6).dataset
    docs = {name: set(split["doc_id"]) for name, split in first.items()}
    assert not docs["train"] & docs["validation"]
    assert not docs["train"] & docs["test"]
    assert not docs["validation"] & docs["test"]
    assert set().union(*docs.values()) == {f"doc{d:02d}" for d in range(24)}
    assert docs == {name: set(split["doc_id"]) for name, split in again.items()}
    assert docs != {name: set(split["doc_id"]) for name, split in other.items()}
    for split in first.values():
        assert set(split["measure_type"]) == set(range(len(MEASURE_TYPES)))
    assert len(first["train"]) > len(first["validation"])


def test_split_sizes_follow_fractions_and_zero_leaves_a_split_out():
    tasks = corpus(docs=40)
    export = build_export(tasks, sizes=SplitSizes(train=0.5, validation=0.0, test=0.5))
    assert set(export.dataset) == {"train", "test"}
    assert abs(export.dataset["train"].num_rows - export.dataset["test"].num_rows) <= 8
    with pytest.raises(ExportError, match="add up to"):
        SplitSizes(train=0.8, validation=0.3, test=0.1)


def test_rare_type_goes_to_train_then_test_and_is_reported_missing():
    doc_units = {f"d{i}": 10 for i in range(10)}
    doc_types = {d: {"other"} for d in doc_units}
    doc_types["d3"] = {"other", "training"}
    doc_types["d8"] = {"other", "training"}
    mapping = assign_splits(doc_units, doc_types, sizes=SplitSizes(), seed=1)
    assert {mapping["d3"], mapping["d8"]} == {"train", "test"}

    tasks = []
    for d in range(10):
        data = unit(f"doc{d}", 0)
        tasks.append(task(data, ann(data, "training" if d == 4 else "other")))
    report = build_export(tasks).report
    train_has = report.splits["train"].measure_types["training"] == 1
    assert train_has
    assert "training" in report.splits["test"].missing_measure_types
    assert any("lacks training" in note for note in report.notes())


def test_kept_splits_survive_corrections_and_new_documents(tmp_path):
    """`--keep-splits`: a corrected label or a new document reshuffles no published
    document; the new ones are assigned around them."""
    first = export_annotations(corpus(docs=24), tmp_path / "out")
    before = previous_splits(tmp_path / "out")
    assert first.documents_kept_in_split == 0 and len(before) == 24

    changed = corpus(docs=30)  # six new documents
    for t in changed[:8]:  # and two old ones relabelled throughout
        t["annotations"][0]["result"][0]["value"]["choices"] = ["other"]
    unkept = build_export(changed).dataset
    report = export_annotations(changed, tmp_path / "out", keep_splits_of=tmp_path / "out")
    after = previous_splits(tmp_path / "out")
    assert {doc: after[doc] for doc in before} == before
    assert len(after) == 30 and report.documents_kept_in_split == 24
    assert "24 documents kept the split" in (tmp_path / "out" / "README.md").read_text("utf-8")
    # without it the same change moves published documents (what the option is for)
    moved = {
        doc
        for name, part in unkept.items()
        for doc in part["doc_id"]
        if before.get(doc, name) != name
    }
    assert moved


def test_keeping_a_split_the_fractions_leave_out_is_refused(tmp_path):
    export_annotations(corpus(docs=24), tmp_path / "out")
    with pytest.raises(ExportError, match="'test' split, which these fractions leave out"):
        export_annotations(
            corpus(docs=24),
            tmp_path / "out",
            sizes=SplitSizes(train=0.9, validation=0.1, test=0.0),
            keep_splits_of=tmp_path / "out",
        )


def test_fractions_or_seed_given_for_a_re_export_that_keeps_splits_are_refused(tmp_path):
    """They would place no document, yet the card and report named them."""
    out = tmp_path / "out"
    export_annotations(corpus(docs=24), out)
    card = (out / "README.md").read_text("utf-8")
    for given in ({"sizes": SplitSizes(0.7, 0.15, 0.15)}, {"seed": 2}):
        with pytest.raises(ExportError, match="splits a re-export keeps.*--new-splits") as caught:
            export_annotations(corpus(docs=24), out, **given)
        assert "\n" not in str(caught.value)
        assert (out / "README.md").read_text("utf-8") == card
    redrawn = export_annotations(
        corpus(docs=24), out, sizes=SplitSizes(0.7, 0.15, 0.15), new_splits=True
    )
    assert redrawn.split_sizes == {"train": 0.7, "validation": 0.15, "test": 0.15}
    assert "Target fractions train 0.7, validation 0.15, test 0.15" in (
        out / "README.md"
    ).read_text("utf-8")


def test_card_and_report_say_splits_were_kept_instead_of_naming_fractions(tmp_path):
    out = tmp_path / "out"
    export_annotations(corpus(docs=24), out)
    report = export_annotations(corpus(docs=24), out)  # a re-run keeps the output's splits
    card = (out / "README.md").read_text("utf-8")
    saved = json.loads((out / "export-report.json").read_text("utf-8"))
    assert f"The splits were kept from `{out}`" in card
    assert "24 documents kept the split they had there, 0 were newly assigned." in card
    assert "Target fractions" not in card and "seed 13" not in card
    assert (saved["seed"], saved["split_sizes"], saved["documents_newly_assigned"]) == (
        None,
        None,
        0,
    )
    assert report.documents_kept_in_split == saved["documents_kept_in_split"] == 24

    # new documents are placed by the fractions and seed: then they are named
    report = export_annotations(
        corpus(docs=30), out, keep_splits_of=out, sizes=SplitSizes(0.7, 0.15, 0.15)
    )
    card = (out / "README.md").read_text("utf-8")
    assert "24 documents kept the split they had there, 6 were newly assigned around them" in card
    assert "target fractions train 0.7, validation 0.15, test 0.15 of the units, seed 13" in card
    assert (report.documents_newly_assigned, report.seed) == (6, 13)


def test_export_report_records_the_export_whose_splits_were_kept(tmp_path):
    export_annotations(corpus(docs=24), tmp_path / "earlier")
    report = export_annotations(
        corpus(docs=24), tmp_path / "out", keep_splits_of=tmp_path / "earlier"
    )
    saved = json.loads((tmp_path / "out" / "export-report.json").read_text("utf-8"))
    assert saved["splits_kept_from"] == report.splits_kept_from == str(tmp_path / "earlier")
    fresh = export_annotations(corpus(docs=24), tmp_path / "fresh")
    assert fresh.splits_kept_from is None


def test_keep_splits_refuses_a_damaged_or_inconsistent_export(tmp_path):
    export_annotations(corpus(docs=24), tmp_path / "out")
    data = tmp_path / "out" / "data"
    (data / "extra.parquet").write_bytes((data / "train.parquet").read_bytes())
    with pytest.raises(ExportError, match="also in 'extra'|also in 'train'"):
        previous_splits(tmp_path / "out")
    (data / "extra.parquet").write_bytes(b"not parquet")
    with pytest.raises(ExportError, match="not a readable export split.*re-export"):
        previous_splits(tmp_path / "out")


def test_keep_splits_of_a_directory_without_an_export_says_so(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExportError, match="no earlier export here"):
        export_annotations(corpus(docs=4), tmp_path / "out", keep_splits_of=tmp_path / "empty")


def test_a_split_without_documents_is_left_out_and_reported(tmp_path):
    report = export_annotations(corpus(docs=2), tmp_path / "out")
    assert set(report.splits) == {"train", "test"}
    assert report.empty_splits == ("validation",)
    assert any("validation left out" in note for note in report.notes())
    assert verify_export(tmp_path / "out") == {"train": 4, "test": 4}


# --------------------------------------------------------------------------- policies


def three_way(policy: Policy, types, spans_by_annotator, stamps=None):
    data = unit("docA", 0)
    stamps = stamps or [f"2025-03-0{i + 1}T10:00:00Z" for i in range(len(types))]
    annotations = [
        ann(data, t, s, annotator=i + 1, ann_id=i + 1, updated_at=stamps[i])
        for i, (t, s) in enumerate(zip(types, spans_by_annotator, strict=True))
    ]
    return build_export([task(data, *annotations)], policy=policy)


RB = (0, 4, "RESPONSIBLE_BODY")
DL = (6, 15, "DEADLINE")


def only_row(export):
    rows = [row for split in export.dataset.values() for row in split]
    assert len(rows) == 1
    return rows[0]


def test_majority_policy_votes_type_and_spans():
    export = three_way(
        Policy.MAJORITY, ["risk_hazard", "risk_hazard", "enforcement"], [[RB, DL], [RB], [DL]]
    )
    row = only_row(export)
    assert MEASURE_TYPES[row["measure_type"]] == "risk_hazard"
    # RB marked by 2 of 3, DL by 2 of 3: both kept.
    assert [(s["start"], s["end"]) for s in row["spans"]] == [(0, 4), (6, 15)]
    assert row["annotator"] == "1,2,3"
    # Two annotators disagreeing: the latest one breaks the tie, for type and spans.
    export = three_way(Policy.MAJORITY, ["risk_hazard", "enforcement"], [[RB], [DL]])
    row = only_row(export)
    assert MEASURE_TYPES[row["measure_type"]] == "enforcement"
    assert [(s["start"], s["end"]) for s in row["spans"]] == [(6, 15)]


def test_latest_policy_takes_the_last_updated_annotation():
    stamps = ["2025-03-05T10:00:00Z", "2025-03-01T10:00:00Z"]
    row = only_row(three_way(Policy.LATEST, ["training", "other"], [[RB], []], stamps))
    assert MEASURE_TYPES[row["measure_type"]] == "training"
    assert row["annotator"] == "1"


def test_drop_conflicts_policy_counts_what_it_leaves_out():
    data = [unit("docA", i) for i in range(2)]
    tasks = [
        task(
            data[0],
            ann(data[0], "training", [RB], annotator=1),
            ann(data[0], "training", [RB], annotator=2, ann_id=2),
        ),
        task(
            data[1],
            ann(data[1], "training", [], annotator=1),
            ann(data[1], "other", [], annotator=2, ann_id=2),
        ),
    ]
    export = build_export(tasks, policy=Policy.DROP_CONFLICTS)
    assert export.report.conflicts_dropped == 1
    assert export.report.units_exported == 1
    assert only_row(export)["annotator"] == "1,2"
    assert build_export(tasks, policy=Policy.MAJORITY).report.units_exported == 2


# --------------------------------------------------------------------------- agreement


def test_cohen_kappa_matches_hand_computed_value():
    # 2x2 table: both yes 20, a-yes/b-no 5, a-no/b-yes 10, both no 15.
    # p_o = 35/50 = 0.7; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.2/0.5 = 0.4.
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    from sklearn.metrics import cohen_kappa_score

    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert cohen_kappa(["x", "x"], ["x", "x"]) is None
    assert cohen_kappa([], []) is None


def agreement_case() -> list[dict]:
    """Four units judged by annotators 1 and 2, one unit by annotator 1 only.

    measure types  a: enf, enf, train, other   b: enf, train, train, other
      p_o = 3/4; marginals a (2,1,1), b (1,2,1) -> p_e = (2+2+1)/16 = 5/16
      kappa = (12/16 - 5/16) / (11/16) = 7/11
    spans          RESPONSIBLE_BODY: a marks units 1,2,3 (0,4); b marks 1 (0,4), 2 (0,3)
      -> matched 1 pair of 5 marks: F1 = 2*1 / 5 = 0.4
                   DEADLINE: a marks unit 1 (6,15), b marks unit 1 (6,15) -> F1 = 1
                   FREQUENCY: none -> undefined
      micro: 2*2 / 7
    """
    a_types = ["enforcement", "enforcement", "training", "other"]
    b_types = ["enforcement", "training", "training", "other"]
    a_spans = [[RB, DL], [RB], [RB], []]
    b_spans = [[RB, DL], [(0, 3, "RESPONSIBLE_BODY")], [], []]
    tasks = []
    for i in range(4):
        data = unit("docK", i, TEXTS[0])
        tasks.append(
            task(
                data,
                ann(
                    data, a_types[i], a_spans[i], annotator={"id": 1, "email": "a@x"}, ann_id=10 + i
                ),
                ann(
                    data, b_types[i], b_spans[i], annotator={"id": 2, "email": "b@x"}, ann_id=20 + i
                ),
            )
        )
    single = unit("docK", 4, TEXTS[1])
    tasks.append(task(single, ann(single, "enforcement", [], annotator=1, ann_id=30)))
    return tasks


def test_agreement_on_constructed_case():
    report = build_export(agreement_case()).report
    a = report.agreement
    assert (a.units, a.pairs) == (4, 4)
    assert a.measure_type_observed == pytest.approx(0.75)
    assert a.measure_type_kappa == pytest.approx(7 / 11)
    assert a.span_f1["RESPONSIBLE_BODY"] == pytest.approx(0.4)
    assert a.span_f1["DEADLINE"] == pytest.approx(1.0)
    assert a.span_f1["FREQUENCY"] is None
    assert a.span_f1_micro == pytest.approx(4 / 7)
    assert report.multi_annotated_tasks == 4
    # one type against the rest: enforcement a TTFF / b TFFF -> (3/4 - 1/2) / (1/2)
    per_label = a.measure_type_kappa_per_label
    assert per_label["enforcement"] == pytest.approx(0.5)
    assert per_label["training"] == pytest.approx(0.5)
    assert per_label["other"] == pytest.approx(1.0)
    assert per_label["emergency"] is None  # neither pass used it


# --------------------------------------------------------------------------- counted, not dropped


def test_cancelled_incomplete_and_unannotated_are_counted():
    data = [unit("docC", i) for i in range(5)]
    tasks = [
        task(data[0], ann(data[0], "training")),
        task(data[1]),  # no annotation
        task(data[2], ann(data[2], None, cancelled=True)),  # skipped
        task(data[3], ann(data[3], None, [RB])),  # spans but no measure type
        task(
            data[4],
            ann(data[4], None, cancelled=True, ann_id=2),
            ann(data[4], "other", annotator=2),
        ),
    ]
    report = build_export(tasks).report
    assert report.tasks == 5
    assert report.units_exported == 2
    assert report.tasks_without_annotation == 1
    assert report.cancelled_annotations == 2
    assert report.incomplete_annotations == 1
    assert report.tasks_without_usable_annotation == 2
    notes = " | ".join(report.notes())
    assert "2 cancelled/skipped annotations" in notes and "1 tasks without any annotation" in notes


def test_mismatched_span_is_an_error_naming_task_and_span_unless_skipped():
    data = unit("docM", 0)
    bad = task(data, ann(data, "training", [RB], span_text="市消防救援局"))
    good = task(unit("docM", 1), ann(unit("docM", 1), "other"))
    with pytest.raises(ExportError) as caught:
        build_export([good, bad])
    message = str(caught.value)
    assert f"task {bad['id']}" in message and "[0, 4)" in message and "市消防救援局" in message
    assert "--skip-invalid" in message

    report = build_export([good, bad], skip_invalid=True).report
    assert len(report.invalid_spans) == 1
    assert report.invalid_spans[0].task_id == bad["id"]
    assert report.units_exported == 2  # the unit stays, without the bad span


def test_out_of_range_and_overlapping_spans_are_invalid():
    data = unit("docO", 0)
    out_of_range = task(data, ann(data, "training", [(20, 99, "DEADLINE")], span_text="x"))
    with pytest.raises(ExportError, match="does not match"):
        build_export([out_of_range])
    overlapping = task(
        data, ann(data, "training", [(0, 4, "RESPONSIBLE_BODY"), (2, 8, "DEADLINE")])
    )
    with pytest.raises(ExportError, match="overlaps"):
        build_export([overlapping])
    report = build_export([overlapping], skip_invalid=True).report
    assert [s.label for s in report.invalid_spans] == ["DEADLINE"]


def test_utf16_offsets_after_an_astral_character_are_converted():
    text = "𠀀市应急局负责。"  # U+20000 counts 2 in UTF-16, 1 in Python
    data = unit("docU", 0, text)
    a = ann(data, "responsibility", [(2, 6, "RESPONSIBLE_BODY")], span_text="市应急局")
    export = build_export([task(data, a)])
    row = only_row(export)
    assert row["spans"][0]["start"] == 1 and row["spans"][0]["end"] == 5
    assert row["tokens"][0] == "𠀀" and len(row["tokens"]) == len(text)
    assert export.report.offsets_converted_from_utf16 == 1


def test_chinese_names_in_stored_values_map_back_to_ids():
    data = unit("docZ", 0)
    a = ann(data, "培训与能力建设", [(0, 4, "责任主体")])
    row = only_row(build_export([task(data, a)]))
    assert MEASURE_TYPES[row["measure_type"]] == "training"
    assert SPAN_LABELS[row["spans"][0]["label"]] == "RESPONSIBLE_BODY"


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("this is not json", "not JSON"),
        ('{"unit_id": "a"}\n{"unit_id": "b"}\n', "JSON Lines"),
        ('{"tasks": []}', "found a JSON dict"),
        (
            '[{"id": 1, "text": "x", "measure_type": "other"}]',
            "item 0 has no 'data' or 'annotations'",
        ),
        ('[{"data": {"text": "x"}}]', "item 0 has no 'annotations'"),
    ],
)
def test_not_label_studio_json_gives_one_clear_message(tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ExportError, match=expected) as caught:
        read_label_studio_json(path)
    assert "\n" not in str(caught.value)
    assert "Label Studio" in str(caught.value)


def test_a_directory_given_as_annotations_says_what_was_expected(tmp_path):
    export_annotations(corpus(docs=4), tmp_path / "export")
    with pytest.raises(ExportError, match="export` wrote, not annotations.*--keep-splits"):
        read_label_studio_json(tmp_path / "export")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ExportError, match="is a directory; expected a Label Studio JSON"):
        read_label_studio_json(tmp_path / "folder")
    with pytest.raises(ExportError, match="no such file"):
        read_label_studio_json(tmp_path / "missing.json")


def test_datasets_cache_files_in_an_export_are_git_ignored(project_root):
    """`.filter()`/`.map()` on a `load_from_disk` dataset write cache-*.arrow beside its data."""
    import shutil
    import subprocess

    if shutil.which("git") is None or not (project_root / ".git").exists():
        pytest.skip("needs the git checkout")
    dataset = "exports/corpus/dataset/train"

    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=project_root).returncode == 0

    assert ignored(f"{dataset}/cache-0a1b2c3d4e5f6789.arrow")
    assert not ignored(f"{dataset}/data-00000-of-00001.arrow")


def test_tasks_not_made_by_push_are_refused():
    with pytest.raises(ExportError, match="data has no 'unit_id'.*corpus-tools push"):
        build_export([{"id": 4, "data": {"text": "一句话。"}, "annotations": []}])


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {"from_name": "measure_type", "type": "choices", "value": {"choices": ["positive"]}},
            "measure type 'positive' is not in the schema",
        ),
        (
            {
                "from_name": "spans",
                "type": "labels",
                "value": {"start": 0, "end": 4, "text": "市应急局", "labels": ["PER"]},
            },
            "span label 'PER' is not in the schema",
        ),
        (
            {"from_name": "sentiment", "type": "choices", "value": {"choices": ["Positive"]}},
            "result from 'sentiment' is not in the corpus-tools label config",
        ),
    ],
)
def test_labels_of_a_different_config_are_refused(result, expected):
    data = unit("docL", 0)
    annotation = ann(data, "training") | {"result": [result]}
    with pytest.raises(ExportError, match=expected) as caught:
        build_export([task(data, annotation)])
    assert "different label config" in str(caught.value)


def test_empty_project_is_refused(tmp_path):
    with pytest.raises(ExportError, match="no tasks"):
        export_annotations(write(tmp_path, []), tmp_path / "out")
    data = unit("docE", 0)
    with pytest.raises(ExportError, match="nothing to export.*1 without annotation"):
        export_annotations([task(data)], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_units_of_notices_held_out_for_evaluation_are_left_out_and_counted(tmp_path):
    held_text = "各县区应急管理部门要于年底前完成危险化学品企业专项检查。"
    held = tmp_path / "external"
    held.mkdir()
    (held / "notice.txt").write_text(f"关于开展专项检查的通知\n{held_text}\n", encoding="utf-8")
    tasks = corpus(docs=12)
    annotated = unit("ext01", 0, held_text)
    tasks.append(task(annotated, ann(annotated, "enforcement")))
    report = export_annotations(tasks, tmp_path / "out", held_out=[held])
    assert report.tasks_held_out == 1 and report.units_exported == 48
    assert "1 tasks of notices held out for evaluation left out (--held-out)" in report.notes()
    exported = datasets.load_from_disk(str(tmp_path / "out" / "dataset"))
    assert held_text not in {text for split in exported.values() for text in split["text"]}
