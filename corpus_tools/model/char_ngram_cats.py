"""The `char_ngram_cats` component: the measure type from character n-grams.

Character n-gram TF-IDF + a class-weighted linear model (logistic regression or
linear SVMs, `Loss`), fitted when the pipeline is initialised and stored as
plain arrays in the model directory; its
probabilities are mixed with `textcat`'s (the mix weight is chosen on the
validation split, see `corpus_tools.model.training.choose_mix`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from functools import cache
from pathlib import Path

import numpy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch

from corpus_tools.errors import ModelError
from corpus_tools.model.context import doc_heading
from corpus_tools.model.rule_spans import _PAREN
from corpus_tools.schema import MEASURE_TYPES
from corpus_tools.segment import strip_item_marker

NGRAM_COMPONENT = "char_ngram_cats"
_WHITE = re.compile(r"\s\s+")


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """scikit-learn's `analyzer="char"` n-grams (lowercased, runs of spaces collapsed)."""
    text = _WHITE.sub(" ", text.lower())
    return [text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]


FIRST_CLAUSE_MARK = "\x01"  # keeps first-clause n-grams apart from the body's in one vocabulary
CUE_MARK = "\x02"  # cue words are features no character n-gram can spell
HEADING_MARK = "\x03"  # n-grams of the section heading above the unit
WORD_MARK = "\x04"  # jieba words of the text


def words(text: str) -> list[str]:
    """jieba's words of a text (its dictionary ships in the wheel; loaded on first use)."""
    return [w for w in _jieba().lcut(text.lower(), HMM=False) if not w.isspace()]


@cache
def _jieba():
    import jieba

    jieba.setLogLevel(60)  # no "Building prefix dict…" chatter on stderr
    return jieba


# What a sentence does, whoever wrote it: an order has a modal or a directive
# verb; a finding states a defect and orders nothing; a purpose clause, a
# definition or a target orders nothing either. Character n-grams see the
# words, not their absence: "no directive at all" is a feature of its own.
_CUES: dict[str, re.Pattern[str]] = {
    "directive": re.compile(
        "要|应|须|必须|严禁|禁止|不得|务必|确保|加强|开展|推进|落实|建立|健全|完善|组织|强化|"
        "实施|做好|抓好|推动|督促|指导|严格|深化|提升|加快|持续|坚决|切实|负责|制定|编制"
    ),
    "defect": re.compile(
        "未|没有|无法|不到位|不符合|不规范|缺少|缺失|过期|损坏|堵塞|占用|私拉|乱接|失效|超期|违规|擅自"
    ),
    "purpose": re.compile("^(?:为了?|根据|依据)"),
    "definition": re.compile("是指|所称|包括以下|分为|适用于|下列情形"),
    "target": re.compile("到20\\d\\d年|实现|达到|下降|明显|显著|基本|全面完成|不低于|%|％"),
    # a unit ending in `……的` is a condition of a list (`（三）未按规定采取防治突出措施的；`):
    # it orders nothing (guide § 1); all 148 such units of the corpus are `other`
    "condition": re.compile("的[；;。，,]?\\s*$"),
}


def cue_words(text: str) -> list[str]:
    """The cue features of a text (`_CUES`), `no-directive` when it orders nothing."""
    found = [CUE_MARK + name for name, pattern in _CUES.items() if pattern.search(text)]
    if CUE_MARK + "directive" not in found:
        found.append(CUE_MARK + "no-directive")
    return found


_FIRST_CLAUSE_END = re.compile(r"[，,；;。]")


def measure_text(text: str, *, strip_markers: bool) -> tuple[str, str]:
    """The text the measure type is read from, and its first clause."""
    if strip_markers:  # `_PAREN`: the closing parenthetical the body rules read
        text = strip_item_marker(_PAREN.sub("", text))
    end = _FIRST_CLAUSE_END.search(text)
    return text, text[: end.start()] if end else text


class Loss(StrEnum):
    """What the linear model minimises: `log`, a multinomial logistic regression
    (probabilities of its own); `squared_hinge`, one-vs-rest linear SVMs
    (scikit-learn's LinearSVC and its default loss: the plain hinge and
    Crammer-Singer did worse by grouped CV), whose margins the softmax turns into
    scores at a temperature fitted by cross-validation."""

    LOG = "log"
    SQUARED_HINGE = "squared_hinge"


def _linear_model(loss: Loss, *, C: float, balanced: bool, solver: str):
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    class_weight = "balanced" if balanced else None
    makers = {
        Loss.LOG: lambda: LogisticRegression(
            C=C, max_iter=3000, class_weight=class_weight, solver=solver
        ),
        Loss.SQUARED_HINGE: lambda: LinearSVC(C=C, class_weight=class_weight, random_state=0),
    }
    return makers[loss]()


