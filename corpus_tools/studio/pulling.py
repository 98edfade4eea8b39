"""Pulling a project's annotated tasks as Label Studio JSON, through an export snapshot."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from corpus_tools.errors import StudioError
from corpus_tools.outputs import check_writable_file
from corpus_tools.studio.client import connect, translated
from corpus_tools.studio.projects import require_project


@dataclass(frozen=True, slots=True)
class PullReport:
    project_id: int
    path: Path
    tasks: int
    annotations: int
    cancelled: int
    annotators: tuple[str, ...]
    export_id: int
    seconds: float


def pull(
    *,
    project: str,
    output: Path | str,
    url: str | None = None,
    api_key: str | None = None,
    timeout: float = 900.0,
    home: Path | None = None,
) -> PullReport:
    """Save every annotated task of `project` as Label Studio JSON via an export snapshot.

    Snapshots are built server-side and downloaded when ready, so large projects
    do not time out as the plain export does. Annotations keep `completed_by`
    (the annotator's user, with email), `lead_time` and `was_cancelled`
    (skipped); tasks with only skipped annotations are included.
    """
    started = time.perf_counter()
    output = check_writable_file(output)  # before the server builds a snapshot
    client, connection = connect(url=url, api_key=api_key, home=home)
    base = connection.url
    found = require_project(client, base, project, fix="check --project")
    with translated(base, "creating an export snapshot"):
        export = client.projects.exports.create(
            id=found.id,
            title=f"corpus-tools pull {time.strftime('%Y-%m-%d %H:%M:%S')}",
            task_filter_options={"only_with_annotations": True},
            serialization_options={"annotations__completed_by": {"only_id": False}},
        )
    deadline = time.monotonic() + timeout
    status = export.status
    while status not in ("completed", "failed"):
        if time.monotonic() > deadline:
            raise StudioError(
                f"the export snapshot of {project!r} was not ready after {timeout:.0f} s; try again"
            )
        time.sleep(0.5)
        with translated(base, "waiting for the export snapshot"):
            status = client.projects.exports.get(id=found.id, export_pk=export.id).status
    if status == "failed":
        raise StudioError(
            f"Label Studio failed to build the export snapshot of {project!r}; see the server log"
        )

    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    with translated(base, "downloading the export snapshot"), tmp.open("wb") as out:
        for chunk in client.projects.exports.download(
            id=found.id, export_pk=export.id, export_type="JSON"
        ):
            out.write(chunk)
    try:
        tasks = json.loads(tmp.read_text(encoding="utf-8"))
    except ValueError:
        raise StudioError(f"the export snapshot of {project!r} is not JSON; see {tmp}") from None
    tmp.replace(output)

    annotations = cancelled = 0
    annotators: set[str] = set()
    for task in tasks:
        for annotation in task.get("annotations") or ():
            annotations += 1
            cancelled += bool(annotation.get("was_cancelled"))
            user = annotation.get("completed_by")
            if isinstance(user, Mapping):
                annotators.add(str(user.get("email") or user.get("id")))
            elif user is not None:
                annotators.add(str(user))
    return PullReport(
        project_id=found.id,
        path=output,
        tasks=len(tasks),
        annotations=annotations,
        cancelled=cancelled,
        annotators=tuple(sorted(annotators)),
        export_id=export.id,
        seconds=time.perf_counter() - started,
    )
