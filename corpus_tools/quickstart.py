"""The whole loop on the embedded defaults, one step after another.

Every step is idempotent — segmenting and exporting rewrite their files,
pushes skip what the project already holds, training rewrites its model — so
a run stopped half-way and started again finishes the job without duplicates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from corpus_tools import export, prelabel, segment, studio
from corpus_tools import model as train
from corpus_tools.studio.backend_process import BackendInfo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NOTICES = ROOT / "data" / "notices"
DEFAULT_NEW_NOTICES = ROOT / "data" / "new-notices"
DEFAULT_ANNOTATIONS = (ROOT / "data" / "annotations" / "seed.jsonl",)
DEFAULT_PROJECT = "corpus-tools quickstart"


class Step(StrEnum):
    STUDIO = "start Label Studio"
    SEGMENT = "segment the sample corpus"
    PUSH = "push units as tasks"
    ANNOTATIONS = "load the seed annotations"
    EXPORT = "export to a Hugging Face dataset"
    TRAIN = "train the pre-labeling model"
    EVALUATE = "evaluate on the test split"
    PRELABEL = "pre-label new notices and push predictions"
    BACKEND = "start the ML backend and connect it"
    REPORT = "write the report of the pre-labelled notices"


@dataclass(frozen=True, slots=True)
class StepDone:
    step: Step
    seconds: float
    summary: str


@dataclass(frozen=True, slots=True)
class QuickstartReport:
    url: str
    username: str | None
    password: str | None = field(repr=False)
    project: str
    units_path: Path
    export_dir: Path
    model_dir: Path
    prelabel_path: Path
    report_path: Path  # index.html of the pre-labelled notices' report
    macro_f1: float
    baseline_macro_f1: float
    span_f1: dict[str, float]
    steps: tuple[StepDone, ...] = field(default_factory=tuple)
    # the ML backend serving the model to the project (None with backend=False)
    backend: BackendInfo | None = None
    project_url: str = ""  # the project's page, where annotators start labelling

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


@dataclass(slots=True)
class _Clock:
    on_step: Callable[[StepDone], None] | None
    on_start: Callable[[Step], None] | None = None
    done: list[StepDone] = field(default_factory=list)

    @contextmanager
    def step(self, step: Step) -> Iterator[list[str]]:
        if self.on_start is not None:
            self.on_start(step)
        started = time.perf_counter()
        summary: list[str] = []
        yield summary
        record = StepDone(step, time.perf_counter() - started, "; ".join(summary))
        self.done.append(record)
        if self.on_step is not None:
            self.on_step(record)


def run_quickstart(
    *,
    work_dir: Path,
    notices: Path = DEFAULT_NOTICES,
    new_notices: Path = DEFAULT_NEW_NOTICES,
    annotations: tuple[Path, ...] = DEFAULT_ANNOTATIONS,
    project: str = DEFAULT_PROJECT,
    url: str | None = None,
    api_key: str | None = None,
    home: Path | None = None,
    max_steps: int | None = 400,
    backend: bool = True,
    retrain_after: int | None = None,
    on_step: Callable[[StepDone], None] | None = None,
    on_start: Callable[[Step], None] | None = None,
) -> QuickstartReport:
    """Segment, push, load annotations, export, train, evaluate, pre-label, and
    serve the model to the project as its ML backend.

    Without `url`/`api_key` (or LABEL_STUDIO_URL/LABEL_STUDIO_API_KEY) the
    embedded Label Studio is started if it is not running. With `backend` the
    ML backend (`serve-model` on the trained model, retraining on the export
    plus the project's new annotations after `retrain_after` of them) runs in
    the background — pid and log in the studio home, reused while it serves
    the same model — and is connected to the project, so each task opened
    gets its suggestion.
    """
    clock = _Clock(on_step, on_start)
    work_dir.mkdir(parents=True, exist_ok=True)
    units_path = work_dir / "units.jsonl"
    export_dir = work_dir / "export"
    model_dir = work_dir / "model"
    prelabel_path = work_dir / "prelabels.jsonl"
    report_dir = work_dir / "report"
    username = password = None

    with clock.step(Step.STUDIO) as summary:
        connection = _connection(url=url, api_key=api_key, home=home)
        if connection is None:
            info = studio.start_server(home=home)
            username, password = info.username, info.password
            summary.append(
                f"{'already running' if info.already_running else 'started'} at {info.url}"
            )
        connection = studio.resolve_connection(url=url, api_key=api_key, home=home)
        if not summary:  # a server given by --url / the environment: say which
            summary.append(f"using {connection.url}")
    with clock.step(Step.SEGMENT) as summary:
        report = segment.segment_files([notices], output=units_path)
        summary.append(f"{report.documents} documents, {report.units} units")
    access = {"url": connection.url, "api_key": connection.api_key, "home": home}
    with clock.step(Step.PUSH) as summary:
        # The first annotation file travels with the tasks it belongs to: one
        # import per batch instead of one request per annotation.
        first, *rest = annotations or (None,)
        pushed = studio.push_units(units_path, project=project, annotations=first, **access)
        summary.append(
            f"{pushed.tasks_created} new tasks ({pushed.annotations_created} with annotations), "
            f"{pushed.tasks_existing} already there"
        )
    with clock.step(Step.ANNOTATIONS) as summary:
        # Whatever the import did not carry (tasks from an interrupted run, more passes).
        for path in tuple(a for a in (first, *rest) if a is not None):
            loaded = studio.push_annotations(path, project=project, **access)
            summary.append(
                f"{path.name}: {loaded.annotations_created} new, {loaded.annotations_existing} already there"
            )
            if loaded.units_missing:  # said, not dropped silently (a unit now a heading)
                summary.append(
                    f"{len(loaded.units_missing)} judged units not among the pushed units, "
                    f"not loaded (first: {loaded.units_missing[0]})"
                )
    with clock.step(Step.EXPORT) as summary:
        # the notices pre-labelled into the same project are evaluation notices: what an
        # annotator does on them must not become training data
        exported = export.export_annotations(
            None,
            export_dir,
            project=project,
            url=connection.url,
            api_key=connection.api_key,
            held_out=(new_notices,),
        )
        summary.append(
            f"{exported.units_exported} units, {exported.documents} documents, "
            f"κ {_fmt(exported.agreement.measure_type_kappa)} on {exported.agreement.units} doubly annotated"
        )
        if exported.tasks_held_out:
            summary.append(
                f"{exported.tasks_held_out} tasks of the evaluation notices ({new_notices}) "
                "left out"
            )
    with clock.step(Step.TRAIN) as summary:
        # a re-run on the same export, settings and code keeps the model (training is seeded)
        trained = train.train_model(
            export_dir, model_dir, max_steps=max_steps, reuse_if_unchanged=True
        )
        summary.append(
            f"{trained.model_version}, {trained.steps} steps"
            + ("; kept: trained from the same export, settings and code" if trained.reused else "")
        )
    with clock.step(Step.EVALUATE) as summary:
        scores = train.evaluate_model(model_dir, export_dir, split="test")
        summary.append(
            f"macro-F1 {scores.measure_type.macro_f1:.3f} "
            f"(TF-IDF baseline {scores.baseline_measure_type.macro_f1:.3f})"
        )
    with clock.step(Step.PRELABEL) as summary:
        labelled = prelabel.prelabel_files(
            [new_notices],
            prelabel_path,
            model_dir=model_dir,
            body_only=True,
            push_project=project,
            url=connection.url,
            api_key=connection.api_key,
        )
        pushed_now = labelled.push
        summary.append(
            f"{labelled.units_labelled} units pre-labelled; "
            f"{pushed_now.predictions_created} predictions added "
            f"({pushed_now.predictions_skipped} already there)"
        )
        if labelled.errors:  # the rest was pre-labelled; say what was not
            summary.append(f"{len(labelled.errors)} inputs skipped (first: {labelled.errors[0]})")
    served = None
    with clock.step(Step.BACKEND) as summary:
        if not backend:
            summary.append("skipped")
        else:
            served = _serve_model(
                project=project,
                connection=connection,
                home=home,
                model_dir=model_dir,
                export_dir=export_dir,
                work_dir=work_dir / "ml-backend",
                retrain_after=retrain_after,
                retrain_steps=max_steps,
                summary=summary,
            )
    with clock.step(Step.REPORT) as summary:
        from corpus_tools.report import build_report

        written = build_report([prelabel_path], report_dir)
        summary.append(
            f"{len(written.charts)} charts over {written.notices} notices: {written.index}"
        )
    return QuickstartReport(
        url=connection.url,
        username=username,
        password=password,
        project=project,
        units_path=units_path,
        export_dir=export_dir,
        model_dir=model_dir,
        prelabel_path=prelabel_path,
        report_path=written.index,
        macro_f1=scores.measure_type.macro_f1,
        baseline_macro_f1=scores.baseline_measure_type.macro_f1,
        span_f1={label: prf.f1 for label, prf in scores.spans.per_label.items()},
        steps=tuple(clock.done),
        backend=served,
        project_url=f"{connection.url.rstrip('/')}/projects/{pushed.project_id}/",
    )


def _serve_model(
    *,
    project: str,
    connection: studio.StudioConnection,
    home: Path | None,
    model_dir: Path,
    export_dir: Path,
    work_dir: Path,
    retrain_after: int | None,
    retrain_steps: int | None,
    summary: list[str],
) -> BackendInfo:
    from corpus_tools.studio.backend_link import connect_model
    from corpus_tools.studio.backend_process import start_backend

    info = start_backend(
        model_dir=model_dir,
        seed_export=export_dir,
        work_dir=work_dir,
        studio_url=connection.url,
        studio_api_key=connection.api_key,
        retrain_after=retrain_after,
        retrain_steps=retrain_steps,
        home=home,
    )
    how = (
        "already running"
        if info.already_running
        else f"restarted (pid {info.replaced_pid} served another model)"
        if info.replaced_pid
        else "started"
    )
    link = connect_model(
        project=project,
        backend_url=info.url,
        url=connection.url,
        api_key=connection.api_key,
        home=home,
    )
    summary.append(f"{how} at {info.url} ({info.model_version})")
    summary.append(
        ("connected to the project" if link.created else "already connected")
        + ("; tasks are served least certain first" if link.least_certain_first else "")
    )
    return info


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _connection(*, url: str | None, api_key: str | None, home: Path | None):
    """An explicit or environment connection, or None when the embedded server is meant."""
    import os

    if url or api_key or os.environ.get("LABEL_STUDIO_URL"):
        return studio.resolve_connection(url=url, api_key=api_key, home=home)
    return None