class CharNgramCats:
    """Measure-type probabilities from character n-gram TF-IDF features and a
    linear model (`loss`: a multinomial logistic regression, or linear SVMs whose
    margins go through the softmax). Fitted with scikit-learn in `initialize`
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
        cues: bool = False,
        min_df: int = 1,
        heading_weight: float = 0.0,
        word_weight: float = 0.0,
        temperature: float = 1.0,
        loss: str = Loss.LOG.value,
    ) -> None:
        if temperature <= 0:
            raise ModelError(f"{name}: temperature must be above 0, not {temperature}")
        if loss not in set(Loss):
            raise ModelError(
                f"{name}: loss must be one of {', '.join(Loss)}, not {loss!r}; "
                "set components.char_ngram_cats.loss in the training config"
            )
        self.name = name
        self.loss = Loss(loss)
        self.temperature = temperature
        self.cues = cues
        self.min_df = min_df
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.C = C
        self.balanced = balanced
        self.weight = weight
        self.strip_markers = strip_markers
        self.first_clause_weight = first_clause_weight
        self.heading_weight = heading_weight
        self.word_weight = word_weight
        self.labels: tuple[str, ...] = ()
        self.vocab: dict[str, int] = {}
        self.idf = numpy.zeros(0, dtype="float32")
        self.coef = numpy.zeros((0, 0), dtype="float32")  # n-grams × labels
        self.intercept = numpy.zeros(0, dtype="float32")
        self._first: dict[str, int] | None = None  # see _block_vocab
        self._heading: dict[str, int] | None = None
        self._words: dict[str, int] | None = None
        self._coef: numpy.ndarray | None = None  # see _coef64

    def initialize(self, get_examples: Callable, *, nlp: Language | None = None) -> None:
        texts, headings, labels = [], [], []
        for eg in get_examples():
            cats = eg.reference.cats
            if cats:
                texts.append(eg.reference.text)
                headings.append(doc_heading(eg.predicted))
                labels.append(max(cats, key=cats.get))
        self.fit(texts, labels, headings)

    def fit(
        self,
        texts: list[str],
        labels: list[str],
        headings: list[str] | None = None,
        *,
        solver: str = "lbfgs",
    ) -> None:
        """Fit vocabulary, idf and weights on `texts` (under `headings`) and their
        measure types.

        `solver` is scikit-learn's for the `log` loss (LinearSVC has one): `train`
        fits with L-BFGS as it always has; the ML backend's light retrain passes
        `newton-cg`, which reaches the
        same optimum (test macro-F1 0.815 against 0.814 on exports/corpus) in
        a tenth of the time (`scipy`'s L-BFGS-B spends ~90 ms a step on the
        600k weights)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.labels = tuple(MEASURE_TYPES)
        if not texts:
            raise ModelError(f"{self.name}: no training examples with a measure type")

        low, high = self.ngram_range

        def body_features(text: str) -> list[str]:
            return char_ngrams(text, low, high) + (cue_words(text) if self.cues else [])

        def vectorizer(*, body: bool = False, analyzer=None) -> TfidfVectorizer:
            # `char_ngrams` is scikit-learn's analyzer="char"; the body adds the cue words
            return TfidfVectorizer(
                analyzer=analyzer
                or (body_features if body else lambda t: char_ngrams(t, low, high)),
                sublinear_tf=True,
                min_df=self.min_df,
                dtype=numpy.float32,
            )

        headings = headings or [""] * len(texts)
        parts = [measure_text(t, strip_markers=self.strip_markers) for t in texts]
        body_vectorizer = vectorizer(body=True)
        features = body_vectorizer.fit_transform([body for body, _ in parts])
        self.vocab = {g: int(i) for g, i in body_vectorizer.vocabulary_.items()}
        self._first = self._heading = self._words = None
        idf = [body_vectorizer.idf_]
        # further blocks: (mark, texts, weight), each its own TF-IDF vocabulary
        extra = [
            (FIRST_CLAUSE_MARK, [clause for _, clause in parts], self.first_clause_weight),
            (HEADING_MARK, headings, self.heading_weight),
            (WORD_MARK, [body for body, _ in parts], self.word_weight),
        ]
        for mark, block_texts, block_weight in extra:
            if block_weight <= 0 or not any(block_texts):
                continue
            from scipy.sparse import hstack

            block_vectorizer = vectorizer(analyzer=words if mark == WORD_MARK else None)
            block = block_vectorizer.fit_transform(block_texts)
            features = hstack([features, block * block_weight]).tocsr()
            offset = len(self.vocab)
            self.vocab.update(
                {mark + g: offset + int(i) for g, i in block_vectorizer.vocabulary_.items()}
            )
            idf.append(block_vectorizer.idf_)
        self.idf = numpy.concatenate(idf).astype("float32")
        coef = numpy.zeros((len(self.vocab), len(self.labels)), dtype="float32")
        intercept = numpy.full(len(self.labels), -1e4, dtype="float32")  # unseen labels
        if len(set(labels)) >= 2:
            model = _linear_model(self.loss, C=self.C, balanced=self.balanced, solver=solver).fit(
                features, labels
            )
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

    def probabilities(self, text: str, heading: str = "") -> numpy.ndarray:
        return self.batch_probabilities([text], [heading])[0]

    def batch_probabilities(
        self, texts: list[str], headings: list[str] | None = None
    ) -> numpy.ndarray:
        """Probabilities (texts × labels), the texts read as one sparse batch:
        one matrix product instead of numpy calls per text, which cost more
        than the arithmetic on 60-character units."""
        from scipy.sparse import csr_matrix  # scikit-learn's own dependency

        blocks = [(self.vocab, 1.0)]
        if self.first_clause_weight > 0:
            blocks.append((self._block_vocab(FIRST_CLAUSE_MARK), self.first_clause_weight))
        heading_vocab = self._block_vocab(HEADING_MARK) if self.heading_weight > 0 else {}
        if heading_vocab:
            blocks.append((heading_vocab, self.heading_weight))
        word_vocab = self._block_vocab(WORD_MARK) if self.word_weight > 0 else {}
        if word_vocab:
            blocks.append((word_vocab, self.word_weight))
        headings = headings or [""] * len(texts)
        low, high = self.ngram_range
        columns: list[int] = []
        counts: list[int] = []
        segments: list[int] = []  # one id per (text, block): each is L2-normalised alone
        scales: list[float] = []
        for text, heading in zip(texts, headings, strict=True):
            body, first = measure_text(text, strip_markers=self.strip_markers)
            parts = [body]
            if self.first_clause_weight > 0:
                parts.append(first)
            if heading_vocab:
                parts.append(heading)
            if word_vocab:
                parts.append(None)  # the body's words, not its n-grams
            for block, ((vocab, scale), part) in enumerate(zip(blocks, parts, strict=True)):
                grams = words(body) if part is None else char_ngrams(part, low, high)
                if block == 0 and self.cues:
                    grams += cue_words(part)
                # counted in C, the unknown n-grams (None) dropped after: a Python
                # filter over every n-gram cost more than the rest of the component
                found = Counter(map(vocab.get, grams))
                found.pop(None, None)
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
        # the temperature scales the logits (argmax unchanged): chosen by grouped
        # cross-validation so that the score means what it says (`calibration_error`)
        scores /= self.temperature
        e = numpy.exp(scores - scores.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def _coef64(self) -> numpy.ndarray:
        """The weights as float64, converted once: the product would convert
        all 70,000 rows for every batch otherwise."""
        if self._coef is None:
            self._coef = self.coef.astype("float64")
        return self._coef

    def _block_vocab(self, mark: str) -> dict[str, int]:
        """A further block's n-grams without their mark, built once."""
        attribute = {FIRST_CLAUSE_MARK: "_first", HEADING_MARK: "_heading", WORD_MARK: "_words"}[
            mark
        ]
        if getattr(self, attribute) is None:
            block = {g[1:]: i for g, i in self.vocab.items() if g.startswith(mark)}
            setattr(self, attribute, block)
        return getattr(self, attribute)

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def __getstate__(self) -> dict:
        # the caches are rebuilt from vocab and coef; no need to ship them
        return {**self.__dict__, "_first": None, "_heading": None, "_words": None, "_coef": None}

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 256) -> Iterator[Doc]:
        if not self.labels or self.weight <= 0.0:
            yield from stream
            return
        w = self.weight
        for docs in minibatch(stream, size=batch_size):
            for doc, probs in zip(
                docs,
                self.batch_probabilities([d.text for d in docs], [doc_heading(d) for d in docs]),
                strict=True,
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
                    "cues": self.cues,
                    "heading_weight": self.heading_weight,
                    "word_weight": self.word_weight,
                    "temperature": self.temperature,
                    "loss": self.loss.value,
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
        self.cues = bool(cfg.get("cues", False))
        self.heading_weight = float(cfg.get("heading_weight", 0.0))
        self.word_weight = float(cfg.get("word_weight", 0.0))
        self.temperature = float(cfg.get("temperature", 1.0))
        self.loss = Loss(cfg.get("loss", Loss.LOG.value))
        grams = json.loads((path / "ngrams.json").read_text(encoding="utf-8"))
        self.vocab = {g: i for i, g in enumerate(grams)}
        self._first = self._heading = self._words = None
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
        "cues": False,
        "min_df": 1,
        "heading_weight": 0.0,
        "word_weight": 0.0,
        "temperature": 1.0,
        "loss": Loss.LOG.value,
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
    cues: bool,
    min_df: int,
    heading_weight: float,
    word_weight: float,
    temperature: float,
    loss: str,
) -> CharNgramCats:
    return CharNgramCats(
        name,
        ngram_range=ngram_range,
        C=C,
        balanced=balanced,
        weight=weight,
        strip_markers=strip_markers,
        first_clause_weight=first_clause_weight,
        cues=cues,
        min_df=min_df,
        heading_weight=heading_weight,
        word_weight=word_weight,
        temperature=temperature,
        loss=loss,
    )
