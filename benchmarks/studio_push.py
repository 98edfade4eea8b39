"""Benchmark: push 10,000 units to Label Studio and re-push them.

Prints seconds and tasks/s for `push_units` (first push, then re-pushes that
must create 0 tasks: one with the local push record, checked against the
server in one request, one without it, listing unit ids from the server)
beside the baseline of one raw SDK `import_tasks` call with
the same task payloads, and the naive existence check (`tasks.list` paging
through every task) that a re-push must beat.

Targets: first push <= 30 s, re-push <= 10 s with 0 new tasks.

    uv run python benchmarks/studio_push.py                 # starts a temporary server
    uv run python benchmarks/studio_push.py --url URL --api-key KEY
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
import uuid
from pathlib import Path

from corpus_tools import studio
from corpus_tools.schema import Unit
from corpus_tools.studio.client import checked_client
from corpus_tools.studio.tasks import with_context


def synthetic_units(count: int) -> list[Unit]:
    units = []
    for i in range(count):
        doc = f"bench{i // 100:04d}"
        text = f"第{i}项：各县（区）人民政府要在2025年6月底前完成重大事故隐患排查整治，每季度开展1次专项检查。"
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
        units.append(
            Unit(
                unit_id=f"{doc}:{i % 100:04d}:{digest}",
                doc_id=doc,
                unit_index=i % 100,
                kind="body",
                text=text,
                section_path=("一、压实安全生产责任", "（一）强化党政领导责任"),
                item_responsible_bodies=("市应急局", "市消防救援局"),
                item_parenthetical="（责任单位：市应急局、市消防救援局）",
                title="大同市人民政府关于做好2025年安全生产工作的通知",
                issuer="大同市人民政府",
                doc_number="同政发〔2025〕1号",
                date="2025-03-06",
                addressees=("各县（区）人民政府",),
                source_path=f"data/{doc}.txt",
            )
        )
    return units


def line(name: str, seconds: float, tasks: int, note: str = "") -> None:
    rate = tasks / seconds if seconds else float("inf")
    print(f"{name:<44} {seconds:8.2f} s {rate:10.0f} tasks/s  {note}")


def run(url: str, api_key: str, count: int, with_list: bool) -> None:
    units = synthetic_units(count)
    client = checked_client(studio.StudioConnection(url=url, api_key=api_key))
    run_id = uuid.uuid4().hex[:6]

    # Baseline: one raw SDK call with the very task payloads push_units builds.
    payloads = [{"data": data} for data, _ in with_context([u.to_dict() for u in units], "bench")]
    baseline = client.projects.create(title=f"bench-baseline-{run_id}")
    started = time.perf_counter()
    client.projects.import_tasks(id=baseline.id, request=payloads)
    line("baseline: one raw SDK import_tasks call", time.perf_counter() - started, count)

    title = f"bench-push-{run_id}"
    first = studio.push_units(units, project=title, url=url, api_key=api_key)
    line(
        "push_units (first push)",
        first.seconds,
        first.tasks_created,
        f"created {first.tasks_created}  target <= 30 s",
    )
    again = studio.push_units(units, project=title, url=url, api_key=api_key)
    line(
        "push_units (re-push, record checked)",
        again.seconds,
        again.body_units,
        f"created {again.tasks_created}, found {again.tasks_existing}  target <= 10 s, 0 new",
    )
    with tempfile.TemporaryDirectory(prefix="no-record-") as empty:
        cold = studio.push_units(
            units, project=title, url=url, api_key=api_key, record_dir=Path(empty)
        )
    line(
        "push_units (re-push, no local record)",
        cold.seconds,
        cold.body_units,
        f"created {cold.tasks_created}; unit ids listed from the server",
    )
    if with_list:
        started = time.perf_counter()
        listed = sum(1 for _ in client.tasks.list(project=first.project_id))
        line("naive existence check: SDK tasks.list paging", time.perf_counter() - started, listed)

    ok = (
        first.seconds <= 30
        and max(again.seconds, cold.seconds) <= 10
        and again.tasks_created == cold.tasks_created == 0
    )
    print("targets met" if ok else "TARGETS MISSED")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url")
    parser.add_argument("--api-key")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument(
        "--no-list", action="store_true", help="skip the slow tasks.list measurement"
    )
    args = parser.parse_args()
    if args.url and args.api_key:
        run(args.url, args.api_key, args.count, not args.no_list)
        return
    with tempfile.TemporaryDirectory(prefix="ls-bench-") as home:
        print("starting a temporary Label Studio (first start migrates, about 40 s)…", flush=True)
        info = studio.start_server(home=Path(home), port=None)
        try:
            connection = studio.embedded_connection(home=Path(home))
            print(f"server up in {info.seconds:.1f} s at {info.url}\n", flush=True)
            run(connection.url, connection.api_key, args.count, not args.no_list)
        finally:
            studio.stop_server(home=Path(home))


if __name__ == "__main__":
    main()
