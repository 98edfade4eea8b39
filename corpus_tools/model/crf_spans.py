"""The `crf_spans` component: a linear-chain CRF (CRFsuite) over characters.

It tags the schema's span labels from character n-grams and the rule finders'
spans (`corpus_tools.model.rule_spans`), is fitted when the pipeline is
initialised, and gives per-span marginal probabilities, which the pre-labels
need as scores.
"""

from __future__ import annotations

import hashlib
import json
import operator
import threading
from bisect import bisect_left
from collections.abc import Callable, Iterable
from itertools import repeat
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from corpus_tools.errors import ModelError
from corpus_tools.model.rule_spans import rule_finds, token_chars
from corpus_tools.model.spans import decode_bio, set_spans
from corpus_tools.schema import SPAN_LABELS

SPAN_COMPONENT = "crf_spans"
_add = operator.add


def _prefixed(prefix: str, strings: Iterable[str]) -> list[str]:
    return list(map(_add, repeat(prefix), strings))


def crf_features(text: str, rule_spans: Iterable[list[tuple[int, int]]]) -> list[tuple[str, ...]]:
    """Features of each character: the characters within ±2, the bigrams and
    the trigram around it, and for each span label (`rule_spans`, one list
    per label) the `B`/`I` tag its rule finder gives the character and its
    neighbours, so the CRF learns when a rule is right rather than the rule
    overriding it. Built column by column with `map` and left out where a rule
    says `O` (as accurate, by cross-validation, and far fewer features): this
    runs for every unit pre-labelled."""
    n = len(text)
    if not n:
        return []
    pad = "^^" + text + "$$"
    shifted = {d: pad[2 + d : 2 + d + n] for d in (-2, -1, 0, 1, 2)}
    columns = [_prefixed(f"c{d}=", chars) for d, chars in shifted.items()]
    columns.append(_prefixed("b-1=", map(_add, shifted[-1], shifted[0])))
    columns.append(_prefixed("b0=", map(_add, shifted[0], shifted[1])))
    columns.append(_prefixed("t-1=", map(_add, map(_add, shifted[-1], shifted[0]), shifted[1])))
    rows = list(zip(*columns, strict=True))
    for k, spans in enumerate(rule_spans):
        if not spans:
            continue
        tags = bio_tags(n, [(start, end, "") for start, end in spans])
        for i, tag in enumerate(tags):
            extra = [f"r{k}={tag}"] if tag != "O" else []
            if i and tags[i - 1] != "O":
                extra.append(f"r{k}-1={tags[i - 1]}")
            if i + 1 < n and tags[i + 1] != "O":
                extra.append(f"r{k}+1={tags[i + 1]}")
            if extra:
                rows[i] += tuple(extra)
    return rows


def _seed_libc_rand(seed: int = 0) -> None:
    """Seed the C library's `rand()`, which CRFsuite's l2sgd shuffles the data with;
    unseeded, a second fit in the same process shuffles differently."""
    import contextlib
    import ctypes

    # no C library symbols to reach (not Linux/macOS): fits stay unseeded
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).srand(seed)


def bio_tags(n: int, spans: Iterable[tuple[int, int, str]]) -> list[str]:
    """BIO tags (`B-DEADLINE`, …; `B`/`I` for the label "") of `n` positions
    from `[start, end)` spans; of overlapping spans the first is kept."""
    tags = ["O"] * n
    for start, end, label in spans:
        if end > start and all(t == "O" for t in tags[start:end]):
            suffix = f"-{label}" if label else ""
            tags[start] = "B" + suffix
            tags[start + 1 : end] = ["I" + suffix] * (end - start - 1)
    return tags


