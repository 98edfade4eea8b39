"""Tasks to an in-memory `DatasetDict` with `dataset_features()`, and its report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from corpus_tools.errors import ExportError
from corpus_tools.export.annotator_agreement import agreement
from corpus_tools.export.policies import POLICIES
from corpus_tools.export.reading import _gc_paused
from corpus_tools.export.records import (
    DEFAULT_SEED,
    Export,
    ExportReport,
    Judgement,
    Policy,
    SplitSizes,
    SplitSummary,
    _Tally,
)
from corpus_tools.export.splits import assign_splits
from corpus_tools.export.validation import iter_task_records
from corpus_tools.schema import MEASURE_TYPES, NER_TAGS, SPAN_LABELS, dataset_features

_MEASURE_INDEX = {m: i for i, m in enumerate(MEASURE_TYPES)}
_SPAN_INDEX = {s: i for i, s in enumerate(SPAN_LABELS)}
_NER_INDEX = {t: i for i, t in enumerate(NER_TAGS)}


@_gc_paused()
def build_export(
    tasks: Iterable[dict],
    *,
    policy: Policy = Policy.MAJORITY,
    sizes: SplitSizes | None = None,
    seed: int = DEFAULT_SEED,
    skip_invalid: bool = False,
    source: str = "input",
    keep_splits: Mapping[str, str] | None = None,
) -> Export:
    """Turn Label Studio tasks into a `DatasetDict` with `dataset_features()` and a report;
    documents in `keep_splits` stay in the split given there (`assign_splits`)."""
    import polars as pl
    import pyarrow as pa
    from datasets import Dataset, DatasetDict

    sizes = sizes or SplitSizes()
    policy = Policy(policy)
    tally = _Tally()
    records = list(iter_task_records(tasks, skip_invalid=skip_invalid, tally=tally))
    if tally.tasks == 0:
        raise ExportError(
            f"{source}: the project has no tasks; push units with `corpus-tools push` and annotate them"
        )
    resolve = POLICIES[policy]
    features = dataset_features()
    arrow_schema = features.arrow_schema
    names = [name for name in features if name != "tokens"]  # tokens: polars, below
    columns: dict[str, list] = {name: [] for name in names}
    conflicts = 0
    for record in records:
        chosen = resolve(record.judgements)
        if chosen is None:
            conflicts += 1
            continue
        for name, value in _row(record.data, chosen).items():
            columns[name].append(value)
    if not columns["id"]:
        raise ExportError(
            f"{source}: nothing to export — {tally.tasks} tasks, {tally.without_annotation} without "
            f"annotation, {tally.cancelled} annotations cancelled, {tally.incomplete} incomplete, "
            f"{conflicts} conflicting; annotate some tasks in Label Studio first"
        )

    # pyarrow converts the nested Python lists in C; polars' own constructor is far slower.
    table = pa.table({n: pa.array(columns[n], type=arrow_schema.field(n).type) for n in names})
    frame = pl.from_arrow(table).with_columns(pl.col("text").str.split("").alias("tokens"))
    per_doc = frame.group_by("doc_id").agg(
        pl.len().alias("units"), pl.col("measure_type").unique().alias("types")
    )
    doc_units = dict(zip(per_doc["doc_id"].to_list(), per_doc["units"].to_list(), strict=True))
    doc_types = {
        doc: {MEASURE_TYPES[i] for i in found}
        for doc, found in zip(per_doc["doc_id"].to_list(), per_doc["types"].to_list(), strict=True)
    }
    mapping = assign_splits(doc_units, doc_types, sizes=sizes, seed=seed, keep=keep_splits)
    kept = sum(1 for doc, split in mapping.items() if keep_splits and keep_splits.get(doc) == split)
    frame = frame.with_columns(
        pl.col("doc_id").replace_strict(mapping, return_dtype=pl.String).alias("split")
    ).sort("doc_id", "unit_index", "id")

    columns = list(features)
    dataset = DatasetDict()
    summaries: dict[str, SplitSummary] = {}
    empty: list[str] = []
    for split in sizes.active():
        part = frame.filter(pl.col("split") == split)
        if part.is_empty():
            # Too few documents for this split; an empty split would not load back
            # (`load_from_disk` fails on it), so it is left out and reported.
            empty.append(split)
            continue
        dataset[split] = Dataset.from_polars(part.select(columns), features=features, split=split)
        summaries[split] = _summarise(part, doc_types)

    newly = len(mapping) - kept
    report = ExportReport(
        source=source,
        policy=str(policy),
        # with every split kept, the seed and fractions decided nothing: not claimed
        seed=seed if newly else None,
        split_sizes=sizes.as_dict() if newly else None,
        tasks=tally.tasks,
        annotations=tally.annotations,
        cancelled_annotations=tally.cancelled,
        incomplete_annotations=tally.incomplete,
        tasks_without_annotation=tally.without_annotation,
        tasks_without_usable_annotation=tally.without_usable,
        multi_annotated_tasks=sum(len(r.judgements) > 1 for r in records),
        conflicts_dropped=conflicts,
        invalid_spans=tuple(tally.invalid),
        offsets_converted_from_utf16=tally.utf16,
        units_exported=frame.height,
        documents=len(doc_units),
        splits=summaries,
        agreement=agreement(records),
        empty_splits=tuple(empty),
        documents_kept_in_split=kept,
        documents_newly_assigned=newly,
    )
    return Export(dataset=dataset, report=report)


def _row(data: dict, chosen: Judgement) -> dict:
    text = data["text"]
    tags = [0] * len(text)
    for span in chosen.spans:
        tags[span.start] = _NER_INDEX[f"B-{span.label}"]
        tags[span.start + 1 : span.end] = [_NER_INDEX[f"I-{span.label}"]] * (
            span.end - span.start - 1
        )
    return {
        "id": data["unit_id"],
        "doc_id": data["doc_id"],
        "unit_index": int(data.get("unit_index") or 0),
        "text": text,
        "measure_type": _MEASURE_INDEX[chosen.measure_type],
        "spans": [
            {"start": s.start, "end": s.end, "label": _SPAN_INDEX[s.label], "text": s.text}
            for s in chosen.spans
        ],
        "item_responsible_bodies": list(data.get("item_responsible_bodies") or ()),
        "section_path": list(data.get("section_path") or ()),
        "title": data.get("title") or "",
        "issuer": data.get("issuer") or "",
        "sector": data.get("sector") or "",
        "genre": data.get("genre") or "",
        "doc_number": data.get("doc_number") or "",
        "date": data.get("date"),
        "annotator": chosen.annotator,
        "ner_tags": tags,
    }


def _summarise(part, doc_types: dict[str, set[str]]) -> SplitSummary:
    import polars as pl

    type_counts = dict.fromkeys(MEASURE_TYPES, 0)
    for index, count in part.group_by("measure_type").len().iter_rows():
        type_counts[MEASURE_TYPES[index]] = count
    label_counts = dict.fromkeys(SPAN_LABELS, 0)
    spans = part.select(pl.col("spans").explode().struct.field("label").drop_nulls())
    for index, count in spans.group_by("label").len().iter_rows():
        label_counts[SPAN_LABELS[index]] = count
    everywhere = set().union(*doc_types.values())
    missing = tuple(m for m in MEASURE_TYPES if m in everywhere and not type_counts[m])
    return SplitSummary(
        units=part.height,
        documents=part["doc_id"].n_unique(),
        measure_types=type_counts,
        span_labels=label_counts,
        missing_measure_types=missing,
    )
