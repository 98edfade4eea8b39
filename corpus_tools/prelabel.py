"""Pre-label units with a trained model (the `prelabel` stage).

Units stream from notice files (through `segment.iter_units`) or from units
files (JSONL/Parquet), go through the model in chunks — in this process or
in a pool of workers with a bounded number of chunks in flight, so memory
does not grow with the corpus — and are written one chunk at a time.

A record is `Unit.to_dict()` plus `measure_type`, `measure_type_score`,
`measure_type_top3` ([{label, score}]), `spans` ([{start, end, label, text,
score}]), `deadlines` ([{text, start, end, date, date_start, relative}]) and
`model_version`. Only `body` units are pre-labelled (headings and meta are
not annotated); they are written too, with null/empty prediction fields, so
the file keeps each notice's context (Label Studio shows the heading above a
sentence) — or left out with `body_only`.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from corpus_tools.deadlines import deadline_for, notice_year_of
from corpus_tools.engines import Engine
from corpus_tools.errors import CorpusToolsError, InputFileError
from corpus_tools.model import Prediction, load_model, model_info, prediction_of
from corpus_tools.model.context import heading_of, make_docs
from corpus_tools.model.loading import model_version_of
from corpus_tools.outputs import check_writable_file, replaced_on_success
from corpus_tools.schema import Unit, UnitKind
from corpus_tools.segment.unit_files import UNIT_FILE_SUFFIXES, unit_files_in

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "prelabel"
CHUNK_SIZE = 1024


@dataclass(frozen=True, slots=True)
class PrelabelReport:
    output: Path
    model_version: str
    units_read: int
    units_labelled: int  # body units, with predictions
    units_written: int
    units_not_body: int  # headings and meta: written without predictions unless body_only
    errors: tuple[str, ...]
    seconds: float
    load_seconds: float
    push: Any = None  # studio.PushReport when pushed

    @property
    def units_per_second(self) -> float:
        return self.units_labelled / max(self.seconds - self.load_seconds, 1e-9)


# ---------------------------------------------------------------- input


def iter_input_units(
    paths: Iterable[Path | str], *, output: Path | None = None
) -> Iterator[Unit | InputFileError]:
    """Units of notice files (any format `segment` reads) and of units files
    (`.jsonl`/`.parquet` written by `segment`), in order; failures in-stream.
    A folder's copy of `output` (and hidden files, such as the output being
    written) is not read back as input."""
    from corpus_tools.segment import iter_units

    notices: list[Path] = []
    for path in _expand_folders(paths, output=output):
        if path.suffix.lower() in UNIT_FILE_SUFFIXES:
            yield from iter_units(notices)
            notices = []
            yield from _read_unit_file(path)
        else:
            notices.append(path)
    yield from iter_units(notices)


def _expand_folders(paths: Iterable[Path | str], *, output: Path | None) -> Iterator[Path]:
    """Files as given; a folder as its notice files, or, when it holds none, as
    its units files (what `segment` wrote there; the Ray engine reads folders so)."""
    from corpus_tools.ingest import iter_input_files

    own = output.resolve() if output is not None else None
    for path in iter_input_files(list(paths)):
        if path.is_dir():
            unit_files = [
                p for p in unit_files_in(path) if not p.name.startswith(".") and p.resolve() != own
            ]
            yield from unit_files or [path]
        else:
            yield path


# A bad line is reported and skipped; past this many, one line sums up the rest
# (a file that is no units file at all would otherwise print a line per line).
_BAD_LINES_SHOWN = 5


def _read_unit_file(path: Path) -> Iterator[Unit | InputFileError]:
    if not path.is_file():
        yield InputFileError(str(path), "units file does not exist; check the path")
        return
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(path)
            required = {"unit_id", "doc_id", "unit_index", "kind", "text"}
            missing = required - set(parquet.schema_arrow.names)
            if missing:  # an export's split, say: no units file
                yield InputFileError(
                    str(path),
                    f"a Parquet file without the {', '.join(sorted(missing))} column(s) of a "
                    "units file; give `corpus-tools segment` or `prelabel` output",
                )
                return
            for batch in parquet.iter_batches(batch_size=CHUNK_SIZE):
                for row in batch.to_pylist():
                    yield Unit.from_dict(row)
        else:
            bad_lines = 0
            with path.open(encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    if line.strip():
                        try:
                            yield _encodable(Unit.from_dict(json.loads(line)))
                        except (ValueError, KeyError, TypeError) as error:
                            bad_lines += 1
                            if bad_lines <= _BAD_LINES_SHOWN:
                                yield InputFileError(
                                    str(path),
                                    f"line {number} is not a unit record ({error}); "
                                    "skipped, the other lines are read",
                                )
            if bad_lines > _BAD_LINES_SHOWN:
                yield InputFileError(
                    str(path),
                    f"{bad_lines - _BAD_LINES_SHOWN} more lines are not unit records "
                    f"({bad_lines} in all); is it a units file written by `corpus-tools segment`?",
                )
    except (OSError, ValueError) as error:
        yield InputFileError(str(path), f"cannot be read as a units file ({error})")


def _encodable(unit: Unit) -> Unit:
    """The unit, if its text can be written as UTF-8: a JSON escape such as
    `\\ud800` decodes to a lone surrogate, which spaCy and the writers refuse."""
    try:
        unit.text.encode("utf-8")
    except UnicodeEncodeError as error:
        bad = unit.text[error.start]
        raise ValueError(
            f"its text holds U+{ord(bad):04X}, half a surrogate pair and no character; "
            "fix the \\u escape in the file"
        ) from None
    return unit


# ---------------------------------------------------------------- prediction


def record_of(unit: Unit, prediction: Prediction, model_version: str) -> dict:
    """The prelabel record of one unit."""
    spans = [
        {"start": s, "end": e, "label": label, "text": text, "score": score}
        for s, e, label, text, score in prediction.spans
    ]
    year = notice_year_of(
        date=unit.date, doc_number=unit.doc_number, title=unit.title, doc_id=unit.doc_id
    )
    deadlines = [
        deadline_for(
            span["text"],
            span["start"],
            span["end"],
            notice_date=unit.date,
            notice_year=year,
            before=unit.text[: span["start"]],
        ).to_dict()
        for span in spans
        if span["label"] == "DEADLINE"
    ]
    return unit.to_dict() | {
        "measure_type": prediction.measure_type,
        "measure_type_score": prediction.measure_type_score,
        "measure_type_top3": [
            {"label": label, "score": score} for label, score in prediction.measure_type_top3
        ],
        "spans": spans,
        "deadlines": deadlines,
        "model_version": model_version,
    }


def predict_texts(
    nlp,
    texts: Iterable[str],
    headings: Iterable[str] | None = None,
    *,
    batch_size: int = 256,
) -> Iterator[Prediction]:
    """Predictions for texts, each read with its section heading when given."""
    for doc in nlp.pipe(make_docs(nlp, texts, headings), batch_size=batch_size):
        yield prediction_of(doc)


# Worker state: the model is loaded once per worker process.
_WORKER_NLP = None


def _init_worker(model_dir: str | None) -> None:
    global _WORKER_NLP
    if _WORKER_NLP is None:  # under fork the parent's model is already here
        _WORKER_NLP = load_model(model_dir)


def _predict_chunk(texts: list[str], headings: list[str]) -> list[Prediction]:
    return list(predict_texts(_WORKER_NLP, texts, headings))


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def plain_record(unit: Unit) -> dict:
    """The record of a heading or meta unit: the unit with empty predictions."""
    return unit.to_dict() | {
        "measure_type": None,
        "measure_type_score": None,
        "measure_type_top3": [],
        "spans": [],
        "deadlines": [],
        "model_version": None,
    }


def _records(chunk: list[Unit], predictions: Iterable[Prediction], version: str) -> list[dict]:
    predicted = iter(predictions)
    return [
        record_of(u, next(predicted), version) if u.kind == UnitKind.BODY else plain_record(u)
        for u in chunk
    ]


def _body_texts(chunk: list[Unit]) -> list[str]:
    return [u.text for u in chunk if u.kind == UnitKind.BODY]


def _body_headings(chunk: list[Unit]) -> list[str]:
    return [heading_of(u.section_path) for u in chunk if u.kind == UnitKind.BODY]


def prelabel_version(nlp, model_dir: Path | str | None) -> str:
    """The records' `model_version`: name-version and a hash of the model's files
    (`model_version_of`, as the ML backend names it), so a model retrained with
    the default name and version is another version and `--push` adds its
    predictions instead of taking them for ones already there."""
    source = model_dir or getattr(nlp, "path", None)  # spaCy keeps where it loaded from
    if source is None:  # a model built in memory has no files to hash
        return model_info(nlp).model_version
    return model_version_of(Path(source))


def prelabel_units(
    units: Iterable[Unit],
    nlp,
    *,
    model_dir: Path | str | None = None,
    n_process: int = 1,
    chunk_size: int = CHUNK_SIZE,
    body_only: bool = False,
) -> Iterator[list[dict]]:
    """Chunks of prelabel records for `units`, in input order (body units get
    predictions; the others empty fields, or are left out with `body_only`).

    With `n_process > 1` chunks go to a pool of workers, at most two per
    worker in flight, so the input is read only as fast as it is labelled.
    """
    version = prelabel_version(nlp, model_dir)
    if body_only:
        units = (u for u in units if u.kind == UnitKind.BODY)
    chunks = _chunks(units, chunk_size)
    if n_process <= 1:
        for chunk in chunks:
            yield _records(
                chunk, predict_texts(nlp, _body_texts(chunk), _body_headings(chunk)), version
            )
        return
    global _WORKER_NLP
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    _WORKER_NLP = nlp if context.get_start_method() == "fork" else None
    source = model_dir or getattr(nlp, "path", None)  # spawned workers load it themselves
    with context.Pool(n_process, initializer=_init_worker, initargs=(str(source),)) as pool:
        pending: deque = deque()
        for chunk in chunks:
            pending.append(
                (
                    chunk,
                    pool.apply_async(_predict_chunk, (_body_texts(chunk), _body_headings(chunk))),
                )
            )
            if len(pending) >= 2 * n_process:
                done, result = pending.popleft()
                yield _records(done, result.get(), version)
        while pending:
            done, result = pending.popleft()
            yield _records(done, result.get(), version)
    _WORKER_NLP = None


# ---------------------------------------------------------------- output


def _parquet_schema():
    import pyarrow as pa

    strings = pa.list_(pa.string())
    return pa.schema(
        [
            ("unit_id", pa.string()),
            ("doc_id", pa.string()),
            ("unit_index", pa.int32()),
            ("kind", pa.string()),
            ("text", pa.string()),
            ("section_path", strings),
            ("item_responsible_bodies", strings),
            ("item_parenthetical", pa.string()),
            ("title", pa.string()),
            ("issuer", pa.string()),
            ("sector", pa.string()),
            ("genre", pa.string()),
            ("doc_number", pa.string()),
            ("date", pa.string()),
            ("addressees", strings),
            ("source_path", pa.string()),
            ("measure_type", pa.string()),
            ("measure_type_score", pa.float64()),
            (
                "measure_type_top3",
                pa.list_(pa.struct([("label", pa.string()), ("score", pa.float64())])),
            ),
            (
                "spans",
                pa.list_(
                    pa.struct(
                        [
                            ("start", pa.int32()),
                            ("end", pa.int32()),
                            ("label", pa.string()),
                            ("text", pa.string()),
                            ("score", pa.float64()),
                        ]
                    )
                ),
            ),
            (
                "deadlines",
                pa.list_(
                    pa.struct(
                        [
                            ("text", pa.string()),
                            ("start", pa.int32()),
                            ("end", pa.int32()),
                            ("date", pa.string()),
                            ("date_start", pa.string()),
                            ("relative", pa.string()),
                        ]
                    )
                ),
            ),
            ("model_version", pa.string()),
        ]
    )


class _JsonlWriter:
    def __init__(self, path: Path) -> None:
        self.handle = path.open("w", encoding="utf-8")

    def write(self, records: list[dict]) -> None:
        self.handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)

    def close(self) -> None:
        self.handle.close()


class _ParquetWriter:
    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        self.schema = _parquet_schema()
        self.writer = pq.ParquetWriter(path, self.schema)

    def write(self, records: list[dict]) -> None:
        import pyarrow as pa

        if records:
            self.writer.write_table(pa.Table.from_pylist(records, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


WRITERS: dict[str, Callable[[Path], _JsonlWriter | _ParquetWriter]] = {
    ".jsonl": _JsonlWriter,
    ".parquet": _ParquetWriter,
}


def read_prelabels(path: Path | str) -> Iterator[dict]:
    """Read a prelabel file (JSONL or Parquet) back as records."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK_SIZE):
            yield from batch.to_pylist()
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


