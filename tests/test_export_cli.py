"""`corpus-tools export` on the command line: summary, one-line errors, exit codes."""

from __future__ import annotations

import json

import datasets
import typer
from test_export import agreement_case, ann, corpus, task, unit
from typer.testing import CliRunner

from corpus_tools.cli import app

# `corpus-tools export ...` as a subcommand, however many other commands exist yet.
CLI = typer.Typer()
CLI.registered_commands = app.registered_commands


@CLI.callback()
def _group() -> None:
    pass


def run(*args: str):
    return CliRunner().invoke(CLI, ["export", *args])


def test_cli_exports_and_prints_summary(tmp_path):
    source = tmp_path / "ls.json"
    source.write_text(json.dumps(agreement_case() + corpus(12), ensure_ascii=False), "utf-8")
    out = tmp_path / "out"
    result = run(str(source), "-o", str(out), "--policy", "latest", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "train" in result.output and "validation" in result.output
    assert "policy latest" in result.output
    assert "κ 0.636" in result.output
    assert datasets.load_from_disk(str(out / "dataset"))["train"].num_rows > 0


def test_cli_reports_skipped_spans(tmp_path):
    data = unit("docS", 0)
    bad = task(data, ann(data, "training", [(0, 4, "RESPONSIBLE_BODY")], span_text="别的"))
    source = tmp_path / "ls.json"
    source.write_text(json.dumps([bad], ensure_ascii=False), "utf-8")
    result = run(str(source), "-o", str(tmp_path / "out"), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "1 invalid spans left out" in result.output
    assert f"task {bad['id']}" in result.output


def test_cli_errors_are_one_line_exit_1_no_traceback(tmp_path):
    cases = {
        "notjson.json": "garbage",
        "empty.json": "[]",
        "offschema.json": json.dumps(
            [task(unit("docX", 0), ann(unit("docX", 0), "positive"))], ensure_ascii=False
        ),
        "mismatch.json": json.dumps(
            [
                task(
                    unit("docY", 0),
                    ann(unit("docY", 0), "other", [(0, 4, "DEADLINE")], span_text="x"),
                )
            ],
            ensure_ascii=False,
        ),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        result = run(str(path), "-o", str(tmp_path / "out"))
        assert result.exit_code == 1, (name, result.output)
        assert "Traceback" not in result.output
        assert result.output.startswith("error:"), result.output
    result = run("-o", str(tmp_path / "out"))
    assert result.exit_code == 1 and "either a Label Studio JSON file or --project" in result.output
    result = run(str(tmp_path / "empty.json"), "--train", "0.5", "-o", str(tmp_path / "o"))
    assert result.exit_code == 1 and "add up to" in result.output


def test_cli_keeps_the_splits_of_an_earlier_export(tmp_path):
    source = tmp_path / "ls.json"
    source.write_text(json.dumps(corpus(12), ensure_ascii=False), "utf-8")
    out = tmp_path / "out"
    assert run(str(source), "-o", str(out)).exit_code == 0
    source.write_text(json.dumps(corpus(15), ensure_ascii=False), "utf-8")
    result = run(str(source), "-o", str(out), "--keep-splits", str(out))
    assert result.exit_code == 0, result.output
    assert "12 of 15 documents kept the split" in result.output
    missing = run(str(source), "-o", str(tmp_path / "o2"), "--keep-splits", str(tmp_path / "nope"))
    assert missing.exit_code == 1 and "no earlier export here" in missing.output
    assert "Traceback" not in missing.output


def _doc_splits(out) -> dict[str, str]:
    import polars as pl

    return {
        doc: path.stem
        for path in (out / "data").glob("*.parquet")
        for doc in pl.read_parquet(path)["doc_id"].to_list()
    }


def test_a_re_export_into_the_same_directory_keeps_its_splits_unless_asked(tmp_path):
    source = tmp_path / "ls.json"
    source.write_text(json.dumps(corpus(12), ensure_ascii=False), "utf-8")
    out = tmp_path / "out"
    assert run(str(source), "-o", str(out), "--seed", "1").exit_code == 0
    first = _doc_splits(out)
    # the default seed would draw other splits; the published ones stay
    result = run(str(source), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "12 of 12 documents kept the split they had in" in result.output
    assert _doc_splits(out) == first
    fresh = run(str(source), "-o", str(out), "--seed", "2", "--new-splits")
    assert fresh.exit_code == 0 and "kept the split" not in fresh.output
    assert _doc_splits(out) != first
    assert _doc_splits(out) == _doc_splits_of_seed(tmp_path, source, 2)
    both = run(str(source), "-o", str(out), "--keep-splits", str(out), "--new-splits")
    assert both.exit_code == 1 and "not both" in both.output and "Traceback" not in both.output


def _doc_splits_of_seed(tmp_path, source, seed: int) -> dict[str, str]:
    out = tmp_path / f"seed-{seed}"
    assert run(str(source), "-o", str(out), "--seed", str(seed)).exit_code == 0
    return _doc_splits(out)


def test_fractions_for_a_re_export_that_keeps_splits_are_refused_not_ignored(tmp_path):
    source = tmp_path / "ls.json"
    source.write_text(json.dumps(corpus(12), ensure_ascii=False), "utf-8")
    out = tmp_path / "out"
    assert run(str(source), "-o", str(out)).exit_code == 0
    card = (out / "README.md").read_text("utf-8")
    for given in (["--train", "0.7", "--validation", "0.15", "--test", "0.15"], ["--seed", "2"]):
        result = run(str(source), "-o", str(out), *given)
        assert result.exit_code == 1, result.output
        assert result.output.startswith("error:") and "Traceback" not in result.output
        assert "splits a re-export keeps" in result.output and "--new-splits" in result.output
        assert (out / "README.md").read_text("utf-8") == card
    fractions = ["--train", "0.7", "--validation", "0.15", "--test", "0.15"]
    redrawn = run(str(source), "-o", str(out), *fractions, "--new-splits")
    assert redrawn.exit_code == 0, redrawn.output
    report = json.loads((out / "export-report.json").read_text("utf-8"))
    assert report["split_sizes"] == {"train": 0.7, "validation": 0.15, "test": 0.15}
    assert report["splits_kept_from"] is None


def test_an_export_given_as_annotations_says_it_is_an_export(tmp_path):
    source = tmp_path / "ls.json"
    source.write_text(json.dumps(corpus(4), ensure_ascii=False), "utf-8")
    assert run(str(source), "-o", str(tmp_path / "export")).exit_code == 0
    result = run(str(tmp_path / "export"), "-o", str(tmp_path / "y"))
    assert result.exit_code == 1 and result.output.startswith("error:"), result.output
    assert "not annotations" in result.output and "no such file" not in result.output
