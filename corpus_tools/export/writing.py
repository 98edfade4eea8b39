"""An export written to disk: Arrow, Parquet per split, the card and the report."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from corpus_tools.errors import ExportError
from corpus_tools.export.card import dataset_card
from corpus_tools.export.layout import CARD_FILE, DATASET_DIR, PARQUET_DIR, REPORT_FILE
from corpus_tools.export.records import DEFAULT_LICENSE, Export, ExportReport


def write_export(export: Export, out_dir: Path, *, license: str = DEFAULT_LICENSE) -> ExportReport:
    """Write `save_to_disk` output, Parquet per split, the card and the report into `out_dir`.

    `out_dir` must be new, empty, or an earlier export (whose files are replaced).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir}: is a file; give a directory for the export")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / REPORT_FILE).is_file():
        raise ExportError(
            f"{out_dir}: directory is not empty and holds no earlier export; choose a new or empty directory"
        )
    for name in (DATASET_DIR, PARQUET_DIR):
        shutil.rmtree(out_dir / name, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset = export.dataset
    with _quiet_datasets():
        dataset.save_to_disk(str(out_dir / DATASET_DIR))
        (out_dir / PARQUET_DIR).mkdir()
        for split, part in dataset.items():
            part.to_parquet(str(out_dir / PARQUET_DIR / f"{split}.parquet"))
    report = _with_out_dir(export.report, out_dir)
    (out_dir / CARD_FILE).write_text(
        dataset_card(dataset, report, license=license), encoding="utf-8"
    )
    (out_dir / REPORT_FILE).write_text(
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n",
        encoding="utf-8",
    )
    return report


@contextmanager
def _quiet_datasets() -> Iterator[None]:
    # The library never prints: silence datasets' own progress bars while writing.
    from datasets.utils.tqdm import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    was_disabled = are_progress_bars_disabled()
    disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            enable_progress_bars()


def _with_out_dir(report: ExportReport, out_dir: Path) -> ExportReport:
    return replace(report, out_dir=str(out_dir))
