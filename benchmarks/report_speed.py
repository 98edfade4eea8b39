"""Report speed: `corpus-tools report` over 100,000 pre-labelled units.

The input is real `prelabel` output — the sample notices pre-labelled by the
shipped model (or `--prelabels FILE`) — repeated with changed unit and doc ids
until it holds `--units` labelled units: a speed input, not training data.
A second copy has `--bad-lines` broken lines spread through it.

Prints, in one run: the baselines — reading the file with polars
(`pl.read_ndjson`) and with pyarrow (`pyarrow.json`, the reader the report
uses) — then `build_report` (read, tables, 7 charts rendered to SVG, CSV +
Parquet, HTML) on the clean and the broken file, and the whole CLI process
(`corpus-tools report`, interpreter and imports included). Target: ≤ 10 s.

    uv run python benchmarks/report_speed.py [--units 100000] [--prelabels FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def real_prelabels(out: Path) -> Path:
    from corpus_tools.prelabel import prelabel_files

    prelabel_files([ROOT / "data" / "notices", ROOT / "data" / "new-notices"], out)
    return out


def synthesise(source: Path, out: Path, *, units: int, bad_lines: int, seed: int = 7) -> int:
    """Copies of `source`'s records with `~k` on their ids until `units` labelled
    units; `bad_lines` lines replaced by broken JSON. Returns the lines written."""
    records = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    labelled_per_copy = sum(r["measure_type"] is not None for r in records)
    lines: list[str] = []
    labelled = copy = 0
    while labelled < units:
        for record in records:
            if labelled >= units and record["measure_type"] is not None:
                break
            row = record | {
                "unit_id": f"{record['unit_id']}~{copy}",
                "doc_id": f"{record['doc_id']}~{copy}",
            }
            lines.append(json.dumps(row, ensure_ascii=False))
            labelled += record["measure_type"] is not None
        copy += 1
    for index in random.Random(seed).sample(range(len(lines)), bad_lines):
        lines[index] = lines[index][: len(lines[index]) // 2]  # cut mid-record: not JSON
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"  {out.name}: {len(lines):,} lines, {copy} copies of {labelled_per_copy:,} labelled units, "
          f"{out.stat().st_size / 1e6:.0f} MB, {bad_lines} broken lines")  # fmt: skip
    return len(lines)


def timed(label: str, call) -> tuple[float, object]:
    started = time.perf_counter()
    value = call()
    seconds = time.perf_counter() - started
    print(f"  {label:58s} {seconds:6.2f} s")
    return seconds, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--bad-lines", type=int, default=100)
    parser.add_argument("--prelabels", type=Path, help="real prelabel JSONL to repeat")
    args = parser.parse_args()

    import io

    import polars as pl
    import pyarrow.json as pj

    from corpus_tools.report import build_report

    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        print("input")
        source = args.prelabels or real_prelabels(tmp_dir / "sample-prelabels.jsonl")
        clean, broken = tmp_dir / "clean.jsonl", tmp_dir / "broken.jsonl"
        synthesise(source, clean, units=args.units, bad_lines=0)
        synthesise(source, broken, units=args.units, bad_lines=args.bad_lines)

        print("baselines (read the file, nothing else)")
        polars_read, _ = timed("polars.read_ndjson", lambda: pl.read_ndjson(clean))
        arrow_read, _ = timed(
            "pyarrow.json.read_json", lambda: pj.read_json(io.BytesIO(clean.read_bytes()))
        )
        print("report")
        report_s, result = timed(
            "build_report (clean)", lambda: build_report([clean], tmp_dir / "r1")
        )
        broken_s, broken_result = timed(
            f"build_report ({args.bad_lines} broken lines)",
            lambda: build_report([broken], tmp_dir / "r2"),
        )
        cli_s, _ = timed(
            "corpus-tools report (whole process)",
            lambda: subprocess.run(
                [
                    str(Path(sys.executable).parent / "corpus-tools"),
                    "report",
                    str(clean),
                    "-o",
                    str(tmp_dir / "r3"),
                ],
                check=True,
                capture_output=True,
            ),
        )
        assert result.units == args.units, result.units
        assert len(broken_result.problems) == args.bad_lines
        print(
            f"\n{result.units:,} units ({result.measures:,} measures, {result.notices:,} notices), "
            f"{len(result.charts)} charts, {len(result.tables)} table files\n"
            f"report {report_s:.2f} s = {report_s / polars_read:.2f}× polars.read_ndjson "
            f"({polars_read:.2f} s), {report_s / arrow_read:.2f}× pyarrow read ({arrow_read:.2f} s); "
            f"with {args.bad_lines} broken lines {broken_s:.2f} s; whole CLI process {cli_s:.2f} s; "
            f"target ≤ 10 s: {'met' if report_s <= 10 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
