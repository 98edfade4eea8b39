"""Pre-labelling: record schema, streaming chunks, JSONL/Parquet, processes."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import SAMPLE_NOTICES

from corpus_tools.errors import CorpusToolsError, ModelError
from corpus_tools.model import load_model
from corpus_tools.prelabel import (
    iter_input_units,
    prelabel_files,
    prelabel_units,
    read_prelabels,
)
from corpus_tools.schema import MEASURE_TYPES, SPAN_LABELS, Unit

UNIT_KEYS = set(Unit("u", "d", 0, "body", "x").to_dict())
PRELABEL_KEYS = UNIT_KEYS | {
    "measure_type",
    "measure_type_score",
    "measure_type_top3",
    "spans",
    "deadlines",
    "model_version",
}


def _unit(i: int, text: str, kind: str = "body", date: str | None = "2025-03-06") -> Unit:
    return Unit(f"doc:{i:04d}:x", "doc", i, kind, text, date=date)


UNITS = [
    _unit(0, "一、总体要求", kind="heading"),
    _unit(1, "市消防救援局要年底前每季度开展联合执法检查。"),
    _unit(2, "各级各部门要2025年6月底前完成风险辨识评估和隐患治理。"),
    _unit(3, "安全生产形势总体平稳。"),
    _unit(4, "大同市人民政府", kind="meta"),
]


def check_record(record: dict) -> None:
    assert set(record) == PRELABEL_KEYS
    assert record["measure_type"] in MEASURE_TYPES
    assert 0 <= record["measure_type_score"] <= 1
    top3 = record["measure_type_top3"]
    assert len(top3) == 3 and top3[0]["label"] == record["measure_type"]
    assert [t["score"] for t in top3] == sorted((t["score"] for t in top3), reverse=True)
    for span in record["spans"]:
        assert set(span) == {"start", "end", "label", "text", "score"}
        assert record["text"][span["start"] : span["end"]] == span["text"]
        assert span["label"] in SPAN_LABELS and 0 <= span["score"] <= 1
    deadline_spans = [(s["start"], s["end"]) for s in record["spans"] if s["label"] == "DEADLINE"]
    assert [(d["start"], d["end"]) for d in record["deadlines"]] == deadline_spans
    for d in record["deadlines"]:
        assert set(d) == {"text", "start", "end", "date", "date_start", "relative"}
    assert record["model_version"].startswith("zh_worksafety_prelabel-0.1.0")


def test_prelabel_units_body_only_with_schema(tiny_model):
    nlp = load_model(tiny_model)
    records = [r for chunk in prelabel_units(UNITS, nlp, chunk_size=2) for r in chunk]
    assert [r["unit_index"] for r in records] == [0, 1, 2, 3, 4]
    heading, *records, meta = records
    assert set(heading) == PRELABEL_KEYS and heading["measure_type"] is None
    assert heading["spans"] == [] and meta["model_version"] is None
    for record in records:
        check_record(record)
    body = [r for c in prelabel_units(UNITS, nlp, body_only=True) for r in c]
    assert body == records
    first = records[0]
    assert {(s["text"], s["label"]) for s in first["spans"]} >= {
        ("市消防救援局", "RESPONSIBLE_BODY"),
        ("年底前", "DEADLINE"),
        ("每季度", "FREQUENCY"),
    }
    assert {"text": "年底前", "date": "2025-12-31"}.items() <= first["deadlines"][0].items()
    second = {d["text"]: d["date"] for d in records[1]["deadlines"]}
    assert second == {"2025年6月底前": "2025-06-30"}


def test_two_processes_give_the_same_records_in_order(tiny_model):
    nlp = load_model(tiny_model)
    units = [_unit(i, u.text) for i, u in enumerate(UNITS[1:4] * 20)]
    one = [r for c in prelabel_units(units, nlp, chunk_size=7) for r in c]
    two = [
        r
        for c in prelabel_units(units, nlp, model_dir=tiny_model, n_process=2, chunk_size=7)
        for r in c
    ]
    assert one == two and len(one) == 60


def test_chunks_stream_without_reading_all_input(tiny_model):
    nlp = load_model(tiny_model)
    pulled = []

    def units():
        for i in range(10_000):
            pulled.append(i)
            yield _unit(i, "企业要每月开展隐患排查治理。")

    chunks = prelabel_units(units(), nlp, chunk_size=8)
    assert len(next(chunks)) == 8
    assert len(pulled) <= 9  # one chunk (+ the look-ahead), not the whole input


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_prelabel_files_from_notices_and_back(tiny_model, tmp_path, suffix):
    notice = SAMPLE_NOTICES / "001_adfa3942083f85c1.txt"
    out = tmp_path / f"pre{suffix}"
    seen = []
    report = prelabel_files(
        [notice], out, model_dir=tiny_model, progress=seen.append, chunk_size=50
    )
    records = list(read_prelabels(out))
    assert len(records) == report.units_written == report.units_read
    assert report.units_labelled + report.units_not_body == report.units_read
    assert report.units_labelled > 50
    assert seen[-1] == report.units_written and seen == sorted(seen)
    assert {r["kind"] for r in records} == {"body", "heading", "meta"}
    for record in records:
        if record["kind"] == "body":
            check_record(record)
        else:
            assert record["measure_type"] is None and record["spans"] == []
    assert {r["date"] for r in records} == {"2025-03-06"}


def test_prelabel_reads_units_files(tiny_model, tmp_path):
    units_file = tmp_path / "units.jsonl"
    units_file.write_text(
        "".join(json.dumps(u.to_dict(), ensure_ascii=False) + "\n" for u in UNITS), encoding="utf-8"
    )
    out = tmp_path / "pre.parquet"
    prelabel_files([units_file], out, model_dir=tiny_model)
    again = tmp_path / "again.jsonl"  # a prelabel Parquet file is a units file too
    report = prelabel_files([out], again, model_dir=tiny_model, body_only=True)
    assert report.units_labelled == report.units_written == 3
    assert [r["unit_id"] for r in read_prelabels(again)] == [u.unit_id for u in UNITS[1:4]]


def test_bad_files_come_in_stream_and_the_batch_goes_on(tiny_model, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    notice = SAMPLE_NOTICES / "001_adfa3942083f85c1.txt"
    errors = []
    report = prelabel_files(
        [empty, notice], tmp_path / "o.jsonl", model_dir=tiny_model, on_error=errors.append
    )
    assert len(errors) == 1 and "empty.txt" in str(errors[0])
    assert report.errors and report.units_labelled > 0


def test_nothing_readable_is_an_error(tiny_model, tmp_path):
    with pytest.raises(CorpusToolsError, match="no units read: .*missing.txt"):
        prelabel_files([tmp_path / "missing.txt"], tmp_path / "o.jsonl", model_dir=tiny_model)


def test_broken_units_file_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"unit_id": "a"}\n')
    (item,) = list(iter_input_units([bad]))
    assert "line 1 is not a unit record" in str(item)


def test_missing_model_dir(tmp_path):
    with pytest.raises(ModelError, match="no such model directory"):
        prelabel_files([SAMPLE_NOTICES], tmp_path / "o.jsonl", model_dir=tmp_path / "nope")


def test_a_lone_surrogate_in_a_units_file_is_reported_by_line(tiny_model, tmp_path):
    units = tmp_path / "units.jsonl"
    good = UNITS[1].to_dict()
    broken = {**UNITS[2].to_dict(), "text": "各级各部门要\ud800年底前完成。"}
    units.write_text(
        json.dumps(good, ensure_ascii=False) + "\n" + json.dumps(broken) + "\n", encoding="utf-8"
    )
    errors = []
    report = prelabel_files(
        [units], tmp_path / "o.jsonl", model_dir=tiny_model, on_error=errors.append
    )
    assert len(errors) == 1
    assert (
        "line 2" in str(errors[0])
        and "U+D800" in str(errors[0])
        and "units.jsonl" in str(errors[0])
    )
    assert report.units_labelled == 1  # the good unit before it is written


def test_the_model_reads_the_heading_above_a_unit_in_one_process_and_two():
    # the shipped model has a heading block: the same sentence under two headings
    # gets different scores, and prelabel hands each unit's own heading to it
    from dataclasses import replace

    from corpus_tools.model.context import heading_of
    from corpus_tools.prelabel import DEFAULT_MODEL_DIR, predict_texts

    nlp = load_model(DEFAULT_MODEL_DIR)
    assert nlp.get_pipe("char_ngram_cats").heading_weight > 0
    text = "各地要组织开展一次全面检查。"
    under = {
        heading: replace(_unit(i, text), section_path=("一、总体要求", heading))
        for i, heading in enumerate(("（三）强化应急救援演练", "（一）加强安全宣传教育"))
    }
    records = [r for c in prelabel_units(list(under.values()), nlp) for r in c]
    scores = [tuple(t["score"] for t in r["measure_type_top3"]) for r in records]
    assert scores[0] != scores[1]
    direct = list(
        predict_texts(nlp, [text, text], [heading_of(u.section_path) for u in under.values()])
    )
    assert [p.measure_type_top3 for p in direct] == [
        tuple((t["label"], t["score"]) for t in r["measure_type_top3"]) for r in records
    ]
    (bare,) = predict_texts(nlp, [text])
    assert bare.measure_type_top3 not in [p.measure_type_top3 for p in direct]
    two = [
        r
        for c in prelabel_units(list(under.values()), nlp, model_dir=DEFAULT_MODEL_DIR, n_process=2)
        for r in c
    ]
    assert two == records


def _write_units_file(path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_a_bad_line_is_skipped_and_the_lines_after_it_are_read(tiny_model, tmp_path):
    units = tmp_path / "units.jsonl"
    good = [json.dumps(u.to_dict(), ensure_ascii=False) for u in UNITS]
    _write_units_file(units, good[:2] + ["garbage"] + good[2:])
    errors = []
    prelabel_files([units], tmp_path / "o.jsonl", model_dir=tiny_model, on_error=errors.append)
    assert [str(e) for e in errors] == [
        f"{units}: line 3 is not a unit record (Expecting value: line 1 column 1 (char 0)); "
        "skipped, the other lines are read"
    ]
    written = [r["unit_id"] for r in read_prelabels(tmp_path / "o.jsonl")]
    assert written == [u.unit_id for u in UNITS]  # the units after the bad line too


def test_a_file_of_many_bad_lines_is_summed_up_not_listed(tmp_path):
    bad = tmp_path / "bad.jsonl"
    _write_units_file(bad, ["{}"] * 12)
    items = list(iter_input_units([bad]))
    assert len(items) == 6  # five lines named, one line for the other seven
    assert "7 more lines are not unit records (12 in all)" in str(items[-1])


def test_a_folder_of_units_files_is_read_like_the_ray_engine_reads_it(tiny_model, tmp_path):
    folder = tmp_path / "units"
    folder.mkdir()
    _write_units_file(folder / "a.jsonl", [json.dumps(UNITS[1].to_dict(), ensure_ascii=False)])
    _write_units_file(folder / "b.jsonl", [json.dumps(UNITS[2].to_dict(), ensure_ascii=False)])
    report = prelabel_files([folder], tmp_path / "o.jsonl", model_dir=tiny_model)
    assert report.units_labelled == 2 and not report.errors


def test_a_folder_with_nothing_to_read_is_named(tiny_model, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusToolsError, match="empty: folder holds no notice file"):
        prelabel_files([tmp_path / "empty"], tmp_path / "o.jsonl", model_dir=tiny_model)


def test_an_unknown_output_suffix_is_refused_before_the_model_loads(tmp_path):
    from corpus_tools.errors import OutputPathError

    # the model directory does not exist: the output check must come first
    with pytest.raises(OutputPathError, match=r"o\.csv: expected a file ending in \.jsonl or"):
        prelabel_files([SAMPLE_NOTICES], tmp_path / "o.csv", model_dir=tmp_path / "nope")


def test_a_run_that_reads_nothing_keeps_the_previous_output(tiny_model, tmp_path):
    out = tmp_path / "o.jsonl"
    prelabel_files([SAMPLE_NOTICES / "001_adfa3942083f85c1.txt"], out, model_dir=tiny_model)
    before = out.read_bytes()
    with pytest.raises(CorpusToolsError, match="no units read"):
        prelabel_files([tmp_path / "missing.txt"], out, model_dir=tiny_model)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_a_unit_longer_than_the_model_reads_is_skipped_by_name(tiny_model, tmp_path):
    nlp_limit = load_model(tiny_model).max_length
    huge = Unit("doc:0009:x", "doc", 9, "body", "要" * (nlp_limit + 1))
    units = tmp_path / "units.jsonl"
    _write_units_file(
        units, [json.dumps(u.to_dict(), ensure_ascii=False) for u in (UNITS[1], huge)]
    )
    errors = []
    report = prelabel_files(
        [units], tmp_path / "o.jsonl", model_dir=tiny_model, on_error=errors.append
    )
    assert len(errors) == 1 and str(errors[0]).startswith("doc:0009:x: unit of ")
    assert report.units_labelled == 1


def test_cli_writes_what_it_can_and_exits_1_when_an_input_failed(tiny_model, tmp_path):
    from typer.testing import CliRunner

    from corpus_tools.cli import app

    empty = tmp_path / "empty.txt"
    empty.write_text("")
    out = tmp_path / "o.jsonl"
    notice = SAMPLE_NOTICES / "001_adfa3942083f85c1.txt"
    args = ["prelabel", str(empty), str(notice), "-o", str(out), "--model", str(tiny_model)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert f"skipped: {empty}: file is empty" in result.output
    assert "some input was skipped" in result.output and "Traceback" not in result.output
    assert len(list(read_prelabels(out))) > 100  # the good notice is written
    ok = CliRunner().invoke(app, [a for a in args if a != str(empty)])
    assert ok.exit_code == 0, ok.output


def test_a_folder_of_units_does_not_read_back_the_output_written_into_it(tiny_model, tmp_path):
    folder = tmp_path / "units"
    folder.mkdir()
    _write_units_file(folder / "a.jsonl", [json.dumps(UNITS[1].to_dict(), ensure_ascii=False)])
    out = folder / "pre.jsonl"
    first = prelabel_files([folder], out, model_dir=tiny_model)
    again = prelabel_files([folder], out, model_dir=tiny_model)  # pre.jsonl is there now
    assert first.units_read == again.units_read == 1
    assert [r["unit_id"] for r in read_prelabels(out)] == [UNITS[1].unit_id]


def test_a_dateless_notice_dates_its_deadlines_by_its_year(tmp_path):
    # Seven of the Shanxi notices give no date; their 文号 (晋政发〔2017〕1号) or the
    # year `segment` gave them (`003_…#2010`) tells the year a 年底前 falls in.
    out = tmp_path / "o.jsonl"
    prelabel_files([SAMPLE_NOTICES / "003_5b1f32f4b5edf1e8.txt"], out)
    records = {r["unit_id"]: r for r in read_prelabels(out)}
    for unit_id, year in (
        ("003_5b1f32f4b5edf1e8#2010:0074:a40f54e8", 2010),
        ("003_5b1f32f4b5edf1e8#2011:0062:4282e6a3", 2011),
    ):
        record = records[unit_id]
        assert record["date"] is None
        deadline = next(d for d in record["deadlines"] if d["text"] == "年底前")
        assert deadline["date"] == f"{year}-12-31"


def test_units_read_twice_are_written_once_and_named(tiny_model, tmp_path):
    units = tmp_path / "units.jsonl"
    _write_units_file(units, [json.dumps(u.to_dict(), ensure_ascii=False) for u in UNITS])
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(units.read_bytes())
    errors = []
    out = tmp_path / "o.jsonl"
    report = prelabel_files([units, copy], out, model_dir=tiny_model, on_error=errors.append)
    written = [r["unit_id"] for r in read_prelabels(out)]
    assert written == [u.unit_id for u in UNITS]
    assert report.units_written == len(UNITS)
    assert [str(e) for e in errors] == [
        f"{UNITS[0].unit_id}: and {len(UNITS) - 1} more units were read twice (the same "
        "unit_id): each is written once; do two inputs hold the same notices?"
    ]


def test_records_name_the_model_by_its_files_as_the_ml_backend_does(tiny_model, tmp_path):
    from corpus_tools.model.loading import model_version_of

    units = tmp_path / "units.jsonl"
    _write_units_file(units, [json.dumps(u.to_dict(), ensure_ascii=False) for u in UNITS])
    report = prelabel_files([units], tmp_path / "a.jsonl", model_dir=tiny_model)
    assert report.model_version == model_version_of(tiny_model)
    assert report.model_version.startswith("zh_worksafety_prelabel-0.1.0+")
    body = [r for r in read_prelabels(tmp_path / "a.jsonl") if r["measure_type"]]
    assert {r["model_version"] for r in body} == {report.model_version}
    # a model retrained with the default name and version is another version:
    # `--push` then adds its predictions instead of skipping them as known
    retrained = tmp_path / "retrained"
    shutil.copytree(tiny_model, retrained)
    weights = retrained / "char_ngram_cats" / "weights.npz"
    weights.write_bytes(weights.read_bytes() + b"\0")
    assert model_version_of(retrained) != report.model_version


def test_a_run_logged_to_a_file_prints_its_summary_and_no_stray_lines(tiny_model, tmp_path):
    from typer.testing import CliRunner

    from corpus_tools.cli import app

    notice = SAMPLE_NOTICES / "001_adfa3942083f85c1.txt"
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(
        app, ["prelabel", str(notice), "-o", str(out), "--model", str(tiny_model)]
    )
    assert result.exit_code == 0, result.output
    # no progress display when the output is no terminal: the summary line alone
    assert result.output.splitlines() == [
        line for line in result.output.splitlines() if line.startswith("wrote ")
    ]
    assert len(result.output.splitlines()) == 1
