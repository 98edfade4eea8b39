"""Retraining the served model on a project's annotations (the ML backend's background job).

The new model learns from the seed export's train split plus every annotated
task of the project (a project annotation of a seed unit replaces the seed's
judgement), and is scored on the seed export's test split (held-out notices:
project units from the validation and test notices are left out of
training). It is accepted only if it is not worse.

Two ways to retrain (`RetrainMode`):

- `light` (the default): `corpus_tools.model.refit.refit_model` refits the
  measure-type classifier and the span CRF of the served model and keeps the
  rest; seconds, not minutes (benchmarks/ml_backend.py).
- `full`: `train_model` on seed + annotations, a short run of the `train`
  config (spaCy's loop over `textcat`, mix and rule choices on validation).

"Not worse" than what: the served model's held-out score, unless the served
model was itself trained on the held-out notices (models/prelabel is trained
on the whole corpus: its in-sample 0.98 on the test split would keep every
retrain out). Then the reference is the same retrain on the seed alone, scored
once and kept in `WORK_DIR/reference-scores.json`: the annotations must not make
the model worse than it is without them.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from corpus_tools.errors import ExportError

# Retraining while annotators wait: a short run, not the full `train` config.
DEFAULT_RETRAIN_STEPS = 200
HELD_OUT_SPLITS = ("validation", "test")
REFERENCE_SCORES = "reference-scores.json"


class RetrainMode(StrEnum):
    LIGHT = "light"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class RetrainOutcome:
    model_dir: Path
    accepted: bool
    new_score: float
    old_score: float
    n_new_units: int
    seconds: float
    mode: str = RetrainMode.FULL.value
    compared_with: str = "the served model"
    n_train_units: int = 0
    stage_seconds: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class SeedData:
    """The seed export read once: its train units, held-out test units and held-out notices."""

    train: tuple[Any, ...]  # GoldUnit
    test: tuple[Any, ...]
    held_out_docs: frozenset[str]
    fingerprint: str  # changes when the export is rewritten


def read_seed(seed_export: Path | str) -> SeedData:
    """The seed export's units, read once per process while its files stay the same."""
    path = Path(seed_export).resolve()
    # the saved splits, not the cache files `datasets` may write beside them
    files = sorted(path.rglob("data-*.arrow")) + sorted(path.rglob("*.json"))
    stamp = "|".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
    return _read_seed(str(path), hashlib.sha256(stamp.encode()).hexdigest())


@lru_cache(maxsize=2)
def _read_seed(path: str, fingerprint: str) -> SeedData:
    from corpus_tools.model import export_split, iter_gold, load_export

    seed = load_export(path)
    held_out = frozenset(
        doc for name in HELD_OUT_SPLITS for doc in export_split(seed, name, source=path)["doc_id"]
    )
    return SeedData(
        train=tuple(iter_gold(export_split(seed, "train", source=path))),
        test=tuple(iter_gold(export_split(seed, "test", source=path))),
        held_out_docs=held_out,
        fingerprint=fingerprint,
    )


def heldout_score(model_dir: Path | str, export_dir: Path | str) -> float:
    """Mean of measure-type macro-F1 and span micro-F1 on the export's test split."""
    from corpus_tools.model import evaluate_model

    result = evaluate_model(model_dir, export_dir, split="test", baseline=False)
    return round((result.measure_type.macro_f1 + result.spans.micro.f1) / 2, 4)


def score_units(nlp, gold: Sequence[Any]) -> float:
    """`heldout_score` of a loaded pipeline on `gold` units (no reload from disk)."""
    from corpus_tools.model import classification_scores, prediction_of, span_scores
    from corpus_tools.model.context import unit_docs

    predictions = [prediction_of(doc) for doc in nlp.pipe(unit_docs(nlp, gold))]
    measure = classification_scores(
        [u.measure_type for u in gold], [p.measure_type for p in predictions]
    )
    spans = span_scores(
        [set(u.spans) for u in gold],
        [{(s, e, lab) for s, e, lab, *_ in p.spans} for p in predictions],
    )
    return round((measure.macro_f1 + spans.micro.f1) / 2, 4)


