"""The train / evaluate / prelabel commands: output, JSON report, one-line errors."""

from __future__ import annotations

import json

import pytest
from conftest import SAMPLE_NOTICES
from typer.testing import CliRunner

from corpus_tools.cli import app
from corpus_tools.schema import SPAN_LABELS

runner = CliRunner(env={"COLUMNS": "200"})


def test_train_command_with_overrides(tiny_export, tmp_path):
    out = tmp_path / "model"
    result = runner.invoke(
        app,
        [
            "train",
            str(tiny_export),
            "-o",
            str(out),
            "--max-steps",
            "6",
            "--set",
            "training.eval_frequency=3",
            "--set",
            "components.crf_spans.max_iterations=20",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "step     3/6" in result.output and "rules DEADLINE" in result.output
    assert f"wrote {out} (zh_worksafety_prelabel-0.1.0)" in result.output
    assert (out / "meta.json").is_file()


def test_evaluate_command_tables_and_json(tiny_model, tiny_export, tmp_path):
    json_out = tmp_path / "scores.json"
    result = runner.invoke(
        app, ["evaluate", str(tiny_model), str(tiny_export), "--json-out", str(json_out)]
    )
    assert result.exit_code == 0, result.output
    for expected in (
        "measure type",
        "baseline",
        "macro-F1",
        "confusion matrix",
        "spans (exact match)",
    ):
        assert expected in result.output
    data = json.loads(json_out.read_text(encoding="utf-8"))
    assert data["split"] == "test" and data["n_units"] == 20
    assert set(data["spans"]["per_label"]) == set(SPAN_LABELS)
    assert "macro_f1" in data["baseline_measure_type"]


def test_prelabel_command(tiny_model, tmp_path):
    out = tmp_path / "pre.parquet"
    result = runner.invoke(
        app,
        [
            "prelabel",
            str(SAMPLE_NOTICES / "001_adfa3942083f85c1.txt"),
            "-o",
            str(out),
            "--model",
            str(tiny_model),
            "--body-only",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "units pre-labelled" in result.output and out.is_file()


def _one_line_error(result, *needles):
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    for needle in needles:
        assert needle in lines[0]


def test_errors_are_one_line(tiny_model, tmp_path):
    _one_line_error(
        runner.invoke(app, ["evaluate", str(tmp_path), str(tmp_path)]),
        "not a spaCy model directory",
    )
    _one_line_error(
        runner.invoke(app, ["evaluate", str(tiny_model), str(tmp_path)]),
        "not an export directory",
    )
    _one_line_error(
        runner.invoke(app, ["train", str(tmp_path), "-o", str(tmp_path / "m")]),
        "not an export directory",
    )
    _one_line_error(
        runner.invoke(
            app,
            [
                "prelabel",
                str(SAMPLE_NOTICES),
                "-o",
                str(tmp_path / "o.jsonl"),
                "--model",
                str(tmp_path / "none"),
            ],
        ),
        "no such model directory",
    )
    _one_line_error(
        runner.invoke(
            app,
            [
                "prelabel",
                str(SAMPLE_NOTICES),
                "-o",
                str(tmp_path / "o.jsonl"),
                "--model",
                str(tiny_model),
                "--push",
            ],
        ),
        "--push needs --project",
    )


def _write_gold(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_evaluate_on_a_gold_file_of_other_notices(tiny_model, tiny_export, tmp_path):
    text = "各县（区）应急管理部门要每月开展一次检查。"
    gold = _write_gold(
        tmp_path / "external.jsonl",
        [
            {
                "unit_id": "ext:0001",
                "doc_id": "02_shandong#2024",
                "text": text,
                "measure_type": "oversight",
                "spans": [
                    {"start": 0, "end": 11, "label": "RESPONSIBLE_BODY", "text": text[:11]},
                    {"start": 12, "end": 14, "label": "FREQUENCY", "text": "每月"},
                ],
            },
            {
                "unit_id": "ext:0002",
                "doc_id": "04_nea",
                "text": "加强宣传教育。",
                "measure_type": "study_publicity",
                "spans": [],
            },
        ],
    )
    json_out = tmp_path / "scores.json"
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(tiny_model),
            str(tiny_export),
            "--gold",
            str(gold),
            "--json-out",
            str(json_out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "on external.jsonl (2 units)" in result.output
    data = json.loads(json_out.read_text(encoding="utf-8"))
    assert data["split"] == "external.jsonl" and data["n_units"] == 2
    assert data["spans"]["per_label"]["RESPONSIBLE_BODY"]["support"] == 1
    assert data["spans"]["per_label"]["FREQUENCY"]["support"] == 1
    # each notice scored on its own, beside the baseline
    assert "per notice" in result.output and "baseline fitted on: train" in result.output
    notices = {n["group"]: n for n in data["per_notice"]}
    assert set(notices) == {"02_shandong", "04_nea"}
    assert notices["02_shandong"]["units"] == notices["04_nea"]["units"] == 1
    assert notices["02_shandong"]["span_f1"]["FREQUENCY"] == 1.0
    # no FREQUENCY span in the NEA notice: its F1 is undefined, not 0
    assert "FREQUENCY" not in notices["04_nea"]["span_f1"]
    # one unit a notice: the interval of the difference from the baseline is a point
    for notice in notices.values():
        difference = notice["macro_f1"] - notice["baseline_macro_f1"]
        assert notice["difference_interval"] == [pytest.approx(difference, abs=1e-3)] * 2
    assert all(n["coverage"][-1]["units"] == 1 for n in notices.values())
    # the surest share of two units is one unit: the model's surer prediction
    assert "accuracy of the surest predictions" in result.output
    surest, everything = data["coverage"][0], data["coverage"][-1]
    assert surest["units"] == 1 and everything["units"] == 2
    assert everything["accuracy"] == data["measure_type"]["accuracy"]
    assert everything["min_score"] <= surest["min_score"]
    assert data["baseline_coverage"][-1]["accuracy"] == data["baseline_measure_type"]["accuracy"]


def test_evaluate_scores_several_gold_files_together(tiny_model, tiny_export, tmp_path):
    first = _write_gold(
        tmp_path / "a.jsonl",
        [{"unit_id": "a:1", "text": "企业要整改。", "measure_type": "risk_hazard", "spans": []}],
    )
    second = _write_gold(
        tmp_path / "b.jsonl",
        [
            {
                "unit_id": "b:1",
                "text": "加强宣传教育。",
                "measure_type": "study_publicity",
                "spans": [],
            },
            {"unit_id": "b:2", "text": "开展应急演练。", "measure_type": "emergency", "spans": []},
        ],
    )
    json_out = tmp_path / "scores.json"
    args = ["evaluate", str(tiny_model), str(tiny_export), "--no-baseline"]
    result = runner.invoke(
        app, [*args, "--gold", str(first), "--gold", str(second), "--json-out", str(json_out)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(json_out.read_text(encoding="utf-8"))
    assert data["split"] == "a.jsonl + b.jsonl" and data["n_units"] == 3
    assert sum(s["support"] for s in data["measure_type"]["per_label"].values()) == 3
    # no baseline fitted: the surest-predictions table has no baseline column
    assert data["baseline_coverage"] == [] and data["coverage"][-1]["units"] == 3
    said = " ".join(result.output.split())  # the console wraps a narrow table's title
    assert "accuracy of the surest predictions" in said and "baseline accuracy" not in said


def test_evaluate_gold_file_with_a_wrong_offset_is_one_line(tiny_model, tiny_export, tmp_path):
    gold = _write_gold(
        tmp_path / "bad.jsonl",
        [
            {
                "text": "企业要整改。",
                "measure_type": "risk_hazard",
                "spans": [{"start": 0, "end": 3, "label": "RESPONSIBLE_BODY", "text": "企业"}],
            }
        ],
    )
    _one_line_error(
        runner.invoke(app, ["evaluate", str(tiny_model), str(tiny_export), "--gold", str(gold)]),
        "bad.jsonl:1: span",
        "does not match text[0:3]",
    )


def test_evaluate_reads_rules_alone_as_the_pipeline_does(tiny_model, tiny_export, tmp_path):
    """The rules-alone column reads a spaced unit without its stray spaces, as
    `rule_spans` does, so the two columns compare the same rules."""
    text = "各区县应急局 要在年底前完成。"
    gold = _write_gold(
        tmp_path / "spaced.jsonl",
        [
            {
                "unit_id": "s:1",
                "text": text,
                "measure_type": "responsibility",
                "spans": [
                    {"start": 0, "end": 6, "label": "RESPONSIBLE_BODY", "text": "各区县应急局"}
                ],
            }
        ],
    )
    json_out = tmp_path / "scores.json"
    args = ["evaluate", str(tiny_model), str(tiny_export), "--no-baseline", "--gold", str(gold)]
    result = runner.invoke(app, [*args, "--json-out", str(json_out)])
    assert result.exit_code == 0, result.output
    rules = json.loads(json_out.read_text(encoding="utf-8"))["rules_only_spans"]["per_label"]
    assert rules["RESPONSIBLE_BODY"]["recall"] == 1.0


def test_bad_paths_and_options_are_one_line_before_any_work(tiny_model, tiny_export, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    # the model path is wrong too: the output is checked first, before minutes of scoring
    _one_line_error(
        runner.invoke(
            app,
            [
                "evaluate",
                str(tmp_path / "no-model"),
                str(tiny_export),
                "--json-out",
                str(blocker / "scores.json"),
            ],
        ),
        f"{blocker}: File exists; a file stands where a folder is needed",
    )
    _one_line_error(
        runner.invoke(app, ["train", str(tiny_export), "-o", str(blocker / "model")]),
        f"{blocker / 'model'}: Not a directory; a file stands where a folder is needed",
    )
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(bytes(range(128, 256)))
    _one_line_error(
        runner.invoke(app, ["evaluate", str(tiny_model), str(tiny_export), "--gold", str(garbage)]),
        "garbage.jsonl: not UTF-8 text",
    )
    folds = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["evaluate", str(tiny_model), str(tiny_export), "--group-by", "sector", "--folds", "1"]
    )
    assert folds.exit_code == 2 and "Traceback" not in folds.output
    assert "--folds" in folds.output and "greater than or equal to 2" in folds.output
    _one_line_error(
        runner.invoke(app, ["evaluate", str(tmp_path / "none"), str(tiny_export)]),
        "give the path of one",
    )


def test_evaluate_tables_read_in_an_80_column_terminal(tiny_model, tiny_export, tmp_path):
    from rich.cells import cell_len

    # notices named as the external ones are: long file stems
    rows = [
        {
            "unit_id": f"ext:{i:04d}",
            "doc_id": f"0{i % 2 + 1}_guowuyuan_anwei_2024_2_zhiben_gongjian_fangan_md",
            "text": text,
            "measure_type": label,
            "spans": [],
        }
        for i, (text, label) in enumerate(
            [
                ("加强宣传教育。", "study_publicity"),
                ("企业要整改隐患。", "risk_hazard"),
                ("开展应急演练。", "emergency"),
                ("建立检查制度。", "institution"),
            ]
        )
    ]
    gold = _write_gold(tmp_path / "external.jsonl", rows)
    json_out = tmp_path / "scores.json"
    narrow = CliRunner(env={"COLUMNS": "80"})
    args = ["evaluate", str(tiny_model), str(tiny_export), "--gold", str(gold)]
    result = narrow.invoke(app, [*args, "--json-out", str(json_out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    data = json.loads(json_out.read_text(encoding="utf-8"))
    # every figure whole, in the row of its notice or label
    for notice in data["per_notice"]:
        # the first row a notice opens is in the macro-F1 table, the second in the spans'
        macro_row, spans_row = [
            line for line in lines if line.startswith(f" {notice['group'][:3]}")
        ]
        assert macro_row.split()[-6:-3] == [
            str(notice["units"]),
            str(notice["documents"]),
            f"{notice['macro_f1']:.3f}",
        ]
        assert f"{notice['baseline_macro_f1']:.3f}" in macro_row
        assert spans_row.split()[1:3] == [
            f"{notice['accuracy']:.3f}",
            f"{notice['baseline_accuracy']:.3f}",
        ]
    confusion_header = next(line for line in lines if "gold \\ predicted" in line)
    labels = data["measure_type"]["labels"]
    assert confusion_header.split()[3:] == [label[:4] for label in labels]
    label_rows = [line for line in lines if line.startswith(" study_publicity ")]
    assert label_rows, "a label cut short"
    assert any("RESPONSIBLE_BODY" in line and "DEADLINE" in line for line in lines)


def test_evaluate_warns_when_the_split_was_trained_on(tiny_model, tiny_export, tmp_path):
    from corpus_tools.model import train_model

    whole = tmp_path / "whole"
    train_model(tiny_export, whole, max_steps=2, whole_corpus=True)
    json_out = tmp_path / "scores.json"
    result = runner.invoke(
        app, ["evaluate", str(whole), str(tiny_export), "--json-out", str(json_out)]
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"warning: {whole} was trained on the test split" in said
    assert "use --group-by sector" in said
    assert json.loads(json_out.read_text(encoding="utf-8"))["seen_in_training"] is True
    # a model trained on the train split alone, scored on test: no warning
    held_out = runner.invoke(app, ["evaluate", str(tiny_model), str(tiny_export)])
    assert held_out.exit_code == 0 and "warning" not in held_out.output
