"""Grouped cross-validation: whole issuers, sectors or genres are held out."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from corpus_tools.cli import app
from corpus_tools.errors import ModelError
from corpus_tools.model import (
    GroupBy,
    accuracy_at_coverage,
    cross_validate,
    iter_gold,
    load_export,
    tfidf_baseline,
)
from corpus_tools.model.cross_validation import (
    calibration_error,
    fit_temperature,
    grouped_folds,
    with_temperature,
)
from corpus_tools.schema import SPAN_LABELS

runner = CliRunner(env={"COLUMNS": "220"})


def test_grouped_folds_never_split_a_group():
    keys = ["a"] * 3 + ["b"] * 2 + ["c"] * 4 + ["d"]
    # leave-one-group-out when there are no more groups than folds
    assert grouped_folds(keys, folds=10) == [[0, 1, 2], [3, 4], [5, 6, 7, 8], [9]]
    packed = grouped_folds(keys, folds=2)
    assert len(packed) == 2 and sorted(i for fold in packed for i in fold) == list(range(10))
    for fold in packed:
        for group in set(keys):
            members = {i for i, k in enumerate(keys) if k == group}
            assert members <= set(fold) or members.isdisjoint(fold)


def test_one_group_is_refused_with_a_reason():
    with pytest.raises(ModelError, match="at least 2 groups"):
        grouped_folds(["a", "a"], folds=5)


def test_calibration_error_is_zero_when_scores_match_accuracy_and_grows_otherwise():
    assert calibration_error([0.75] * 4, [True, True, True, False]) == pytest.approx(0.0)
    assert calibration_error([0.95] * 4, [True, False, False, False]) == pytest.approx(0.70)


def test_accuracy_at_coverage_scores_the_surest_share_first():
    scores = [0.9, 0.2, 0.8, 0.5, 0.95]
    correct = [True, False, True, False, False]
    points = accuracy_at_coverage(scores, correct, coverages=(0.2, 0.6, 1.0))
    # surest first: 0.95 (wrong), 0.9, 0.8 (right), 0.5, 0.2 (wrong)
    assert [(p.units, p.min_score, p.accuracy) for p in points] == [
        (1, 0.95, 0.0),
        (3, 0.8, pytest.approx(2 / 3, abs=1e-4)),
        (5, 0.2, 0.4),
    ]
    assert accuracy_at_coverage([], []) == ()
    with pytest.raises(ValueError, match="2 scores but 1"):
        accuracy_at_coverage([0.1, 0.2], [True])


def test_baseline_scores_its_labels_with_their_probability():
    texts = ["组织开展培训", "开展安全培训", "修订应急预案", "开展应急演练"]
    labels = ["training", "training", "emergency", "emergency"]
    predict = tfidf_baseline(texts, labels)
    scored = predict.scored(["培训考核", "应急演练"])
    assert [label for label, _ in scored] == predict(["培训考核", "应急演练"])
    assert [label for label, _ in scored] == ["training", "emergency"]
    assert all(0.5 < p <= 1.0 for _, p in scored)  # the top of two classes
    # a one-class train split predicts its class, sure of it
    assert tfidf_baseline(["培训"], ["training"]).scored(["x"]) == [("training", 1.0)]


def test_temperature_rescales_without_changing_the_pick():
    p = {"training": 0.6, "other": 0.3, "emergency": 0.1}
    assert with_temperature(p, 1.0) == pytest.approx(p)
    sharper, flatter = with_temperature(p, 0.5), with_temperature(p, 2.0)
    assert sharper["training"] > 0.6 > flatter["training"]
    assert max(sharper, key=sharper.get) == max(flatter, key=flatter.get) == "training"
    assert sum(sharper.values()) == pytest.approx(1.0)


def test_fit_temperature_sharpens_a_cautious_classifier_and_softens_a_sure_one():
    # right 9 times in 10 while saying 0.6: too cautious, a temperature below 1 fits
    cautious = [{"training": 0.6, "other": 0.4}] * 10
    gold = ["training"] * 9 + ["other"]
    assert fit_temperature(cautious, gold) < 1.0
    # right 6 times in 10 while saying 0.99: too sure, a temperature above 1 fits
    sure = [{"training": 0.99, "other": 0.01}] * 10
    assert fit_temperature(sure, ["training"] * 6 + ["other"] * 4) > 1.0
    # already calibrated: 1.0 (ties go to 1.0)
    assert fit_temperature([{"training": 0.5, "other": 0.5}] * 2, ["training", "other"]) == 1.0
    assert fit_temperature([], []) == 1.0


@pytest.mark.slow
def test_cross_validation_holds_out_each_sector_and_scores_it(tiny_export):
    dataset = load_export(tiny_export)
    units = [u for name in dataset for u in iter_gold(dataset[name])]
    seen = []
    result = cross_validate(units, group_by=GroupBy.SECTOR, folds=10, progress=seen.append)
    sectors = {u.sector for u in units}
    assert len(sectors) == 4
    assert result.n_groups == result.folds == len(seen) == 4
    # each fold held out exactly one sector, never trained on it
    assert sorted(p.held_out for p in seen) == sorted((s,) for s in sectors)
    assert result.n_units == len(units)
    assert {g.group for g in result.groups} == sectors
    assert sum(g.units for g in result.groups) == len(units)
    # the templated fixture is learnable: the model reads held-out sectors well
    assert result.measure_type.macro_f1 > 0.8
    assert result.spans.per_label["RESPONSIBLE_BODY"].f1 > 0.8
    assert 0.0 <= result.calibration_error <= 1.0
    # the best-fitting temperature never calibrates worse than no temperature by much
    assert 0.3 <= result.temperature <= 3.0
    assert result.calibration_error_at_temperature <= result.calibration_error + 0.05
    assert result.mean_group_baseline_macro_f1 > 0.0
    # the surest held-out predictions: shares of all units, the last one all of them
    # at the pooled accuracy, for the model and the baseline alike
    for coverage, scores in (
        (result.coverage, result.measure_type),
        (result.baseline_coverage, result.baseline_measure_type),
    ):
        assert [p.coverage for p in coverage] == [0.2, 0.4, 0.6, 0.8, 1.0]
        assert coverage[-1].units == len(units)
        assert coverage[-1].accuracy == pytest.approx(scores.accuracy, abs=1e-4)
        assert [p.min_score for p in coverage] == sorted(
            (p.min_score for p in coverage), reverse=True
        )
    # each group's surest predictions, from the same held-out scores as the pooled ones
    for group in result.groups:
        assert group.coverage[-1].units == group.units
        assert group.coverage[-1].accuracy == pytest.approx(group.accuracy, abs=1e-4)
    # each group's and the mean's difference from the baseline, with its interval
    mean_difference = result.mean_group_macro_f1 - result.mean_group_baseline_macro_f1
    low, high = result.mean_group_difference_interval
    assert low - 1e-3 <= mean_difference <= high + 1e-3
    for group in result.groups:
        low, high = group.difference_interval
        assert low - 1e-3 <= group.macro_f1 - group.baseline_macro_f1 <= high + 1e-3


@pytest.mark.slow
def test_evaluate_group_by_prints_groups_beside_the_baseline(tiny_model, tiny_export, tmp_path):
    json_out = tmp_path / "cv.json"
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(tiny_model),
            str(tiny_export),
            "--group-by",
            "genre",
            "--json-out",
            str(json_out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "grouped cross-validation by genre" in result.output
    for expected in (
        "年度工作通知",
        "实施方案",
        "baseline",
        "mean over groups",
        "pooled",
    ):
        assert expected in result.output
    data = json.loads(json_out.read_text(encoding="utf-8"))
    assert data["group_by"] == "genre" and data["n_groups"] == 2
    said = " ".join(result.output.split())  # the console wraps long lines
    assert f"at temperature {data['temperature']:g}" in said
    assert set(data["spans"]["per_label"]) == set(SPAN_LABELS)
    assert "difference (95% CI)" in result.output
    low, high = data["mean_group_difference_interval"]
    mean_difference = data["mean_group_macro_f1"] - data["mean_group_baseline_macro_f1"]
    assert f"{mean_difference:+.3f} ({low:+.3f}…{high:+.3f})" in result.output
    assert "accuracy of the surest predictions" in result.output
    surest = data["coverage"][1]
    base = data["baseline_coverage"][1]
    row = next(line for line in result.output.splitlines() if line.startswith("│    40%"))
    assert [cell.strip() for cell in row.strip("│").split("│")] == [
        "40%",
        str(surest["units"]),
        f"{surest['min_score']:.2f}",
        f"{surest['accuracy']:.3f}",
        f"{base['accuracy']:.3f}",
    ]


def test_evaluate_group_by_refuses_an_unknown_field(tiny_model, tiny_export):
    result = runner.invoke(
        app, ["evaluate", str(tiny_model), str(tiny_export), "--group-by", "colour"]
    )
    assert result.exit_code != 0 and "colour" in result.output
