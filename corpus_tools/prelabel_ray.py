"""Pre-labeling on Ray Data (`prelabel --engine ray`).

The same records as the local engine (`prelabel.record_of` / `plain_record`,
the same Parquet schema), computed on a Ray cluster or a local Ray:

- units files (`segment` output, `.jsonl`/`.parquet`, or directories of such
  shards) are read by `ray.data.read_json` / `read_parquet`;
- `map_batches` runs `_Labeller`, a callable class, so each Ray actor loads
  the model once and then labels batch after batch;
- the records are written by `write_parquet` as shards into a directory.

Ray Data executes this as a stream with backpressure: blocks flow from the
readers through the actors to the writers and nothing is gathered in the
driver, so memory does not grow with the input. The model reaches the actors
as a tar archive in Ray's object store, so workers need the package and its
dependencies installed but no copy of the model directory.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from corpus_tools.errors import CorpusToolsError, InputFileError

RAY_INSTALL_HINT = (
    "install the Ray extra: `uv sync --extra ray` (or `pip install 'corpus-tools[ray]'`)"
)
BATCH_SIZE = 1024
# Actors are handed whole blocks; a shard read as one block would go to one
# actor. Streaming repartition cuts blocks to this size, so all actors work.
BLOCK_ROWS = 4 * BATCH_SIZE
ROWS_PER_SHARD = 100_000  # output Parquet files hold at least this many rows (bar the last)
_MODEL_CACHE = Path(tempfile.gettempdir()) / "corpus-tools-ray-models"


class RayUnavailableError(CorpusToolsError):
    """`--engine ray` without Ray installed."""


class RayRunError(CorpusToolsError):
    """Ray could not be started or reached, or a Ray job failed."""


def import_ray():
    """The `ray` module with Ray Data, or one clear error saying how to install it."""
    # Under `uv run` Ray would otherwise start every worker through `uv run`
    # in a copy of the working directory (slow, and needs uv on the workers);
    # workers use the Python environment they are started in instead.
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    try:
        import ray
        import ray.data  # noqa: F401 - the `data` extra, not only ray core
    except ImportError as error:
        raise RayUnavailableError(
            f"--engine ray needs Ray Data, which is not installed ({error.name}); "
            f"{RAY_INSTALL_HINT}"
        ) from None
    return ray


# ---------------------------------------------------------------- input


@dataclass(frozen=True, slots=True)
class UnitShards:
    jsonl: tuple[str, ...]
    parquet: tuple[str, ...]
    errors: tuple[InputFileError, ...]


def find_unit_shards(paths: Iterable[Path | str]) -> UnitShards:
    """Units files named or inside the named directories (sorted), and one
    error per path that holds none (the rest of the batch goes on)."""
    from corpus_tools.segment.unit_files import UNIT_FILE_SUFFIXES, unit_files_in

    found: dict[str, list[str]] = {suffix: [] for suffix in UNIT_FILE_SUFFIXES}
    errors: list[InputFileError] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = unit_files_in(path)
            if not files:
                errors.append(
                    InputFileError(
                        str(path),
                        "holds no units files (.jsonl/.parquet); the ray engine reads "
                        "`corpus-tools segment` output: segment the notices first",
                    )
                )
            for file in files:
                found[file.suffix.lower()].append(str(file.resolve()))
        elif not path.is_file():
            errors.append(InputFileError(str(path), "units file does not exist; check the path"))
        elif path.suffix.lower() in found:
            found[path.suffix.lower()].append(str(path.resolve()))
        else:
            errors.append(
                InputFileError(
                    str(path),
                    "is not a units file (.jsonl/.parquet); the ray engine reads "
                    f"`corpus-tools segment` output: run `corpus-tools segment {path} "
                    "-o units.parquet` first, or use --engine local",
                )
            )
    return UnitShards(tuple(found[".jsonl"]), tuple(found[".parquet"]), tuple(errors))


def _unit_arrow_schema():
    import pyarrow as pa

    from corpus_tools.prelabel import _parquet_schema
    from corpus_tools.schema import Unit

    unit_fields = Unit("u", "d", 0, "body", "").to_dict().keys()
    return pa.schema([_parquet_schema().field(name) for name in unit_fields])


def _read_units(ray, shards: UnitShards):
    """One Ray dataset of every shard's unit rows, in the units' Arrow schema."""
    import pyarrow.json as pajson

    schema = _unit_arrow_schema()
    datasets = []
    if shards.jsonl:
        # pyarrow's JSON reader (newline-delimited) with an explicit schema:
        # inference would type an all-null column as null in one shard and
        # string in the next. (`lines=True` takes no schema: it goes through
        # pandas, which turns a `date` column into timestamps.)
        datasets.append(
            ray.data.read_json(
                list(shards.jsonl),
                file_extensions=None,
                parse_options=pajson.ParseOptions(
                    explicit_schema=schema, unexpected_field_behavior="ignore"
                ),
            )
        )
    if shards.parquet:
        datasets.append(ray.data.read_parquet(list(shards.parquet), file_extensions=None))
    first, *rest = datasets
    return first.union(*rest) if rest else first


# ---------------------------------------------------------------- the model on workers


def model_archive(model_dir: Path) -> bytes:
    """The model directory as an uncompressed tar (spaCy's files barely compress)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(model_dir, arcname="model")
    return buffer.getvalue()


def unpack_model(archive: bytes) -> Path:
    """The archive unpacked once per machine (keyed by its hash): every actor
    on a node loads the same directory."""
    target = _MODEL_CACHE / hashlib.sha256(archive).hexdigest()[:16]
    if not (target / "model" / "meta.json").is_file():
        _MODEL_CACHE.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=_MODEL_CACHE))
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(staging, filter="data")
        try:
            staging.rename(target)  # atomic: a racing actor's rename fails and uses the winner's
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return target / "model"


