"""What the model says about one text, read off a processed doc."""

from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Doc

from corpus_tools.model.spans import SCORES_KEY, score_key


@dataclass(frozen=True, slots=True)
class Prediction:
    """What the model says about one text."""

    measure_type: str
    measure_type_score: float
    measure_type_top3: tuple[tuple[str, float], ...]
    spans: tuple[tuple[int, int, str, str, float | None], ...]  # start, end, label, text, score


def prediction_of(doc: Doc) -> Prediction:
    """Read a processed doc's textcat scores and spans."""
    ranked = sorted(doc.cats.items(), key=lambda kv: kv[1], reverse=True)
    scores = doc.user_data.get(SCORES_KEY, {})
    spans = tuple(
        (
            e.start_char,
            e.end_char,
            e.label_,
            e.text,
            _round(scores.get(score_key(e.start_char, e.end_char, e.label_))),
        )
        for e in doc.ents
    )
    top = ranked[0] if ranked else ("other", 0.0)
    return Prediction(
        measure_type=top[0],
        measure_type_score=_round(top[1]),
        measure_type_top3=tuple((label, _round(score)) for label, score in ranked[:3]),
        spans=spans,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
