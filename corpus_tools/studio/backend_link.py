"""Registering the ML backend (`corpus-tools serve-model`) with a Label Studio project."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from corpus_tools.errors import ModelBackendError
from corpus_tools.studio.client import connect, translated
from corpus_tools.studio.projects import require_project
from corpus_tools.studio.requeue import (
    UNCERTAINTY_SAMPLING,
    prediction_versions,
    unlabelled_tasks,
)

DEFAULT_BACKEND_URL = "http://127.0.0.1:9090"
BACKEND_TITLE = "corpus-tools model"


@dataclass(frozen=True, slots=True)
class BackendLink:
    project_id: int
    backend_id: int
    backend_url: str
    created: bool  # False: the project already had a backend at this URL
    state: str
    model_version: str
    replaced: tuple[str, ...] = ()  # URLs of earlier corpus-tools backends removed from it
    # True: every unlabelled task holds the served model's prediction, so the project
    # serves them least certain first; False: tasks get the backend's suggestion as
    # they open (the label stream's order is then Label Studio's own)
    least_certain_first: bool = False


def backend_health(backend_url: str, *, timeout: float = 2.0) -> dict:
    """The backend's /health answer; one clear error when it is down or something else."""
    hint = "start it with `corpus-tools serve-model` or pass --backend-url"
    try:
        response = httpx.get(backend_url.rstrip("/") + "/health", timeout=timeout)
        body = response.json()
    except httpx.HTTPError as error:
        raise ModelBackendError(
            f"the ML backend is not reachable at {backend_url} ({error.__class__.__name__}); {hint}"
        ) from None
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or body.get("status") != "UP":
        raise ModelBackendError(
            f"{backend_url} did not answer /health like an ML backend (HTTP {response.status_code}); {hint}"
        )
    return body


def connect_model(
    *,
    project: str,
    backend_url: str = DEFAULT_BACKEND_URL,
    url: str | None = None,
    api_key: str | None = None,
    home: Path | None = None,
) -> BackendLink:
    """Register the backend at `backend_url` with `project` (interactive pre-annotation
    and auto-update on); re-running finds the backend already registered at that URL."""
    backend_url = backend_url.rstrip("/")
    backend_health(backend_url)
    client, connection = connect(url=url, api_key=api_key, home=home)
    base = connection.url
    found = require_project(client, base, project, fix="check --project")
    with translated(base, "listing the project's ML backends"):
        registered = list(client.ml.list(project=found.id))
    existing = [b for b in registered if b.url.rstrip("/") == backend_url]
    # Ours at another URL (a background backend restarted on another port): Label Studio
    # asks a project's first backend only, so a dead one left there would hide this one.
    stale = [b for b in registered if b.title == BACKEND_TITLE and b.url.rstrip("/") != backend_url]
    with translated(base, f"registering the ML backend {backend_url}"):
        if existing:
            # `url` too: Label Studio 1.23 re-checks /health on update and fails without it
            backend = client.ml.update(
                id=existing[0].id,
                url=backend_url,
                project=found.id,
                is_interactive=True,
                auto_update=True,
            )
        else:
            # Label Studio calls /health and /setup here and refuses a backend that fails them.
            backend = client.ml.create(
                project=found.id,
                url=backend_url,
                title=BACKEND_TITLE,
                is_interactive=True,
                auto_update=True,
            )
        backend = client.ml.get(id=backend.id)
    with translated(base, "removing the project's earlier corpus-tools ML backend"):
        for old in stale:
            client.ml.delete(id=old.id)
    # Label Studio 1.23 reads the project's model_version two ways: naming the backend
    # (its title), a task without a prediction gets one from the backend as it opens;
    # naming a prediction version, the label stream serves the unlabelled tasks with the
    # lowest score of that version first (`next_task.py: _try_uncertainty_sampling`),
    # which a title matches in no prediction. So where every unlabelled task already
    # holds the served model's prediction (`prelabel --push` with this model writes its
    # version), the project names that version and samples by uncertainty, as a retrain's
    # requeue does; else it names the backend, so that tasks opened get a suggestion.
    served_version = str(backend_health(backend_url).get("model_version") or "")
    unlabelled = unlabelled_tasks(client, base, found.id)
    queue_ready = bool(served_version and unlabelled) and all(
        served_version in prediction_versions(task) for task in unlabelled
    )
    queue = (
        {"model_version": served_version, "sampling": UNCERTAINTY_SAMPLING}
        if queue_ready
        else {"model_version": backend.title or BACKEND_TITLE}
    )
    with translated(base, "turning on the model's suggestions"):
        # evaluate_predictions_automatically stays off: with it every Data Manager listing
        # asks the backend for all listed tasks in one request and writes them before
        # answering — with 1,852 tasks that held SQLite's write lock past a minute and made
        # a quickstart re-run fail listing its tasks.
        client.projects.update(
            id=found.id,
            evaluate_predictions_automatically=False,
            show_collab_predictions=True,
            **queue,
        )
    return BackendLink(
        project_id=found.id,
        backend_id=int(backend.id),
        backend_url=backend_url,
        created=not existing,
        state=str(backend.state or ""),
        model_version=str(backend.model_version or ""),
        replaced=tuple(b.url for b in stale),
        least_certain_first=queue_ready,
    )
