"""The model as a Label Studio ML backend: a Starlette app speaking Label Studio 1.23's protocol.

Label Studio (`label_studio/ml/api_connector.py`) calls, on the backend's URL:

- `GET /health` (1 s timeout) → `{"status": "UP", "model_class": ...}`;
- `POST /setup` (3 s) with `{"project": "ID.TIMESTAMP", "schema": LABEL_CONFIG, ...}`
  → `{"model_version": ...}`; any HTTP error makes Label Studio refuse the backend;
- `POST /predict` with `{"tasks": [{"id", "data"}, ...], "project", "label_config", "params"}`
  → `{"results": [{"result": [...], "score", "model_version"}, ...]}`, one per task, in order;
- `POST /webhook`: the project's webhook (created with the backend, all actions),
  `{"action": ..., "annotation": ..., "project": {...}}`, and `START_TRAINING`.

The served model is one immutable `ServedModel`, replaced whole under a lock:
requests read the reference once, so a retrain never blocks or breaks them.
"""

from __future__ import annotations

import logging
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from corpus_tools.errors import CorpusToolsError, ModelBackendError
from corpus_tools.schema import LS_MEASURE_TYPE, LS_SPANS, LS_TEXT, MEASURE_TYPES, SPAN_LABELS
from corpus_tools.studio.retraining import RetrainMode, RetrainOutcome

MODEL_CLASS = "corpus_tools.ZhWorkSafetyPrelabel"
DEFAULT_RETRAIN_AFTER = 20
log = logging.getLogger("corpus_tools.ml_backend")


class WebhookAction(StrEnum):
    ANNOTATION_CREATED = "ANNOTATION_CREATED"
    ANNOTATION_UPDATED = "ANNOTATION_UPDATED"
    START_TRAINING = "START_TRAINING"


@dataclass(frozen=True, slots=True)
class ServedModel:
    nlp: Any = field(repr=False)
    model_dir: Path
    model_version: str


def load_served_model(model_dir: Path | str) -> ServedModel:
    from corpus_tools.model import load_model
    from corpus_tools.model.loading import model_version_of

    path = Path(model_dir)
    nlp = load_model(path)
    # the first call builds lazy state (about 2 s); pay it here, not on an annotator's first task
    list(nlp.pipe(["各单位要在年底前完成隐患排查。"]))
    return ServedModel(nlp=nlp, model_dir=path, model_version=model_version_of(path))


# ---------------------------------------------------------------- setup: config check


def _stored_ids(element: ET.Element, tag: str) -> set[str]:
    # Label Studio stores a Choice's / Label's alias when it has one, else its value.
    return {
        child.get("alias") or child.get("value") or ""
        for child in element.iter()
        if child.tag == tag
    }


def config_problems(label_config: str) -> list[str]:
    """What keeps this model from serving a project with `label_config` (empty: usable)."""
    try:
        root = ET.fromstring(label_config)
    except ET.ParseError as error:
        return [f"the labeling config is not XML ({error})"]
    by_name = {el.get("name"): el for el in root.iter() if el.get("name")}
    expected = (
        (LS_MEASURE_TYPE, "Choices", "Choice", MEASURE_TYPES),
        (LS_SPANS, "Labels", "Label", SPAN_LABELS),
    )
    problems = []
    text = by_name.get(LS_TEXT)
    if text is None or text.tag != "Text":
        problems.append(f'no <Text name="{LS_TEXT}"> to predict on')
    for name, tag, child, ids in expected:
        element = by_name.get(name)
        if element is None or element.tag != tag:
            problems.append(f'no <{tag} name="{name}">')
            continue
        if element.get("toName") != LS_TEXT:
            problems.append(
                f'<{tag} name="{name}"> points to {element.get("toName")!r}, not {LS_TEXT!r}'
            )
        missing = set(ids) - _stored_ids(element, child)
        if missing:
            problems.append(f'<{tag} name="{name}"> lacks the ids {", ".join(sorted(missing))}')
    if problems:
        problems.append(
            "use the config of `corpus-tools studio config` (label_configs/sentence_tagging.xml)"
        )
    return problems


