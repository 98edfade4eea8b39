"""Reading annotated units: an export's splits, gold files, spaCy examples.

Input: an export directory written by `corpus-tools export` (`DIR/dataset`,
a `DatasetDict` saved with `save_to_disk`; `DIR` itself is accepted too), or
a JSON Lines file in the seed-set format. Importing this module registers the
`corpus_tools.ExportCorpus.v1` reader that the training config reads with.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from corpus_tools.errors import ExportError
from corpus_tools.model.context import heading_of, unit_docs
from corpus_tools.schema import MEASURE_TYPES

DATASET_DIR = "dataset"


@dataclass(frozen=True, slots=True)
class GoldUnit:
    """One annotated unit of an export split."""

    id: str
    text: str
    measure_type: str
    spans: tuple[tuple[int, int, str], ...]
    # what grouped cross-validation holds out whole
    doc_id: str = ""
    issuer: str = ""
    sector: str = ""
    genre: str = ""
    heading: str = ""  # the innermost section heading (`context.heading_of`)


def load_export(export_dir: Path | str):
    """The export's `DatasetDict` (from `DIR/dataset` or `DIR`)."""
    from datasets import load_from_disk

    path = Path(export_dir)
    for candidate in (path / DATASET_DIR, path):
        if (candidate / "dataset_dict.json").is_file():
            break
    else:
        raise ExportError(
            f"{path}: not an export directory (no {DATASET_DIR}/dataset_dict.json); "
            "write one with `corpus-tools export FILE -o DIR`"
        )
    try:
        dataset = load_from_disk(str(candidate))
    except Exception as error:  # datasets raises several kinds for a damaged directory
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ExportError(
            f"{candidate}: cannot be read as a saved dataset ({reason}); a file of it is "
            "missing or damaged: export it again with `corpus-tools export … -o DIR`"
        ) from None
    _check_features(dataset, source=str(path))
    return dataset


def _check_features(dataset, *, source: str) -> None:
    for split, part in dataset.items():
        missing = {"text", "measure_type", "spans"} - set(part.features)
        if missing:
            raise ExportError(
                f"{source}: split '{split}' lacks {', '.join(sorted(missing))}; "
                "re-export it with `corpus-tools export`"
            )
        names = list(getattr(part.features["measure_type"], "names", []))
        if set(names) != set(MEASURE_TYPES):
            raise ExportError(
                f"{source}: measure_type labels {names} differ from the schema "
                f"{list(MEASURE_TYPES)}; re-export with the current label config"
            )


def export_split(dataset, split: str, *, source: str):
    """One split of an export, or an `ExportError` naming the ones it has."""
    if split not in dataset:
        raise ExportError(
            f"{source}: the export has no '{split}' split (it has: {', '.join(dataset) or 'none'}); "
            + _split_fix(split, list(dataset))
        )
    return dataset[split]


# what other tools call the splits an export names train / validation / test
_SPLIT_ALIASES = {"dev": "validation", "valid": "validation", "val": "validation", "eval": "test"}


def _split_fix(split: str, present: list[str]) -> str:
    import difflib

    meant = _SPLIT_ALIASES.get(split.lower()) or next(
        iter(difflib.get_close_matches(split, present, n=1)), None
    )
    if meant in present:
        return f"did you mean --split {meant}?"
    return (
        f"pass one of those, or re-export with a {split} share, e.g. `corpus-tools export … "
        "--train 0.8 --validation 0.1 --test 0.1`"
    )


