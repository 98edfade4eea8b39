"""Write a set's final judgements: its pass with a consistency review's decisions in place.

usage: uv run python scripts/merge_review.py PASS.jsonl REVIEW.jsonl > FINAL.jsonl
(`corpus_tools.seed.apply_review`; the store script builds the more set's final set so).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from corpus_tools.errors import CorpusToolsError
from corpus_tools.seed import apply_review


def read_jsonl(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def main(pass_file: Path, review_file: Path) -> None:
    try:
        final = apply_review(
            read_jsonl(pass_file), read_jsonl(review_file), source=str(review_file)
        )
    except CorpusToolsError as error:
        raise SystemExit(f"error: {error}") from None
    for record in final:
        print(json.dumps(record, ensure_ascii=False))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
