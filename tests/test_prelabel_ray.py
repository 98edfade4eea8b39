"""Pre-labeling on Ray Data (`prelabel --engine ray`): the same records as the
local engine, unit for unit, on the sample corpus; clear errors for bad input,
a missing Ray and options that belong to the other engine."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import NEW_NOTICES, SAMPLE_NOTICES
from typer.testing import CliRunner

from corpus_tools.cli import app
from corpus_tools.errors import CorpusToolsError
from corpus_tools.prelabel import (
    DEFAULT_MODEL_DIR,
    _parquet_schema,
    prelabel_files,
    read_prelabels,
)
from corpus_tools.prelabel_ray import (
    RayUnavailableError,
    find_unit_shards,
    import_ray,
    iter_shard_records,
    prelabel_files_ray,
)
from corpus_tools.segment import iter_units, write_units

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def unit_files(tmp_path_factory) -> dict[str, Path]:
    """The sample corpus as `segment` writes it: data/notices as JSONL,
    data/new-notices as Parquet (so one run reads both formats)."""
    folder = tmp_path_factory.mktemp("ray-units")
    files = {"jsonl": folder / "notices.jsonl", "parquet": folder / "new-notices.parquet"}
    write_units(
        (u for u in iter_units([SAMPLE_NOTICES]) if not isinstance(u, Exception)), files["jsonl"]
    )
    write_units(
        (u for u in iter_units([NEW_NOTICES]) if not isinstance(u, Exception)), files["parquet"]
    )
    return files


def by_unit_id(records) -> dict[str, dict]:
    table = {}
    for record in records:
        assert record["unit_id"] not in table, f"unit {record['unit_id']} written twice"
        table[record["unit_id"]] = record
    return table


def assert_same_records(local: dict[str, dict], ray: dict[str, dict]) -> None:
    assert ray.keys() == local.keys()
    different = [unit_id for unit_id in local if local[unit_id] != ray[unit_id]]
    assert not different, (
        f"{len(different)} units differ, e.g. {different[0]}:\n"
        f"local {local[different[0]]}\nray   {ray[different[0]]}"
    )


@pytest.mark.slow
def test_ray_writes_the_local_engines_records_unit_for_unit(local_ray, unit_files, tmp_path):
    inputs = [unit_files["jsonl"], unit_files["parquet"]]
    local_report = prelabel_files(inputs, tmp_path / "local.parquet")
    report = prelabel_files_ray(inputs, tmp_path / "ray", num_cpus=2)

    local = by_unit_id(read_prelabels(tmp_path / "local.parquet"))
    ray = by_unit_id(iter_shard_records(tmp_path / "ray"))
    assert len(local) > 2500  # both corpora, all kinds of unit
    assert_same_records(local, ray)
    # Headings and meta are there too, unlabelled, as in the local engine.
    assert {r["kind"] for r in ray.values()} == {"body", "heading", "meta"}
    assert all(r["measure_type"] is None for r in ray.values() if r["kind"] != "body")
    assert (report.units_read, report.units_labelled, report.units_written) == (
        local_report.units_read,
        local_report.units_labelled,
        local_report.units_written,
    )
    assert report.units_not_body == local_report.units_not_body
    assert report.model_version == local_report.model_version
    # The shards carry the local engine's Parquet schema.
    for shard in (tmp_path / "ray").glob("*.parquet"):
        assert pq.read_schema(shard).remove_metadata() == _parquet_schema()


@pytest.mark.slow
def test_cli_engine_ray_body_only_from_a_directory_of_shards(local_ray, unit_files, tmp_path):
    shards = tmp_path / "shards"
    shards.mkdir()
    for file in unit_files.values():
        (shards / file.name).write_bytes(file.read_bytes())
    out = tmp_path / "prelabels"
    out.mkdir()
    (out / "old-run.parquet").write_bytes(b"stale")  # a previous run's shard is replaced

    result = runner.invoke(
        app,
        [
            "prelabel",
            str(shards),
            "-o",
            str(out),
            "--engine",
            "ray",
            "--n-process",
            "2",
            "--body-only",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "pre-labelled" in result.output
    assert not (out / "old-run.parquet").exists()

    prelabel_files(list(unit_files.values()), tmp_path / "local.jsonl", body_only=True)
    local = by_unit_id(read_prelabels(tmp_path / "local.jsonl"))
    ray = by_unit_id(iter_shard_records(out))
    assert_same_records(local, ray)
    assert {r["kind"] for r in ray.values()} == {"body"}
    assert f"{len(ray)} units pre-labelled ({len(ray)} written)" in result.output


@pytest.mark.slow
def test_a_unit_longer_than_the_model_reads_is_skipped_by_name(local_ray, tmp_path):
    from corpus_tools.model import load_model
    from corpus_tools.schema import Unit

    limit = load_model(DEFAULT_MODEL_DIR).max_length
    notice = next(SAMPLE_NOTICES.glob("*.txt"))
    units = [u for u in iter_units([notice]) if not isinstance(u, Exception)][:20]
    huge = Unit("doc:0999:x", "doc", 999, "body", "要" * (limit + 1))
    units_file = tmp_path / "units.parquet"
    write_units([*units, huge], units_file)
    out = tmp_path / "out"
    result = runner.invoke(app, ["prelabel", str(units_file), "-o", str(out), "--engine", "ray"])
    assert result.exit_code == 1, result.output
    assert f"doc:0999:x: unit of {limit + 1:,} characters" in result.output
    assert "Traceback" not in result.output
    written = by_unit_id(iter_shard_records(out))
    assert written.keys() == {u.unit_id for u in units}


@pytest.mark.slow
def test_a_broken_units_file_fails_the_ray_job_in_one_line(local_ray, tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"unit_id": "a", "doc_id": "d", "unit_index": 0,\n', encoding="utf-8")
    with pytest.raises(CorpusToolsError, match="Ray pre-labelling job failed") as caught:
        prelabel_files_ray([broken], tmp_path / "out")
    assert "\n" not in str(caught.value)


def test_notice_files_and_missing_paths_are_reported_and_the_rest_goes_on(unit_files, tmp_path):
    notice = next(SAMPLE_NOTICES.glob("*.txt"))
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    shards = find_unit_shards([unit_files["jsonl"], notice, tmp_path / "nope.jsonl", empty_dir])
    assert shards.jsonl == (str(unit_files["jsonl"].resolve()),)
    assert shards.parquet == ()
    messages = [str(e) for e in shards.errors]
    assert len(messages) == 3
    assert "segment" in messages[0] and notice.name in messages[0]
    assert "does not exist" in messages[1]
    assert "holds no units files" in messages[2]


def test_nothing_readable_stops_before_ray_starts(tmp_path):
    notice = next(SAMPLE_NOTICES.glob("*.txt"))
    with pytest.raises(CorpusToolsError, match="no units read: .*segment"):
        prelabel_files_ray([notice], tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("prelabels.jsonl", lambda out: None, "not JSONL"),
        ("prelabels", lambda out: out.write_text("x"), "is a file"),
    ],
)
def test_output_must_be_a_directory_of_shards(unit_files, tmp_path, name, make, message):
    out = tmp_path / name
    make(out)
    with pytest.raises(CorpusToolsError, match=message):
        prelabel_files_ray([unit_files["jsonl"]], out)


def test_an_output_directory_with_other_files_is_refused_not_emptied(unit_files, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(CorpusToolsError, match="other than Parquet shards"):
        prelabel_files_ray([unit_files["jsonl"]], out)
    assert (out / "notes.txt").read_text() == "keep me"


def test_engine_ray_without_ray_installed_says_how_to_install(unit_files, tmp_path, monkeypatch):
    # Stands in for an install without the extra: `import ray` fails.
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(RayUnavailableError, match=r"uv sync --extra ray"):
        import_ray()
    result = runner.invoke(
        app, ["prelabel", str(unit_files["jsonl"]), "-o", str(tmp_path / "out"), "--engine", "ray"]
    )
    assert result.exit_code == 1
    assert "uv sync --extra ray" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("engine", "extra", "message"),
    [
        ("local", ["--address", "127.0.0.1:6379"], "--address is for --engine ray"),
        ("ray", ["--push", "--project", "p"], "--push works with --engine local only"),
    ],
)
def test_options_of_the_other_engine_are_refused(unit_files, tmp_path, engine, extra, message):
    result = runner.invoke(
        app,
        ["prelabel", str(unit_files["jsonl"]), "-o", str(tmp_path / "out"), "--engine", engine]
        + extra,
    )
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_an_unreachable_ray_address_is_one_clear_line(unit_files, tmp_path):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = runner.invoke(
        app,
        [
            "prelabel",
            str(unit_files["jsonl"]),
            "-o",
            str(tmp_path / "out"),
            "--engine",
            "ray",
            "--address",
            f"127.0.0.1:{port}",
        ],
    )
    assert result.exit_code == 1
    assert f"no Ray head answers at 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output
