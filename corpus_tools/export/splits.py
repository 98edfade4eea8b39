"""Documents assigned to train / validation / test: no notice in two splits."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping

from corpus_tools.errors import ExportError
from corpus_tools.export.records import SplitSizes

# Which split gets a document first when a rare measure type must be spread:
# a type seen in two documents goes to train and test, one in three to all.
_COVERAGE_ORDER: tuple[str, ...] = ("train", "test", "validation")


def assign_splits(
    doc_units: dict[str, int],
    doc_types: dict[str, set[str]],
    *,
    sizes: SplitSizes,
    seed: int,
    keep: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Map each document to one split: deterministic for `seed`.

    `keep` (document → split, from an earlier export) places those documents
    first, where they were, so a corrected label or a new document does not
    reshuffle a published test split; the rest are assigned as below around them.
    First every measure type is spread over the splits (rarest type first,
    train then test then validation) as far as there are documents with it,
    keeping one document back for each split still empty; then the other
    documents, in an order shuffled by `seed`, each go to an empty split
    first, else to the split furthest below its share of units.
    """
    docs = sorted(doc_units)
    random.Random(seed).shuffle(docs)
    rank = {doc: i for i, doc in enumerate(docs)}
    active = sizes.active()
    fractions = sizes.as_dict()
    total = sum(doc_units.values())
    units = dict.fromkeys(active, 0)
    types: dict[str, set[str]] = {s: set() for s in active}
    assigned: dict[str, str] = {}

    def put(doc: str, split: str) -> None:
        assigned[doc] = split
        units[split] += doc_units[doc]
        types[split] |= doc_types[doc]

    def others_empty(split: str) -> int:
        return sum(1 for s in active if s != split and units[s] == 0)

    kept = {doc: keep[doc] for doc in docs if keep and doc in keep}
    dropped = Counter(split for split in kept.values() if split not in units)
    if dropped:
        split, count = dropped.most_common(1)[0]
        raise ExportError(
            f"--keep-splits: {count} documents were in the {split!r} split, which these "
            f"fractions leave out ({', '.join(f'{n} {f:g}' for n, f in fractions.items())}); "
            f"give {split} a fraction above 0, or leave out --keep-splits to re-split"
        )
    for doc, split in kept.items():
        put(doc, split)
    doc_count = Counter(t for d in docs for t in doc_types[d])
    for measure_type in sorted(doc_count, key=lambda t: (doc_count[t], t)):
        for split in (s for s in _COVERAGE_ORDER if s in active):
            if measure_type in types[split]:
                continue
            if len(docs) - len(assigned) - 1 < others_empty(split):
                continue  # the last documents are kept for the splits that have none
            candidates = [d for d in docs if d not in assigned and measure_type in doc_types[d]]
            if not candidates:
                break
            # Small documents for the held-out splits keep their sizes near the target.
            key = (lambda d: rank[d]) if split == "train" else (lambda d: (doc_units[d], rank[d]))
            put(min(candidates, key=key), split)
    order = {s: i for i, s in enumerate(_COVERAGE_ORDER)}
    for doc in docs:
        if doc not in assigned:
            empty = [s for s in active if units[s] == 0]
            if empty:
                put(doc, min(empty, key=order.__getitem__))
            else:
                put(doc, max(active, key=lambda s: fractions[s] * total - units[s]))
    return assigned
