"""The pre-labeling model's spaCy parts: custom components, loading, reading predictions.

Importing this module registers the components, so `spacy.load(MODEL_DIR)`
works once it is imported (and, through the `spacy_factories` entry points,
in any process where corpus-tools is installed).

- `bio_spans`: a tagger over the shared tok2vec whose tags are the schema's
  BIO tags (`B-DEADLINE`, `I-DEADLINE`, …). A softmax per character is far
  cheaper than the transition-based `ner` (≈2× the throughput here) and
  gives per-span probabilities, which the pre-labels need as scores.
- `char_ngram_cats`: character n-gram TF-IDF + class-weighted logistic
  regression for the measure type, fitted when the pipeline is initialised
  and stored as plain arrays in the model directory; its probabilities are
  mixed with `textcat`'s (the mix weight is chosen on the validation split).
- `rule_spans`: regex finders for `DEADLINE`/`FREQUENCY` and the bodies of a
  responsibility parenthetical; per label, rules replace or complement the
  learned spans — which labels is a config choice made on the validation split.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy
from spacy.language import Language
from spacy.pipeline.tagger import Tagger
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from corpus_tools.bodies import find_subject_bodies
from corpus_tools.deadlines import find_deadlines, find_frequencies
from corpus_tools.errors import ModelError
from corpus_tools.schema import MEASURE_TYPES, NER_TAGS, SPAN_LABELS, SpanLabel
from corpus_tools.segment import strip_item_marker

# Where a doc keeps each predicted span's probability: {(start_char, end_char, label): p}.
SCORES_KEY = "corpus_tools.span_scores"
SPAN_COMPONENT = "bio_spans"
TEXTCAT_COMPONENT = "textcat"
_TRIM = set(" \t\r\n\u3000，。；：、,.;:!?！？")


# ---------------------------------------------------------------- bio_spans


class BioSpanTagger(Tagger):
    """A tagger whose labels are BIO tags; sets `doc.ents` with span scores.
    Spans shorter than `min_chars` are dropped (stray single characters such
    as `各` or `部` cut out of a longer name; no annotated span is that short)."""

    min_chars: int = 1

    def predict(self, docs: Iterable[Doc]) -> list:
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            return [self.model.ops.alloc2f(0, len(self.labels)) for _ in docs]
        return list(self.model.predict(docs))

    def set_annotations(self, docs: Iterable[Doc], batch_scores: list) -> None:
        labels = self.labels
        for doc, scores in zip(docs, batch_scores, strict=True):
            probs = numpy.asarray(scores.get() if hasattr(scores, "get") else scores)
            if len(probs) and not numpy.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
                probs = _softmax(probs)  # an unnormalised output layer
            ids = probs.argmax(axis=1) if len(probs) else []
            spans = decode_bio(
                doc, [labels[i] for i in ids], probs.max(axis=1) if len(probs) else []
            )
            set_spans(doc, [(s, p) for s, p in spans if len(s.text) >= self.min_chars])


def _softmax(x: numpy.ndarray) -> numpy.ndarray:
    e = numpy.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


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
        if start < end and doc[start].text in _TRIM:
            start += 1
        elif (
            start < end
            and doc[end - 1].text in _TRIM
            or start < end
            and doc[end - 1].text in _CLOSE
            and _unpaired(text, _CLOSE, _OPEN)
        ):
            end -= 1
        elif start < end and doc[start].text in _OPEN and _unpaired(text, _OPEN, _CLOSE):
            start += 1
        else:
            return start, end


def _unpaired(text: str, these: str, partners: str) -> bool:
    return sum(text.count(c) for c in these) > sum(text.count(c) for c in partners)


def set_spans(doc: Doc, scored: Iterable[tuple[Span, float]]) -> None:
    """Replace `doc.ents` with non-overlapping spans and record their scores."""
    scored = list(scored)
    kept = filter_spans([span for span, _ in scored])
    score_of = {(s.start, s.end, s.label_): p for s, p in scored}
    doc.ents = kept
    doc.user_data[SCORES_KEY] = {
        (s.start_char, s.end_char, s.label_): score_of[(s.start, s.end, s.label_)] for s in kept
    }


@Language.factory(
    SPAN_COMPONENT,
    assigns=["doc.ents"],
    default_config={
        "model": None,
        "overwrite": True,
        "scorer": {"@scorers": "spacy.ner_scorer.v1"},
        "neg_prefix": "!",
        "label_smoothing": 0.0,
        "min_chars": 1,
    },
    default_score_weights={"ents_f": 0.5, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_bio_spans(
    nlp: Language,
    name: str,
    model: Any,
    overwrite: bool,
    scorer: Callable | None,
    neg_prefix: str,
    label_smoothing: float,
    min_chars: int,
) -> BioSpanTagger:
    tagger = BioSpanTagger(
        nlp.vocab,
        model,
        name=name,
        overwrite=overwrite,
        scorer=scorer,
        neg_prefix=neg_prefix,
        label_smoothing=label_smoothing,
    )
    tagger.min_chars = min_chars
    return tagger


# ---------------------------------------------------------------- char_ngram_cats

NGRAM_COMPONENT = "char_ngram_cats"
_WHITE = re.compile(r"\s\s+")


def char_ngrams(text: str, low: int, high: int) -> Iterator[str]:
    """scikit-learn's `analyzer="char"` n-grams (lowercased, runs of spaces collapsed)."""
    text = _WHITE.sub(" ", text.lower())
    for n in range(low, high + 1):
        for i in range(len(text) - n + 1):
            yield text[i : i + n]