# ---------------------------------------------------------------- prediction


def predict_tasks(served: ServedModel, tasks: list[Any]) -> list[dict[str, Any]]:
    """One Label Studio prediction per task, in order; a task without text gets an empty one."""
    from corpus_tools.prelabel import predict_texts
    from corpus_tools.studio.tasks import prelabel_prediction, task_heading

    texts = [
        task.get("data", {}).get("text")
        if isinstance(task, Mapping) and isinstance(task.get("data"), Mapping)
        else None
        for task in tasks
    ]
    limit = served.nlp.max_length
    # a text longer than the model reads would fail the whole batch: it gets an
    # empty prediction, the rest of the batch its predictions
    usable = [i for i, text in enumerate(texts) if isinstance(text, str) and 0 < len(text) <= limit]
    headings = [task_heading(tasks[i]["data"]) for i in usable]
    predictions = dict(
        zip(
            usable,
            predict_texts(served.nlp, [texts[i] for i in usable], headings),
            strict=True,
        )
    )
    results = []
    for i, task in enumerate(tasks):
        prediction = predictions.get(i)
        if prediction is None:
            text = texts[i]
            reason = (
                f"its data.text has {len(text):,} characters, more than the model reads ({limit:,})"
                if isinstance(text, str) and len(text) > limit
                else "it has no data.text"
            )
            log.warning("task %s: %s; returned an empty prediction", _task_id(task), reason)
            results.append({"result": [], "score": 0.0, "model_version": served.model_version})
            continue
        row = {
            "measure_type": prediction.measure_type,
            "measure_type_score": prediction.measure_type_score,
            "spans": [
                {"start": s, "end": e, "label": label, "text": text, "score": score}
                for s, e, label, text, score in prediction.spans
            ],
            "model_version": served.model_version,
        }
        data = {"unit_id": task["data"].get("unit_id") or str(_task_id(task)), "text": texts[i]}
        results.append(prelabel_prediction(data, row, "/predict"))
    return results


def _task_id(task: Any) -> Any:
    return task.get("id") if isinstance(task, Mapping) else None


# ---------------------------------------------------------------- the backend state


Retrainer = Callable[[str, Path], RetrainOutcome]  # (project title, current model dir)
Requeuer = Callable[[str, ServedModel], Any]  # (project title, the model just swapped in)


