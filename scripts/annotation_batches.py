"""The annotators' batch tool for a new round of `data/more-notices/` documents.

    uv run python scripts/annotation_batches.py make BATCH_DIR FILE... [--size 30]
        writes BATCH_DIR/units-NN.jsonl: the body units of FILE… that have no
        judgement yet in data/annotations/more/first_pass.jsonl, whole documents
        together, each unit with its title, section path, closing parenthetical and
        the units before and after it (context for the annotator, never labelled);
        an unreadable file is reported by name and the rest go on
    uv run python scripts/annotation_batches.py resolve IN.jsonl OUT.resolved.jsonl
        turns an annotator's records (`unit_id`, `doc_id`, `text`, `measure_type`,
        `spans` as `{"label", "text"}`, optionally `"nth"` for a repeated string)
        into `[start, end)` code-point offsets and refuses any span not found,
        untrimmed or overlapping, and any label id the schema does not have

Annotators write span texts, never offsets: the tool finds them, so an offset
cannot be off by one. Name the resolved files `batchNN.resolved.jsonl` (first
pass) and `blindNN.resolved.jsonl` (blind second pass), and hard calls
`batchNN-hard-calls.md`: `scripts/collect_more_annotations.py BATCH_DIR` reads those
and merges them into data/annotations/more/.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

from corpus_tools.errors import InputFileError
from corpus_tools.schema import Unit
from corpus_tools.seed import judgement_problem
from corpus_tools.segment import iter_units
from corpus_tools.sources import evaluation_only

ROOT = Path(__file__).resolve().parent.parent
JUDGED = ROOT / "data" / "annotations" / "more" / "first_pass.jsonl"
EXTERNAL = ROOT / "data" / "new-notices"
# a span's ends carry no space or punctuation; a bracket may close a name whose
# qualifier it opened (`应急管理厅（局）`), so brackets are checked for balance instead
_TRIM = " \u3000\t\n、，。；：,.;:！？!?《》“”\"'"
_BRACKETS = {"（": "）", "(": ")"}


def make(batch_dir: Path, files: list[Path], size: int) -> None:
    judged = {json.loads(line)["unit_id"] for line in JUDGED.open(encoding="utf-8")}
    in_external = evaluation_only([EXTERNAL])
    units = []
    for unit in iter_units(files):
        if isinstance(unit, InputFileError):
            print(f"skipped: {unit}")
            continue
        units.append(unit)
    batch, number = [], 1
    batch_dir.mkdir(parents=True, exist_ok=True)
    for doc_units in _by_document(units):
        for index, unit in enumerate(doc_units):
            if unit.kind != "body" or unit.unit_id in judged or in_external(unit.text):
                continue
            before = doc_units[index - 1].text if index else ""
            after = doc_units[index + 1].text if index + 1 < len(doc_units) else ""
            batch.append(
                {
                    "unit_id": unit.unit_id,
                    "doc_id": unit.doc_id,
                    "title": unit.title,
                    "genre": unit.genre,
                    "section_path": list(unit.section_path),
                    "item_parenthetical": unit.item_parenthetical,
                    "prev": before,
                    "text": unit.text,
                    "next": after,
                }
            )
        if len(batch) >= size:
            _write(batch_dir / f"units-{number:02d}.jsonl", batch)
            batch, number = [], number + 1
    if batch:
        _write(batch_dir / f"units-{number:02d}.jsonl", batch)


def _by_document(units: list[Unit]) -> Iterable[list[Unit]]:
    documents: dict[str, list[Unit]] = {}
    for unit in units:
        documents.setdefault(unit.doc_id, []).append(unit)
    return documents.values()


def _write(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"{path}: {len(records)} units")


def resolve_record(record: dict) -> dict:
    """The record with each span's offsets found in its text; ValueError says what is
    wrong (ids and overlaps as `corpus_tools.seed.judgement_problem` checks every
    collected judgement)."""
    text = record["text"]
    spans, taken = [], []
    for span in record.get("spans", []):
        label, wanted = span["label"], span["text"]
        if not wanted or wanted != wanted.strip(_TRIM) or not _balanced(wanted):
            raise ValueError(
                f"span {wanted!r} is empty, carries spaces/punctuation at an end "
                "or an unpaired bracket"
            )
        starts = [i for i in range(len(text)) if text.startswith(wanted, i)]
        if not starts:
            raise ValueError(f"span {wanted!r} is not in the text")
        nth = span.get("nth")
        if nth is not None and not 0 <= nth < len(starts):
            raise ValueError(f"nth {nth}, but {wanted!r} occurs {len(starts)} time(s)")
        free = [s for s in starts if not any(s < e and s + len(wanted) > b for b, e in taken)]
        start = starts[nth] if nth is not None else (free[0] if free else starts[0])
        end = start + len(wanted)
        taken.append((start, end))
        spans.append({"start": start, "end": end, "label": label, "text": wanted})
    spans.sort(key=lambda s: s["start"])
    resolved = {
        "unit_id": record["unit_id"],
        "doc_id": record["doc_id"],
        "text": text,
        "measure_type": record.get("measure_type"),
        "spans": spans,
    }
    problem = judgement_problem(resolved)
    if problem:
        raise ValueError(problem)
    return resolved


def _balanced(text: str) -> bool:
    depth = {opener: 0 for opener in _BRACKETS}
    for char in text:
        for opener, closer in _BRACKETS.items():
            depth[opener] += (char == opener) - (char == closer)
            if depth[opener] < 0:
                return False
    return not any(depth.values())


def resolve(source: Path, target: Path) -> None:
    out, problems = [], []
    for number, line in enumerate(source.open(encoding="utf-8"), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        try:
            out.append(resolve_record(record))
        except (ValueError, KeyError) as error:
            problems.append(f"{source.name}:{number} {record.get('unit_id')}: {error}")
    if problems:
        raise SystemExit("\n".join(problems))
    _write(target, out)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "make":
        size = 30
        if "--size" in args:
            at = args.index("--size")
            size = int(args[at + 1])
            del args[at : at + 2]
        make(Path(args[0]), [Path(a) for a in args[1:]], size)
    elif command == "resolve":
        resolve(Path(args[0]), Path(args[1]))
    else:
        raise SystemExit(__doc__)
