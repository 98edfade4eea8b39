"""Pushing units (with pre-label predictions) and seed annotations into a project."""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from label_studio_sdk import LabelStudio

from corpus_tools.errors import InputFileError
from corpus_tools.schema import Unit, UnitAnnotation
from corpus_tools.studio.client import connect, translated
from corpus_tools.studio.projects import (
    ensure_project,
    iter_tasks,
    require_project,
    task_index,
    task_page,
)
from corpus_tools.studio.tasks import (
    annotation_records,
    annotation_result,
    prelabel_prediction,
    unit_records,
    with_context,
)

ANNOTATOR_EMAIL_DOMAIN = "corpus-tools.local"

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class PushReport:
    project_id: int
    project_title: str
    project_created: bool
    units_read: int
    body_units: int
    tasks_created: int
    tasks_existing: int
    predictions_created: int
    predictions_skipped: int
    seconds: float
    annotations_created: int = 0
    # earlier suggestions of the same model removed from tasks not yet annotated
    predictions_replaced: int = 0
    # judged units that are not among the body units pushed (a segmenter change made
    # the unit a heading, or the wrong units file): their annotations were not imported
    annotated_units_missing: tuple[str, ...] = ()
    # judged units whose task was there already: annotations come only with new
    # tasks, `push_annotations` adds them to existing ones
    annotated_units_existing: int = 0
    label_config_updated: bool = False


@dataclass(frozen=True, slots=True)
class AnnotationPushReport:
    project_id: int
    annotations_read: int
    annotations_created: int
    annotations_existing: int
    units_missing: tuple[str, ...]
    annotators_created: tuple[str, ...]
    seconds: float


class _PushRecord:
    """The unit_id -> task id map of one project, as last pushed from here.

    Keyed by server URL, project id and the project's creation time, so a new
    server or a re-created project never reuses an old record. It is only a
    shortcut: `matches` checks it against the server before it is trusted.
    """

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.units: dict[str, int] = {k: int(v) for k, v in (data.get("units") or {}).items()}
        self.task_count = int(data.get("task_count", -1))
        self.max_task_id = int(data.get("max_task_id", -1))

    @classmethod
    def load(cls, url: str, project: Any, *, home: Path | None = None) -> _PushRecord:
        from platformdirs import user_cache_dir

        root = (
            Path(home)
            if home is not None
            else Path(user_cache_dir("corpus-tools", appauthor=False))
        )
        key = hashlib.sha1(f"{url}|{project.id}|{project.created_at}".encode()).hexdigest()[:20]
        path = root / "studio-push" / f"{key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        return cls(path, data)

    def matches(self, task_count: int, max_task_id: int) -> bool:
        return (self.task_count, self.max_task_id) == (task_count, max_task_id)

    def reset(self, units: Mapping[str, int] | None = None) -> None:
        self.units = dict(units or {})
        self.task_count = len(self.units)
        self.max_task_id = max(self.units.values(), default=0)

    def add(self, unit_ids: Iterable[str], task_ids: list[int]) -> None:
        for unit_id, task_id in zip(unit_ids, task_ids, strict=True):
            self.units[unit_id] = task_id
        self.task_count += len(task_ids)
        self.max_task_id = max(self.max_task_id, *task_ids)

    def forget(self) -> None:
        self.task_count = self.max_task_id = -1
        self.save()

    def save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(
                json.dumps(
                    {
                        "task_count": self.task_count,
                        "max_task_id": self.max_task_id,
                        "units": self.units,
                    }
                ),
                encoding="utf-8",
            )
            tmp.replace(self.path)
        except OSError:
            pass  # a cache: without it the next push lists the tasks


def _task_count_and_max_id(client: LabelStudio, url: str, project_id: int) -> tuple[int, int]:
    """The project's task count and highest task id, in one small request."""
    tasks, total = task_page(
        client,
        url,
        project_id,
        include="id",
        page_size=1,
        query={"ordering": ["-tasks:id"]},
        doing="counting the project's tasks",
    )
    return total, int(tasks[0]["id"]) if tasks else 0


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing_prediction_versions(
    client: LabelStudio, url: str, project_id: int
) -> dict[int, set[str]]:
    with translated(url, "listing predictions"):
        predictions = client.predictions.list(project=project_id)
    versions: dict[int, set[str]] = defaultdict(set)
    for prediction in predictions:
        versions[prediction.task].add(prediction.model_version or "")
    return versions


