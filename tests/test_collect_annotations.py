"""The collector of annotation rounds: a re-run adds nothing, a judgement never lands
on another unit than its own, and a collected judgement is not dropped unasked."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from corpus_tools.segment import iter_units

_SPEC = importlib.util.spec_from_file_location(
    "collect_more_annotations",
    Path(__file__).parent.parent / "scripts" / "collect_more_annotations.py",
)
collect = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(collect)

FINDING = "部分商户在营业期间长时间未关闭防火门，防烟面罩已经过期。"
NOTICE = (
    f"一、检查发现\n{FINDING}\n部分商铺在配电箱内放置杂物，消火栓前堆放货物。\n{FINDING}\n"
    "各部门、各店铺要对照问题清单立即整改，并于月底前报送整改情况。\n"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    for name in ("more", "external", "out", "round"):
        (tmp_path / name).mkdir()
    (tmp_path / "more" / "n.txt").write_text(NOTICE, encoding="utf-8")
    # the leak check reads the external notices; an empty folder would be an error
    (tmp_path / "external" / "other.txt").write_text(
        "各地要加强道路运输安全管理，严厉打击非法营运行为。\n", encoding="utf-8"
    )
    monkeypatch.setattr(collect, "MORE", tmp_path / "more")
    monkeypatch.setattr(collect, "EXTERNAL", tmp_path / "external")
    monkeypatch.setattr(collect, "OUT", tmp_path / "out")
    return tmp_path


def judge(unit, measure_type: str) -> str:
    record = {"unit_id": unit.unit_id, "doc_id": unit.doc_id, "text": unit.text}
    return json.dumps({**record, "measure_type": measure_type, "spans": []}, ensure_ascii=False)


def body_units(project: Path) -> list:
    return [u for u in iter_units([project / "more" / "n.txt"]) if u.kind == "body"]


def collected(project: Path) -> dict[str, str]:
    lines = (project / "out" / "first_pass.jsonl").read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["unit_id"]: json.loads(line)["measure_type"] for line in lines}


def test_a_rerun_adds_nothing_and_a_repeated_text_keeps_its_own_judgement(project: Path):
    first, _, repeat, _ = body_units(project)
    batch = project / "round" / "batch01.resolved.jsonl"
    # only the second copy of FINDING is judged: it must not land on the first
    batch.write_text(judge(repeat, "other") + "\n", encoding="utf-8")
    collect.main(project / "round")
    once = (project / "out" / "first_pass.jsonl").read_bytes()
    collect.main(project / "round")
    assert (project / "out" / "first_pass.jsonl").read_bytes() == once
    assert collected(project) == {repeat.unit_id: "other"}
    # the same judgement under a stale id (a later segmenter re-cut the document)
    # must not fall back onto the copy nobody judged
    stale = json.loads(judge(repeat, "other")) | {"unit_id": "n:0099:stale"}
    (project / "round" / "batch02.resolved.jsonl").write_text(
        json.dumps(stale, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    collect.main(project / "round")
    assert collected(project) == {repeat.unit_id: "other"}
    assert first.unit_id not in collected(project)


def test_a_collected_judgement_whose_unit_is_gone_stops_the_run(project: Path):
    units = body_units(project)
    batch = project / "round" / "batch01.resolved.jsonl"
    batch.write_text("".join(judge(u, "other") + "\n" for u in units), encoding="utf-8")
    collect.main(project / "round")
    batch.unlink()
    (project / "more" / "n.txt").write_text(NOTICE.replace("放置杂物", "堆放杂物"))
    with pytest.raises(SystemExit, match="1 collected first_pass judgements"):
        collect.main(project / "round")
    assert len(collected(project)) == 4  # nothing was written over
    collect.main(project / "round", drop_changed=True)
    assert len(collected(project)) == 3
