"""The committed annotation sets (Label Studio JSON) and the corpus export trained on."""

from __future__ import annotations

import json
import re
from collections import Counter

import datasets
import pytest

from corpus_tools.errors import InputFileError
from corpus_tools.export import verify_export
from corpus_tools.schema import (
    LS_MEASURE_TYPE,
    LS_SPANS,
    MEASURE_TYPES,
    SPAN_LABELS,
    dataset_features,
)
from corpus_tools.segment import iter_units, strip_item_marker
from corpus_tools.sources import evaluation_only
from tests.conftest import NEW_NOTICES, PROJECT_ROOT

STORED = PROJECT_ROOT / "data" / "annotations" / "label-studio"
AGREEMENT = PROJECT_ROOT / "data" / "annotations" / "agreement"
EXPORT = PROJECT_ROOT / "exports" / "corpus"
TRAINING_FILES = sorted(STORED.glob("*.json"))
ALL_FILES = TRAINING_FILES + sorted(AGREEMENT.glob("*.json"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def training_tasks() -> list[dict]:
    return [task for path in TRAINING_FILES for task in load(path)]


def test_the_training_files_are_the_final_sets():
    # every *.json under label-studio/ is training data; both-pass files live apart
    assert [p.name for p in TRAINING_FILES] == ["more.json", "seed.json"]
    assert [p.name for p in sorted(AGREEMENT.glob("*.json"))] == [
        "more-passes.json",
        "seed-passes.json",
    ]


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_stored_label_studio_json_is_sound(path):
    tasks = load(path)
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


def test_training_sets_are_broad_enough(training_tasks):
    data = [t["data"] for t in training_tasks if t["annotations"]]
    assert len(data) >= 3800
    assert len({d["doc_id"] for d in data}) >= 55
    groups = {(d["issuer"], d["sector"]) for d in data}
    assert len(groups) >= 30
    genres = Counter(d["genre"] for d in data)
    assert len(genres) >= 5 and all(genres.values())
    assert genres["年度工作通知"] == 1851 and genres["实施方案"] >= 1500
    assert genres["责任制"] >= 300 and genres["部门规章"] >= 500
    # round 2: an enterprise's rules, inspection findings and three coal-mine regulations
    assert genres["管理制度"] >= 120 and genres["问题清单"] >= 75 and genres["行政法规"] >= 100
    assert len(data) >= 5000 and len({d["doc_id"] for d in data}) >= 90
    # round 3: five local regulations, a ministerial rule and a State Council regulation
    assert genres["地方性法规"] >= 900 and genres["部门规章"] >= 600 and genres["行政法规"] >= 200
    assert len({d["issuer"] for d in data}) >= 15


def test_findings_lists_are_statements_that_order_nothing(training_tasks):
    """Guidelines §2: an inspection's findings order nothing, so every unit of the
    findings lists is `other`; a wrong label id or a stray span would show here."""
    findings = [t for t in training_tasks if t["data"]["genre"] == "问题清单"]
    assert len(findings) >= 75
    for task in findings:
        (annotation,) = task["annotations"]
        kinds = [item["value"].get("choices") for item in annotation["result"]]
        assert [k for k in kinds if k] == [["other"]]
        assert all(item["from_name"] == LS_MEASURE_TYPE for item in annotation["result"])


def _bodies(task) -> list[tuple[int, int, str]]:
    (annotation,) = task["annotations"]
    return [
        (item["value"]["start"], item["value"]["end"], item["value"]["text"])
        for item in annotation["result"]
        if item["from_name"] == LS_SPANS and item["value"]["labels"] == ["RESPONSIBLE_BODY"]
    ]


_PRECONDITION = re.compile(
    r"(?:未经|经)([^，。；,]{2,25}?)(?:审查|批准|同意|审核|考核|验收|认定|核准|确认|备案)"
)


def test_a_precondition_names_no_body(training_tasks):
    """Guide § 11: `经/未经 X 审查/批准……` is a precondition of another's act, so X
    is no RESPONSIBLE_BODY (two first-pass spans of one regulation once said otherwise)."""
    seen = 0
    for task in training_tasks:
        text = task["data"]["text"]
        for match in _PRECONDITION.finditer(text):
            if text[max(0, match.start() - 1) : match.start()] == "已":
                continue
            seen += 1
            inside = [b for b in _bodies(task) if match.start(1) <= b[0] < match.end(1)]
            assert not inside, (text, inside)
    assert seen >= 20


_COMMISSIONED = re.compile(r"(?:委托|聘请|安排|指派)")


def test_a_commissioned_agency_or_a_person_is_no_body(training_tasks):
    """Guide § 12: in `委托/聘请/安排/指派 X 做 Y` the duty stays with the one who
    commissions, and students or guardians are persons, no organisation or post."""
    seen = 0
    for task in training_tasks:
        text = task["data"]["text"]
        bodies = _bodies(task)
        assert not {b[2] for b in bodies} & {"学生", "学生父母", "其他监护人", "监护人"}, text
        for match in _COMMISSIONED.finditer(text):
            seen += 1
            after = [b for b in bodies if match.end() <= b[0] <= match.end() + 1]
            assert not after, (text, after)
    assert seen >= 60


def test_x_ji_qi_y_is_one_body_only_when_y_needs_its_qi(training_tasks):
    """Guide § 11: `X及其有关部门`, `X及其工作人员` are one body; `X机构及其Y人员` (Y a
    name of its own) two."""
    whole, apart = 0, 0
    for task in training_tasks:
        text = task["data"]["text"]
        for *_, body in _bodies(task):
            if "及其" in body:
                whole += 1
                assert re.search("及其(有关)?(部门|人员|工作人员)", body), body
        bodies = _bodies(task)
        for match in re.finditer("及其", text):
            if any(e == match.start() for _, e, _ in bodies) and any(
                s == match.end() for s, _, _ in bodies
            ):
                apart += 1
                assert not re.match("(有关)?部门", text[match.end() :]), text
    assert whole >= 4 and apart >= 5


_DRAWS_UP_A_PLAN = re.compile(
    r"^(?:[^，。；,]{0,20}?(?:要|应当|应))?(?:及时|适时|尽快|组织|认真)?"
    r"(?:修订完善|修订|编制修订|编制|制定落实|制定|制修订)[^，。；,]{0,30}?(?:应急预案|预案|监督检查计划)"
)


def test_drawing_up_a_plan_is_institution(training_tasks):
    """Guide rule 1 (裁定案例 1): drawing up or revising a plan — an emergency plan or an
    inspection plan too — is `institution`, whatever the table says; a consistency
    review of 2026-12-07 d moved the seed's 11 units that read it otherwise. A plan
    that only times the act (`编制应急预案前，……进行风险评估`) or names a condition of revising it
    (`制定预案所依据的法律……发生重大变化；`, `发现需要修订预案的重大问题；`) does not count."""
    seen = 0
    for task in training_tasks:
        text = strip_item_marker(task["data"]["text"])
        if not _DRAWS_UP_A_PLAN.search(text) or re.match(r"[^，。；]*(?:前|时)，", text):
            continue
        if re.search(r"预案所依据|需要(?:修订|制定|编制)", text):  # a condition of revising it
            continue
        seen += 1
        (annotation,) = task["annotations"]
        choices = [i["value"]["choices"] for i in annotation["result"] if "choices" in i["value"]]
        assert choices == [["institution"]], text
    assert seen >= 15


@pytest.mark.parametrize(
    ("review_file", "passes_file"),
    [("review.jsonl", "seed-passes.json"), ("more/review.jsonl", "more-passes.json")],
)
def test_the_consistency_reviews_decisions_are_the_training_labels(
    training_tasks, review_file, passes_file
):
    """Each set's final labels are its final JSON Lines with its `review.jsonl` in place
    (the store script merges them); the passes file keeps what the annotators did."""
    review = [
        json.loads(line)
        for line in (PROJECT_ROOT / "data/annotations" / review_file).open(encoding="utf-8")
    ]
    by_id = {t["data"]["unit_id"]: t for t in training_tasks}
    passes = {t["data"]["unit_id"]: t for t in load(AGREEMENT / passes_file)}
    assert review
    for record in review:
        (annotation,) = by_id[record["unit_id"]]["annotations"]
        choices = [i["value"]["choices"] for i in annotation["result"] if "choices" in i["value"]]
        assert choices == [[record["measure_type"]]]
        assert annotation["completed_by"]["email"].startswith("consistency-review")
        judged_by = {a["completed_by"]["email"] for a in passes[record["unit_id"]]["annotations"]}
        assert "annotator_1@corpus-tools.local" in judged_by
        assert not any(email.startswith("consistency-review") for email in judged_by)


def test_no_training_unit_occurs_in_an_external_notice(training_tasks):
    in_external = evaluation_only([NEW_NOTICES])
    # the check reads inside longer sentences: an external unit's own text is found
    external = [u for u in iter_units([NEW_NOTICES]) if not isinstance(u, InputFileError)]
    assert all(in_external(u.text) for u in external if len(u.text) >= 20)
    assert in_external("2024年1月19日，河南省南阳市方城县独树镇英才学校学生宿舍发生火灾")
    # and one of their sentences inside a longer unit (a sub-plan repeats 01's and goes on)
    assert in_external(
        "落实“谁执法谁普法”普法责任制，深入开展安全生产法治宣传教育，制作播放安全警示宣传片。"
    )
    assert not [t for t in training_tasks if in_external(t["data"]["text"])]


@pytest.mark.parametrize("name", ["seed-passes.json", "more-passes.json"])
def test_each_pass_has_its_own_annotator_account(name):
    passes = load(AGREEMENT / name)
    annotators = {
        annotation["completed_by"]["email"] for task in passes for annotation in task["annotations"]
    }
    assert annotators == {"annotator_1@corpus-tools.local", "annotator_2@corpus-tools.local"}
    doubly = [task for task in passes if len(task["annotations"]) == 2]
    assert len(doubly) >= 200


def test_the_blind_pass_covers_every_genre_and_many_sub_plans():
    passes = load(AGREEMENT / "more-passes.json")
    doubly = [t["data"] for t in passes if len(t["annotations"]) == 2]
    all_units = [t["data"] for t in passes]
    assert len(doubly) >= 0.15 * len(all_units)
    assert {d["genre"] for d in doubly} == {d["genre"] for d in all_units}
    sub_plans = {d["sector"] for d in doubly if d["genre"] == "实施方案"}
    assert len(sub_plans) >= 10


def test_committed_export_loads_both_ways():
    counts = verify_export(EXPORT)
    assert sum(counts.values()) >= 3800
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


def test_external_gold_units_are_the_segmenters_with_their_headings():
    """The external-notice gold carries the unit's text and section path as `segment`
    cuts them, so the model reads the same heading there as in `prelabel`."""
    units = {u.unit_id: u for u in iter_units(sorted(NEW_NOTICES.glob("*.txt")))}
    rows = [
        json.loads(line)
        for path in sorted((PROJECT_ROOT / "data" / "external-eval").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(rows) == 209
    for row in rows:
        unit = units[row["unit_id"]]
        assert (row["text"], row["section_path"]) == (unit.text, list(unit.section_path))
    assert sum(bool(row["section_path"]) for row in rows) > 180
