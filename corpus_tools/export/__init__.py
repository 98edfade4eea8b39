"""Label Studio annotations to a Hugging Face `DatasetDict` (the `export` stage).

Flow: Label Studio JSON -> validated `Judgement`s per task (generator) ->
one resolved annotation per unit (policy) -> polars frame -> splits by
document -> `DatasetDict` with `schema.dataset_features()` -> written as
`save_to_disk` output, Parquet files and a Hugging Face dataset card.

Output layout of `export_annotations(..., out_dir)`:

    out_dir/README.md            dataset card (YAML header + statistics)
    out_dir/data/{split}.parquet one Parquet file per split (HF features in its metadata)
    out_dir/dataset/             `DatasetDict.save_to_disk` output
    out_dir/export-report.json   the `ExportReport` as JSON

Nothing is dropped silently: cancelled and incomplete annotations, tasks
without annotation, conflicts left out and invalid spans are counted in the
`ExportReport` (and the card). A span whose `text[start:end]` does not match
its text is an error unless `skip_invalid=True`.

One job a file, in flow order:

- `records`: `Policy`, `SplitSizes`, `Judgement`, `ExportReport`, …; `layout`: file names
- `reading`: a Label Studio JSON export file, or a project pulled from the server
- `validation`: tasks and annotations checked, spans' offsets against their text
- `policies`: several annotations of a unit → one; `annotator_agreement`: kappa, span F1
- `splits`: documents to train / validation / test; `build`: the `DatasetDict` and report
- `writing`: the export directory; `card`: its README.md; `verify`: loaded back and checked
- `pipeline`: the whole stage (`export_annotations`)
"""

from corpus_tools.export.annotator_agreement import agreement, cohen_kappa
from corpus_tools.export.build import build_export
from corpus_tools.export.card import dataset_card
from corpus_tools.export.layout import CARD_FILE, DATASET_DIR, PARQUET_DIR, REPORT_FILE
from corpus_tools.export.pipeline import export_annotations
from corpus_tools.export.policies import (
    POLICIES,
    resolve_drop_conflicts,
    resolve_latest,
    resolve_majority,
)
from corpus_tools.export.reading import (
    check_label_studio_tasks,
    previous_splits,
    pull_project_tasks,
    read_label_studio_json,
)
from corpus_tools.export.records import (
    DEFAULT_LICENSE,
    DEFAULT_SEED,
    SPLITS,
    Agreement,
    Export,
    ExportReport,
    InvalidSpan,
    Judgement,
    Policy,
    SplitSizes,
    SplitSummary,
    TaskRecord,
)
from corpus_tools.export.splits import assign_splits
from corpus_tools.export.validation import iter_task_records
from corpus_tools.export.verify import verify_export
from corpus_tools.export.writing import write_export

__all__ = [
    "CARD_FILE",
    "DATASET_DIR",
    "DEFAULT_LICENSE",
    "DEFAULT_SEED",
    "PARQUET_DIR",
    "POLICIES",
    "REPORT_FILE",
    "SPLITS",
    "Agreement",
    "Export",
    "ExportReport",
    "InvalidSpan",
    "Judgement",
    "Policy",
    "SplitSizes",
    "SplitSummary",
    "TaskRecord",
    "agreement",
    "assign_splits",
    "build_export",
    "check_label_studio_tasks",
    "cohen_kappa",
    "dataset_card",
    "export_annotations",
    "iter_task_records",
    "previous_splits",
    "pull_project_tasks",
    "read_label_studio_json",
    "resolve_drop_conflicts",
    "resolve_latest",
    "resolve_majority",
    "verify_export",
    "write_export",
]
