"""Label Studio for annotators: the embedded server, push, annotations and pull.

This is the only package that imports `label_studio_sdk` (SDK 2.x `LabelStudio`).
One job a module:

- `connection`: where Label Studio is and which key to use (options, environment,
  the embedded server's config file).
- `client`: the checked SDK client; SDK / HTTP failures -> `corpus_tools.errors`.
- `server`: the embedded Label Studio process (start, stop, status, its token).
- `projects`: finding, creating and indexing the project.
- `tasks`: units -> task data, pre-labels / seed annotations -> result items.
- `push`: units, predictions and seed annotations into a project.
- `pulling`: a project's annotated tasks out, via an export snapshot (not
  `pull.py`: a module named like the function `pull` would be shadowed by it,
  and `monkeypatch`/`mock.patch` targets under it would resolve to the function).
- `ml_backend`: the model as a Label Studio ML backend (Starlette app, `serve-model`).
- `retraining`: the backend's background retrain on seed + project annotations.
- `backend_link`: registering that backend with a project (`studio connect-model`).
- `backend_process`: that backend as a background process beside the embedded server
  (quickstart starts it; `studio status` / `studio stop` show and stop it).

Tokens never appear in messages, reprs or logs.
"""

from corpus_tools.studio.connection import (
    StudioConnection,
    embedded_connection,
    resolve_connection,
    studio_home,
)
from corpus_tools.studio.projects import annotator_guide_html
from corpus_tools.studio.pulling import PullReport, pull
from corpus_tools.studio.push import AnnotationPushReport, PushReport, push_annotations, push_units
from corpus_tools.studio.server import (
    ServerInfo,
    ServerStatus,
    server_status,
    start_server,
    stop_server,
)
from corpus_tools.studio.tasks import task_data

__all__ = [
    "AnnotationPushReport",
    "PullReport",
    "PushReport",
    "ServerInfo",
    "ServerStatus",
    "StudioConnection",
    "annotator_guide_html",
    "embedded_connection",
    "push_annotations",
    "push_units",
    "pull",
    "resolve_connection",
    "server_status",
    "start_server",
    "stop_server",
    "studio_home",
    "task_data",
]
