"""The pre-labeling model's spaCy parts: custom components, loading, reading predictions.

Importing this module registers the components, so `spacy.load(MODEL_DIR)`
works once it is imported (and, through the `spacy_factories` entry points,
in any process where corpus-tools is installed).

- `crf_spans`: a linear-chain CRF over characters (CRFsuite) that tags the
  schema's span labels from character n-grams and the rule finders' spans,
  fitted when the pipeline is initialised; gives per-span marginal
  probabilities, which the pre-labels need as scores.
- `char_ngram_cats`: character n-gram TF-IDF + class-weighted logistic
  regression for the measure type, fitted when the pipeline is initialised
  and stored as plain arrays in the model directory; its probabilities are
  mixed with `textcat`'s (the mix weight is chosen on the validation split).
- `rule_spans`: regex finders for `DEADLINE`/`FREQUENCY` and the bodies of a
  responsibility parenthetical; per label, rules replace or complement the
  learned spans — which labels is a config choice made on the validation split.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans, minibatch

from corpus_tools.bodies import find_subject_bodies, only_encouraged
from corpus_tools.deadlines import find_deadlines, find_frequencies
from corpus_tools.errors import ModelError
from corpus_tools.schema import MEASURE_TYPES, NER_TAGS, SPAN_LABELS, SpanLabel
from corpus_tools.segment import strip_item_marker

# Where a doc keeps each predicted span's probability: {"start_char:end_char:label": p}.
# String keys, as Doc.to_bytes (and so nlp.pipe with n_process > 1) cannot carry tuple keys.
SCORES_KEY = "corpus_tools.span_scores"
SPAN_COMPONENT = "crf_spans"
TEXTCAT_COMPONENT = "textcat"
_TRIM = set(" \t\r\n\u3000，。；：、,.;:!?！？")


# ---------------------------------------------------------------- span decoding


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


# ---------------------------------------------------------------- char_ngram_cats

NGRAM_COMPONENT = "char_ngram_cats"
_WHITE = re.compile(r"\s\s+")


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """scikit-learn's `analyzer="char"` n-grams (lowercased, runs of spaces collapsed)."""
    text = _WHITE.sub(" ", text.lower())
    return [text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]


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
    in macro-F1); predicts with numpy and scipy from the stored vocabulary, idf
    and weights, so loading needs neither scikit-learn's models nor pickles.
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
        self._first: dict[str, int] | None = None  # see _first_vocab
        self._coef: numpy.ndarray | None = None  # see _coef64

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
        self._first = None
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
        self._coef = None

    def probabilities(self, text: str) -> numpy.ndarray:
        return self.batch_probabilities([text])[0]

    def batch_probabilities(self, texts: list[str]) -> numpy.ndarray:
        """Probabilities (texts × labels), the texts read as one sparse batch:
        one matrix product instead of numpy calls per text, which cost more
        than the arithmetic on 60-character units."""
        from scipy.sparse import csr_matrix  # scikit-learn's own dependency

        blocks = [(self.vocab, 1.0)]
        if self.first_clause_weight > 0:
            blocks.append((self._first_vocab(), self.first_clause_weight))
        low, high = self.ngram_range
        columns: list[int] = []
        counts: list[int] = []
        segments: list[int] = []  # one id per (text, block): each is L2-normalised alone
        scales: list[float] = []
        for text in texts:
            parts = measure_text(text, strip_markers=self.strip_markers)
            for (vocab, scale), part in zip(blocks, parts, strict=False):
                found = Counter(
                    i for i in map(vocab.get, char_ngrams(part, low, high)) if i is not None
                )
                columns += found
                counts += found.values()
                segments += [len(scales)] * len(found)
                scales.append(scale)
        n = len(texts)
        scores = numpy.tile(self.intercept.astype("float64"), (n, 1))
        if columns:
            idx = numpy.asarray(columns, dtype="int64")
            seg = numpy.asarray(segments, dtype="int64")
            w = (1.0 + numpy.log(numpy.asarray(counts, dtype="float64"))) * self.idf[idx]
            norms = numpy.sqrt(numpy.bincount(seg, weights=w * w, minlength=len(scales)))
            w *= numpy.asarray(scales)[seg] / numpy.where(norms > 0, norms, 1.0)[seg]
            rows = seg // len(blocks)
            matrix = csr_matrix((w, (rows, idx)), shape=(n, len(self.vocab)))
            scores += matrix @ self._coef64()
        e = numpy.exp(scores - scores.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def _coef64(self) -> numpy.ndarray:
        """The weights as float64, converted once: the product would convert
        all 70,000 rows for every batch otherwise."""
        if self._coef is None:
            self._coef = self.coef.astype("float64")
        return self._coef

    def _first_vocab(self) -> dict[str, int]:
        """The first-clause block's n-grams without their mark, built once."""
        if self._first is None:
            mark = FIRST_CLAUSE_MARK
            self._first = {g[1:]: i for g, i in self.vocab.items() if g.startswith(mark)}
        return self._first

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def __getstate__(self) -> dict:
        # the caches are rebuilt from vocab and coef; no need to ship them
        return {**self.__dict__, "_first": None, "_coef": None}

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 256) -> Iterator[Doc]:
        if not self.labels or self.weight <= 0.0:
            yield from stream
            return
        w = self.weight
        for docs in minibatch(stream, size=batch_size):
            for doc, probs in zip(
                docs, self.batch_probabilities([d.text for d in docs]), strict=True
            ):
                old = doc.cats
                doc.cats = {
                    label: float(w * p + (1.0 - w) * old.get(label, 0.0))
                    for label, p in zip(self.labels, probs, strict=True)
                }
                yield doc

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
        self._first = None
        with numpy.load(path / "weights.npz", allow_pickle=False) as arrays:
            self.idf = arrays["idf"]
            self.coef = arrays["coef"]
            self.intercept = arrays["intercept"]
        self._coef = None
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
    overlap no rule span (a rule reads a whole name the tagger cut short).
    Whatever the options, a body that is only encouraged (`支持工会、妇联……`) is
    dropped, as the guidelines leave it unlabelled: on the 19 train and
    validation notices by cross-validation it removed 4 wrong spans and no
    right one."""

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
        old = doc.user_data.get(SCORES_KEY, {})
        text = doc.text  # built token by token on each access: read it once
        taken: set[int] = set()
        first = self._rule_spans(doc, text, self.override, taken)
        learned = [
            (e, old.get(score_key(e.start_char, e.end_char, e.label_)))
            for e in doc.ents
            if e.label_ not in self.replace
            and not (e.label_ in self.override and taken.intersection(range(e.start, e.end)))
        ]
        taken.update(i for e, _ in learned for i in range(e.start, e.end))
        later = self._rule_spans(doc, text, self.replace + self.add, taken)
        set_spans(
            doc,
            (
                (span, p)
                for span, p in first + learned + later
                if span.label_ != SpanLabel.RESPONSIBLE_BODY
                or not only_encouraged(text, span.start_char)
            ),
        )
        return doc

    def _rule_spans(
        self, doc: Doc, text: str, labels: tuple[str, ...], taken: set[int]
    ) -> list[tuple[Span, float]]:
        """Rule spans of `labels` over no token in `taken` (which they are added to)."""
        found = []
        for label in labels:
            for start, end in rule_finds(doc, text, label):
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


# ---------------------------------------------------------------- crf_spans

_add = operator.add
# Where crf_spans leaves the rule finders' spans for rule_spans:
# (text, {label: [(start, end), …]}); the text guards against a doc sliced or
# copied with its user_data, whose offsets would no longer hold.
RULES_KEY = "corpus_tools.rule_finds"


def rule_finds(doc: Doc, text: str, label: str) -> list[tuple[int, int]]:
    """The spans `label`'s rule finder reads in the doc, found once per doc."""
    cached = doc.user_data.get(RULES_KEY)
    if cached is None or cached[0] != text:
        cached = doc.user_data[RULES_KEY] = (text, {})
    found = cached[1]
    if label not in found:
        finder = RULE_FINDERS[label]
        if len(text) == len(doc):
            found[label] = list(finder(text))
        else:  # read over the tokens alone, as the CRF does: `应急局 要` like `应急局要`
            starts, tokens = token_chars(doc)
            found[label] = [
                (starts[a], starts[b - 1] + len(doc[b - 1].text))
                for a, b in finder(tokens)
                if b > a
            ]
    return found[label]


