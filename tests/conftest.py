"""Shared fixtures. Integration fixtures start real servers once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_NOTICES = PROJECT_ROOT / "data" / "notices"
NEW_NOTICES = PROJECT_ROOT / "data" / "new-notices"
MORE_NOTICES = PROJECT_ROOT / "data" / "more-notices"
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Per-user caches (push records) go to a temp dir, not the tester's home."""
    import os

    cache = tmp_path_factory.mktemp("xdg-cache")
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    yield cache
    if previous is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = previous


# --- segment fixtures ---

# --- studio fixtures ---
# Imported here, not at the top: each stage owns only its anchored section.
from dataclasses import dataclass, field  # noqa: E402

from corpus_tools.studio.ports import free_port  # noqa: E402


@dataclass(frozen=True)
class StudioServer:
    """A running Label Studio for tests: `.url` and `.api_key` (a personal access token)."""

    url: str
    api_key: str = field(repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    home: Path = Path()


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioServer]:
    """A real Label Studio on a free loopback port, SQLite in a temp dir, for the session.

    Started through `corpus_tools.studio.start_server` (the first start migrates
    the database, about 40 s); stopped at the end of the session. Nothing global
    (environment, user data dir) is touched: pass `url=`/`api_key=` explicitly.
    """

    from corpus_tools import studio

    home = tmp_path_factory.mktemp("label-studio")
    port = free_port("127.0.0.1")
    info = studio.start_server(home=home, port=port, timeout=300)
    connection = studio.embedded_connection(home=home)
    try:
        yield StudioServer(
            url=connection.url,
            api_key=connection.api_key,
            username=info.username,
            password=info.password,
            home=home,
        )
    finally:
        studio.stop_server(home=home)


@pytest.fixture
def postgres_home() -> Iterator[Path]:
    """A studio home for a PostgreSQL cluster, stopped and removed afterwards.

    Not under tmp_path: as root the cluster runs as the `postgres` user, which
    cannot enter pytest's mode-700 temp root; this dir is mode 711 in /tmp.
    """
    import shutil
    import tempfile

    from corpus_tools.studio import postgres, server

    home = Path(tempfile.mkdtemp(prefix="corpus-tools-pg-"))
    home.chmod(0o711)
    try:
        yield home
    finally:
        server.stop_server(home=home)
        postgres.stop_local_postgres(home=home)
        shutil.rmtree(home, ignore_errors=True)


# --- export fixtures ---

# --- train fixtures ---

# A tiny synthetic export in the layout `corpus-tools export` writes
# (`DIR/dataset`), built from templates so every span offset is known.
_BODIES = (
    "市应急局",
    "各县（区）人民政府",
    "市消防救援局",
    "各级各部门",
    "企业",
    "市安委会有关成员单位",
)
_ACTIONS = {
    "enforcement": ("开展联合执法检查", "依法严厉打击非法违法生产经营行为"),
    "training": ("组织开展安全生产培训考核", "开展执法人员业务能力培训"),
    "emergency": ("修订完善应急预案并组织开展演练", "加强应急救援队伍和物资储备"),
    "study_publicity": ("深入开展安全生产月宣传活动", "组织学习传达习近平总书记重要指示精神"),
    "oversight": ("开展安全生产督导检查和考核巡查", "对事故责任单位严肃追责问责"),
    "risk_hazard": ("全面排查整治重大事故隐患", "开展风险辨识评估和隐患治理"),
    "institution": ("建立健全安全生产工作机制", "制定完善安全生产责任清单制度"),
    "technology": ("推进智能化监测预警平台建设", "实施道路安全防护工程改造"),
    "responsibility": ("压紧压实安全生产主体责任", "落实党政领导干部安全生产责任"),
}
_OTHER = (
    "安全生产形势总体平稳。",
    "全市上下坚持人民至上、生命至上。",
    "这是做好安全生产工作的重要保障。",
)
_DEADLINES = ("年底前", "2025年6月底前", "3个月内", "", "")
_FREQUENCIES = ("每季度", "每月", "每半年", "", "")


def _tiny_unit(rng, measure_type: str) -> tuple[str, list[tuple[int, int, str]]]:
    if measure_type == "other":
        return rng.choice(_OTHER), []
    spans, text = [], ""
    for label, piece, tail in (
        ("RESPONSIBLE_BODY", rng.choice(_BODIES), "要"),
        ("DEADLINE", rng.choice(_DEADLINES), ""),
        ("FREQUENCY", rng.choice(_FREQUENCIES), ""),
    ):
        if piece:
            spans.append((len(text), len(text) + len(piece), label))
            text += piece
        text += tail
    return text + rng.choice(_ACTIONS[measure_type]) + "。", spans