def model_family(version: str) -> str:
    """`name-version` of a model version: `…-0.1.0+3bf2ea80` and a retrain's
    `…-0.1.0+r1+…` are one model's suggestions, `m1` and `m2` two models'."""
    return version.split("+", 1)[0]


def drop_stale_predictions(client: LabelStudio, url: str, project_id: int, *, current: str) -> int:
    """Delete, on tasks nobody has annotated yet, the predictions of earlier versions of
    `current`'s model: each retrain's suggestions would otherwise pile up as another tab
    in the labeling page. Annotated tasks keep theirs (what annotators were shown)."""
    from corpus_tools.studio.requeue import prediction_versions, unlabelled_tasks

    unlabelled = {
        int(task["id"])
        for task in unlabelled_tasks(client, url, project_id)
        if any(
            v != current and model_family(v) == model_family(current)
            for v in prediction_versions(task)
        )
    }
    if not unlabelled:
        return 0
    with translated(url, "listing predictions"):
        predictions = list(client.predictions.list(project=project_id))
    stale = [
        p
        for p in predictions
        if p.task in unlabelled
        and (p.model_version or "") != current
        and model_family(p.model_version or "") == model_family(current)
    ]
    with translated(url, "removing earlier suggestions of the model"):
        for prediction in stale:
            client.predictions.delete(id=prediction.id)
    return len(stale)


def push_units(
    units: Path | str | Iterable[Mapping[str, Any] | Unit],
    *,
    project: str,
    url: str | None = None,
    api_key: str | None = None,
    batch_size: int = 1000,
    least_certain_first: bool = True,
    progress: ProgressCallback | None = None,
    home: Path | None = None,
    record_dir: Path | None = None,
    annotations: Path | str | Iterable[Mapping[str, Any] | UnitAnnotation] | None = None,
) -> PushReport:
    """Import the body units as tasks of project `project` (created if missing).

    `annotations` (the seed-set format of `push_annotations`) travel inside the
    import of the tasks they belong to: one request per batch instead of one
    per annotation. Annotations of units already in the project are not
    touched here; `push_annotations` loads those.

    `units` is a segment / pre-label JSONL or Parquet file, or an iterable of
    unit dicts / `Unit`s. Each task carries the stable `unit_id`; units already
    in the project are skipped, so a re-push or a re-run after an interrupted
    push leaves each unit exactly once. Rows with `measure_type` (pre-label
    output) become predictions with `model_version` and `score`; for a unit
    already in the project the prediction is added to its task unless one of
    that model_version is there. With `least_certain_first`, new tasks are
    imported in ascending score and the project samples by uncertainty, so the
    label stream serves the least certain predictions first.

    `progress(done, total)` is called after every batch (units handled so far).

    Which units a project holds is kept in a local push record (in the user
    cache dir, or `record_dir`) and trusted only while the project's task count
    and highest task id on the server still match it (one small request);
    otherwise the unit ids are listed from the server and the record rebuilt.
    """
    started = time.perf_counter()
    origin, rows = unit_records(units)
    pairs = with_context(rows, origin)
    if not pairs:  # before any project is created for nothing
        raise InputFileError(
            origin, "no body units to push; pass a `corpus-tools segment` output of notices"
        )
    judgements = None
    if annotations is not None:  # read and checked before the server is touched
        judgements = annotation_records(annotations)
        _check_judgements(*judgements, texts={data["unit_id"]: data["text"] for data, _ in pairs})
    client, connection = connect(url=url, api_key=api_key, home=home)
    base = connection.url
    setup = ensure_project(client, base, project)
    found, created = setup.project, setup.created
    project_id = found.id

    record = _PushRecord.load(base, found, home=record_dir)
    if created:
        record.reset()
    elif not record.matches(*_task_count_and_max_id(client, base, project_id)):
        # No record, or the project changed behind it: ask the server.
        record.reset({uid: ids[0] for uid, ids in task_index(client, base, project_id).items()})
        record.save()
    existing = record.units
    judged = _annotations_by_unit(client, base, judgements)
    new: list[dict[str, Any]] = []
    attach: list[tuple[int, dict[str, Any]]] = []
    judged_existing = 0
    for data, row in pairs:
        prediction = prelabel_prediction(data, row, origin)
        task_id = existing.get(data["unit_id"])
        judged_existing += task_id is not None and data["unit_id"] in judged
        if task_id is None:
            task: dict[str, Any] = {"data": data}
            if prediction:
                task["predictions"] = [prediction]
            if data["unit_id"] in judged:
                task["annotations"] = judged[data["unit_id"]](data["text"])
            new.append(task)
        elif prediction:
            attach.append((task_id, prediction))

    has_predictions = any("predictions" in task for task in new) or bool(attach)
    if least_certain_first and has_predictions:

        def certainty(task: dict[str, Any]) -> float:
            predictions = task.get("predictions") or [{}]
            score = predictions[0].get("score")
            return float(score) if score is not None else 2.0

        new.sort(key=certainty)

    total = len(pairs)
    done = total - len(new)
    if progress:
        progress(done, total)
    predictions_created = annotations_created = 0
    for batch in _batches(new, batch_size):
        with translated(base, f"importing tasks into project {project!r}"):
            response = client.projects.import_tasks(
                id=project_id, request=batch, return_task_ids=True
            )
        predictions_created += int(response.prediction_count or 0)
        annotations_created += int(response.annotation_count or 0)
        task_ids = list(response.task_ids or ())
        if len(task_ids) == len(batch):
            record.add((task["data"]["unit_id"] for task in batch), task_ids)
            record.save()
        else:  # not expected; the next push then lists the tasks instead
            record.forget()
        done += len(batch)
        if progress:
            progress(done, total)

    predictions_skipped = 0
    if attach:
        versions = _existing_prediction_versions(client, base, project_id)
        to_add = []
        for task_id, prediction in attach:
            if prediction["model_version"] in versions.get(task_id, set()):
                predictions_skipped += 1
                continue
            versions[task_id].add(prediction["model_version"])
            to_add.append({"task": task_id, **prediction})
        for batch in _batches(to_add, batch_size):
            with translated(base, "adding predictions to existing tasks"):
                response = client.projects.import_predictions(id=project_id, request=batch)
            predictions_created += len(batch)

    stale_removed = 0
    if has_predictions:
        newest = (new[0]["predictions"][0] if new and new[0].get("predictions") else attach[0][1])[
            "model_version"
        ]
        stale_removed = drop_stale_predictions(client, base, project_id, current=newest)
    if least_certain_first and has_predictions:
        with translated(base, "setting uncertainty sampling"):
            client.projects.update(
                id=project_id, sampling="Uncertainty sampling", model_version=newest
            )

    return PushReport(
        project_id=project_id,
        project_title=project,
        project_created=created,
        units_read=len(rows),
        body_units=total,
        tasks_created=len(new),
        tasks_existing=total - len(new),
        predictions_created=predictions_created,
        predictions_skipped=predictions_skipped,
        predictions_replaced=stale_removed,
        seconds=time.perf_counter() - started,
        annotations_created=annotations_created,
        annotated_units_missing=tuple(sorted(judged.keys() - {d["unit_id"] for d, _ in pairs})),
        annotated_units_existing=judged_existing,
        label_config_updated=setup.config_updated,
    )