def project_units(tasks: list[dict], *, held_out_docs: frozenset[str]) -> list[Any]:
    """The project's annotated units (export policy: majority) outside the held-out notices."""
    from corpus_tools.export.build import build_export
    from corpus_tools.model import iter_gold

    new = build_export(tasks, skip_invalid=True, source="the project's annotations").dataset
    units = [u for name in new for u in iter_gold(new[name]) if u.doc_id not in held_out_docs]
    if not units:
        raise ExportError(
            "the project has no annotated units outside the held-out notices; nothing to retrain on"
        )
    return units


def merged_units(seed_train: Sequence[Any], added: Sequence[Any]) -> list[Any]:
    """Seed units then project units; a project unit replaces the seed unit of the same id."""
    by_id = {u.id: u for u in seed_train}
    by_id.update({u.id: u for u in added})
    return list(by_id.values())


def combined_export(tasks: list[dict], *, seed_export: Path, out_dir: Path) -> tuple[Path, int]:
    """Seed export + the project's annotated tasks, written as an export at `out_dir`
    (the full retrain's input). Returns the directory and the number of project
    units added to training."""
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
    relabelled = set(added["id"])
    train = export_split(seed, "train", source=str(seed_export)).filter(
        lambda row: row["id"] not in relabelled,
        keep_in_memory=True,  # no cache file in the seed
    )
    train = concatenate_datasets([train, added])
    DatasetDict({"train": train, "validation": validation, "test": test}).save_to_disk(
        str(out_dir / "dataset")
    )
    return out_dir, len(added)


def _run_dir(work_dir: Path) -> Path:
    return work_dir / f"retrain-{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 10**6}"


def _trained_on_held_out(model_dir: Path) -> bool:
    from corpus_tools.model import read_meta

    trained_on = read_meta(model_dir).get("corpus_tools", {}).get("trained_on") or ["train"]
    return bool(set(trained_on) & set(HELD_OUT_SPLITS))


def reference_score(
    current_model: Path,
    *,
    seed: SeedData,
    seed_export: Path,
    work_dir: Path,
    mode: RetrainMode,
    max_steps: int = DEFAULT_RETRAIN_STEPS,
) -> tuple[float, str]:
    """What a retrain must not fall below, and what that is (see the module's doc);
    kept in `work_dir/reference-scores.json` per served model and seed export."""
    from corpus_tools.model import load_model

    meta = hashlib.sha256((current_model / "meta.json").read_bytes()).hexdigest()[:16]
    if _trained_on_held_out(current_model):
        what = (
            f"the {mode} retrain on the seed alone "
            "(the served model was trained on the held-out notices)"
        )
        steps = max_steps if mode == RetrainMode.FULL else ""
        key = f"{mode}|{steps}|{meta}|{seed.fingerprint[:16]}"
    else:
        what, key = "the served model", f"served|{meta}|{seed.fingerprint[:16]}"
    cache = work_dir / REFERENCE_SCORES
    try:
        known = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    if isinstance(known.get(key), float):
        return known[key], what
    if what == "the served model":
        score = score_units(load_model(current_model), seed.test)
    else:
        score = _seed_only_score(
            current_model,
            seed=seed,
            seed_export=seed_export,
            work_dir=work_dir,
            mode=mode,
            max_steps=max_steps,
        )
    known[key] = score
    work_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(known, indent=1), encoding="utf-8")
    tmp.replace(cache)
    return score, what


