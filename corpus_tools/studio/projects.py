"""Finding, creating and indexing the Label Studio project that holds the units."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from label_studio_sdk import LabelStudio

from corpus_tools.errors import ProjectLookupError
from corpus_tools.label_config import sentence_tagging_config
from corpus_tools.schema import LS_MEASURE_TYPE, LS_SPANS
from corpus_tools.studio.client import raw_json, translated

GUIDE_PATH = Path(__file__).resolve().parents[2] / "docs" / "annotator-guide.md"


def annotator_guide_html(path: Path = GUIDE_PATH) -> str:
    """The annotator guide as HTML for the project's instructions."""
    from markdown_it import MarkdownIt  # a dependency of rich

    if not path.exists():
        return ""
    return MarkdownIt("commonmark").enable("table").render(path.read_text(encoding="utf-8"))


def find_project(client: LabelStudio, url: str, title: str) -> Any | None:
    with translated(url, f"looking up project {title!r}"):
        matches = [p for p in client.projects.list(title=title, page_size=100) if p.title == title]
    if len(matches) > 1:
        ids = ", ".join(str(p.id) for p in matches)
        raise ProjectLookupError(
            f"{len(matches)} Label Studio projects at {url} are titled {title!r} (ids {ids}): "
            "rename all but one in Label Studio, use another --project title, or (to read "
            "one) give its id as --project"
        )
    return matches[0] if matches else None


# The controls an annotation of ours lives in (`label_config.py`): a project
# without them was set up for other work, and its config is not ours to replace.
_OUR_CONTROLS = re.compile(rf'<(?:Choices|Labels)\b[^>]*\bname="(?:{LS_MEASURE_TYPE}|{LS_SPANS})"')
# A control is a tag bound to an object (`toName`); a project made with a title
# only has Label Studio's default `<View></View>`, none, and is set up as new.
_ANY_CONTROL = re.compile(r"\btoName=")


@dataclass(frozen=True, slots=True)
class ProjectSetup:
    project: Any  # the SDK's project
    created: bool
    config_updated: bool


def ensure_project(client: LabelStudio, url: str, title: str) -> ProjectSetup:
    """The project titled `title`, created with the current config and guide if
    missing.

    An existing project of ours gets the current label config and guide when they
    differ; a project whose config has none of our controls is refused.
    """
    config = sentence_tagging_config()
    guide = annotator_guide_html()
    project = find_project(client, url, title)
    if project is None:
        with translated(url, f"creating project {title!r}"):
            project = client.projects.create(
                title=title,
                label_config=config,
                expert_instruction=guide,
                show_instruction=bool(guide),
                show_skip_button=True,
                description="Sentence tagging of work-safety notices (corpus-tools)",
            )
        return ProjectSetup(project, created=True, config_updated=False)
    with translated(url, f"reading project {title!r}"):
        full = client.projects.get(id=project.id)
    changes: dict[str, Any] = {}
    current = (full.label_config or "").strip()
    if current != config.strip():
        if _ANY_CONTROL.search(current) and not _OUR_CONTROLS.search(current):
            raise ProjectLookupError(
                f"project {title!r} (id {full.id}) at {url} has a label config of its own "
                "(no measure_type/spans controls); corpus-tools would replace it: push to "
                "another --project title"
            )
        changes["label_config"] = config
    if guide and (full.expert_instruction or "") != guide:
        changes.update(expert_instruction=guide, show_instruction=True)
    if changes:
        with translated(url, f"updating the label config of project {title!r}"):
            client.projects.update(id=project.id, **changes)
    return ProjectSetup(full, created=False, config_updated="label_config" in changes)


def task_page(
    client: LabelStudio,
    url: str,
    project_id: int,
    *,
    doing: str,
    include: str | None = None,
    computed: bool = False,
    query: Mapping[str, Any] | None = None,
    page: int = 1,
    page_size: int = 10_000,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the Data Manager's task list and the project's total.

    With `include` only those task fields come back (fast); without it, whole
    tasks with their annotations (`include` would strip those to ids).
    `computed` asks for the Data Manager's computed columns too
    (`predictions_model_versions`), which `fields=task_only` leaves empty.
    """
    params: dict[str, Any] = {"project": project_id, "page_size": page_size, "page": page}
    params["fields"] = "task_only" if include and not computed else "all"
    if include:
        params["include"] = include
    if query is not None:
        params["query"] = json.dumps(query)
    body = raw_json(client, url, "api/tasks/", params=params, doing=doing)
    tasks = body.get("tasks", []) if isinstance(body, Mapping) else body
    total = body.get("total", 0) if isinstance(body, Mapping) else len(tasks)
    return tasks, int(total)


def iter_tasks(
    client: LabelStudio,
    url: str,
    project_id: int,
    *,
    doing: str,
    include: str | None = None,
    computed: bool = False,
    query: Mapping[str, Any] | None = None,
    page_size: int = 10_000,
) -> Iterator[dict[str, Any]]:
    """Every task of the Data Manager's list (`task_page`), page after page."""
    page, seen = 1, 0
    while True:
        tasks, total = task_page(
            client,
            url,
            project_id,
            doing=doing,
            include=include,
            computed=computed,
            query=query,
            page=page,
            page_size=page_size,
        )
        yield from tasks
        seen += len(tasks)
        if not tasks or seen >= total:
            return
        page += 1


def task_index(client: LabelStudio, url: str, project_id: int) -> dict[str, tuple[int, str]]:
    """unit_id -> (task id, text) for every task of the project, in Data Manager pages.

    `tasks.list` pages with `fields=all` and builds typed models (26 s for 10k);
    asking for `id,data` only and parsing the JSON ourselves takes about 4 s.
    """
    found: dict[str, tuple[int, str]] = {}
    tasks = iter_tasks(
        client, url, project_id, include="id,data", doing="listing the project's tasks"
    )
    for task in tasks:
        data = task.get("data") or {}
        if data.get("unit_id"):
            found.setdefault(data["unit_id"], (task["id"], data.get("text", "")))
    return found


def require_project(client: LabelStudio, url: str, title: str, *, fix: str) -> Any:
    """The project titled `title` — or, when no project has that title and it is a
    number, the project of that id (how to pick one of two of the same title) —
    or a `ProjectLookupError` that says `fix`."""
    found = find_project(client, url, title)
    if found is None and title.isdigit():
        found = _project_by_id(client, url, int(title))
    if found is None:
        raise ProjectLookupError(f"no Label Studio project at {url} is titled {title!r}: {fix}")
    return found


def _project_by_id(client: LabelStudio, url: str, project_id: int) -> Any | None:
    from label_studio_sdk.core.api_error import ApiError

    try:
        return client.projects.get(id=project_id)
    except ApiError as error:
        if error.status_code == 404:
            return None
        with translated(url, f"looking up project id {project_id}"):
            raise
