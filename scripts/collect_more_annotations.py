"""Collect the annotators' batches of the more-notices set into data/annotations/more/.

Annotators work on batches of units (JSON Lines, one judgement a unit, span
offsets resolved from span texts and checked: `scripts/annotation_batches.py`).
Their records are re-keyed to the current segmenter output by source file and
exact text; a judgement whose unit text changed is reported, never stretched.
Units whose text also occurs in an external notice are left out: those notices
are for evaluation only. The judgements already collected (earlier rounds) are
kept: a batch only adds judgements of units that have none, so a re-run changes
nothing.

usage: uv run python scripts/collect_more_annotations.py BATCH_DIR [--drop-changed]
writes data/annotations/more/{first_pass,second_pass}.jsonl; appends the batch's
hard calls to hard-calls.md under the round's name (BATCH_DIR's name). A collected
judgement whose unit no longer exists (a segmenter fix changed its text) stops the
run with the list, unless --drop-changed says to let those go.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

from corpus_tools.seed import judgement_problem
from corpus_tools.segment import iter_units
from corpus_tools.sources import evaluation_only

ROOT = Path(__file__).resolve().parent.parent
MORE = ROOT / "data" / "more-notices"
EXTERNAL = ROOT / "data" / "new-notices"
OUT = ROOT / "data" / "annotations" / "more"


def with_closing_qualifier(text: str, span: dict) -> dict:
    """A body whose name ends in a bracketed qualifier (`应急管理厅（局）`, `煤矿企业(煤矿)`).

    The annotators' checking tool refused spans ending in a bracket, so such names
    were cut before it; the guidelines keep a body's whole name with its qualifiers.
    """
    end = span["end"]
    if span["label"] != "RESPONSIBLE_BODY" or end >= len(text) or text[end] not in "（(":
        return span
    close = QUALIFIER.match(text, end)
    if close is None:
        return span
    return {**span, "end": close.end(), "text": text[span["start"] : close.end()]}


QUALIFIER = re.compile(r"[（(][\u4e00-\u9fff、]{1,6}[)）]")


def source_key(doc_id: str) -> str:
    return doc_id.split("#")[0].removesuffix("_pdf")


def main(batch_dir: Path, *, drop_changed: bool = False) -> None:
    units = [u for u in iter_units(sorted(MORE.glob("*.txt"))) if u.kind == "body"]
    in_external = evaluation_only([EXTERNAL])
    # A text can repeat in one document (duty lists by post): its judgements go to
    # its units in reading order.
    by_text: dict[tuple[str, str], list] = {}
    for unit in units:
        by_text.setdefault((source_key(unit.doc_id), unit.text), []).append(unit)
    OUT.mkdir(parents=True, exist_ok=True)
    for pass_name, pattern in (
        ("first_pass", "batch[0-9]*.resolved.jsonl"),
        ("second_pass", "blind*.resolved.jsonl"),
    ):
        placed, unplaced, held_out = [], [], 0
        seen = set()
        queues = {key: list(found) for key, found in by_text.items()}
        collected = OUT / f"{pass_name}.jsonl"
        sources = [collected] if collected.exists() else []
        sources += sorted(batch_dir.glob(pattern))
        already = 0
        # texts judged in an earlier round: a batch record whose own unit is gone
        # (its id went stale) must not fall back onto a repeat of such a text
        judged_texts = {
            (source_key(r["doc_id"]), r["text"])
            for r in map(json.loads, collected.open(encoding="utf-8") if collected.exists() else ())
        }
        for path in sources:
            for line in path.open(encoding="utf-8"):
                record = json.loads(line)
                if record["unit_id"] in seen:
                    continue  # judged already (a re-run, or an earlier round)
                queue = queues.get((source_key(record["doc_id"]), record["text"]), [])
                # its own unit when that still exists, else the next of the same text
                # (a text repeats in a document: duty lists, findings)
                key = (source_key(record["doc_id"]), record["text"])
                unit = next((u for u in queue if u.unit_id == record["unit_id"]), None)
                if unit is None and queue and (path == collected or key not in judged_texts):
                    unit = queue[0]
                if unit is not None:
                    queue.remove(unit)
                if unit is None:
                    unplaced.append(f"{path.name}: {record['unit_id']} {record['text'][:40]}")
                    continue
                if in_external(unit.text):
                    held_out += 1
                    continue
                seen.add(unit.unit_id)
                record = {**record, "unit_id": unit.unit_id, "doc_id": unit.doc_id}
                if path != collected:
                    record["spans"] = [
                        with_closing_qualifier(record["text"], s) for s in record["spans"]
                    ]
                    record["annotator"] = (
                        "annotator_1" if pass_name == "first_pass" else "annotator_2"
                    )
                problem = judgement_problem(record)
                if problem:
                    raise SystemExit(f"{path.name}: {record['unit_id']}: {problem}")
                placed.append(record)
            if path == collected:
                already = len(placed)
        lost = [note for note in unplaced if note.startswith(f"{collected.name}:")]
        if lost and not drop_changed:
            raise SystemExit(
                f"{len(lost)} collected {pass_name} judgements no longer match a unit "
                "(a segmenter change re-cut them):\n  " + "\n  ".join(lost) + "\n"
                "annotate the new units in a batch, then re-run with --drop-changed"
            )
        order = {u.unit_id: i for i, u in enumerate(units)}
        placed.sort(key=lambda r: order[r["unit_id"]])
        with (OUT / f"{pass_name}.jsonl").open("w", encoding="utf-8") as handle:
            for record in placed:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(
            f"{pass_name}: {already} already collected, {len(placed) - already} added, "
            f"{len(unplaced)} whose unit text changed, {held_out} held out (external)"
        )
        for note in unplaced:  # a judgement is never stretched to a changed text
            print(f"  not placed: {note}")
        if pass_name == "first_pass":
            missing = [u for u in units if u.unit_id not in seen and not in_external(u.text)]
            print(f"  {len(missing)} current body units without a first-pass judgement")
            with (batch_dir / "to_annotate.jsonl").open("w", encoding="utf-8") as handle:
                for u in missing:
                    handle.write(
                        json.dumps(
                            {
                                "unit_id": u.unit_id,
                                "doc_id": u.doc_id,
                                "title": u.title,
                                "section_path": list(u.section_path),
                                "item_parenthetical": u.item_parenthetical,
                                "text": u.text,
                                "prev": "",
                                "next": "",
                            },
                            ensure_ascii=False,
                        )
                        + "\n"
                    )
            print(
                "  per genre:",
                dict(
                    Counter(
                        next(x.genre for x in units if x.unit_id == r["unit_id"]) for r in placed
                    )
                ),
            )
    hard_calls = sorted(batch_dir.glob("*-hard-calls.md"))
    notes = OUT / "hard-calls.md"
    written = notes.read_text(encoding="utf-8") if notes.exists() else ""
    with notes.open("a", encoding="utf-8") as handle:
        if not written:
            handle.write(
                "# Hard calls (more-notices set)\n\nWritten down by each annotator while "
                "working: sentence, decision, rule applied.\n"
            )
        for path in hard_calls:
            heading = f"\n## {batch_dir.name}: {path.stem.removesuffix('-hard-calls')}\n\n"
            if heading not in written:  # a re-run adds nothing twice
                handle.write(heading + path.read_text(encoding="utf-8").strip() + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), drop_changed="--drop-changed" in sys.argv[2:])
