"""The Hugging Face dataset card (README.md) of an export."""

from __future__ import annotations

from corpus_tools.export.layout import PARQUET_DIR
from corpus_tools.export.records import DEFAULT_LICENSE, ExportReport
from corpus_tools.schema import (
    MEASURE_TYPE_NAMES_ZH,
    MEASURE_TYPES,
    NER_TAGS,
    SPAN_LABEL_NAMES_ZH,
    SPAN_LABELS,
    dataset_features,
)


def _size_category(n: int) -> str:
    bounds = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ]
    return next((name for bound, name in bounds if n < bound), "1M<n<10M")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _how_split(report: ExportReport) -> str:
    """How documents got their splits: kept from an earlier export, drawn here, or both."""
    drawn = (
        "target fractions "
        + ", ".join(f"{n} {f:g}" for n, f in (report.split_sizes or {}).items())
        + f" of the units, seed {report.seed}; every measure type is placed in each split "
        "where enough documents have it."
    )
    if report.splits_kept_from is None and not report.documents_kept_in_split:
        return drawn[0].upper() + drawn[1:]
    earlier = f"`{report.splits_kept_from}`" if report.splits_kept_from else "an earlier export"
    kept = (
        f"The splits were kept from {earlier} (`--keep-splits`): "
        f"{report.documents_kept_in_split} documents kept the split they had there, "
        f"{report.documents_newly_assigned} were newly assigned"
    )
    # Fractions and seed are named only when they placed a document.
    return kept + (f" around them by {drawn}" if report.documents_newly_assigned else ".")


