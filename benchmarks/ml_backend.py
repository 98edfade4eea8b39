"""ML backend speed: `/predict` latency over real HTTP, and the retrain's wall time.

Measures, in one run:
- `/predict` p50/p95 for 1 and 20 tasks, through uvicorn on a loopback port
  (the request Label Studio sends: tasks + project + label_config);
- the named baseline: the bare model call (`predict_texts` on the same texts),
  so the figure shows what HTTP, JSON and the result mapping add;
- the retrain's wall time on the annotated corpus (`exports/corpus`, seed +
  annotations, 4k units): train (the backend's short run) + score the new and the
  current model on the held-out test split — everything but the pull.

Goal (issue 17): 20 tasks well under a second; retrain ≤ 30 s on 10k annotations.

    uv run python benchmarks/ml_backend.py [--model models/prelabel] [--repeats 60] [--no-retrain]
"""

from __future__ import annotations

import argparse
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
from corpus_tools.studio.ml_backend import BackendState, create_app, load_served_model  # noqa: E402


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

    if args.no_retrain:
        return
    from corpus_tools.model import load_export, train_model
    from corpus_tools.studio.retraining import DEFAULT_RETRAIN_STEPS, heldout_score

    export = ROOT / "exports" / "corpus"
    n_units = sum(len(part) for part in load_export(export).values())
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = train_model(export, Path(tmp) / "model", max_steps=DEFAULT_RETRAIN_STEPS)
        trained = time.perf_counter() - t0
        new_score = heldout_score(result.model_dir, export)
        old_score = heldout_score(args.model, export)
        total = time.perf_counter() - t0
    print(
        f"retrain on {n_units} annotated units ({DEFAULT_RETRAIN_STEPS} steps): train {trained:.1f} s, "
        f"train + held-out scoring {total:.1f} s (new {new_score}, served {old_score})"
    )


if __name__ == "__main__":
    main()
