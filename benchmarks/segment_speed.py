"""Segmentation throughput on the sample corpus, beside pySBD (zh) and spaCy's
sentencizer on the same text, measured in one run on one core.

    uv run python benchmarks/segment_speed.py [--repeat 5]

Prints Mchar/s (million characters of source text per second, best of N runs).
Baselines only split sentences; this segmenter also cleans, splits documents,
extracts metadata and builds section paths, so the comparison is conservative.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import time
from pathlib import Path

from corpus_tools import segment
from corpus_tools.ingest import read_source
from corpus_tools.segment import document_units, segment_text

# The caches of every stage module (`segment` is a package): cleared per run.
CACHED = list(
    {
        id(f): f
        for module in pkgutil.iter_modules(segment.__path__, f"{segment.__name__}.")
        for f in vars(importlib.import_module(module.name)).values()
        if hasattr(f, "cache_clear")
    }.values()
)

CORPUS = Path(__file__).resolve().parent.parent / "data" / "notices"


def best_of(repeat: int, run) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sources = [read_source(path) for path in sorted(CORPUS.glob("*.txt"))]
    texts = [(source.path.stem, source.text) for source in sources]
    chars = sum(len(text) for _, text in texts)

    def ours() -> None:
        # Cold caches every run: the line-role cache would otherwise flatter repeats.
        for cached in CACHED:
            cached.cache_clear()
        for stem, text in texts:
            for document in segment_text(text, stem=stem):
                document_units(document)

    import pysbd
    import spacy

    sbd = pysbd.Segmenter(language="zh", clean=False)
    nlp = spacy.blank("zh")
    nlp.add_pipe("sentencizer", config={"punct_chars": ["。", "！", "？", "；", "!", "?", ";"]})
    nlp.max_length = 10_000_000

    def pysbd_zh() -> None:
        for _, text in texts:
            sbd.segment(text)

    def spacy_sentencizer() -> None:
        for _, text in texts:
            list(nlp(text).sents)

    rows = [
        ("corpus-tools segment (clean + split + units)", best_of(args.repeat, ours)),
        ("pySBD zh (baseline)", best_of(max(1, args.repeat // 5), pysbd_zh)),
        (
            "spaCy blank zh + sentencizer (baseline)",
            best_of(max(1, args.repeat // 5), spacy_sentencizer),
        ),
    ]
    print(f"sample corpus: {len(texts)} files, {chars:,} characters")
    ours_rate = chars / rows[0][1] / 1e6
    for name, seconds in rows:
        rate = chars / seconds / 1e6
        print(
            f"{name:48s} {seconds * 1000:9.1f} ms  {rate:7.2f} Mchar/s  ({ours_rate / rate:5.1f}x slower than ours)"
            if name.startswith(("pySBD", "spaCy"))
            else f"{name:48s} {seconds * 1000:9.1f} ms  {rate:7.2f} Mchar/s"
        )
    print("targets: >= 5 Mchar/s on one core, >= 10x pySBD")


if __name__ == "__main__":
    main()
