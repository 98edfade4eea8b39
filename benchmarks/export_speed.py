"""Export speed: 100,000 synthetic annotated Label Studio tasks to a dataset directory.

Prints the seconds of `export_annotations` (read, validate, resolve, split,
write Arrow + Parquet + card) beside the baseline: `json.load` of the same
file alone. Target: export <= 10 s.

    uv run python benchmarks/export_speed.py [--tasks 100000]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import random
import tempfile
import time
from pathlib import Path

from corpus_tools.export import export_annotations
from corpus_tools.schema import MEASURE_TYPES

SENTENCES = [
    (
        "市应急局要在2025年6月底前完成全市危化企业隐患排查整治，",
        (0, 4, "RESPONSIBLE_BODY"),
        (6, 15, "DEADLINE"),
    ),
    (
        "各县（区）人民政府每季度至少开展1次安全生产联合执法检查；",
        (0, 9, "RESPONSIBLE_BODY"),
        (9, 12, "FREQUENCY"),
    ),
    (
        "企业要加大安全投入，落实全员安全生产责任制，确保年底前完成整改。",
        (0, 2, "RESPONSIBLE_BODY"),
        (24, 27, "DEADLINE"),
    ),
    ("2024年全市安全生产形势总体平稳，事故总量持续下降。", None, None),
]


def synthetic_tasks(n: int, *, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        doc = f"doc{i // 200:04d}"  # 500 documents of 200 units
        index = i % 200
        text, *spans = SENTENCES[i % len(SENTENCES)]
        text = f"{index}．{text}"  # keep the texts (and the unit ids) distinct
        shift = len(f"{index}．")
        spans = [(s + shift, e + shift, label) for s, e, label in (sp for sp in spans if sp)]
        data = {
            "unit_id": f"{doc}:{index:04d}:{hashlib.sha1(text.encode()).hexdigest()[:8]}",
            "doc_id": doc,
            "unit_index": index,
            "kind": "body",
            "text": text,
            "section_path": ["二、重点任务", "（三）强化隐患排查"],
            "item_responsible_bodies": ["市应急局", "市消防救援局"],
            "item_parenthetical": "（责任单位：市应急局、市消防救援局）",
            "title": "大同市人民政府关于做好2025年安全生产工作的通知",
            "issuer": "大同市人民政府",
            "doc_number": "同政发〔2025〕1号",
            "date": "2025-01-16",
            "addressees": ["各县（区）人民政府"],
            "source_path": "data/notices/000_274cda8d185c1074.txt",
            "section": "二、重点任务 › （三）强化隐患排查",
            "prev_text": "上一句。",
            "next_text": "下一句。",
        }
        annotators = [1, 2] if i % 10 == 0 else [1 + i % 3]  # a tenth doubly annotated
        annotations = []
        for k, user in enumerate(annotators):
            result = [
                {
                    "id": f"m{i}-{k}",
                    "type": "choices",
                    "from_name": "measure_type",
                    "to_name": "text",
                    "origin": "manual",
                    "value": {"choices": [rng.choice(MEASURE_TYPES)]},
                }
            ]
            result += [
                {
                    "id": f"s{i}-{k}-{j}",
                    "type": "labels",
                    "from_name": "spans",
                    "to_name": "text",
                    "origin": "manual",
                    "value": {"start": s, "end": e, "text": text[s:e], "labels": [label]},
                }
                for j, (s, e, label) in enumerate(spans)
            ]
            annotations.append(
                {
                    "id": 2 * i + k,
                    "completed_by": user,
                    "result": result,
                    "was_cancelled": False,
                    "ground_truth": False,
                    "created_at": "2025-03-01T10:00:00.000000Z",
                    "updated_at": f"2025-03-01T10:{k:02d}:00.000000Z",
                    "lead_time": 12.3,
                    "task": i + 1,
                    "project": 1,
                }
            )
        tasks.append({"id": i + 1, "data": data, "annotations": annotations, "predictions": []})
    return tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    args = parser.parse_args()

    start = time.perf_counter()
    import datasets  # noqa: F401  (imported once per process; timed apart)

    import_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "label-studio.json"
        source.write_text(json.dumps(synthetic_tasks(args.tasks), ensure_ascii=False), "utf-8")
        size_mb = source.stat().st_size / 1e6

        start = time.perf_counter()
        with source.open(encoding="utf-8") as handle:
            json.load(handle)
        baseline = time.perf_counter() - start

        gc.collect()
        start = time.perf_counter()
        report = export_annotations(source, Path(tmp) / "out")
        seconds = time.perf_counter() - start

    print(f"tasks: {args.tasks:,} ({size_mb:.0f} MB of Label Studio JSON)")
    print(f"baseline json.load alone:  {baseline:6.2f} s")
    print(
        f"export_annotations:        {seconds:6.2f} s  ({args.tasks / seconds:,.0f} tasks/s, "
        f"{seconds / baseline:.2f}x json.load; target <= 10 s: "
        f"{'met' if seconds <= 10 else 'MISSED'})"
    )
    print(f"(+ `import datasets` once per process: {import_seconds:.2f} s)")
    print(
        f"units exported: {report.units_exported:,}; splits "
        + ", ".join(f"{n} {s.units:,}" for n, s in report.splits.items())
        + f"; agreement on {report.agreement.units:,} units, "
        f"κ {report.agreement.measure_type_kappa:.3f}"
    )


if __name__ == "__main__":
    main()
