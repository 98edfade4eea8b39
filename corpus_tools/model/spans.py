"""Spans on a doc: BIO tags to spans, trimming them, and the per-span scores.

`crf_spans` decodes its tags with `decode_bio`; `crf_spans` and `rule_spans`
set `doc.ents` with `set_spans`, which records each span's probability in
`doc.user_data[SCORES_KEY]` under `score_key(...)`; `prediction` reads it back.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

# Where a doc keeps each predicted span's probability: {"start_char:end_char:label": p}.
# String keys, as Doc.to_bytes (and so nlp.pipe with n_process > 1) cannot carry tuple keys.
SCORES_KEY = "corpus_tools.span_scores"
_TRIM = set(" \t\r\n\u3000，。；：、,.;:!?！？")


def decode_bio(doc: Doc, tags: list[str], probs: Iterable[float]) -> list[tuple[Span, float]]:
    """BIO tags → spans (an `I-X` without `B-X` starts a span; trimmed of spaces
    and punctuation), each scored by the mean probability of its tags."""
    probs = list(probs)
    spans: list[tuple[Span, float]] = []
    start, label = None, None

    def close(end: int) -> None:
        if start is None:
            return
        s, e = start, end
        s, e = trim_tokens(doc, s, e)
        if e > s:
            spans.append((Span(doc, s, e, label=label), float(numpy.mean(probs[start:end]))))

    for i, tag in enumerate(tags):
        prefix, _, tag_label = tag.partition("-")
        if prefix == "B" or (prefix == "I" and tag_label != label):
            close(i)
            start, label = i, tag_label
        elif prefix != "I":
            close(i)
            start, label = None, None
    close(len(tags))
    return spans


_OPEN, _CLOSE = "（(〔【[《“", "）)〕】]》”"


def trim_tokens(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """Drop spaces, punctuation and unpaired brackets off both ends (§3: trim)."""
    while True:
        text = doc[start:end].text
        if start < end and _trimmable(doc[start].text):
            start += 1
        elif (
            start < end
            and _trimmable(doc[end - 1].text)
            or start < end
            and doc[end - 1].text in _CLOSE
            and _unpaired(text, _CLOSE, _OPEN)
        ):
            end -= 1
        elif start < end and doc[start].text in _OPEN and _unpaired(text, _OPEN, _CLOSE):
            start += 1
        else:
            return start, end


def _trimmable(token_text: str) -> bool:
    """Spaces or punctuation only (a run of spaces is one token)."""
    return all(ch in _TRIM for ch in token_text)


def _unpaired(text: str, these: str, partners: str) -> bool:
    return sum(text.count(c) for c in these) > sum(text.count(c) for c in partners)


def set_spans(doc: Doc, scored: Iterable[tuple[Span, float]]) -> None:
    """Replace `doc.ents` with non-overlapping spans and record their scores."""
    scored = list(scored)
    kept = filter_spans([span for span, _ in scored])
    score_of = {(s.start, s.end, s.label_): p for s, p in scored}
    doc.ents = kept
    doc.user_data[SCORES_KEY] = {
        score_key(s.start_char, s.end_char, s.label_): score_of[(s.start, s.end, s.label_)]
        for s in kept
    }


def score_key(start_char: int, end_char: int, label: str) -> str:
    """The key of a span's score in `doc.user_data[SCORES_KEY]`."""
    return f"{start_char}:{end_char}:{label}"