def dataset_card(dataset, report: ExportReport, *, license: str = DEFAULT_LICENSE) -> str:
    """The Hugging Face dataset card (README.md) text: YAML header and statistics."""
    from datasets import DatasetInfo
    from datasets.info import DatasetInfosDict
    from datasets.splits import SplitDict, SplitInfo
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    splits = SplitDict()
    for name, part in dataset.items():
        splits.add(SplitInfo(name=name, num_bytes=part.data.nbytes, num_examples=part.num_rows))
    card = DatasetCardData(
        language=["zh"],
        license=license,
        pretty_name="Work-safety notice measures (zh)",
        task_categories=["text-classification", "token-classification"],
        task_ids=["multi-class-classification", "named-entity-recognition"],
        annotations_creators=["expert-generated"],
        language_creators=["found"],
        multilinguality=["monolingual"],
        source_datasets=["original"],
        size_categories=[_size_category(report.units_exported)],
    )
    DatasetInfosDict(
        {"default": DatasetInfo(features=dataset_features(), splits=splits)}
    ).to_dataset_card_data(card)
    MetadataConfigs(
        {
            "default": {
                "data_files": [
                    {"split": name, "path": f"{PARQUET_DIR}/{name}.parquet"} for name in dataset
                ]
            }
        }
    ).to_dataset_card_data(card)

    names = list(report.splits)
    lines = [
        "---",
        card.to_yaml(),
        "---",
        "",
        "# Work-safety notice measures (Chinese)",
        "",
        "Sentence units of Chinese government work-safety notices (安全生产通知), each "
        "labelled with the primary **measure type** it orders and with character spans for "
        "**responsible bodies**, **deadlines** and **frequencies**, following the project's "
        "`annotation-guidelines.md`. Made with `corpus-tools export`.",
        "",
        "## Splits",
        "",
        "| split | units | documents |",
        "|---|---:|---:|",
        *[f"| {n} | {s.units} | {s.documents} |" for n, s in report.splits.items()],
        "",
        "Splits are by document (`doc_id`): no notice is in two splits. " + _how_split(report),
        "",
        "## Measure types",
        "",
        "| id | 中文 | " + " | ".join(names) + " |",
        "|---|---|" + "---:|" * len(names),
        *[
            f"| `{m}` | {MEASURE_TYPE_NAMES_ZH[m]} | "
            + " | ".join(str(report.splits[n].measure_types[m]) for n in names)
            + " |"
            for m in MEASURE_TYPES
        ],
        "",
        "## Span labels",
        "",
        "| label | 中文 | " + " | ".join(names) + " |",
        "|---|---|" + "---:|" * len(names),
        *[
            f"| `{s}` | {SPAN_LABEL_NAMES_ZH[s]} | "
            + " | ".join(str(report.splits[n].span_labels[s]) for n in names)
            + " |"
            for s in SPAN_LABELS
        ],
        "",
        "## Agreement",
        "",
    ]
    a = report.agreement
    if a.units:
        lines += [
            f"{a.units} units were annotated by two or more annotators ({a.pairs} annotator pairs).",
            "",
            f"- measure type: observed agreement {_fmt(a.measure_type_observed)}, "
            f"Cohen's κ {_fmt(a.measure_type_kappa)}",
            f"- spans, exact match of start, end and label: F1 {_fmt(a.span_f1_micro)} overall; "
            + ", ".join(f"{label} {_fmt(f1)}" for label, f1 in a.span_f1.items()),
        ]
    else:
        # True of these rows only: a blind second pass kept out of the data may exist.
        lines.append(
            "No unit of this export carries two annotations, so it measures no agreement "
            "itself. Where agreement was measured on a separate second pass, kept out of this "
            "data, the project README reports it."
        )
    notes = report.notes() or ["nothing was left out"]
    lines += [
        "",
        "## How the data was made",
        "",
        "Notices were cleaned and cut into sentence units by `corpus-tools segment`, pushed to "
        "Label Studio by `corpus-tools push` and annotated there; the Label Studio JSON "
        f"export `{report.source}` was turned into this dataset by `corpus-tools export` with "
        f"the `{report.policy}` policy for units with several annotations (latest annotation per "
        "annotator; majority: measure type by vote, a span kept when more than half marked "
        "it, ties to the latest annotation).",
        "",
        f"- {report.tasks} tasks, {report.annotations} annotations, "
        f"{report.multi_annotated_tasks} tasks with several annotators, "
        f"{report.units_exported} units exported from {report.documents} documents",
        *[f"- {note}" for note in notes],
        "",
        "Annotators are identified by their Label Studio user id (several ids joined by "
        "commas when annotations were merged); no e-mail or name is kept.",
        "",
        "## Features",
        "",
        "- `id`: the unit id `doc_id:unit_index:sha1(text)[:8]`; `doc_id`, `unit_index`",
        "- `text`: the unit text as in the source",
        "- `measure_type`: `ClassLabel` of the 10 measure-type ids",
        "- `spans`: list of `{start, end, label, text}`, `[start, end)` in code points of `text`, "
        "`label` a `ClassLabel` of the 3 span labels",
        "- `item_responsible_bodies`, `section_path`, `title`, `issuer`, `doc_number`, "
        "`date` (ISO or null): document and structure metadata",
        "- `sector` (the lead system of a sector sub-plan, else the issuer's own field) and "
        "`genre` (年度工作通知, 实施方案, 部门规章, 责任制, …): group by these, or by `issuer`, "
        "to score a model on issuers and sectors it has not seen",
        "- `annotator`: Label Studio user id(s)",
        "- `tokens`: the characters of `text`, one per token; `ner_tags`: BIO tags per character "
        f"({', '.join(NER_TAGS)})",
        "",
        "## Use",
        "",
        "```python",
        "import datasets",
        "",
        'ds = datasets.load_from_disk("dataset")  # or:',
        "ds = datasets.load_dataset(",
        '    "parquet",',
        "    data_files={",
        *(f'        "{n}": "data/{n}.parquet",' for n in names),
        "    },",
        ")",
        "```",
        "",
        "## License",
        "",
        f"The annotations are released under `{license}`. The source texts are official "
        "documents of state organs, which the Copyright Law of the PRC (art. 5) leaves out "
        "of copyright protection.",
        "",
    ]
    return "\n".join(lines)
