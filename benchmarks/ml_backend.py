"""ML backend speed: `/predict` latency over real HTTP, the retrain's wall time, and the
re-scoring of the queue after a swap.

Measures, in one run:
- `/predict` p50/p95 for 1 and 20 tasks, through uvicorn on a loopback port
  (the request Label Studio sends: tasks + project + label_config);
- the named baseline: the bare model call (`predict_texts` on the same texts),
  so the figure shows what HTTP, JSON and the result mapping add;
- the retrain's wall time on 2k and 10k project annotations beside the seed
  export's train split (`exports/corpus`): the backend's default light retrain
  (`retrain_on_tasks`: read + refit + held-out scoring + reference — everything
  but the pull), then loading the new model for the swap. The annotations are
  the seed's train units replicated with an item-number prefix `（k）` (span
  offsets shifted, new unit and notice ids) until there are N: the corpus has
  4,281 annotated units, not 10k. The first retrain of a served model that
  was trained on the held-out notices (models/prelabel) also scores the
  reference once (the same retrain on the seed alone); shown apart;
- the named baseline: the old full retrain (`train` 200 steps on seed +
  annotations, then both models scored on the held-out test split from disk),
  on 2k annotations only (`--full-10k` to time it on 10k too: minutes);
- re-scoring the queue after a swap (`requeue_project`) on 2k unlabelled tasks
  in a real Label Studio started in a temp dir (`--no-requeue` to skip).

Wall times depend on what else runs: CPU seconds and the load average are printed too.
Goal (issue 17): 20 tasks well under a second; retrain ≤ 30 s on 10k annotations.

    uv run python benchmarks/ml_backend.py [--model models/prelabel] [--repeats 60]
        [--no-retrain] [--full-10k] [--no-requeue]
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from corpus_tools.label_config import sentence_tagging_config  # noqa: E402
from corpus_tools.prelabel import DEFAULT_MODEL_DIR, predict_texts  # noqa: E402
from corpus_tools.segment import iter_units  # noqa: E402
from corpus_tools.studio.ml_backend import (  # noqa: E402
    BackendState,
    create_app,
    in_child_process,
    load_served_model,
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def fmt(values: list[float]) -> str:
    return f"p50 {percentile(values, 0.5) * 1000:7.1f} ms   p95 {percentile(values, 0.95) * 1000:7.1f} ms"


def serve_in_thread(state: BackendState) -> tuple[str, uvicorn.Server]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(state), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return url, server
        except httpx.HTTPError:
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--no-retrain", action="store_true")
    parser.add_argument("--full-10k", action="store_true")
    parser.add_argument("--no-requeue", action="store_true")
    args = parser.parse_args()

    texts = [
        u.text for u in iter_units([ROOT / "data" / "notices"]) if getattr(u, "kind", "") == "body"
    ]
    started = time.perf_counter()
    served = load_served_model(args.model)
    print(f"model {served.model_version}: loaded + warmed in {time.perf_counter() - started:.2f} s")
    url, server = serve_in_thread(BackendState(served=served, retrain=None))
    config = sentence_tagging_config()
    with httpx.Client(timeout=30) as client:
        for batch in (1, 20):
            http_times, bare_times = [], []
            for i in range(args.repeats):
                chosen = [texts[(i * batch + k) % len(texts)] for k in range(batch)]
                tasks = [
                    {"id": k, "data": {"text": t, "unit_id": f"u{k}"}} for k, t in enumerate(chosen)
                ]
                body = {"tasks": tasks, "project": "1.1", "label_config": config, "params": {}}
                t0 = time.perf_counter()
                response = client.post(url + "/predict", json=body)
                http_times.append(time.perf_counter() - t0)
                assert response.status_code == 200 and len(response.json()["results"]) == batch
                t0 = time.perf_counter()
                list(predict_texts(served.nlp, chosen))
                bare_times.append(time.perf_counter() - t0)
            print(f"/predict {batch:2d} task(s) over HTTP:  {fmt(http_times)}")
            print(f"baseline bare model call ({batch:2d}): {fmt(bare_times)}")
    server.should_exit = True

    export = ROOT / "exports" / "corpus"
    retrained = None
    if not args.no_retrain:
        retrained = retrain_figures(args.model, export, full_10k=args.full_10k)
    if not args.no_requeue:
        requeue_figures(retrained or args.model, export, n=2000)


def annotated_tasks(units: list, n: int) -> list[dict]:
    """`n` annotated Label Studio tasks: `units` (GoldUnits) replicated with an
    item-number prefix `（k）`, spans shifted, each copy in notices of its own
    (a round of fewer than all units takes them evenly spread)."""
    tasks: list[dict] = []
    k = 0
    while len(tasks) < n:
        k += 1
        prefix = f"（{k}）"
        m = min(len(units), n - len(tasks))  # spread over the seed, not its first m units
        for unit in (units[j * len(units) // m] for j in range(m)):
            text, shift = prefix + unit.text, len(prefix)
            result = [
                {
                    "from_name": "measure_type",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": [unit.measure_type]},
                }
            ] + [
                {
                    "from_name": "spans",
                    "to_name": "text",
                    "type": "labels",
                    "value": {
                        "start": s + shift,
                        "end": e + shift,
                        "text": text[s + shift : e + shift],
                        "labels": [label],
                    },
                }
                for s, e, label in unit.spans
            ]
            i = len(tasks) + 1
            tasks.append(
                {
                    "id": i,
                    "data": {
                        "unit_id": f"{unit.id}~{k}",
                        "doc_id": f"{unit.doc_id}~{k}",
                        "unit_index": i,
                        "text": text,
                        "kind": "body",
                        "section_path": [],
                        "item_responsible_bodies": [],
                        "title": "",
                        "date": "2025-03-06",
                    },
                    "annotations": [
                        {"id": i, "result": result, "completed_by": 1, "was_cancelled": False}
                    ],
                }
            )
    return tasks


class Clock:
    """Wall and CPU seconds (all threads of this process) and the load average at start."""

    def __enter__(self) -> Clock:
        self.load = os.getloadavg()[0]
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0

    def __str__(self) -> str:
        return f"{self.wall:6.1f} s wall, {self.cpu:5.1f} s CPU (load {self.load:.1f})"


def retrain_figures(model: Path, export: Path, *, full_10k: bool) -> Path:
    """Print the light retrain's and the old full retrain's wall times; return the
    last light model (for the requeue figure)."""
    from corpus_tools.model import load_export, train_model
    from corpus_tools.studio.retraining import (
        DEFAULT_RETRAIN_STEPS,
        combined_export,
        heldout_score,
        read_seed,
        retrain_on_tasks,
    )

    seed = read_seed(export)
    n_corpus = sum(len(part) for part in load_export(export).values())
    print(
        f"\nretrain on seed ({len(seed.train)} train units of {export.name}, {n_corpus} units in all) "
        "+ N project annotations (seed train units replicated with an item-number prefix)"
    )
    keep = Path(tempfile.mkdtemp(prefix="ml-backend-bench-"))
    work = keep / "work"
    import sklearn.linear_model  # noqa: F401  (the backend imports it at start)

    last = model
    for n in (2000, 10000):
        tasks = annotated_tasks(list(seed.train), n)
        with Clock() as clock:
            outcome = retrain_on_tasks(
                tasks, current_model=model, seed_export=export, work_dir=work
            )
        stages = dict(outcome.stage_seconds)
        reference = stages.get("reference", 0.0)
        with Clock() as swap:
            load_served_model(outcome.model_dir)
        print(
            f"light retrain, {n:5d} annotations ({outcome.n_train_units} units): {clock}; "
            f"of which reference {reference:.1f} s (once per served model); swap load "
            f"{swap.wall:.1f} s; new {outcome.new_score} vs {outcome.old_score} of "
            f"{outcome.compared_with.split(' (')[0]} -> {'swap' if outcome.accepted else 'keep'}"
        )
        print(f"    stages (s): {stages}")
        if reference > 0.5:  # the first retrain paid the reference: time the next one too
            with Clock() as again:
                outcome = retrain_on_tasks(
                    tasks, current_model=model, seed_export=export, work_dir=work
                )
            print(f"light retrain, {n:5d} annotations, reference known: {again}")
        last = outcome.model_dir
    # as `serve-model` runs it: in a child process, which reads the seed export again
    with Clock() as child:
        in_child_process(
            retrain_on_tasks, tasks=tasks, current_model=model, seed_export=export, work_dir=work
        )
    print(f"light retrain, {n:5d} annotations, in the backend's child process: {child}")

    for n in (2000, 10000) if full_10k else (2000,):
        tasks = annotated_tasks(list(seed.train), n)
        run = keep / f"full-{n}"
        with Clock() as clock:
            export_dir, _ = combined_export(tasks, seed_export=export, out_dir=run / "export")
            train_model(export_dir, run / "model", max_steps=DEFAULT_RETRAIN_STEPS)
            new_score = heldout_score(run / "model", export_dir)
            old_score = heldout_score(model, export_dir)
        print(
            f"baseline old full retrain ({DEFAULT_RETRAIN_STEPS} steps), {n:5d} annotations: "
            f"{clock}; new {new_score} vs served {old_score}"
        )
    if not full_10k:
        print("baseline old full retrain, 10000 annotations: not run (--full-10k; minutes)")
    return last


def requeue_figures(model: Path, export: Path, *, n: int) -> None:
    """Time `requeue_project` on `n` unlabelled tasks in a real Label Studio."""
    from corpus_tools import studio
    from corpus_tools.model import iter_gold, load_export
    from corpus_tools.studio.requeue import requeue_project

    dataset = load_export(export)
    gold = [u for name in dataset for u in iter_gold(dataset[name])][:n]
    units = [
        {
            "unit_id": f"bench-{i}",
            "doc_id": f"bench-doc{i // 50}",
            "unit_index": i % 50,
            "kind": "body",
            "text": u.text,
        }
        for i, u in enumerate(gold)
    ]
    home = Path(tempfile.mkdtemp(prefix="ml-backend-bench-ls-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    print(f"\nre-scoring the queue: starting Label Studio in {home} …", flush=True)
    studio.start_server(home=home, port=port, timeout=600)
    try:
        connection = studio.embedded_connection(home=home)
        url, key = connection.url, connection.api_key
        studio.push_units(units, project="bench-queue", url=url, api_key=key, record_dir=home)
        served = load_served_model(model)
        with Clock() as clock:
            report = requeue_project("bench-queue", served, url=url, api_key=key)
        print(
            f"requeue {report.tasks_unlabelled} unlabelled tasks with {served.model_version}: "
            f"{clock}; list {report.list_seconds} s, predict {report.predict_seconds} s, "
            f"import + view {report.import_seconds} s; {report.predictions_created} predictions"
        )
        print(
            f"baseline bare model call on the same {len(gold)} texts: "
            f"{timed(lambda: list(predict_texts(served.nlp, [u.text for u in gold]))):.1f} s"
        )
    finally:
        studio.stop_server(home=home)


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