def iter_gold(part) -> Iterator[GoldUnit]:
    """The units of one split with ids resolved to label names."""
    mt = part.features["measure_type"]
    spans_feature = part.features["spans"]
    inner = spans_feature[0] if isinstance(spans_feature, list) else spans_feature.feature
    span_label = inner["label"]
    wanted = (
        "id",
        "text",
        "measure_type",
        "spans",
        "doc_id",
        "issuer",
        "sector",
        "genre",
        "section_path",
    )
    columns = [c for c in wanted if c in part.column_names]
    for i, row in enumerate(part.select_columns(columns)):
        spans = tuple(
            (
                int(s["start"]),
                int(s["end"]),
                span_label.int2str(s["label"]) if isinstance(s["label"], int) else s["label"],
            )
            for s in row["spans"] or ()
        )
        yield GoldUnit(
            id=str(row.get("id", i)),
            text=row["text"],
            measure_type=mt.int2str(row["measure_type"]),
            spans=spans,
            doc_id=row.get("doc_id") or "",
            issuer=row.get("issuer") or "",
            sector=row.get("sector") or "",
            genre=row.get("genre") or "",
            heading=heading_of(row.get("section_path")),
        )


def read_gold_file(path: Path | str) -> list[GoldUnit]:
    """Annotated units from a JSON Lines file in the seed-set format (`unit_id`,
    `text`, `measure_type`, `spans` of `start`/`end`/`label`/`text`): units kept
    out of every export, such as notices of other issuers."""
    import json

    path = Path(path)
    if path.is_dir():
        raise ExportError(
            f"{path}: is a folder; --gold takes a JSON Lines file of annotations kept out of "
            "the export, e.g. data/external-eval/*.jsonl (an export's own split is --split)"
        )
    if not path.is_file():
        raise ExportError(f"{path}: gold file not found; expected a JSON Lines file of annotations")
    from corpus_tools.seed import judgement_problem

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise ExportError(
            f"{path}: not UTF-8 text (byte {error.start}); expected a JSON Lines file of "
            "annotations such as data/external-eval/*.jsonl"
        ) from None
    gold = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
            problem = judgement_problem(row) if {"text", "spans"} <= row.keys() else "no text/spans"
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            problem = f"not a judgement record ({error.__class__.__name__}: {error})"
        if problem:
            raise ExportError(
                f"{where}: {problem}; expected a seed-set record (text, measure_type, spans)"
            )
        gold.append(
            GoldUnit(
                id=str(row.get("unit_id", number)),
                text=row["text"],
                measure_type=row["measure_type"],
                spans=tuple((s["start"], s["end"], s["label"]) for s in row["spans"]),
                doc_id=row.get("doc_id") or "",
                heading=heading_of(row.get("section_path")),
            )
        )
    if not gold:
        raise ExportError(f"{path}: no annotated units in the gold file")
    return gold


@cache
def _gold_cached(path: str, split: str) -> tuple[GoldUnit, ...]:
    """Units of one split, or of several joined by commas (`train,validation,test`)."""
    dataset = load_export(path)
    return tuple(
        unit
        for name in split.split(",")
        for unit in iter_gold(export_split(dataset, name.strip(), source=path))
    )


def make_example(nlp, unit: GoldUnit, misaligned: Counter | None = None):
    """A spaCy `Example`: cats one-hot, ents and BIO tags from the spans."""
    from spacy.training import Example

    doc = next(unit_docs(nlp, [unit]))
    tags = ["O"] * len(doc)
    entities = []
    for start, end, label in unit.spans:
        span = doc.char_span(start, end, label=label, alignment_mode="strict")
        if span is None or unit.text[start:end] != span.text:
            if misaligned is not None:
                misaligned[label] += 1
            continue
        entities.append((start, end, label))
        tags[span.start] = f"B-{label}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{label}"
    cats = {m: float(m == unit.measure_type) for m in MEASURE_TYPES}
    return Example.from_dict(doc, {"cats": cats, "entities": entities, "tags": tags})


def _register_reader() -> None:
    from spacy.util import registry

    @registry.readers("corpus_tools.ExportCorpus.v1")
    def export_corpus(path: str, split: str) -> Callable:
        def read(nlp) -> Iterator:
            for unit in _gold_cached(str(path), split):
                yield make_example(nlp, unit)

        return read


_register_reader()