def token_chars(doc: Doc) -> tuple[list[int], str]:
    """Each token's start in the text, and the tokens' characters joined: the
    text without the single spaces that are whitespace of a token, not tokens."""
    return [token.idx for token in doc], "".join(token.text[:1] for token in doc)


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

    @property
    def labels(self) -> tuple[str, ...]:
        """The BIO tags this component can give."""
        return ("O",) + tuple(f"{p}-{label}" for label in self.span_labels for p in "BI")

    def initialize(self, get_examples: Callable, *, nlp: Language | None = None) -> None:
        import tempfile

        import pycrfsuite

        trainer = pycrfsuite.Trainer(verbose=False)
        wanted = set(self.span_labels)
        sequences = 0
        for eg in get_examples():
            ref = eg.reference
            if len(ref):
                spans = [(e.start, e.end, e.label_) for e in ref.ents if e.label_ in wanted]
                trainer.append(self._sequence(ref), bio_tags(len(ref), spans))
                sequences += 1
        if not sequences:  # CRFsuite would fit a model with no labels, which crashes on use
            raise ModelError(f"{self.name}: no training examples with text to fit the span CRF on")
        trainer.set_params(
            {
                "c1": self.c1,
                "c2": self.c2,
                "max_iterations": self.max_iterations,
                "feature.possible_transitions": True,
            }
        )
        with tempfile.TemporaryDirectory(prefix="corpus-tools-crf-") as tmp:
            path = Path(tmp) / "crf.model"
            try:
                trainer.train(str(path))
            except Exception as error:  # CRFsuite's own refusals (bad parameters, no memory)
                raise ModelError(f"{self.name}: cannot fit the span CRF ({error})") from None
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
        tags = tagger.tag(self._sequence(doc))
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
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
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
