"""Output files every stage writes: checked before the work, replaced whole.

A long run (training, evaluation) should not fail at its end on a path it
could have checked first, and a run that reads nothing, fails half-way or is
interrupted should leave the previous output as it was."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from corpus_tools.errors import OutputPathError

# What to do about the system's reason, by errno; the path may be an input or an output.
_OS_ERROR_FIXES: dict[int, str] = {
    errno.ENOENT: "check the path",
    errno.EACCES: "choose a place you may write to, or fix the permissions",
    errno.EPERM: "choose a place you may write to, or fix the permissions",
    errno.EROFS: "choose a place on a writable disk",
    errno.EEXIST: "a file stands where a folder is needed; choose another path",
    errno.ENOTDIR: "a file stands where a folder is needed; choose another path",
    errno.EISDIR: "it is a folder; give a file path",
    errno.ENOSPC: "the disk is full; free space or choose another place",
}


def describe_os_error(error: OSError) -> str:
    """One line for an `OSError` on a path: the path, the system's reason, a fix."""
    where = error.filename or "a path"
    reason = error.strerror or str(error)
    fix = _OS_ERROR_FIXES.get(error.errno or 0, "check the path and its permissions")
    return f"{where}: {reason}; {fix}"


def check_writable_file(path: Path | str, *, suffixes: tuple[str, ...] = ()) -> Path:
    """Raise `OutputPathError` unless a file can be written at `path` (its folders
    are created; an existing file is left untouched)."""
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{path}: is a folder; give a file name inside it")
    if suffixes and path.suffix.lower() not in suffixes:
        raise OutputPathError(
            f"{path}: expected a file ending in {' or '.join(suffixes)}; "
            "the suffix chooses the format"
        )
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a"):
            pass
    except OSError as error:
        raise OutputPathError(describe_os_error(error)) from None
    if not existed:
        path.unlink()
    return path


def check_writable_dir(path: Path | str) -> Path:
    """Raise `OutputPathError` unless `path` is, or can be made, a writable folder."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{path}: is a file; expected a folder (or a path to create)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-check-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise OutputPathError(describe_os_error(error)) from None
    return path


@contextmanager
def replaced_on_success(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it over `path` when the block
    ends without an exception, remove it otherwise. The caller may also remove it
    to keep `path` as it was (nothing worth writing)."""
    partial = path.with_name(f".{path.name}.partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if partial.exists():
        partial.replace(path)
