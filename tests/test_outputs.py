"""Outputs are checked before the work and replaced whole (`corpus_tools.outputs`)."""

from __future__ import annotations

import errno

import pytest

from corpus_tools.errors import OutputPathError
from corpus_tools.outputs import (
    check_writable_dir,
    check_writable_file,
    describe_os_error,
    replaced_on_success,
)


def test_an_interrupted_write_keeps_the_previous_output_and_leaves_no_partial(tmp_path):
    out = tmp_path / "units.jsonl"
    out.write_text("earlier\n")
    with pytest.raises(KeyboardInterrupt), replaced_on_success(out) as partial:
        partial.write_text("half of the new")
        raise KeyboardInterrupt
    assert out.read_text() == "earlier\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["units.jsonl"]


def test_a_finished_write_replaces_the_output(tmp_path):
    out = tmp_path / "deeper" / "units.jsonl"
    with replaced_on_success(out) as partial:
        partial.write_text("new\n")
    assert out.read_text() == "new\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["units.jsonl"]


def test_the_checks_create_nothing_they_do_not_need(tmp_path):
    target = tmp_path / "new" / "scores.json"
    assert check_writable_file(target) == target
    assert not target.exists() and target.parent.is_dir()
    existing = tmp_path / "old.json"
    existing.write_text("kept")
    check_writable_file(existing)
    assert existing.read_text() == "kept"
    assert check_writable_dir(tmp_path / "model").is_dir()
    assert list((tmp_path / "model").iterdir()) == []


def test_the_checks_refuse_with_the_reason(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(OutputPathError, match="a-file: is a file; expected a folder"):
        check_writable_dir(tmp_path / "a-file")
    with pytest.raises(OutputPathError, match="a file stands where a folder is needed"):
        check_writable_file(tmp_path / "a-file" / "x.json")
    with pytest.raises(OutputPathError, match=r"x\.csv: expected a file ending in \.jsonl"):
        check_writable_file(tmp_path / "x.csv", suffixes=(".jsonl",))


def test_an_os_error_reads_as_path_reason_and_fix():
    error = OSError(errno.ENOSPC, "No space left on device", "/data/out.jsonl")
    assert describe_os_error(error) == (
        "/data/out.jsonl: No space left on device; the disk is full; free space or choose "
        "another place"
    )
