"""Label Studio JSON in: an export file, or a project pulled from the server."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from corpus_tools.errors import ExportError


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Parsing and building create millions of acyclic objects; the cyclic GC
    # would rescan them over and over (json.load of 100k tasks: 6 s -> 1.7 s).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@_gc_paused()
def read_label_studio_json(path: Path) -> list[dict]:
    """Read a Label Studio JSON export (a list of tasks), or raise one clear ExportError."""
    path = Path(path)
    if path.is_dir():
        expected = "expected a Label Studio JSON export file (as `corpus-tools pull` writes it)"
        if holds_export(path):
            raise ExportError(
                f"{path}: is a dataset `corpus-tools export` wrote, not annotations; {expected}"
                f" or --project (to keep its splits, give it as --keep-splits {path})"
            )
        raise ExportError(f"{path}: is a directory; {expected}, e.g. {path}/*.json")
    if not path.is_file():
        raise ExportError(f"{path}: no such file; pass a Label Studio JSON export or --project")
    raw = path.read_bytes()
    try:
        tasks = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        hint = _jsonl_hint(raw)
        raise ExportError(
            f"{path}: not JSON ({error.__class__.__name__}: {error}){hint}; expected a "
            "Label Studio JSON export as written by `corpus-tools pull`"
        ) from None
    check_label_studio_tasks(tasks, source=str(path))
    return tasks


def _jsonl_hint(raw: bytes) -> str:
    first = raw.split(b"\n", 1)[0]
    try:
        json.loads(first)
    except ValueError:
        return ""
    return " — it looks like JSON Lines (e.g. a `segment` units file), not a Label Studio export"


def check_label_studio_tasks(tasks: Any, *, source: str = "input") -> None:
    """Raise ExportError unless `tasks` has the shape of a Label Studio JSON export."""
    expected = (
        "expected a Label Studio JSON export (a list of tasks with 'data' and "
        "'annotations'; use `corpus-tools pull` or the JSON format, not JSON-MIN or CSV)"
    )
    if not isinstance(tasks, list):
        raise ExportError(f"{source}: found a JSON {type(tasks).__name__}; {expected}")
    for index, task in enumerate(tasks):
        if not isinstance(task, dict):
            raise ExportError(f"{source}: item {index} is a {type(task).__name__}; {expected}")
        missing = [key for key in ("data", "annotations") if key not in task]
        if (
            missing
            or not isinstance(task["data"], dict)
            or not isinstance(task["annotations"], list)
        ):
            what = f"has no {' or '.join(repr(m) for m in missing)}" if missing else "is malformed"
            raise ExportError(f"{source}: item {index} {what}; {expected}")


def pull_project_tasks(
    project: str, *, url: str | None = None, api_key: str | None = None
) -> list[dict]:
    """All annotated tasks of a Label Studio project as Label Studio JSON (via `studio.pull`)."""
    import tempfile

    from corpus_tools import studio

    with tempfile.TemporaryDirectory(prefix="corpus-tools-export-") as tmp:
        path = Path(tmp) / "label-studio.json"
        studio.pull(project=project, output=path, url=url, api_key=api_key)
        return read_label_studio_json(path)


def holds_export(path: Path) -> bool:
    """Whether `path` holds an earlier export's splits (`data/*.parquet`)."""
    from corpus_tools.export.layout import PARQUET_DIR

    return any((Path(path) / PARQUET_DIR).glob("*.parquet"))


def previous_splits(export_dir: Path) -> dict[str, str]:
    """Document → split of an earlier export (its `data/{split}.parquet`), for
    `export --keep-splits`."""
    import polars as pl

    from corpus_tools.export.layout import PARQUET_DIR

    files = sorted((Path(export_dir) / PARQUET_DIR).glob("*.parquet"))
    if not files:
        raise ExportError(
            f"{export_dir}: no earlier export here (no {PARQUET_DIR}/*.parquet); give the "
            "directory an earlier `corpus-tools export` wrote, or leave out --keep-splits"
        )
    mapping: dict[str, str] = {}
    for path in files:
        try:
            docs = pl.read_parquet(path, columns=["doc_id"])["doc_id"].unique().to_list()
        except Exception as error:  # polars raises several kinds for a damaged file
            raise ExportError(
                f"{path}: not a readable export split ({error.__class__.__name__}); "
                "re-export that directory, or leave out --keep-splits"
            ) from None
        twice = sorted(doc for doc in docs if doc in mapping)
        if twice:
            raise ExportError(
                f"{path}: {len(twice)} documents are also in {mapping[twice[0]]!r} "
                f"(e.g. {twice[0]}); an export puts each document in one split — "
                "re-export that directory, or leave out --keep-splits"
            )
        mapping.update(dict.fromkeys(docs, path.stem))
    return mapping