# ---------------------------------------------------------------- the stage


def too_long_error(unit_id: str, length: int, limit: int) -> InputFileError:
    """A unit longer than the model reads (spaCy's `max_length`): skipped by
    name, by both engines, rather than failing the run."""
    return InputFileError(
        unit_id,
        f"unit of {length:,} characters, more than any sentence "
        f"(the model reads up to {limit:,}); skipped: is its source a "
        "notice, and did `segment` cut it?",
    )


def prelabel_files(
    paths: Iterable[Path | str],
    output: Path | str,
    *,
    model_dir: Path | str | None = None,
    n_process: int = 1,
    chunk_size: int = CHUNK_SIZE,
    body_only: bool = False,
    progress: Callable[[int], None] | None = None,
    on_error: Callable[[InputFileError], None] | None = None,
    push_project: str | None = None,
    url: str | None = None,
    api_key: str | None = None,
    push_progress: Callable[[int, int], None] | None = None,
) -> PrelabelReport:
    """Pre-label every body unit of `paths` into `output` (.jsonl, or .parquet
    by suffix). `progress` gets the number of units written so far; files that
    cannot be read go to `on_error` and the report, and the batch goes on.

    With `push_project`, the written file is then pushed to that Label Studio
    project (`studio.push_units`): new units become tasks with the prediction
    attached, units already there get the prediction added (once per
    model_version), least certain first."""
    started = time.perf_counter()
    output = check_writable_file(output, suffixes=tuple(WRITERS))
    suffix = output.suffix.lower()
    model_dir = Path(model_dir) if model_dir else DEFAULT_MODEL_DIR
    nlp = load_model(model_dir)
    load_seconds = time.perf_counter() - started
    counts = {"read": 0, "skipped": 0, "labelled": 0, "written": 0}
    errors: list[str] = []

    def report(error: InputFileError) -> None:
        errors.append(str(error))
        if on_error is not None:
            on_error(error)

    def units() -> Iterator[Unit]:
        # two inputs holding the same units (a notice and its segmented copy,
        # overlapping units files) would write each twice: kept once, summed up
        seen: set[str] = set()
        repeated: list[str] = []
        for item in iter_input_units(paths, output=output):
            if isinstance(item, Unit) and len(item.text) > nlp.max_length:
                item = too_long_error(item.unit_id, len(item.text), nlp.max_length)
            if isinstance(item, InputFileError):
                report(item)
                continue
            if item.unit_id in seen:
                repeated.append(item.unit_id)
                continue
            seen.add(item.unit_id)
            counts["read"] += 1
            if item.kind != UnitKind.BODY:
                counts["skipped"] += 1
            yield item
        if repeated:
            report(
                InputFileError(
                    repeated[0],
                    f"and {len(repeated) - 1} more units were read twice (the same unit_id): "
                    "each is written once; do two inputs hold the same notices?"
                    if len(repeated) > 1
                    else "read twice (the same unit_id): written once; do two inputs hold "
                    "the same notices?",
                )
            )

    # the output is replaced when the run ends, so a run that reads nothing or
    # is interrupted leaves the previous pre-labels as they were
    with replaced_on_success(output) as partial:
        writer = WRITERS[suffix](partial)
        try:
            for records in prelabel_units(
                units(),
                nlp,
                model_dir=model_dir,
                n_process=n_process,
                chunk_size=chunk_size,
                body_only=body_only,
            ):
                writer.write(records)
                counts["written"] += len(records)
                counts["labelled"] += sum(r["measure_type"] is not None for r in records)
                if progress is not None:
                    progress(counts["written"])
        finally:
            writer.close()
        nothing_read = counts["read"] == 0 and bool(errors)
        if nothing_read:
            partial.unlink()
    if nothing_read:
        raise CorpusToolsError(
            f"no units read: {errors[0]}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        )
    pushed = None
    if push_project is not None:
        from corpus_tools.studio import push_units

        pushed = push_units(
            output, project=push_project, url=url, api_key=api_key, progress=push_progress
        )
    return PrelabelReport(
        output=output,
        model_version=prelabel_version(nlp, model_dir),
        units_read=counts["read"],
        units_labelled=counts["labelled"],
        units_written=counts["written"],
        units_not_body=counts["skipped"],
        errors=tuple(errors),
        seconds=time.perf_counter() - started,
        load_seconds=load_seconds,
        push=pushed,
    )


# ---------------------------------------------------------------- engines


@dataclass(frozen=True, slots=True)
class PrelabelJob:
    """What to pre-label and how, whichever engine runs it."""

    paths: tuple[Path, ...]
    output: Path
    model_dir: Path | None = None
    n_process: int | None = None  # local: pool size (default 1); ray: actors/CPUs (default all)
    address: str | None = None  # ray only: the cluster to join
    body_only: bool = False
    progress: Callable[[int], None] | None = None
    on_error: Callable[[InputFileError], None] | None = None
    push_project: str | None = None
    url: str | None = None
    api_key: str | None = None
    push_progress: Callable[[int, int], None] | None = None


def _run_local(job: PrelabelJob) -> PrelabelReport:
    if job.address:
        raise CorpusToolsError("--address is for --engine ray; drop it or add --engine ray")
    return prelabel_files(
        job.paths,
        job.output,
        model_dir=job.model_dir,
        n_process=job.n_process or 1,
        body_only=job.body_only,
        progress=job.progress,
        on_error=job.on_error,
        push_project=job.push_project,
        url=job.url,
        api_key=job.api_key,
        push_progress=job.push_progress,
    )


def _run_ray(job: PrelabelJob) -> PrelabelReport:
    if job.push_project is not None:
        raise CorpusToolsError(
            "--push works with --engine local only (the ray engine writes a directory of "
            "Parquet shards); pre-label with --engine local to push, or push a shard"
        )
    from corpus_tools.prelabel_ray import prelabel_files_ray

    return prelabel_files_ray(
        job.paths,
        job.output,
        model_dir=job.model_dir,
        address=job.address,
        num_cpus=job.n_process,
        body_only=job.body_only,
        on_error=job.on_error,
    )


ENGINES: dict[Engine, Callable[[PrelabelJob], PrelabelReport]] = {
    Engine.LOCAL: _run_local,
    Engine.RAY: _run_ray,
}


def run_prelabel(job: PrelabelJob, *, engine: Engine = Engine.LOCAL) -> PrelabelReport:
    """Run `job` on `engine`: the same records either way (local: one file;
    ray: a directory of Parquet shards)."""
    return ENGINES[Engine(engine)](job)