FIRST_CLAUSE_MARK = "\x01"  # keeps first-clause n-grams apart from the body's in one vocabulary
_FIRST_CLAUSE_END = re.compile(r"[，,；;。]")


def measure_text(text: str, *, strip_markers: bool) -> tuple[str, str]:
    """The text the measure type is read from, and its first clause."""
    if strip_markers:  # `_PAREN`: the closing parenthetical the body rules read
        text = strip_item_marker(_PAREN.sub("", text))
    end = _FIRST_CLAUSE_END.search(text)
    return text, text[: end.start()] if end else text


class CharNgramCats:
    """Measure-type probabilities from character n-gram TF-IDF features and a
    multinomial logistic regression. Fitted with scikit-learn in `initialize`
    (class-balanced: the rare measure types count as much as the common ones
    in macro-F1); predicts with numpy alone from the stored vocabulary, idf
    and weights, so loading needs neither scikit-learn nor pickles.
    `doc.cats` becomes `weight` × these + (1 − `weight`) × `textcat`'s.

    With `strip_markers` the item number and closing parenthetical are left out
    (they name who, not what); with `first_clause_weight` > 0 the first clause's
    n-grams are a second feature block of that weight, since the guidelines
    judge by the first concrete act (see `measure_text`)."""

    def __init__(
        self,
        name: str,
        *,
        ngram_range: list[int],
        C: float,
        balanced: bool,
        weight: float,
        strip_markers: bool = False,
        first_clause_weight: float = 0.0,
    ) -> None:
        self.name = name
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.C = C
        self.balanced = balanced
        self.weight = weight
        self.strip_markers = strip_markers
        self.first_clause_weight = first_clause_weight
        self.labels: tuple[str, ...] = ()
        self.vocab: dict[str, int] = {}
        self.idf = numpy.zeros(0, dtype="float32")
        self.coef = numpy.zeros((0, 0), dtype="float32")  # n-grams × labels
        self.intercept = numpy.zeros(0, dtype="float32")

    def initialize(self, get_examples: Callable, *, nlp: Language | None = None) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        texts, labels = [], []
        for eg in get_examples():
            cats = eg.reference.cats
            if cats:
                texts.append(eg.reference.text)
                labels.append(max(cats, key=cats.get))
        self.labels = tuple(MEASURE_TYPES)
        if not texts:
            raise ModelError(f"{self.name}: no training examples with a measure type")

        def vectorizer() -> TfidfVectorizer:
            return TfidfVectorizer(
                analyzer="char",
                ngram_range=self.ngram_range,
                sublinear_tf=True,
                dtype=numpy.float32,
            )

        parts = [measure_text(t, strip_markers=self.strip_markers) for t in texts]
        body_vectorizer = vectorizer()
        features = body_vectorizer.fit_transform([body for body, _ in parts])
        self.vocab = {g: int(i) for g, i in body_vectorizer.vocabulary_.items()}
        idf = [body_vectorizer.idf_]
        if self.first_clause_weight > 0:
            from scipy.sparse import hstack

            first_vectorizer = vectorizer()
            first = first_vectorizer.fit_transform([clause for _, clause in parts])
            features = hstack([features, first * self.first_clause_weight]).tocsr()
            offset = len(self.vocab)
            self.vocab.update(
                {
                    FIRST_CLAUSE_MARK + g: offset + int(i)
                    for g, i in first_vectorizer.vocabulary_.items()
                }
            )
            idf.append(first_vectorizer.idf_)
        self.idf = numpy.concatenate(idf).astype("float32")
        coef = numpy.zeros((len(self.vocab), len(self.labels)), dtype="float32")
        intercept = numpy.full(len(self.labels), -1e4, dtype="float32")  # unseen labels
        if len(set(labels)) >= 2:
            model = LogisticRegression(
                C=self.C, max_iter=3000, class_weight="balanced" if self.balanced else None
            ).fit(features, labels)
            cols = [self.labels.index(label) for label in model.classes_]
            if model.coef_.shape[0] == 1:  # two classes: one row, for classes_[1] (sigmoid)
                intercept[cols[0]] = 0.0
                coef[:, cols[1]] = model.coef_[0]
                intercept[cols[1]] = model.intercept_[0]
            else:
                coef[:, cols] = model.coef_.T
                intercept[cols] = model.intercept_
        elif labels:
            intercept[self.labels.index(labels[0])] = 0.0
        self.coef, self.intercept = coef, intercept

    def probabilities(self, text: str) -> numpy.ndarray:
        body, first = measure_text(text, strip_markers=self.strip_markers)
        scores = self.intercept.astype("float64")
        scores = scores + self._block(body, "", 1.0)
        if self.first_clause_weight > 0:
            scores = scores + self._block(first, FIRST_CLAUSE_MARK, self.first_clause_weight)
        e = numpy.exp(scores - scores.max())
        return e / e.sum()

    def _block(self, text: str, mark: str, scale: float) -> numpy.ndarray | float:
        """Scores from one feature block: sublinear TF × IDF, L2-normalised, × `scale`."""
        counts: dict[int, int] = {}
        vocab = self.vocab
        for gram in char_ngrams(text, *self.ngram_range):
            i = vocab.get(mark + gram if mark else gram)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        if not counts:
            return 0.0
        idx = numpy.fromiter(counts, dtype="int64", count=len(counts))
        tf = numpy.fromiter(counts.values(), dtype="float64", count=len(counts))
        w = (1.0 + numpy.log(tf)) * self.idf[idx]
        w *= scale / (numpy.linalg.norm(w) or 1.0)
        return w @ self.coef[idx]

    def __call__(self, doc: Doc) -> Doc:
        if not self.labels or self.weight <= 0.0:
            return doc
        probs = self.probabilities(doc.text)
        old = doc.cats
        w = self.weight
        doc.cats = {
            label: float(w * p + (1.0 - w) * old.get(label, 0.0))
            for label, p in zip(self.labels, probs, strict=True)
        }
        return doc

    def to_disk(self, path: Path | str, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        grams = sorted(self.vocab, key=self.vocab.__getitem__)
        (path / "cfg.json").write_text(
            json.dumps(
                {
                    "labels": list(self.labels),
                    "weight": self.weight,
                    "strip_markers": self.strip_markers,
                    "first_clause_weight": self.first_clause_weight,
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        (path / "ngrams.json").write_text(json.dumps(grams, ensure_ascii=False), encoding="utf-8")
        numpy.savez_compressed(
            path / "weights.npz", idf=self.idf, coef=self.coef, intercept=self.intercept
        )

    def from_disk(self, path: Path | str, *, exclude: Iterable[str] = ()) -> CharNgramCats:
        path = Path(path)
        cfg = json.loads((path / "cfg.json").read_text(encoding="utf-8"))
        self.labels = tuple(cfg["labels"])
        self.weight = float(cfg["weight"])
        self.strip_markers = bool(cfg.get("strip_markers", False))
        self.first_clause_weight = float(cfg.get("first_clause_weight", 0.0))
        grams = json.loads((path / "ngrams.json").read_text(encoding="utf-8"))
        self.vocab = {g: i for i, g in enumerate(grams)}
        with numpy.load(path / "weights.npz", allow_pickle=False) as arrays:
            self.idf = arrays["idf"]
            self.coef = arrays["coef"]
            self.intercept = arrays["intercept"]
        return self


@Language.factory(
    NGRAM_COMPONENT,
    assigns=["doc.cats"],
    default_config={
        "ngram_range": [1, 3],
        "C": 10.0,
        "balanced": True,
        "weight": 1.0,
        "strip_markers": False,
        "first_clause_weight": 0.0,
    },
)
def make_char_ngram_cats(
    nlp: Language,
    name: str,
    ngram_range: list[int],
    C: float,
    balanced: bool,
    weight: float,
    strip_markers: bool,
    first_clause_weight: float,
) -> CharNgramCats:
    return CharNgramCats(
        name,
        ngram_range=ngram_range,
        C=C,
        balanced=balanced,
        weight=weight,
        strip_markers=strip_markers,
        first_clause_weight=first_clause_weight,
    )


# ---------------------------------------------------------------- rule_spans

# `（责任单位：市应急局、市消防救援局）`, `（县安委会有关成员单位负责）`, `〔…负责。…〕`
_PAREN = re.compile(
    r"[（(〔【]([^（）()〔〕【】]*(?:[（(][^（）()]*[）)][^（）()〔〕【】]*)*)[）)〕】]\s*$"
)
_ROLE_HEAD = re.compile(r"^(?:责任单位|牵头单位|配合单位|责任部门|牵头部门|主体责任单位)[:：]\s*")
_ROLE_TAIL = re.compile(
    r"(?:按职责分工负责|按职责负责|分工负责|共同负责|负责落实|指导督促落实|督促落实|配合|牵头|负责)$"
)
_LIST_SEP = re.compile(r"[、，,；;]|(?<![省市县区])及|(?<=[局委办会府])和")


def find_parenthetical_bodies(text: str) -> Iterator[tuple[int, int]]:
    """`[start, end)` of each body named in a closing responsibility parenthetical."""
    m = _PAREN.search(text)
    if not m:
        return
    inner_start = m.start(1)
    inner = m.group(1)
    first = re.split(r"[。.]", inner, maxsplit=1)[0]  # `〔…负责。以下事项…〕`
    head = _ROLE_HEAD.match(first)
    if not head and not _ROLE_TAIL.search(first):
        return  # a tag such as `（重大隐患）`, not a responsibility note
    offset = head.end() if head else 0
    pos = offset
    for piece in _LIST_SEP.split(first[offset:]):
        start = pos
        pos += len(piece) + 1
        body = _ROLE_TAIL.sub("", piece.strip())
        body = re.sub(r"(?:等部门|等单位|等)$", "", body)
        body = _ROLE_TAIL.sub("", body)
        if len(body) < 2:
            continue
        lead = piece.find(body)
        yield inner_start + start + lead, inner_start + start + lead + len(body)


def find_rule_bodies(text: str) -> Iterator[tuple[int, int]]:
    """Bodies of a closing responsibility parenthetical, then sentence subjects that must act."""
    found = list(find_parenthetical_bodies(text))
    yield from found
    for start, end in find_subject_bodies(text):
        if not any(start < e and s < end for s, e in found):
            yield start, end


RULE_FINDERS: dict[str, Callable[[str], Iterator[tuple[int, int]]]] = {
    SpanLabel.DEADLINE: find_deadlines,
    SpanLabel.FREQUENCY: find_frequencies,
    SpanLabel.RESPONSIBLE_BODY: find_rule_bodies,
}


class RuleSpans:
    """Rule spans, per label: `replace` — the rules stand in for the learned
    spans; `add` — learned spans kept, rule spans added where they overlap none;
    `override` — rule spans kept, learned spans of the label added where they
    overlap no rule span (a rule reads a whole name the tagger cut short)."""

    def __init__(
        self,
        name: str,
        replace: list[str],
        add: list[str],
        rule_score: float,
        *,
        override: Iterable[str] = (),
    ) -> None:
        unknown = (set(replace) | set(add) | set(override)) - set(SPAN_LABELS)
        if unknown:
            raise ValueError(f"rule_spans: unknown labels {sorted(unknown)}")
        self.name = name
        self.replace = tuple(replace)
        self.add = tuple(add)
        self.override = tuple(override)
        # not `score`: spaCy's Scorer calls a component's `score` attribute
        self.rule_score = rule_score

    def __call__(self, doc: Doc) -> Doc:
        if not (self.replace or self.add or self.override):
            return doc
        old = doc.user_data.get(SCORES_KEY, {})
        text = doc.text  # built token by token on each access: read it once
        taken: set[int] = set()
        first = self._rule_spans(doc, text, self.override, taken)
        learned = [
            (e, old.get((e.start_char, e.end_char, e.label_), None))
            for e in doc.ents
            if e.label_ not in self.replace
            and not (e.label_ in self.override and taken.intersection(range(e.start, e.end)))
        ]
        taken.update(i for e, _ in learned for i in range(e.start, e.end))
        later = self._rule_spans(doc, text, self.replace + self.add, taken)
        set_spans(doc, first + learned + later)
        return doc

    def _rule_spans(
        self, doc: Doc, text: str, labels: tuple[str, ...], taken: set[int]
    ) -> list[tuple[Span, float]]:
        """Rule spans of `labels` over no token in `taken` (which they are added to)."""
        found = []
        for label in labels:
            for start, end in RULE_FINDERS[label](text):
                span = doc.char_span(start, end, label=label, alignment_mode="contract")
                if span is None or taken.intersection(range(span.start, span.end)):
                    continue
                taken.update(range(span.start, span.end))
                found.append((span, self.rule_score))
        return found


@Language.factory(
    "rule_spans",
    assigns=["doc.ents"],
    default_config={"replace": [], "add": [], "override": [], "rule_score": 0.9},
)
def make_rule_spans(
    nlp: Language,
    name: str,
    replace: list[str],
    add: list[str],
    override: list[str],
    rule_score: float,
) -> RuleSpans:
    return RuleSpans(name, replace, add, rule_score, override=override)


# ---------------------------------------------------------------- loading & reading


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    version: str
    measure_types: tuple[str, ...]
    span_labels: tuple[str, ...]

    @property
    def model_version(self) -> str:
        return f"{self.name}-{self.version}"


def model_info(nlp: Language) -> ModelInfo:
    return ModelInfo(
        name=str(nlp.meta.get("name", "")),
        version=str(nlp.meta.get("version", "")),
        measure_types=tuple(nlp.get_pipe(TEXTCAT_COMPONENT).labels),
        span_labels=_span_labels(nlp),
    )


def _span_labels(nlp: Language) -> tuple[str, ...]:
    if SPAN_COMPONENT in nlp.pipe_names:
        tags = nlp.get_pipe(SPAN_COMPONENT).labels
        return tuple(sorted({t.partition("-")[2] for t in tags if t != "O"}))
    if "ner" in nlp.pipe_names:
        return tuple(sorted(nlp.get_pipe("ner").labels))
    return ()


def check_labels(nlp: Language, *, source: str) -> None:
    """Refuse a model whose labels are not exactly the schema's."""
    if TEXTCAT_COMPONENT not in nlp.pipe_names:
        raise ModelError(
            f"{source}: the model has no '{TEXTCAT_COMPONENT}' component; "
            "train one with `corpus-tools train EXPORT_DIR -o MODEL_DIR`"
        )
    cats = set(nlp.get_pipe(TEXTCAT_COMPONENT).labels)
    spans = set(_span_labels(nlp))
    if SPAN_COMPONENT in nlp.pipe_names:
        tags = set(nlp.get_pipe(SPAN_COMPONENT).labels)
        spans_ok = tags == set(NER_TAGS)
    else:
        spans_ok = spans == set(SPAN_LABELS)
    problems = []
    if cats != set(MEASURE_TYPES):
        problems.append(_diff("measure types", cats, set(MEASURE_TYPES)))
    if not spans_ok:
        problems.append(_diff("span labels", spans, set(SPAN_LABELS)))
    if problems:
        raise ModelError(
            f"{source}: model labels differ from the schema ({'; '.join(problems)}); "
            "retrain it on an export of the current schema"
        )


def _diff(what: str, got: set[str], want: set[str]) -> str:
    parts = []
    if want - got:
        parts.append(f"missing {', '.join(sorted(want - got))}")
    if got - want:
        parts.append(f"unknown {', '.join(sorted(got - want))}")
    return f"{what}: {'; '.join(parts) or 'tag set differs'}"


def load_model(model_dir: Path | str) -> Language:
    """Load a trained model directory and check its labels against the schema."""
    path = Path(model_dir)
    hint = "train one with `corpus-tools train EXPORT_DIR -o MODEL_DIR` or pass --model DIR"
    if not path.is_dir():
        raise ModelError(f"{path}: no such model directory; {hint}")
    if not (path / "config.cfg").is_file() or not (path / "meta.json").is_file():
        raise ModelError(f"{path}: not a spaCy model directory (no config.cfg/meta.json); {hint}")
    import spacy

    try:
        nlp = spacy.load(path)
    except Exception as error:  # spaCy raises many kinds for a broken model dir
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise ModelError(f"{path}: cannot be loaded as a spaCy model ({reason}); {hint}") from None
    check_labels(nlp, source=str(path))
    return nlp


def read_meta(model_dir: Path | str) -> dict:
    return json.loads((Path(model_dir) / "meta.json").read_text(encoding="utf-8"))


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
            _round(scores.get((e.start_char, e.end_char, e.label_))),
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
