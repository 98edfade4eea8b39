"""The `rule_spans` component and the rule finders it (and `crf_spans`) read.

Regex finders for `DEADLINE`/`FREQUENCY` (`corpus_tools.deadlines`) and the
bodies of a responsibility parenthetical or a sentence subject that must act
(`corpus_tools.bodies`); per label, the rules replace or complement the
learned spans — which labels is a config choice made on the validation split
(`corpus_tools.model.training.choose_rules`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc, Span

from corpus_tools.bodies import (
    _ETC,
    find_conditioned_subjects,
    find_duty_holders,
    find_object_bodies,
    find_subject_bodies,
    join_levels,
    only_encouraged,
)
from corpus_tools.deadlines import find_deadlines, find_frequencies
from corpus_tools.model.spans import SCORES_KEY, score_key, set_spans
from corpus_tools.schema import SPAN_LABELS, SpanLabel

# `（责任单位：市应急局、市消防救援局）`, `（县安委会有关成员单位负责）`, `〔…负责。…〕`
_PAREN = re.compile(
    r"[（(〔【]([^（）()〔〕【】]*(?:[（(][^（）()]*[）)][^（）()〔〕【】]*)*)[）)〕】]\s*$"
)
_ROLE_HEAD = re.compile(r"^(?:责任单位|牵头单位|配合单位|责任部门|牵头部门|主体责任单位)[:：]\s*")
_ROLE_TAIL = re.compile(
    r"(?:按职责分工负责|按职责负责|分工负责|共同负责|负责落实|指导督促落实|督促落实|"
    r"(?:督促|指导|推动)[^、，,；;]{1,12}?落实|配合|牵头|负责)$"
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
    pieces, position = [], offset
    for separator in _LIST_SEP.finditer(first, offset):
        pieces.append((position, separator.start()))
        position = separator.end()
    pieces.append((position, len(first)))
    for start, end in join_levels(first, pieces):
        piece = first[start:end]
        body = _ROLE_TAIL.sub("", piece.strip())
        body = _ETC.sub("", body)
        body = _ROLE_TAIL.sub("", body)
        if len(body) < 2:
            continue
        lead = piece.find(body)
        yield inner_start + start + lead, inner_start + start + lead + len(body)


def find_rule_bodies(text: str) -> Iterator[tuple[int, int]]:
    """Bodies of a closing responsibility parenthetical, then sentence subjects that must act."""
    found = list(find_parenthetical_bodies(text))
    yield from found
    for finder in (
        find_subject_bodies,
        find_conditioned_subjects,
        find_object_bodies,
        find_duty_holders,
    ):
        for start, end in finder(text):
            if not any(start < e and s < end for s, e in found):
                found.append((start, end))
                yield start, end


RULE_FINDERS: dict[str, Callable[[str], Iterator[tuple[int, int]]]] = {
    SpanLabel.DEADLINE: find_deadlines,
    SpanLabel.FREQUENCY: find_frequencies,
    SpanLabel.RESPONSIBLE_BODY: find_rule_bodies,
}


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


TOKEN_CHARS_KEY = "corpus_tools.token_chars"


def token_chars(doc: Doc) -> tuple[list[int], str]:
    """Each token's start in the text, and the tokens' characters joined: the
    text without the single spaces that are whitespace of a token, not tokens.

    Read once per doc (the rule finders of each label and the CRF all ask) from
    the token offsets array: a `Token` object per character cost more than the
    rest of the CRF's features."""
    text = doc.text
    cached = doc.user_data.get(TOKEN_CHARS_KEY)
    if cached is not None and cached[0] == text:
        return cached[1], cached[2]
    from spacy.attrs import IDX

    starts = doc.to_array(IDX).tolist() if len(doc) else []
    tokens = "".join(map(text.__getitem__, starts))  # a token's first character
    doc.user_data[TOKEN_CHARS_KEY] = (text, starts, tokens)
    return starts, tokens


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
