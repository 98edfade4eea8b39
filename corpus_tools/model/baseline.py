"""The measure-type baseline that `evaluate` reports beside the model."""

from __future__ import annotations

from corpus_tools.schema import MEASURE_TYPES


def tfidf_baseline(train_texts: list[str], train_labels: list[str], *, seed: int = 0):
    """Character 1–3-gram TF-IDF + logistic regression, fitted on the train split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1),
        LogisticRegression(max_iter=2000, C=10.0, random_state=seed),
    )
    if len(set(train_labels)) < 2:  # a one-class split: predict that class
        only = train_labels[0] if train_labels else MEASURE_TYPES[-1]
        return lambda texts: [only for _ in texts]
    model.fit(train_texts, train_labels)
    return lambda texts: list(model.predict(list(texts)))


BASELINE_NAME = "char 1-3-gram TF-IDF + logistic regression (scikit-learn)"
