"""Pre-labeling at scale: the local engine vs Ray (`--engine ray`) on this machine.

Input: N units (default 1,000,000) made by repeating the real segmented units
of the sample corpora (data/notices, data/new-notices, data/more-notices: body,
heading and meta units in their real proportions) under new unit ids, written
as Parquet shards of 100,000 units. A speed input only — it says nothing about
the model's quality.

Each engine runs in a fresh child process (`--engine` of this script), on all
of this machine's CPUs: the local engine with `n_process` = CPUs, Ray as
`prelabel --engine ray` without --address starts it (a local Ray with the
machine's CPUs). The parent samples, every 0.5 s, the resident memory (RSS) of
the child and all its descendants — for Ray that is the driver, the Ray
daemons (GCS, raylet) and every worker/actor — and reports the peak. RSS sums
count pages shared between processes (the model, Ray's object store) once per
process, so they overstate the real footprint, the same way for both engines.

Printed per engine: units/s over the whole run (wall clock, start-up
included) and after start-up, start-up cost (local: model load; Ray: start
Ray + load the model in the driver, before the first batch is read), peak RSS;
then the ratio Ray / local (goal ≥ 0.8).

    uv run --extra ray python benchmarks/prelabel_scale.py [--units 1000000] [--engines local,ray]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARD_UNITS = 100_000
CORPORA = ("notices", "new-notices", "more-notices")


def real_units() -> list:
    from corpus_tools.segment import iter_units

    return [
        u
        for u in iter_units([ROOT / "data" / name for name in CORPORA])
        if not isinstance(u, Exception)
    ]


def write_input(folder: Path, n: int) -> list[Path]:
    """N units as Parquet shards, written shard by shard (never all in memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from corpus_tools.prelabel_ray import _unit_arrow_schema

    schema = _unit_arrow_schema()
    base = [u.to_dict() for u in real_units()]
    shards = []
    for start in range(0, n, SHARD_UNITS):
        rows = []
        for i in range(start, min(start + SHARD_UNITS, n)):
            row = dict(base[i % len(base)])
            copy = i // len(base)
            row["unit_id"] = f"{row['unit_id']}#{copy}"  # new ids: each copy is a new unit
            row["doc_id"] = f"{row['doc_id']}#{copy}"
            rows.append(row)
        path = folder / f"units-{start // SHARD_UNITS:04d}.parquet"
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
        shards.append(path)
    return shards


# ---------------------------------------------------------------- one engine (child)


def run_engine(engine: str, inputs: list[Path], output: Path) -> dict:
    from corpus_tools.prelabel import prelabel_files
    from corpus_tools.prelabel_ray import prelabel_files_ray

    cpus = os.cpu_count() or 1
    runs = {
        "local": lambda: prelabel_files(inputs, output / "local.parquet", n_process=cpus),
        "ray": lambda: prelabel_files_ray(inputs, output / "ray"),
    }
    report = runs[engine]()
    return {
        "units": report.units_written,
        "labelled": report.units_labelled,
        "seconds": report.seconds,
        "startup": report.load_seconds,
    }


# ---------------------------------------------------------------- parent


def tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # The command name (2nd field) may hold spaces: split after its ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, ()))
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def measure(engine: str, inputs_dir: Path, work: Path) -> dict:
    out = work / f"out-{engine}"
    out.mkdir()
    result_file = work / f"{engine}.json"
    started = time.perf_counter()
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--engine",
            engine,
            "--inputs",
            str(inputs_dir),
            "--output",
            str(out),
            "--result",
            str(result_file),
        ],
        cwd=ROOT,
    )
    peak = 0
    while child.poll() is None:
        peak = max(peak, tree_rss(child.pid))
        time.sleep(0.5)
    if child.returncode != 0:
        raise SystemExit(f"{engine} run failed (exit {child.returncode})")
    result = json.loads(result_file.read_text())
    result["process_seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = peak / 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--engines", default="local,ray")
    parser.add_argument("--engine", help=argparse.SUPPRESS)  # child: run one engine
    parser.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.engine:
        inputs = sorted(args.inputs.glob("*.parquet"))
        result = run_engine(args.engine, inputs, args.output)
        args.result.write_text(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="prelabel-scale-") as tmp_name:
        work = Path(tmp_name)
        inputs_dir = work / "units"
        inputs_dir.mkdir()
        t0 = time.perf_counter()
        shards = write_input(inputs_dir, args.units)
        print(
            f"{args.units:,} units in {len(shards)} Parquet shards "
            f"({sum(p.stat().st_size for p in shards) / 1e6:.0f} MB), "
            f"built in {time.perf_counter() - t0:.0f} s; {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f} at start",
            flush=True,
        )
        results = {}
        for engine in args.engines.split(","):
            results[engine] = measure(engine, inputs_dir, work)
            r = results[engine]
            steady = r["units"] / max(r["seconds"] - r["startup"], 1e-9)
            print(
                f"{engine:>5}: {r['units']:,} units ({r['labelled']:,} labelled) in "
                f"{r['seconds']:.1f} s = {r['units'] / r['seconds']:,.0f} units/s "
                f"({steady:,.0f} after start-up); start-up {r['startup']:.1f} s; "
                f"peak RSS (process tree) {r['peak_rss_mb']:,.0f} MB; "
                f"load average now {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        if {"local", "ray"} <= results.keys():
            local, ray = results["local"], results["ray"]
            ratio = (ray["units"] / ray["seconds"]) / (local["units"] / local["seconds"])
            print(
                f"Ray / local throughput: {ratio:.2f}× "
                f"(goal ≥ 0.8×: {'met' if ratio >= 0.8 else 'NOT met'})"
            )


if __name__ == "__main__":
    main()
