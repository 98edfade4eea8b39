"""The whole stage: Label Studio JSON (files, tasks or a project) → an export directory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from corpus_tools.errors import ExportError
from corpus_tools.export.build import build_export
from corpus_tools.export.reading import (
    check_label_studio_tasks,
    holds_export,
    previous_splits,
    pull_project_tasks,
    read_label_studio_json,
)
from corpus_tools.export.records import (
    DEFAULT_LICENSE,
    DEFAULT_SEED,
    ExportReport,
    Policy,
    SplitSizes,
)
from corpus_tools.export.writing import write_export


def export_annotations(
    source: Path | Sequence[Path] | Sequence[dict] | None,
    out_dir: Path,
    *,
    project: str | None = None,
    url: str | None = None,
    api_key: str | None = None,
    policy: Policy = Policy.MAJORITY,
    sizes: SplitSizes | None = None,
    seed: int | None = None,
    skip_invalid: bool = False,
    license: str = DEFAULT_LICENSE,
    keep_splits_of: Path | None = None,
    new_splits: bool = False,
    held_out: Sequence[Path] = (),
) -> ExportReport:
    """Export annotations to `out_dir` (layout in `export.layout`) and return the report.

    `source` is a Label Studio JSON export file, several of them, or a parsed task list; or
    give `project` (a Label Studio project title) to pull it from the server
    (`url`/`api_key` as for `studio.pull`: options, environment, embedded server).
    `keep_splits_of`, an earlier export directory, keeps each of its documents in the
    split it had there; only new documents are assigned. By default that is `out_dir`
    when it holds an export, so a re-run does not move documents between published
    splits; `new_splits` draws them afresh instead. `sizes` and `seed` (default 0.8/0.1/0.1
    and `DEFAULT_SEED`) place the documents assigned afresh; giving them for such a re-run
    is refused, as they would place none. `held_out` names notices (files or folders)
    kept for evaluation: a task whose text shares a sentence with them
    (`sources.evaluation_only`) is left out and counted, so no model trains on them.
    """
    if keep_splits_of is not None and new_splits:
        raise ExportError(
            "keep the splits of an earlier export or draw new ones, not both: "
            "leave out --keep-splits or --new-splits"
        )
    if keep_splits_of is None and not new_splits and holds_export(out_dir):
        if sizes is not None or seed is not None:
            # Every document keeps its split, so the fractions or seed would be ignored
            # while the card and report named them.
            raise ExportError(
                f"{out_dir}: holds an earlier export, whose splits a re-export keeps, so the "
                "split fractions and seed given (--train/--validation/--test/--seed) would "
                "place only documents it lacks; add --new-splits to re-split everything with "
                f"them, --keep-splits {out_dir} to place only new documents with them, or "
                "leave them out"
            )
        keep_splits_of = Path(out_dir)
    if (source is None) == (project is None):
        raise ExportError(
            "give either a Label Studio JSON file or --project NAME, not both or neither"
        )
    if project is not None:
        name = f"Label Studio project {project!r}"
        tasks = pull_project_tasks(project, url=url, api_key=api_key)
        check_label_studio_tasks(tasks, source=name)
    elif isinstance(source, (str, Path)):
        name = Path(source).name
        tasks = read_label_studio_json(Path(source))
    elif source and all(isinstance(item, (str, Path)) for item in source):
        # Several files (one per annotation project) make one dataset.
        name = " + ".join(Path(item).name for item in source)
        tasks = [task for item in source for task in read_label_studio_json(Path(item))]
    else:
        name = "tasks"
        tasks = list(source)
        check_label_studio_tasks(tasks, source=name)
    held = 0
    if held_out:
        from corpus_tools.sources import evaluation_only

        for_evaluation = evaluation_only(list(held_out))
        kept = [t for t in tasks if not for_evaluation(str((t.get("data") or {}).get("text", "")))]
        held, tasks = len(tasks) - len(kept), kept
    keep = previous_splits(keep_splits_of) if keep_splits_of is not None else None
    export = build_export(
        tasks,
        policy=policy,
        sizes=sizes,
        seed=DEFAULT_SEED if seed is None else seed,
        skip_invalid=skip_invalid,
        source=name,
        keep_splits=keep,
    )
    # Set before writing: the card and export-report.json say where the splits came from
    # and what was held out.
    export = replace(
        export,
        report=replace(
            export.report,
            splits_kept_from=str(keep_splits_of) if keep_splits_of is not None else None,
            tasks_held_out=held,
        ),
    )
    return write_export(export, out_dir, license=license)