@dataclass
class BackendState:
    """The served model, the annotation count since the last retrain, the retrain thread."""

    served: ServedModel
    retrain: Retrainer | None
    retrain_after: int = DEFAULT_RETRAIN_AFTER
    requeue: Requeuer | None = None  # after a swap: re-score the unlabelled tasks
    new_annotations: int = 0
    retraining: bool = False
    last_retrain: str = ""  # a one-line outcome, shown by /health
    last_requeue: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start_retrain(self, project: str) -> bool:
        """Start a background retrain for `project` unless one runs or none is configured."""
        with self._lock:
            if self.retrain is None or self.retraining:
                return False
            self.retraining = True
            self.new_annotations = 0
        self._thread = threading.Thread(
            target=self._run_retrain, args=(project,), name="retrain", daemon=True
        )
        self._thread.start()
        return True

    def wait_for_retrain(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run_retrain(self, project: str) -> None:
        swapped: ServedModel | None = None
        try:
            outcome = self.retrain(project, self.served.model_dir)
            if not outcome.accepted:
                self.last_retrain = (
                    f"kept {self.served.model_version}: new model ({outcome.mode} retrain) scored "
                    f"{outcome.new_score} < {outcome.old_score} of {outcome.compared_with} "
                    "on held-out notices"
                )
                return
            candidate = load_served_model(outcome.model_dir)  # loaded before the swap
            with self._lock:
                self.served = candidate
            swapped = candidate
            self.last_retrain = (
                f"now {candidate.model_version}: {outcome.new_score} >= {outcome.old_score} "
                f"of {outcome.compared_with} on held-out notices, {outcome.mode} retrain on "
                f"{outcome.n_new_units} new units, {outcome.seconds} s"
            )
        except Exception as error:  # any failure leaves the served model as it was
            self.last_retrain = f"retrain failed, kept {self.served.model_version}: {error}"
            log.exception("retrain failed")
        finally:
            log.info(self.last_retrain)
            if swapped is not None and self.requeue is not None:
                self._run_requeue(project, swapped)
            with self._lock:
                self.retraining = False

    def _run_requeue(self, project: str, served: ServedModel) -> None:
        """Re-score the unlabelled tasks with the model just swapped in; a failure here
        is logged and shown by /health, the swap stands."""
        try:
            report = self.requeue(project, served)
            self.last_requeue = (
                f"{report.predictions_created} of {report.tasks_unlabelled} unlabelled tasks "
                f"re-scored with {report.model_version} in {report.seconds} s; "
                f"view {report.view_id} orders them least certain first"
            )
        except Exception as error:
            self.last_requeue = f"re-scoring the queue with {served.model_version} failed: {error}"
            log.exception("requeue failed")
        log.info(self.last_requeue)


# ---------------------------------------------------------------- the app


def _bad_request(reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=400)


async def _json_object(request: Request) -> dict | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def create_app(state: BackendState) -> Starlette:
    """The Starlette app serving `state` (its model is loaded already)."""

    async def health(request: Request) -> JSONResponse:
        served = state.served
        return JSONResponse(
            {
                "status": "UP",
                "model_class": MODEL_CLASS,
                "model_version": served.model_version,
                "retraining": state.retraining,
                "last_retrain": state.last_retrain,
                "last_requeue": state.last_requeue,
                # annotators see their work count toward the next retrain
                "new_annotations": state.new_annotations,
                "retrain_after": state.retrain_after if state.retrain is not None else None,
            }
        )

    async def setup(request: Request) -> JSONResponse:
        body = await _json_object(request)
        if body is None or not isinstance(body.get("schema"), str):
            return _bad_request(
                "/setup expects a JSON object with the project's label config in 'schema'"
            )
        problems = config_problems(body["schema"])
        if problems:
            return _bad_request(
                "this model cannot serve the project's labeling config: " + "; ".join(problems)
            )
        return JSONResponse({"model_version": state.served.model_version})

    async def predict(request: Request) -> JSONResponse:
        body = await _json_object(request)
        if body is None or not isinstance(body.get("tasks"), list):
            return _bad_request("/predict expects a JSON object with a list of tasks in 'tasks'")
        served = state.served  # one model for the whole batch, even if a swap happens meanwhile
        from starlette.concurrency import run_in_threadpool

        results = await run_in_threadpool(predict_tasks, served, body["tasks"])
        return JSONResponse({"results": results, "model_version": served.model_version})

    async def webhook(request: Request) -> JSONResponse:
        body = await _json_object(request)
        if body is None:
            return _bad_request("the webhook payload is not a JSON object")
        action = body.get("action")
        if not isinstance(action, str):
            return _bad_request("the webhook payload has no 'action'")
        if action not in WebhookAction.__members__:
            return JSONResponse({"status": "ignored", "action": action})
        project = body.get("project")
        if not isinstance(project, Mapping) or not project.get("title"):
            return _bad_request(f"{action}: the payload has no 'project' with a 'title'")
        if action != WebhookAction.START_TRAINING and not isinstance(
            body.get("annotation"), Mapping
        ):
            return _bad_request(f"{action}: the payload has no 'annotation' object")
        with state._lock:
            if action != WebhookAction.START_TRAINING:
                state.new_annotations += 1
            due = (
                action == WebhookAction.START_TRAINING
                or state.new_annotations >= state.retrain_after
            )
        started = state.start_retrain(str(project["title"])) if due else False
        return JSONResponse(
            {
                "status": "ok",
                "new_annotations": state.new_annotations,
                "retraining": state.retraining,
                "retrain_started": started,
                "model_version": state.served.model_version,
            }
        )

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/", health, methods=["GET"]),
            Route("/setup", setup, methods=["POST"]),
            Route("/predict", predict, methods=["POST"]),
            Route("/webhook", webhook, methods=["POST"]),
        ]
    )