def make_tiny_export(
    out_dir: Path, *, sizes=(("train", 80), ("validation", 20), ("test", 20)), seed=0
):
    """Write a tiny export (`out_dir/dataset`) and return `out_dir`."""
    import random

    from datasets import Dataset, DatasetDict

    from corpus_tools.schema import MEASURE_TYPES, NER_TAGS, SPAN_LABELS, dataset_features

    rng = random.Random(seed)
    parts = {}
    for split, n in sizes:
        rows = []
        for i in range(n):
            measure_type = MEASURE_TYPES[i % len(MEASURE_TYPES)]
            text, spans = _tiny_unit(rng, measure_type)
            tags = ["O"] * len(text)
            for start, end, label in spans:
                tags[start:end] = [f"B-{label}"] + [f"I-{label}"] * (end - start - 1)
            rows.append(
                {
                    "id": f"{split}-{i}",
                    "doc_id": f"{split}-doc{i // 10}",
                    "unit_index": i % 10,
                    "text": text,
                    "measure_type": MEASURE_TYPES.index(measure_type),
                    "spans": [
                        {"start": s, "end": e, "label": SPAN_LABELS.index(lab), "text": text[s:e]}
                        for s, e, lab in spans
                    ],
                    "item_responsible_bodies": [],
                    "section_path": [],
                    "title": "关于做好安全生产工作的通知",
                    # four issuers, sectors and two genres, so grouped folds have groups to hold out
                    "issuer": f"某{i // 10 % 4}市人民政府",
                    "sector": ("交通运输系统", "教育系统", "矿山", "消防")[i // 10 % 4],
                    "genre": ("年度工作通知", "实施方案")[i // 10 % 2],
                    "doc_number": "",
                    "date": "2025-03-06",
                    "annotator": "fixture",
                    "tokens": list(text),
                    "ner_tags": [NER_TAGS.index(t) for t in tags],
                }
            )
        parts[split] = Dataset.from_list(rows, features=dataset_features())
    DatasetDict(parts).save_to_disk(str(out_dir / "dataset"))
    return out_dir


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory) -> Path:
    return make_tiny_export(tmp_path_factory.mktemp("tiny-export"))


@pytest.fixture(scope="session")
def tiny_model(tiny_export, tmp_path_factory) -> Path:
    """A model trained for a few seconds on the tiny export."""
    from corpus_tools.model import train_model

    out = tmp_path_factory.mktemp("tiny-model") / "model"
    train_model(tiny_export, out, max_steps=60, seed=0)
    return out


# --- report fixtures ---


@pytest.fixture(scope="session")
def sample_prelabels(tmp_path_factory) -> Path:
    """The sample notices (the 晋政发 2009–2026 series among them) pre-labelled
    by the shipped model: the JSONL `corpus-tools prelabel` writes, headings included."""
    from corpus_tools.prelabel import prelabel_files

    out = tmp_path_factory.mktemp("report-prelabels") / "prelabels.jsonl"
    prelabel_files([SAMPLE_NOTICES], out)
    return out


# --- ray fixtures ---


@pytest.fixture(scope="session")
def local_ray():
    """One local Ray for the session: 2 model actors and one logical CPU for the
    light read/write tasks, as the engine starts it with `num_cpus=2` (the test
    machine is shared); the engine uses a running Ray as it is."""
    from corpus_tools.prelabel_ray import import_ray

    ray = import_ray()
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, logging_level="warning")
    yield ray
    ray.shutdown()


# --- ml backend fixtures ---


@pytest.fixture
def background_backend(tmp_path_factory):
    """Start `serve-model` as a real background process the way quickstart does
    (`backend_process.start_backend`, pid and log in a private studio home, on a
    free loopback port); every backend started is stopped afterwards.

    Call it with `start_backend`'s keywords (`model_dir`, `seed_export`, `studio_url`, …);
    it returns `(BackendInfo, home)`.
    """

    from corpus_tools.studio.backend_process import start_backend, stop_backend

    homes = []

    def start(**options):
        home = options.pop("home", None) or tmp_path_factory.mktemp("backend-home")
        options.setdefault("work_dir", home / "work")
        options.setdefault("seed_export", None)
        if "port" not in options:
            options["port"] = free_port("127.0.0.1")
        homes.append(home)
        return start_backend(home=home, **options), home

    yield start
    for home in homes:
        stop_backend(home=home)


# --- browser fixture ---

CHROMIUM = "/usr/bin/chromium"  # Debian's package (`.ci/run` installs it); Playwright's own download fails here


@pytest.fixture
def chromium():
    """Debian's Chromium, headless, driven by Playwright; closed after the test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()


# --- Label Studio JSON ---


def annotated_task(
    task_id: int,
    *,
    unit_id: str,
    doc_id: str,
    unit_index: int,
    text: str,
    measure_type: str,
    spans: list[tuple[int, int, str]],
) -> dict:
    """One annotated task as Label Studio exports it (what the ML backend pulls)."""
    result = [
        {
            "from_name": "measure_type",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [measure_type]},
        }
    ] + [
        {
            "from_name": "spans",
            "to_name": "text",
            "type": "labels",
            "value": {"start": s, "end": e, "text": text[s:e], "labels": [label]},
        }
        for s, e, label in spans
    ]
    return {
        "id": task_id,
        "data": {
            "unit_id": unit_id,
            "doc_id": doc_id,
            "unit_index": unit_index,
            "text": text,
            "kind": "body",
            "section_path": [],
            "item_responsible_bodies": [],
            "title": "t",
            "date": "2025-03-06",
        },
        "annotations": [
            {"id": task_id, "result": result, "completed_by": 1, "was_cancelled": False}
        ],
    }


def annotate_in_studio(client, task_id: int, measure_type: str = "risk_hazard") -> None:
    """An annotator's judgement of one task through Label Studio's API: the measure type."""
    client.annotations.create(
        id=task_id,
        result=[
            {
                "from_name": "measure_type",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": [measure_type]},
            }
        ],
    )
