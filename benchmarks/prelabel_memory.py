"""Ray pre-labeling keeps memory flat as the input outgrows the object store.

The same units input as `prelabel_scale.py` (real segmented units repeated
under new ids, Parquet shards of 100,000), at each size of `--units`
(default 200,000 and 1,000,000). Each size runs `prelabel --engine ray` in a
fresh child process that first starts a local Ray with the object store capped
at `--object-store-mb` (default 100 MB, far below the input's Arrow size), as
`ray.init(num_cpus=CPUs + 1, object_store_memory=…)`; the engine uses that Ray
as it is. The parent samples every 0.5 s:

- the driver's RSS (the child: reads nothing itself, only plans and writes
  the report),
- the RSS of the whole process tree (driver, GCS, raylet, workers, actors):
  pages shared between processes (the model, the object store's mmap) are
  counted once per process that maps them, so this overstates the footprint,
- the PSS of the tree (each shared page split among the processes mapping it:
  the sum is the real footprint),

and reports each one's peak; the child adds the bytes Ray spilled to disk
(`memory_summary`). The baseline is the smallest size: flat memory means the
larger sizes' peaks stay at the baseline's while the input grows.

    uv run --extra ray python benchmarks/prelabel_memory.py
    uv run --extra ray python benchmarks/prelabel_memory.py --units 50000,200000 --object-store-mb 80
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from prelabel_scale import write_input  # noqa: E402


def run_child(inputs: Path, output: Path, object_store_mb: int) -> dict:
    """In the child: a capped local Ray, then the Ray engine on it."""
    from corpus_tools.prelabel_ray import import_ray, prelabel_files_ray

    ray = import_ray()
    ray.init(
        num_cpus=(os.cpu_count() or 1) + 1,  # as the engine starts it: actors + 1 for I/O
        object_store_memory=object_store_mb * 1024 * 1024,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="warning",
    )
    try:
        report = prelabel_files_ray(sorted(inputs.glob("*.parquet")), output)
        spilled = 0.0
        with contextlib.suppress(Exception):  # an internal API: report 0 if it moved
            from ray._private.internal_api import memory_summary

            summary = memory_summary(stats_only=True)
            match = re.search(r"Spilled ([\d.]+) MiB", summary)
            spilled = float(match.group(1)) if match else 0.0
    finally:
        ray.shutdown()
    return {"units": report.units_written, "seconds": report.seconds, "spilled_mib": spilled}


def _proc_kb(pid: int, path: str, key: str) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo.extend(children.get(current, ()))
    return pids


def measure(inputs: Path, work: Path, object_store_mb: int, units: int) -> dict:
    out = work / f"out-{units}"
    result_file = work / f"result-{units}.json"
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--child",
            "--inputs",
            str(inputs),
            "--output",
            str(out),
            "--result",
            str(result_file),
            "--object-store-mb",
            str(object_store_mb),
        ],
        cwd=ROOT,
    )
    peaks = {"driver_rss": 0, "tree_rss": 0, "tree_pss": 0}
    samples = []
    while child.poll() is None:
        pids = tree(child.pid)
        driver = _proc_kb(child.pid, "status", "VmRSS:")
        rss = sum(_proc_kb(pid, "status", "VmRSS:") for pid in pids)
        pss = sum(_proc_kb(pid, "smaps_rollup", "Pss:") for pid in pids)
        peaks = {
            "driver_rss": max(peaks["driver_rss"], driver),
            "tree_rss": max(peaks["tree_rss"], rss),
            "tree_pss": max(peaks["tree_pss"], pss),
        }
        samples.append(pss)
        time.sleep(0.5)
    if child.returncode != 0:
        raise SystemExit(f"the Ray run on {units:,} units failed (exit {child.returncode})")
    result = json.loads(result_file.read_text())
    # PSS in the second half of the run against the first: a leak grows it.
    half = len(samples) // 2
    result["pss_first_half_mb"] = max(samples[:half] or [0]) * 1024 / 1e6
    result["pss_second_half_mb"] = max(samples[half:] or [0]) * 1024 / 1e6
    return result | {name: kb * 1024 / 1e6 for name, kb in peaks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", default="200000,1000000", help="sizes, comma-separated")
    parser.add_argument("--object-store-mb", type=int, default=100)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        result = run_child(args.inputs, args.output, args.object_store_mb)
        args.result.write_text(json.dumps(result))
        return

    import pyarrow.parquet as pq

    sizes = [int(size) for size in args.units.split(",")]
    print(
        f"Ray, object store capped at {args.object_store_mb} MB; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at start; baseline: {sizes[0]:,} units",
        flush=True,
    )
    print(
        f"{'units':>10} {'arrow MB':>9} {'units/s':>8} {'driver RSS':>11} {'tree RSS':>9} "
        f"{'tree PSS':>9} {'PSS 1st/2nd half':>17} {'spilled':>8}",
        flush=True,
    )
    for units in sizes:
        with tempfile.TemporaryDirectory(prefix="prelabel-memory-") as tmp_name:
            work = Path(tmp_name)
            inputs = work / "units"
            inputs.mkdir()
            shards = write_input(inputs, units)
            # The input as Ray holds it: Arrow bytes, against the object store's cap.
            arrow_mb = sum(pq.read_table(shard).nbytes for shard in shards) / 1e6
            r = measure(inputs, work, args.object_store_mb, units)
            print(
                f"{r['units']:>10,} {arrow_mb:>9,.0f} {r['units'] / r['seconds']:>8,.0f} "
                f"{r['driver_rss']:>8,.0f} MB {r['tree_rss']:>6,.0f} MB {r['tree_pss']:>6,.0f} MB "
                f"{r['pss_first_half_mb']:>7,.0f}/{r['pss_second_half_mb']:,.0f} MB "
                f"{r['spilled_mib']:>5,.0f} MiB; load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
