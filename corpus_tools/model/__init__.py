"""The pre-labeling model: its spaCy components, loading, training and evaluation.

Importing this package (or any module in it) registers the custom components,
so `spacy.load(MODEL_DIR)` works once it is imported — and, through the
`spacy_factories` entry points, in any process where corpus-tools is installed.

The pipeline (`corpus_tools/configs/train.cfg`): `textcat`, then

- `char_ngram_cats.py` — the measure type from character n-gram TF-IDF +
  class-weighted linear SVMs (or a logistic regression), mixed with
  `textcat`'s probabilities;
- `crf_spans.py` — a linear-chain CRF (CRFsuite) over characters that tags the
  span labels and scores each span;
- `rule_spans.py` — the rule finders for `DEADLINE`/`FREQUENCY`/
  `RESPONSIBLE_BODY`, and the component that lets them replace or complement
  the learned spans per label;

with their helpers in `spans.py` (BIO decoding, trimming, per-span scores),
`loading.py` (`load_model`, label checks, `model_info`) and `prediction.py`
(`Prediction`, read off a processed doc).

Training and evaluation: `gold.py` (reading exports and gold files into
examples), `training.py` (`train_model`, the mix and rule choices made on the
validation split), `scores.py`, `baseline.py` (the TF-IDF baseline) and
`evaluation.py` (`evaluate_model`). These are imported on first use of their
names here, so loading a model does not import them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from corpus_tools.model.char_ngram_cats import NGRAM_COMPONENT, CharNgramCats
from corpus_tools.model.crf_spans import SPAN_COMPONENT, CrfSpans, bio_tags, crf_features
from corpus_tools.model.loading import (
    TEXTCAT_COMPONENT,
    ModelInfo,
    check_labels,
    load_model,
    model_info,
    read_meta,
)
from corpus_tools.model.prediction import Prediction, prediction_of
from corpus_tools.model.rule_spans import (
    RULE_FINDERS,
    RULES_KEY,
    RuleSpans,
    find_parenthetical_bodies,
    find_rule_bodies,
    rule_finds,
)
from corpus_tools.model.spans import SCORES_KEY, decode_bio, score_key, set_spans, trim_tokens

if TYPE_CHECKING:
    from corpus_tools.model.baseline import BASELINE_NAME, tfidf_baseline
    from corpus_tools.model.cross_validation import (
        CrossValidationResult,
        FoldProgress,
        GroupBy,
        cross_validate,
        cross_validate_export,
    )
    from corpus_tools.model.evaluation import EvaluationResult, evaluate_model
    from corpus_tools.model.gold import (
        GoldUnit,
        export_split,
        iter_gold,
        load_export,
        make_example,
        read_gold_file,
    )
    from corpus_tools.model.scores import (
        PRF,
        ClassificationScores,
        CoveragePoint,
        SpanScores,
        accuracy_at_coverage,
        classification_scores,
        span_scores,
    )
    from corpus_tools.model.training import (
        DEFAULT_CONFIG,
        RuleChoice,
        TrainProgress,
        TrainResult,
        choose_mix,
        choose_rules,
        parse_overrides,
        pick_rule_option,
        train_model,
    )

# name → the module (of this package) that holds it, imported on first use
_LAZY = {
    "CrossValidationResult": "cross_validation",
    "FoldProgress": "cross_validation",
    "GroupBy": "cross_validation",
    "cross_validate": "cross_validation",
    "cross_validate_export": "cross_validation",
    "BASELINE_NAME": "baseline",
    "tfidf_baseline": "baseline",
    "EvaluationResult": "evaluation",
    "evaluate_model": "evaluation",
    "GoldUnit": "gold",
    "export_split": "gold",
    "iter_gold": "gold",
    "load_export": "gold",
    "make_example": "gold",
    "read_gold_file": "gold",
    "PRF": "scores",
    "ClassificationScores": "scores",
    "CoveragePoint": "scores",
    "SpanScores": "scores",
    "accuracy_at_coverage": "scores",
    "classification_scores": "scores",
    "span_scores": "scores",
    "DEFAULT_CONFIG": "training",
    "RuleChoice": "training",
    "TrainProgress": "training",
    "TrainResult": "training",
    "choose_mix": "training",
    "choose_rules": "training",
    "parse_overrides": "training",
    "pick_rule_option": "training",
    "train_model": "training",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "CrossValidationResult",
    "FoldProgress",
    "GroupBy",
    "cross_validate",
    "cross_validate_export",
    "BASELINE_NAME",
    "DEFAULT_CONFIG",
    "NGRAM_COMPONENT",
    "PRF",
    "RULES_KEY",
    "RULE_FINDERS",
    "SCORES_KEY",
    "SPAN_COMPONENT",
    "TEXTCAT_COMPONENT",
    "CharNgramCats",
    "ClassificationScores",
    "CoveragePoint",
    "CrfSpans",
    "EvaluationResult",
    "GoldUnit",
    "ModelInfo",
    "Prediction",
    "RuleChoice",
    "RuleSpans",
    "SpanScores",
    "TrainProgress",
    "TrainResult",
    "accuracy_at_coverage",
    "bio_tags",
    "check_labels",
    "choose_mix",
    "choose_rules",
    "classification_scores",
    "crf_features",
    "decode_bio",
    "evaluate_model",
    "export_split",
    "find_parenthetical_bodies",
    "find_rule_bodies",
    "iter_gold",
    "load_export",
    "load_model",
    "make_example",
    "model_info",
    "parse_overrides",
    "pick_rule_option",
    "prediction_of",
    "read_gold_file",
    "read_meta",
    "rule_finds",
    "score_key",
    "set_spans",
    "span_scores",
    "tfidf_baseline",
    "train_model",
    "trim_tokens",
]