@dataclass(frozen=True, slots=True)
class _ArchiveRef:
    """The model archive's object reference, wrapped so that Ray passes the
    reference to each actor (which fetches the archive) rather than inlining
    6 MB of constructor arguments per actor."""

    ref: object


class _Labeller:
    """A Ray actor's labeller: loads the model once, then turns each batch of
    unit rows into a batch of prelabel records (the local engine's code)."""

    def __init__(self, *, archive: _ArchiveRef, version: str, body_only: bool, tally) -> None:
        import ray

        from corpus_tools.model import load_model
        from corpus_tools.prelabel import _parquet_schema

        self.nlp = load_model(unpack_model(ray.get(archive.ref)))
        self.version = version  # the driver's, from the model's own directory
        self.schema = _parquet_schema()
        self.body_only = body_only
        self.tally = tally

    def __call__(self, batch):
        import pyarrow as pa

        from corpus_tools.prelabel import _body_headings, _body_texts, _records, predict_texts
        from corpus_tools.schema import Unit, UnitKind

        units = [Unit.from_dict(row) for row in batch.to_pylist()]
        limit = self.nlp.max_length
        too_long = [(u.unit_id, len(u.text)) for u in units if len(u.text) > limit]
        if too_long:  # skipped by name, as the local engine does, not failing the job
            units = [u for u in units if len(u.text) <= limit]
        read, not_body = len(units), sum(u.kind != UnitKind.BODY for u in units)
        if self.body_only:
            units = [u for u in units if u.kind == UnitKind.BODY]
        records = _records(
            units, predict_texts(self.nlp, _body_texts(units), _body_headings(units)), self.version
        )
        # Waited for, so the totals are complete when the dataset is written.
        self.tally.add(read=read, not_body=not_body, written=len(records), too_long=too_long)
        return pa.Table.from_pylist(records, schema=self.schema)


class _Tally:
    """Counts across actors; the driver reads them once the write is done."""

    def __init__(self) -> None:
        self.counts = {"read": 0, "not_body": 0, "written": 0}
        self.too_long: list[tuple[str, int]] = []

    def add(
        self, *, read: int, not_body: int, written: int, too_long: list[tuple[str, int]]
    ) -> None:
        self.counts["read"] += read
        self.counts["not_body"] += not_body
        self.counts["written"] += written
        self.too_long.extend(too_long)

    def totals(self) -> dict[str, int]:
        return dict(self.counts)

    def skipped_too_long(self) -> list[tuple[str, int]]:
        return sorted(self.too_long)


class _TallyClient:
    """A picklable handle that makes `add` a blocking remote call."""

    def __init__(self, actor) -> None:
        self.actor = actor

    def add(
        self, *, read: int, not_body: int, written: int, too_long: list[tuple[str, int]]
    ) -> None:
        import ray

        ray.get(
            self.actor.add.remote(read=read, not_body=not_body, written=written, too_long=too_long)
        )


# ---------------------------------------------------------------- output


def _prepare_output(output: Path) -> None:
    """`output` is a directory of Parquet shards: new, empty, or a previous
    run's shards (replaced). Anything else in it is refused, not deleted."""
    if output.suffix.lower() == ".jsonl":
        raise CorpusToolsError(
            f"{output}: the ray engine writes a directory of Parquet shards, not JSONL; "
            "pass a directory, e.g. -o out/prelabels/"
        )
    if output.is_file():
        raise CorpusToolsError(
            f"{output}: is a file; the ray engine writes a directory of Parquet shards, "
            "pass a directory path"
        )
    if output.is_dir():
        others = [p.name for p in output.iterdir() if p.suffix != ".parquet"]
        if others:
            raise CorpusToolsError(
                f"{output}: holds files other than Parquet shards ({', '.join(sorted(others)[:3])}); "
                "pass a new or empty directory"
            )
        for shard in output.glob("*.parquet"):
            shard.unlink()
    output.mkdir(parents=True, exist_ok=True)


def iter_shard_records(output: Path | str) -> Iterator[dict]:
    """The records of a Ray output directory, shard by shard."""
    from corpus_tools.prelabel import read_prelabels

    for shard in sorted(Path(output).glob("*.parquet")):
        yield from read_prelabels(shard)


# ---------------------------------------------------------------- the stage


