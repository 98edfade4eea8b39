"""Retraining the served model on a project's annotations (the ML backend's background job).

The new model learns from the seed export's train split plus every annotated
task of the project, keeps the seed export's validation split for its own
choices, and is scored beside the current model on the seed export's test
split (held-out notices: project units from those notices are left out of
training). It is accepted only if it is not worse.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from corpus_tools.errors import ExportError

# Retraining while annotators wait: a short run, not the full `train` config.
DEFAULT_RETRAIN_STEPS = 200


@dataclass(frozen=True, slots=True)
class RetrainOutcome:
    model_dir: Path
    accepted: bool
    new_score: float
    old_score: float
    n_new_units: int
    seconds: float


def heldout_score(model_dir: Path | str, export_dir: Path | str) -> float:
    """Mean of measure-type macro-F1 and span micro-F1 on the export's test split."""
    from corpus_tools.model import evaluate_model

    result = evaluate_model(model_dir, export_dir, split="test", baseline=False)
    return round((result.measure_type.macro_f1 + result.spans.micro.f1) / 2, 4)


def combined_export(tasks: list[dict], *, seed_export: Path, out_dir: Path) -> tuple[Path, int]:
    """Seed export + the project's annotated tasks, written as an export at `out_dir`.

    Returns the directory and the number of project units added to training.
    """
    from datasets import DatasetDict, concatenate_datasets

    from corpus_tools.export.build import build_export
    from corpus_tools.model import export_split, load_export

    seed = load_export(seed_export)
    validation = export_split(seed, "validation", source=str(seed_export))
    test = export_split(seed, "test", source=str(seed_export))
    held_out = set(validation["doc_id"]) | set(test["doc_id"])
    new = build_export(tasks, skip_invalid=True, source="the project's annotations").dataset
    added = concatenate_datasets([new[name] for name in new]).filter(
        lambda row: row["doc_id"] not in held_out
    )
    if len(added) == 0:
        raise ExportError(
            "the project has no annotated units outside the held-out notices; nothing to retrain on"
        )
    train = concatenate_datasets([export_split(seed, "train", source=str(seed_export)), added])
    DatasetDict({"train": train, "validation": validation, "test": test}).save_to_disk(
        str(out_dir / "dataset")
    )
    return out_dir, len(added)


def retrain_model(
    *,
    project: str,
    current_model: Path,
    seed_export: Path,
    work_dir: Path,
    url: str | None = None,
    api_key: str | None = None,
    max_steps: int = DEFAULT_RETRAIN_STEPS,
) -> RetrainOutcome:
    """Pull `project`, train on seed + its annotations into a fresh dir under
    `work_dir`, and score new and current model on the held-out notices."""
    from corpus_tools.export.reading import pull_project_tasks
    from corpus_tools.model import train_model

    started = time.perf_counter()
    tasks = pull_project_tasks(project, url=url, api_key=api_key)
    run_dir = work_dir / f"retrain-{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 10**6}"
    export_dir, n_new = combined_export(tasks, seed_export=seed_export, out_dir=run_dir / "export")
    model_dir = run_dir / "model"
    train_model(export_dir, model_dir, max_steps=max_steps, version=f"0.1.0+r{int(time.time())}")
    new_score = heldout_score(model_dir, export_dir)
    old_score = heldout_score(current_model, export_dir)
    return RetrainOutcome(
        model_dir=model_dir,
        accepted=new_score >= old_score,
        new_score=new_score,
        old_score=old_score,
        n_new_units=n_new,
        seconds=round(time.perf_counter() - started, 2),
    )