def _seed_only_score(
    current_model: Path,
    *,
    seed: SeedData,
    seed_export: Path,
    work_dir: Path,
    mode: RetrainMode,
    max_steps: int,
) -> float:
    import shutil

    from corpus_tools.model import load_model, train_model
    from corpus_tools.model.refit import refit_model

    run_dir = _run_dir(work_dir) / "reference"
    try:
        if mode == RetrainMode.LIGHT:
            nlp = refit_model(
                current_model, seed.train, run_dir, version="reference", trained_on=["train"]
            ).nlp
        else:
            train_model(seed_export, run_dir, max_steps=max_steps)
            nlp = load_model(run_dir)
        return score_units(nlp, seed.test)
    finally:
        shutil.rmtree(run_dir.parent, ignore_errors=True)


def retrain_on_tasks(
    tasks: list[dict],
    *,
    current_model: Path,
    seed_export: Path,
    work_dir: Path,
    mode: RetrainMode = RetrainMode.LIGHT,
    max_steps: int = DEFAULT_RETRAIN_STEPS,
) -> RetrainOutcome:
    """Train on seed + the annotated `tasks` into a fresh dir under `work_dir`,
    and score it and the reference (`reference_score`) on the held-out notices."""
    from corpus_tools.model import load_model, train_model
    from corpus_tools.model.refit import refit_model

    started = time.perf_counter()
    current_model, seed_export, work_dir = Path(current_model), Path(seed_export), Path(work_dir)
    stages: dict[str, float] = {}
    clock = time.perf_counter()
    seed = read_seed(seed_export)
    added = project_units(tasks, held_out_docs=seed.held_out_docs)
    stages["read"] = time.perf_counter() - clock
    run_dir = _run_dir(work_dir)
    version = f"0.1.0+r{int(time.time())}"
    clock = time.perf_counter()
    if mode == RetrainMode.LIGHT:
        units = merged_units(seed.train, added)
        result = refit_model(
            current_model, units, run_dir / "model", version=version, trained_on=["train"]
        )
        model_dir, nlp, n_train = result.model_dir, result.nlp, len(units)
        stages |= result.seconds
    else:
        export_dir, _ = combined_export(tasks, seed_export=seed_export, out_dir=run_dir / "export")
        model_dir = run_dir / "model"
        trained = train_model(export_dir, model_dir, max_steps=max_steps, version=version)
        nlp, n_train = load_model(model_dir), trained.n_train
        stages["train"] = time.perf_counter() - clock
    clock = time.perf_counter()
    new_score = score_units(nlp, seed.test)
    stages["score"] = time.perf_counter() - clock
    clock = time.perf_counter()
    old_score, compared_with = reference_score(
        current_model,
        seed=seed,
        seed_export=seed_export,
        work_dir=work_dir,
        mode=mode,
        max_steps=max_steps,
    )
    stages["reference"] = time.perf_counter() - clock
    return RetrainOutcome(
        model_dir=model_dir,
        accepted=new_score >= old_score,
        new_score=new_score,
        old_score=old_score,
        n_new_units=len(added),
        seconds=round(time.perf_counter() - started, 2),
        mode=mode.value,
        compared_with=compared_with,
        n_train_units=n_train,
        stage_seconds=tuple((k, round(v, 2)) for k, v in stages.items()),
    )


def retrain_model(
    *,
    project: str,
    current_model: Path,
    seed_export: Path,
    work_dir: Path,
    url: str | None = None,
    api_key: str | None = None,
    mode: RetrainMode = RetrainMode.LIGHT,
    max_steps: int = DEFAULT_RETRAIN_STEPS,
) -> RetrainOutcome:
    """Pull `project`'s annotated tasks and `retrain_on_tasks`."""
    from corpus_tools.export.reading import pull_project_tasks

    started = time.perf_counter()
    tasks = pull_project_tasks(project, url=url, api_key=api_key)
    pulled = time.perf_counter() - started
    outcome = retrain_on_tasks(
        tasks,
        current_model=current_model,
        seed_export=seed_export,
        work_dir=work_dir,
        mode=mode,
        max_steps=max_steps,
    )
    from dataclasses import replace

    return replace(
        outcome,
        seconds=round(outcome.seconds + pulled, 2),
        stage_seconds=(("pull", round(pulled, 2)), *outcome.stage_seconds),
    )
