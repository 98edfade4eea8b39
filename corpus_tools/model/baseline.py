"""The measure-type baseline that `evaluate` reports beside the model."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from corpus_tools.schema import MEASURE_TYPES


@dataclass(frozen=True)
class BaselinePredictor:
    """A fitted baseline: called on texts it gives their labels; `scored` gives each
    label with its probability, so the baseline's surest share can be scored too."""

    model: Any  # the fitted scikit-learn pipeline; None for a one-class train split
    only: str = ""  # the label of a one-class train split

    def __call__(self, texts: Iterable[str]) -> list[str]:
        return [label for label, _ in self.scored(texts)]

    def scored(self, texts: Iterable[str]) -> list[tuple[str, float]]:
        texts = list(texts)
        if self.model is None:
            return [(self.only, 1.0) for _ in texts]
        if not texts:
            return []
        probabilities = self.model.predict_proba(texts)
        classes = self.model.classes_
        return [
            (str(classes[j]), float(probabilities[i, j]))
            for i, j in enumerate(probabilities.argmax(axis=1))
        ]


def tfidf_baseline(
    train_texts: list[str], train_labels: list[str], *, seed: int = 0
) -> BaselinePredictor:
    """Character 1–3-gram TF-IDF + logistic regression, fitted on the train split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    if len(set(train_labels)) < 2:  # a one-class split: predict that class
        return BaselinePredictor(None, train_labels[0] if train_labels else MEASURE_TYPES[-1])
    model = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1),
        LogisticRegression(max_iter=2000, C=10.0, random_state=seed),
    )
    model.fit(train_texts, train_labels)
    return BaselinePredictor(model)


BASELINE_NAME = "char 1-3-gram TF-IDF + logistic regression (scikit-learn)"