# --------------------------------------------------------------------------
# Annotations (seed set, quickstart)


def _check_judgements(origin: str, rows: list[dict[str, Any]], *, texts: Mapping[str, str]) -> None:
    """Raise on a judgement of a pushed unit whose label or span does not fit its text."""
    for row in rows:
        text = texts.get(str(row.get("unit_id") or ""))
        if text is not None:
            annotation_result(row, text, origin)


def _annotations_by_unit(
    client: LabelStudio, url: str, judgements: tuple[str, list[dict[str, Any]]] | None
) -> dict[str, Callable[[str], list[dict[str, Any]]]]:
    """unit_id -> a builder of that unit's import-ready annotations (checked against its text)."""
    if judgements is None:
        return {}
    origin, rows = judgements
    users, _ = _annotator_users(client, url, {str(r.get("annotator") or "") for r in rows})
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_unit.setdefault(str(row.get("unit_id") or ""), []).append(row)

    def builder(unit_rows: list[dict[str, Any]]) -> Callable[[str], list[dict[str, Any]]]:
        def build(text: str) -> list[dict[str, Any]]:
            built = []
            for row in unit_rows:
                annotation: dict[str, Any] = {"result": annotation_result(row, text, origin)}
                annotator = str(row.get("annotator") or "")
                if annotator:
                    annotation["completed_by"] = users[annotator]
                built.append(annotation)
            return built

        return build

    return {unit_id: builder(unit_rows) for unit_id, unit_rows in by_unit.items()}


