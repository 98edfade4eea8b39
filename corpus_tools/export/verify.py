"""An export directory loaded back both ways and checked."""

from __future__ import annotations

from pathlib import Path

from corpus_tools.errors import ExportError
from corpus_tools.export.layout import DATASET_DIR, PARQUET_DIR
from corpus_tools.export.writing import _quiet_datasets
from corpus_tools.schema import dataset_features


def verify_export(out_dir: Path) -> dict[str, int]:
    """Check an export directory; return the rows per split or raise ExportError.

    Loads it with `datasets.load_from_disk` and with `load_dataset("parquet")`,
    and checks: the declared features, equal rows both ways, every span's
    `text[start:end]`, tokens and BIO tags aligned with the text, no document
    in two splits.
    """
    import datasets

    out_dir = Path(out_dir)
    features = dataset_features()
    try:
        with _quiet_datasets():
            from_disk = datasets.load_from_disk(str(out_dir / DATASET_DIR))
            files = {s: str(out_dir / PARQUET_DIR / f"{s}.parquet") for s in from_disk}
            from_parquet = datasets.load_dataset("parquet", data_files=files)
    except (FileNotFoundError, ValueError) as error:
        raise ExportError(
            f"{out_dir}: not a readable export ({error}); re-run `corpus-tools export`"
        ) from None
    seen: dict[str, str] = {}
    for name, split in from_disk.items():
        for loaded in (split, from_parquet[name]):
            if loaded.features != features:
                raise ExportError(f"{out_dir}: split {name} does not have the schema's features")
        if from_parquet[name].num_rows != split.num_rows:
            raise ExportError(f"{out_dir}: split {name} has different rows in Arrow and Parquet")
        for row in split:
            if row["tokens"] != list(row["text"]) or len(row["ner_tags"]) != len(row["text"]):
                raise ExportError(f"{out_dir}: unit {row['id']}: tokens do not match its text")
            for span in row["spans"]:
                if row["text"][span["start"] : span["end"]] != span["text"]:
                    raise ExportError(f"{out_dir}: unit {row['id']}: span {span} does not match")
            other = seen.setdefault(row["doc_id"], name)
            if other != name:
                raise ExportError(f"{out_dir}: document {row['doc_id']} is in {other} and {name}")
    return {name: split.num_rows for name, split in from_disk.items()}
