"""The uncertainty-first queue: unlabelled tasks re-scored by a new model, least certain first.

What Label Studio 1.23 OSS can order a queue by (read in its source):

- the Data Manager sorts a view by any task column; `tasks:predictions_score`
  is the mean `score` of the task's predictions of the project's
  `model_version` (`data_manager/managers.py: annotate_predictions_score`,
  with the `ff_front_dev_1682…` flag off, as shipped), ascending with tasks
  without one last (`nulls_last`);
- the label stream with `sampling = "Uncertainty sampling"` serves the
  unlabelled task with the lowest prediction score of the project's
  `model_version` first (`projects/functions/next_task.py:
  _try_uncertainty_sampling`).

So after a swap, `requeue_project` predicts every unlabelled task with the new
model, imports the predictions (with `model_version` and `score`), sets the
project's `model_version` to the new one with uncertainty sampling (as
`push --least-certain-first` does), and makes the project's first Data Manager
view (the tab annotators open; created if the project has none) sort by
`tasks:predictions_score` ascending, keeping its filters and columns.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from corpus_tools.studio.client import connect, translated
from corpus_tools.studio.projects import iter_tasks, require_project

QUEUE_ORDERING = ["tasks:predictions_score"]  # ascending: least certain first
QUEUE_VIEW_TITLE = "Default"
UNCERTAINTY_SAMPLING = "Uncertainty sampling"
_UNLABELLED = {
    "filters": {
        "conjunction": "and",
        "items": [
            {
                "filter": "filter:tasks:total_annotations",
                "operator": "equal",
                "type": "Number",
                "value": 0,
            }
        ],
    }
}


@dataclass(frozen=True, slots=True)
class RequeueReport:
    project_id: int
    model_version: str
    tasks_unlabelled: int
    predictions_created: int  # tasks that already had this model_version's prediction: skipped
    view_id: int
    view_created: bool
    seconds: float
    list_seconds: float
    predict_seconds: float
    import_seconds: float


def prediction_versions(task: Mapping[str, Any]) -> list[str]:
    """The model versions of a listed task's predictions: the Data Manager's
    `predictions_model_versions` (a list, or one comma-joined string)."""
    raw = task.get("predictions_model_versions") or []
    if isinstance(raw, str):
        return [v.strip() for v in raw.split(",") if v.strip()]
    return [str(v) for v in raw]


def unlabelled_tasks(
    client: Any, url: str, project_id: int, *, page_size: int = 10_000
) -> list[dict[str, Any]]:
    """Every task without an annotation: id, data and the model versions of its predictions.

    `fields=all`: with `task_only` the Data Manager leaves the computed columns
    (`predictions_model_versions`) empty. With the backend connected and
    "retrieve predictions automatically" on, this listing also makes Label Studio
    ask the backend for the tasks that have no prediction at all."""
    return list(
        iter_tasks(
            client,
            url,
            project_id,
            include="id,data,predictions_model_versions",
            computed=True,
            query=_UNLABELLED,
            page_size=page_size,
            doing="listing the unlabelled tasks",
        )
    )


def queue_view(client: Any, url: str, project_id: int) -> tuple[int, bool]:
    """Make the project's first view sort least certain first; (view id, created)."""
    with translated(url, "listing the project's views"):
        views = sorted(
            client.views.list(project=project_id), key=lambda v: (v.order or 0, v.id or 0)
        )
    if not views:
        with translated(url, "creating the least-certain-first view"):
            view = client.views.create(
                project=project_id,
                data={"title": QUEUE_VIEW_TITLE, "ordering": QUEUE_ORDERING},
            )
        return int(view.id), True
    view = views[0]
    data = dict(view.data or {}) if isinstance(view.data, Mapping) else {}
    if list(data.get("ordering") or view.ordering or []) != QUEUE_ORDERING:
        # filters stay as they are (left out, the view's filter group is untouched);
        # the rest of `data` (title, columns) is sent back since `data` is replaced whole
        kept = {k: v for k, v in data.items() if k not in ("filters", "ordering", "selectedItems")}
        with translated(url, "ordering the view least certain first"):
            client.views.update(
                id=str(view.id), project=project_id, data={**kept, "ordering": QUEUE_ORDERING}
            )
    return int(view.id), False


def requeue_project(
    project: str,
    served: Any,
    *,
    url: str | None = None,
    api_key: str | None = None,
    batch_size: int = 1000,
) -> RequeueReport:
    """Predict the unlabelled tasks of `project` with `served` (a `ServedModel`), import the
    predictions, and order the project's queue least certain first (see the module's doc)."""
    from corpus_tools.studio.ml_backend import predict_tasks

    started = time.perf_counter()
    client, connection = connect(url=url, api_key=api_key)
    base = connection.url
    found = require_project(
        client, base, project, fix="the backend re-scores the project whose annotations it was sent"
    )
    version = served.model_version
    clock = time.perf_counter()
    tasks = unlabelled_tasks(client, base, found.id)
    todo = [t for t in tasks if version not in prediction_versions(t)]
    list_seconds = time.perf_counter() - clock

    clock = time.perf_counter()
    predictions = predict_tasks(served, todo)
    predict_seconds = time.perf_counter() - clock

    clock = time.perf_counter()
    rows = [
        {"task": task["id"], **prediction}
        for task, prediction in zip(todo, predictions, strict=True)
        if prediction.get("result")
    ]
    for start in range(0, len(rows), batch_size):
        with translated(base, "importing the new model's predictions"):
            client.projects.import_predictions(
                id=found.id, request=rows[start : start + batch_size]
            )
    from corpus_tools.studio.push import drop_stale_predictions

    drop_stale_predictions(client, base, found.id, current=version)  # one suggestion tab
    with translated(base, "setting uncertainty sampling on the new model version"):
        client.projects.update(id=found.id, model_version=version, sampling=UNCERTAINTY_SAMPLING)
    view_id, created = queue_view(client, base, found.id)
    import_seconds = time.perf_counter() - clock
    return RequeueReport(
        project_id=found.id,
        model_version=version,
        tasks_unlabelled=len(tasks),
        predictions_created=len(rows),
        view_id=view_id,
        view_created=created,
        seconds=round(time.perf_counter() - started, 2),
        list_seconds=round(list_seconds, 2),
        predict_seconds=round(predict_seconds, 2),
        import_seconds=round(import_seconds, 2),
    )
