"""Where `write_export` puts things in an export directory.

out_dir/README.md            dataset card (YAML header + statistics)
out_dir/data/{split}.parquet one Parquet file per split (HF features in its metadata)
out_dir/dataset/             `DatasetDict.save_to_disk` output
out_dir/export-report.json   the `ExportReport` as JSON
"""

REPORT_FILE = "export-report.json"
CARD_FILE = "README.md"
DATASET_DIR = "dataset"
PARQUET_DIR = "data"