class CrfSpans:
    """A linear-chain CRF (CRFsuite) over characters that tags the span labels
    and sets `doc.ents` with per-span scores (the mean marginal probability of
    the span's tags). Fitted when the pipeline is initialised, like
    `char_ngram_cats`; spans shorter than `min_chars` are dropped.

    Why a CRF and not a tagger over a tok2vec: on the 19 train + validation
    notices cut into 6 folds by notice (benchmarks/span_cv.py),
    RESPONSIBLE_BODY F1 0.889 against 0.865 for the tok2vec tagger with the
    rules overriding it, and it fits in seconds."""

    def __init__(
        self,
        name: str,
        *,
        labels: Iterable[str] = SPAN_LABELS,
        c1: float,
        c2: float,
        max_iterations: int,
        min_chars: int,
        rule_features: bool = True,
    ) -> None:
        unknown = set(labels) - set(SPAN_LABELS)
        if unknown:
            raise ValueError(f"{name}: unknown span labels {sorted(unknown)}")
        self.name = name
        self.span_labels = tuple(labels)
        self.c1, self.c2, self.max_iterations = c1, c2, max_iterations
        self.min_chars = min_chars
        self.rule_features = rule_features
        self.model_bytes = b""
        self._tagger = None
        self._tagging = threading.Lock()  # see __call__

    @property
    def labels(self) -> tuple[str, ...]:
        """The BIO tags this component can give."""
        return ("O",) + tuple(f"{p}-{label}" for label in self.span_labels for p in "BI")

    def initialize(self, get_examples: Callable, *, nlp: Language | None = None) -> None:
        self.fit(eg.reference for eg in get_examples())

    def fit(
        self,
        docs: Iterable[Doc],
        *,
        algorithm: str = "lbfgs",
        epochs: int = 0,
        while_training: Callable[[], None] | None = None,
    ) -> None:
        """Fit the CRF on `docs` (their `ents` are the gold spans).

        `train` fits with L-BFGS (`c1`, `c2`, `max_iterations`); the ML
        backend's light retrain passes `l2sgd` with a few `epochs` (stochastic
        gradient descent, L2 `c2` only): test span micro-F1 0.905 after 10
        epochs against 0.908 for L-BFGS on exports/corpus, in a fifth of the time.

        CRFsuite trains without holding the GIL: `while_training` is called in
        this thread while it trains in another (the light retrain fits the
        measure-type regression there); its exception is raised after the CRF ends."""
        import tempfile

        import pycrfsuite

        settings = {
            "lbfgs": {"c1": self.c1, "c2": self.c2, "max_iterations": self.max_iterations},
            "l2sgd": {"c2": self.c2, "max_iterations": epochs or self.max_iterations},
        }
        if algorithm not in settings:
            raise ModelError(
                f"{self.name}: unknown CRF training algorithm {algorithm!r} "
                f"(expected {' or '.join(settings)})"
            )
        trainer = pycrfsuite.Trainer(algorithm=algorithm, verbose=False)
        wanted = set(self.span_labels)
        sequences = 0
        for ref in docs:
            if len(ref):
                spans = [(e.start, e.end, e.label_) for e in ref.ents if e.label_ in wanted]
                trainer.append(self._sequence(ref), bio_tags(len(ref), spans))
                sequences += 1
        if not sequences:  # CRFsuite would fit a model with no labels, which crashes on use
            raise ModelError(f"{self.name}: no training examples with text to fit the span CRF on")
        trainer.set_params({**settings[algorithm], "feature.possible_transitions": True})
        with tempfile.TemporaryDirectory(prefix="corpus-tools-crf-") as tmp:
            path = Path(tmp) / "crf.model"
            failed: list[Exception] = []

            def train() -> None:
                try:
                    trainer.train(str(path))
                except Exception as error:  # CRFsuite's refusals (bad parameters, no memory)
                    failed.append(error)

            if algorithm == "l2sgd":
                _seed_libc_rand()  # l2sgd shuffles with rand(): the same data, the same model
            if while_training is None:
                train()
            else:
                worker = threading.Thread(target=train, name=f"{self.name}-train", daemon=True)
                worker.start()
                try:
                    while_training()
                finally:
                    worker.join()
            if failed:
                raise ModelError(f"{self.name}: cannot fit the span CRF ({failed[0]})") from None
            self._open(path.read_bytes())

    def _open(self, model_bytes: bytes) -> None:
        import pycrfsuite

        tagger = pycrfsuite.Tagger()
        tagger.open_inmemory(model_bytes)
        self.model_bytes, self._tagger = model_bytes, tagger

    def __call__(self, doc: Doc) -> Doc:
        if self._tagger is None or not len(doc):
            return doc
        tagger = self._tagger
        sequence = self._sequence(doc)
        # The tagger keeps the last tagged sequence for `marginal`: two threads tagging
        # at once (the ML backend's /predict and its queue re-scoring) would read each
        # other's marginals.
        with self._tagging:
            tags = tagger.tag(sequence)
            probs = [tagger.marginal(tag, i) if tag != "O" else 0.0 for i, tag in enumerate(tags)]
        spans = decode_bio(doc, tags, probs)
        set_spans(doc, [(s, p) for s, p in spans if len(s.text) >= self.min_chars])
        return doc

    def _sequence(self, doc: Doc) -> list[tuple[str, ...]]:
        """Each token's features. Tokens are characters, but a single space is
        whitespace of the token before, not a token: the features are read
        over the tokens alone, so `应急局 要` looks like `应急局要` to the CRF
        (units from PDFs carry stray spaces), and the rule finders' spans,
        found in the text, are moved to token positions."""
        text = doc.text
        rules = (
            [rule_finds(doc, text, label) for label in self.span_labels]
            if self.rule_features
            else []
        )
        if len(text) == len(doc):
            return crf_features(text, rules)
        starts, tokens = token_chars(doc)
        moved = [
            [(bisect_left(starts, start), bisect_left(starts, end)) for start, end in spans]
            for spans in rules
        ]
        return crf_features(tokens, moved)

    def score(self, examples: Iterable, **kwargs: Any) -> dict[str, Any]:
        from spacy.scorer import get_ner_prf

        return get_ner_prf(examples)

    def to_disk(self, path: Path | str, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "cfg.json").write_text(
            json.dumps(
                {
                    "labels": list(self.span_labels),
                    "min_chars": self.min_chars,
                    "rule_features": self.rule_features,
                    "model_sha256": hashlib.sha256(self.model_bytes).hexdigest(),
                }
            ),
            encoding="utf-8",
        )
        (path / "crf.model").write_bytes(self.model_bytes)

    def from_disk(self, path: Path | str, *, exclude: Iterable[str] = ()) -> CrfSpans:
        path = Path(path)
        cfg = json.loads((path / "cfg.json").read_text(encoding="utf-8"))
        self.span_labels = tuple(cfg["labels"])
        self.min_chars = int(cfg["min_chars"])
        self.rule_features = bool(cfg.get("rule_features", True))
        model_bytes = (path / "crf.model").read_bytes()
        # CRFsuite trusts the bytes it is given: a truncated file crashes the process
        if hashlib.sha256(model_bytes).hexdigest() != cfg.get("model_sha256"):
            raise ModelError(
                f"{path / 'crf.model'}: damaged (its SHA-256 differs from cfg.json's); "
                "retrain the model with `corpus-tools train`"
            )
        self._open(model_bytes)
        return self

    def __getstate__(self) -> dict:
        # the CRFsuite tagger is a C object: pickle the model bytes and reopen
        state = dict(self.__dict__)
        state["_tagger"] = None
        state["_tagging"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._tagging = threading.Lock()
        if self.model_bytes:
            self._open(self.model_bytes)


@Language.factory(
    SPAN_COMPONENT,
    assigns=["doc.ents"],
    default_config={
        "labels": list(SPAN_LABELS),
        "c1": 0.1,
        "c2": 0.05,
        "max_iterations": 200,
        "min_chars": 2,
        "rule_features": True,
    },
    default_score_weights={"ents_f": 0.5, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_crf_spans(
    nlp: Language,
    name: str,
    labels: list[str],
    c1: float,
    c2: float,
    max_iterations: int,
    min_chars: int,
    rule_features: bool,
) -> CrfSpans:
    return CrfSpans(
        name,
        labels=labels,
        c1=c1,
        c2=c2,
        max_iterations=max_iterations,
        min_chars=min_chars,
        rule_features=rule_features,
    )