def _annotator_email(annotator: str) -> str:
    name = annotator.strip()
    return name if "@" in name else f"{name}@{ANNOTATOR_EMAIL_DOMAIN}"


def _annotator_users(
    client: LabelStudio, url: str, names: Iterable[str]
) -> tuple[dict[str, int], list[str]]:
    """Label Studio user ids for annotator names, creating the missing users.

    Users are created in the token owner's organisation (an admin's token can;
    others get a StudioAuthError). They have no password: an admin sets one in
    Label Studio if that person is to log in.
    """
    # sorted: users are created in the same order (so get the same ids) on every run
    wanted = {name: _annotator_email(name) for name in sorted(names) if name}
    with translated(url, "listing users"):
        users = list(client.users.list())
    by_key: dict[str, int] = {}
    for user in users:
        for key in (user.email, getattr(user, "username", None)):
            if key:
                by_key[key] = user.id
    ids: dict[str, int] = {}
    created: list[str] = []
    for name, email in wanted.items():
        user_id = by_key.get(email) or by_key.get(name)
        if user_id is None:
            with translated(url, f"creating annotator user {email}"):
                user = client.users.create(email=email, username=name, first_name=name)
            user_id = user.id
            created.append(name)
        ids[name] = user_id
    return ids, created


def _existing_annotations(client: LabelStudio, url: str, project_id: int) -> dict[int, set[int]]:
    """task id -> ids of users who already annotated it (every page, so a re-run
    past 10k annotated tasks still adds nothing twice)."""
    annotated = {
        "filters": {
            "conjunction": "and",
            "items": [
                {
                    "filter": "filter:tasks:total_annotations",
                    "operator": "greater",
                    "type": "Number",
                    "value": 0,
                }
            ],
        }
    }
    done: dict[int, set[int]] = defaultdict(set)
    for task in iter_tasks(
        client, url, project_id, query=annotated, doing="listing existing annotations"
    ):
        for annotation in task.get("annotations") or ():
            user = annotation.get("completed_by")
            done[task["id"]].add(user["id"] if isinstance(user, Mapping) else user)
    return done


def push_annotations(
    annotations: Path | str | Iterable[Mapping[str, Any] | UnitAnnotation],
    *,
    project: str,
    url: str | None = None,
    api_key: str | None = None,
    progress: ProgressCallback | None = None,
    home: Path | None = None,
) -> AnnotationPushReport:
    """Load seed-set annotations as real annotations on the project's tasks.

    Each record is `{unit_id, measure_type, spans: [{start, end, label, text}],
    annotator}`; the units must have been pushed first. An annotation is
    attributed to the annotator's Label Studio user (created if missing, as
    `NAME@corpus-tools.local`); a task that already has an annotation by that
    user is left alone, so a re-run creates nothing new.
    """
    started = time.perf_counter()
    origin, rows = annotation_records(annotations)
    client, connection = connect(url=url, api_key=api_key, home=home)
    base = connection.url
    found = require_project(
        client, base, project, fix="push the units first (`corpus-tools push UNITS --project NAME`)"
    )
    tasks = task_index(client, base, found.id)
    users, created_users = _annotator_users(
        client, base, {str(r.get("annotator") or "") for r in rows}
    )
    done = _existing_annotations(client, base, found.id)
    whoami = None

    missing: list[str] = []
    created = existing = 0
    for number, row in enumerate(rows, 1):
        unit_id = str(row.get("unit_id") or "")
        if unit_id not in tasks:
            missing.append(unit_id)
            continue
        task_id, text = tasks[unit_id]
        annotator = str(row.get("annotator") or "")
        if annotator:
            user_id = users[annotator]
        else:
            if whoami is None:
                with translated(base, "reading the current user"):
                    whoami = client.users.whoami().id
            user_id = whoami
        if user_id in done.get(task_id, set()):
            existing += 1
        else:
            result = annotation_result(row, text, origin)
            with translated(base, f"creating the annotation of {unit_id}"):
                client.annotations.create(id=task_id, result=result, completed_by=user_id)
            done[task_id].add(user_id)
            created += 1
        if progress:
            progress(number, len(rows))
    return AnnotationPushReport(
        project_id=found.id,
        annotations_read=len(rows),
        annotations_created=created,
        annotations_existing=existing,
        units_missing=tuple(missing),
        annotators_created=tuple(created_users),
        seconds=time.perf_counter() - started,
    )
