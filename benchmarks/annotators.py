"""Benchmark: 8 simulated annotators submitting through the API, SQLite vs PostgreSQL.

Starts two temporary embedded Label Studio servers on loopback (SQLite, the
baseline; and `--postgres`, a cluster in its temp studio home), pushes the same
2,000 tasks to each, then for `--seconds` lets `--annotators` threads take
tasks from a shared queue and POST one annotation each. Prints submissions/s,
p50/p95 latency, failed requests (of which SQLite's "database is locked"
answers, counted on their own), and, read back from the database after the
run, whether every accepted annotation is present exactly once (lost /
duplicated). Goal on PostgreSQL: 0 lost, 0 duplicated, 0 server errors.

    uv run python benchmarks/annotators.py                  # 60 s per database
    uv run python benchmarks/annotators.py --seconds 10     # a quick look
"""

from __future__ import annotations

import argparse
import queue
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from corpus_tools import studio
from corpus_tools.schema import MEASURE_TYPES, Unit
from corpus_tools.studio import postgres, server
from corpus_tools.studio.backup import sqlite_path
from corpus_tools.studio.client import checked_client
from corpus_tools.studio.connection import read_config
from corpus_tools.studio.projects import find_project, task_index
from corpus_tools.studio.tasks import measure_result

# Label Studio's API error body carries the exception's text in `detail`.
LOCKED = "database is locked"


@dataclass(frozen=True)
class Run:
    database: str
    seconds: float
    accepted: int
    failed: int
    server_errors: int
    locked: int  # failed with "database is locked" (SQLite's one writer at a time)
    latencies: tuple[float, ...]
    stored: int
    tasks_with_two: int


def units(count: int) -> list[Unit]:
    return [
        Unit(
            unit_id=f"bench:{i:05d}",
            doc_id=f"bench-{i // 50}",
            unit_index=i % 50,
            kind="body",
            text=f"各县（区）要在年底前完成第{i}批重大事故隐患排查整治工作。",
            title="关于做好安全生产工作的通知",
        )
        for i in range(count)
    ]


def access_token(url: str, refresh: str) -> str:
    response = httpx.post(f"{url}/api/token/refresh", json={"refresh": refresh}, timeout=30)
    response.raise_for_status()
    return response.json()["access"]


def annotate(url: str, token: str, task_ids: list[int], annotators: int, seconds: float):
    todo: queue.Queue[int] = queue.Queue()
    for task_id in task_ids:
        todo.put(task_id)
    lock = threading.Lock()
    accepted: list[int] = []
    latencies: list[float] = []
    failures = {"failed": 0, "server_errors": 0, "locked": 0}
    deadline = time.monotonic() + seconds

    def annotator(n: int) -> None:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            while time.monotonic() < deadline:
                try:
                    task_id = todo.get_nowait()
                except queue.Empty:
                    return
                body = {
                    "result": [
                        measure_result(MEASURE_TYPES[task_id % len(MEASURE_TYPES)], "", "bench")
                    ],
                    "lead_time": 1.0,
                }
                started = time.perf_counter()
                try:
                    response = client.post(f"/api/tasks/{task_id}/annotations/", json=body)
                except httpx.HTTPError:
                    with lock:
                        failures["failed"] += 1
                    continue
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if response.status_code == 201:
                        accepted.append(task_id)
                    else:
                        failures["failed"] += 1
                        failures["server_errors"] += response.status_code >= 500
                        failures["locked"] += LOCKED in response.text

    threads = [threading.Thread(target=annotator, args=(n,)) for n in range(annotators)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return accepted, latencies, failures, time.perf_counter() - started


def stored_annotations(home: Path, config: dict) -> tuple[int, int]:
    """(annotations stored, tasks holding more than one) read from the database."""
    count = "SELECT count(*) FROM task_completion"
    doubles = "SELECT count(*) FROM (SELECT task_id FROM task_completion GROUP BY task_id HAVING count(*) > 1) d"
    if postgres.database_kind(config) == postgres.DatabaseKind.SQLITE:
        with sqlite3.connect(sqlite_path(home)) as connection:
            return connection.execute(count).fetchone()[0], connection.execute(doubles).fetchone()[
                0
            ]
    with postgres.connect(postgres.settings_from_config(config)) as connection:
        return connection.execute(count).fetchone()[0], connection.execute(doubles).fetchone()[0]


def run(database: str, *, tasks: int, annotators: int, seconds: float) -> Run:
    home = Path(tempfile.mkdtemp(prefix=f"corpus-tools-bench-{database}-"))
    home.chmod(0o711)  # as root the cluster runs as `postgres`, which must enter it
    try:
        server.start_server(home=home, timeout=600, postgres=database == "postgres")
        connection = studio.embedded_connection(home=home)
        studio.push_units(
            units(tasks),
            project="annotators",
            url=connection.url,
            api_key=connection.api_key,
            record_dir=home / "records",
        )
        client = checked_client(connection)
        project = find_project(client, connection.url, "annotators")
        task_ids = sorted(ids[0] for ids in task_index(client, connection.url, project.id).values())
        token = access_token(connection.url, connection.api_key)
        accepted, latencies, failures, elapsed = annotate(
            connection.url, token, task_ids, annotators, seconds
        )
        stored, doubles = stored_annotations(home, read_config(home))
        return Run(
            database,
            elapsed,
            len(accepted),
            failures["failed"],
            failures["server_errors"],
            failures["locked"],
            tuple(latencies),
            stored,
            doubles,
        )
    finally:
        server.stop_server(home=home)
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--annotators", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    print(f"{args.annotators} annotators, {args.tasks} tasks, {args.seconds:.0f} s per database")
    print(
        f"{'database':<10} {'subm/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'accepted':>8} "
        f"{'failed':>6} {'5xx':>4} {'locked':>6} {'lost':>5} {'dup':>4}"
    )
    for database in ("sqlite", "postgres"):  # sqlite first: the baseline
        result = run(database, tasks=args.tasks, annotators=args.annotators, seconds=args.seconds)
        ordered = sorted(result.latencies) or [0.0]
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        lost = max(0, result.accepted - result.stored)
        print(
            f"{database:<10} {result.accepted / result.seconds:>7.1f} "
            f"{statistics.median(ordered) * 1000:>7.0f} {p95 * 1000:>7.0f} {result.accepted:>8} "
            f"{result.failed:>6} {result.server_errors:>4} {result.locked:>6} {lost:>5} "
            f"{result.tasks_with_two + max(0, result.stored - result.accepted):>4}"
        )


if __name__ == "__main__":
    main()