def _start_ray(ray, *, address: str | None, num_cpus: int | None) -> bool:
    """Connect to `address`, or start a local Ray; True if this call started it."""
    if address:
        _check_reachable(address)
    if ray.is_initialized():
        return False
    options = {"include_dashboard": False, "log_to_driver": False, "logging_level": "warning"}
    try:
        if address:
            ray.init(address=address, **options)
        else:
            # One logical CPU more than model actors, for the read, repartition
            # and write tasks (light, mostly I/O): without it they would wait
            # for an actor's CPU, or the pool could not reach its size.
            ray.init(num_cpus=(num_cpus or os.cpu_count() or 1) + 1, **options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RayRunError(
            f"cannot start or reach {where} ({reason}); "
            + (
                "check the address (ray://HOST:10001 or HOST:6379) and that the head runs"
                if address
                else "check `ray status` and free memory"
            )
        ) from None
    return True


def _check_reachable(address: str) -> None:
    """One clear line for a head that does not answer: `ray.init` would retry
    for minutes. ("auto" and addresses without a port are left to Ray.)"""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as error:
        raise RayRunError(
            f"no Ray head answers at {address} ({error.strerror or error}); check the address "
            "(HOST:6379, or ray://HOST:10001 for Ray Client) and that `ray start --head` runs there"
        ) from None


def prelabel_files_ray(
    paths: Iterable[Path | str],
    output: Path | str,
    *,
    model_dir: Path | str | None = None,
    address: str | None = None,
    num_cpus: int | None = None,
    body_only: bool = False,
    on_error: Callable[[InputFileError], None] | None = None,
):
    """Pre-label the units files `paths` on Ray into the directory `output`
    (Parquet shards of at least `ROWS_PER_SHARD` records each, bar the last).

    Without `address` a local Ray is started with `num_cpus` (default: all of
    this machine's) and stopped afterwards; an already running Ray in this
    process is used as it is. Returns a `prelabel.PrelabelReport`; its
    `load_seconds` is the start-up (Ray up + model checked)."""
    from corpus_tools.model import load_model
    from corpus_tools.prelabel import (
        DEFAULT_MODEL_DIR,
        PrelabelReport,
        prelabel_version,
        too_long_error,
    )

    started = time.perf_counter()
    ray = import_ray()
    output = Path(output)
    model_dir = Path(model_dir) if model_dir else DEFAULT_MODEL_DIR
    nlp = load_model(model_dir)  # a bad model fails here, once
    version, limit = prelabel_version(nlp, model_dir), nlp.max_length
    shards = find_unit_shards(paths)
    for error in shards.errors:
        if on_error is not None:
            on_error(error)
    if not shards.jsonl and not shards.parquet:
        errors = shards.errors
        raise CorpusToolsError(
            "no units read: "
            + (str(errors[0]) if errors else "no paths given")
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        )
    _prepare_output(output)
    owns_ray = _start_ray(ray, address=address, num_cpus=num_cpus)
    try:
        load_seconds = time.perf_counter() - started
        ray.data.DataContext.get_current().enable_progress_bars = False
        # A fixed pool (no ramp-up), one CPU short of the cluster's for the I/O tasks.
        cpus_for_actors = max(int(ray.cluster_resources().get("CPU", 1)) - 1, 1)
        actors = min(num_cpus or cpus_for_actors, cpus_for_actors)
        tally = ray.remote(num_cpus=0)(_Tally).remote()
        units = _read_units(ray, shards).repartition(target_num_rows_per_block=BLOCK_ROWS)
        labelled = units.map_batches(
            _Labeller,
            fn_constructor_kwargs={
                "archive": _ArchiveRef(ray.put(model_archive(model_dir))),
                "version": version,
                "body_only": body_only,
                "tally": _TallyClient(tally),
            },
            batch_size=BATCH_SIZE,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=1,
        )
        try:
            labelled.write_parquet(str(output), min_rows_per_file=ROWS_PER_SHARD)
        except ray.exceptions.RayError as error:
            raise RayRunError(f"the Ray pre-labelling job failed: {_root_cause(error)}") from None
        counts = ray.get(tally.totals.remote())
        too_long = ray.get(tally.skipped_too_long.remote())
    finally:
        if owns_ray:
            ray.shutdown()
    skipped_units = [too_long_error(unit_id, length, limit) for unit_id, length in too_long]
    for error in skipped_units:
        if on_error is not None:
            on_error(error)
    labelled_count = counts["written"] - (0 if body_only else counts["not_body"])
    return PrelabelReport(
        output=output,
        model_version=version,
        units_read=counts["read"],
        units_labelled=labelled_count,
        units_written=counts["written"],
        units_not_body=counts["not_body"],
        errors=tuple(str(e) for e in (*shards.errors, *skipped_units)),
        seconds=time.perf_counter() - started,
        load_seconds=load_seconds,
    )


def _root_cause(error: BaseException) -> str:
    """The innermost error's one-line message (Ray wraps a worker's error in
    several layers, each with a traceback)."""
    cause = getattr(error, "cause", None) or error.__cause__
    if isinstance(cause, BaseException) and cause is not error:
        return _root_cause(cause)
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else type(error).__name__