def backend_state(
    *,
    model_dir: Path | str,
    seed_export: Path | None,
    work_dir: Path,
    retrain_after: int = DEFAULT_RETRAIN_AFTER,
    retrain_steps: int | None = None,
    retrain_mode: RetrainMode = RetrainMode.LIGHT,
    requeue: bool = True,
    url: str | None = None,
    api_key: str | None = None,
) -> BackendState:
    """Load the model once and wire the retrain job (none without a seed export) and,
    with `requeue`, the re-scoring of the project's unlabelled tasks after each swap."""
    from corpus_tools.studio.retraining import DEFAULT_RETRAIN_STEPS, retrain_model

    served = load_served_model(model_dir)
    if seed_export is not None and not (Path(seed_export) / "dataset").is_dir():
        raise CorpusToolsError(
            f"{seed_export}: not an export directory (no dataset/); pass --seed-export "
            "the output of `corpus-tools export`"
        )

    def retrain(project: str, current: Path) -> RetrainOutcome:
        return in_child_process(
            retrain_model,
            project=project,
            current_model=current,
            seed_export=Path(seed_export),
            work_dir=Path(work_dir),
            url=url,
            api_key=api_key,
            mode=RetrainMode(retrain_mode),
            max_steps=retrain_steps or DEFAULT_RETRAIN_STEPS,
        )

    def rescore(project: str, model: ServedModel) -> Any:
        from corpus_tools.studio.requeue import requeue_project

        return requeue_project(project, model, url=url, api_key=api_key)

    if seed_export is not None:
        # the forkserver imports scikit-learn and datasets (seconds): pay it now,
        # not in the first retrain
        threading.Thread(target=_start_forkserver, name="forkserver", daemon=True).start()
    return BackendState(
        served=served,
        retrain=retrain if seed_export is not None else None,
        retrain_after=retrain_after,
        requeue=rescore if requeue else None,
    )


# What a retrain child imports before it forks: each retrain then starts in
# milliseconds instead of paying scikit-learn's and datasets' imports again.
_CHILD_PRELOAD = ["corpus_tools.studio.retraining", "sklearn.linear_model", "datasets"]


def in_child_process(function: Callable[..., RetrainOutcome], **arguments: Any) -> RetrainOutcome:
    """Run a retrain in a child process and return its outcome.

    Fitting in a thread of the server held the GIL for seconds at a time, so
    `/health` and `/predict` waited behind it (Label Studio gives `/health` about
    1 s). In a child (forked from a clean forkserver, not from this threaded
    server) the server keeps answering, and a retrain that crashes or is killed
    leaves nothing behind but an exception here.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_CHILD_PRELOAD)
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, **arguments).result()


def _start_forkserver() -> None:
    import multiprocessing
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(_CHILD_PRELOAD)
    forkserver.ensure_running()


def serve(state: BackendState, *, host: str = "127.0.0.1", port: int = 9090) -> None:
    """Run the backend with uvicorn until interrupted."""
    import uvicorn

    check_listenable(host, port)

    uvicorn.run(create_app(state), host=host, port=port, log_level="warning")


def check_listenable(host: str, port: int) -> None:
    """Raise `ModelBackendError` when the backend could not listen on `host:port`."""
    from corpus_tools.studio.ports import can_listen

    problem = can_listen(host, port)
    if problem is not None:
        raise ModelBackendError(
            f"cannot listen on {host}:{port} ({problem.strerror or problem}): another program "
            "holds it (a backend already running?) or it needs privileges; pass another --port"
        )
