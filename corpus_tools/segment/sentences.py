"""Body paragraphs cut into sentence units by `annotation-guidelines.md` §1."""

from __future__ import annotations

import re

from corpus_tools.segment.markers import _MARKER_ARTICLE, _MARKERS_BY_KIND, Marker, marker_of
from corpus_tools.segment.marks import (
    _BRACKET,
    _BRACKET_CLOSERS,
    _BRACKET_OPENERS,
    _CLOSE_TO_OPEN,
    _CLOSERS_AND_WS,
    _NESTING_MARKS,
    _OPEN_TO_CLOSE,
    _STOPS_AND_WS,
    _STRUCTURAL,
    _TERMINAL,
    _WS,
    _bracket_depth,
)
from corpus_tools.segment.responsibility import _RESPONSIBILITY

_RUN_IN_TITLE_MAX = 25
_BARE_TITLE_MAX = 10
_TAG_MAX = 14  # `（重大隐患）`: short tags close a sentence; longer asides open the next


# `_sentence_ends` in one regex match per sentence, where brackets and quotes come
# in pairs at most two deep (nearly every paragraph): text without marks, lone
# `…`, and whole pairs are skipped up to the next 。！？；or second `…`. (A quote
# inside a quote of its own kind is left to the stack walk, which reads `““` as one.)
def _pair(opener: str, inside: str) -> str:
    return re.escape(opener) + inside + re.escape(_OPEN_TO_CLOSE[opener])


_NO_MARK = f"[^{re.escape(_NESTING_MARKS)}]"
_FLAT_PAIRS = {opener: _pair(opener, f"{_NO_MARK}*+") for opener in _OPEN_TO_CLOSE}


def _two_deep_pair(opener: str) -> str:
    inner = "|".join(p for o, p in _FLAT_PAIRS.items() if o != opener or o not in "“‘")
    return _pair(opener, f"(?:{_NO_MARK}++|{inner})*+")


_TO_SENTENCE_END = re.compile(
    rf"(?:[^{re.escape(_NESTING_MARKS + _TERMINAL)}…]++|(?<!…)…|"
    + "|".join(map(_two_deep_pair, _OPEN_TO_CLOSE))
    + rf")*+(?:([{re.escape(_TERMINAL)}]|(?<=…)…)|\Z)"
)


def cut_sentences(text: str) -> list[str]:
    """Cut a body paragraph after 。！？；(and half-width) outside brackets and quotes.

    A parenthetical that closes a sentence — responsibility or a short tag —
    stays with the sentence before it.
    """
    pieces: list[str] = []
    start = 0
    length = len(text)
    for cut in _sentence_ends(text):
        while cut < length and text[cut] in _CLOSERS_AND_WS:
            cut += 1  # closing quotes and brackets stay with their sentence
        if cut < length and text[cut] in _BRACKET_OPENERS:
            cut = _past_closing_parenthetical(text, cut)
        if cut > start:
            pieces.append(text[start:cut])
            start = cut
    if start < length:  # nothing is left after a final 。 (most paragraphs)
        pieces.append(text[start:])
    return _attach_closing_pieces(pieces)


def _sentence_ends(text: str) -> list[int]:
    """Offsets just after each 。！？；(or ……) that stands outside brackets and quotes."""
    ends: list[int] = []
    pos = 0
    while match := _TO_SENTENCE_END.match(text, pos):
        if match[1] is None:
            return ends  # the end of the text
        pos = match.end()
        ends.append(pos)
    return _nested_sentence_ends(text)  # a stray mark or deeper nesting (1 paragraph in 300)


def _nested_sentence_ends(text: str) -> list[int]:
    """`_sentence_ends` by walking a stack of open brackets and quotes: any text."""
    ends: list[int] = []
    stack: list[str] = []
    for match in _STRUCTURAL.finditer(text):
        ch = match[0]
        if ch in _OPEN_TO_CLOSE and not (ch in "“‘" and stack and stack[-1] == ch):
            stack.append(ch)
        elif ch in _CLOSE_TO_OPEN:
            opener = _CLOSE_TO_OPEN[ch]
            if opener in stack:
                while stack and stack.pop() != opener:
                    pass
        elif not stack and (
            ch in _TERMINAL or (ch == "…" and text[match.end() - 2 : match.end()] == "……")
        ):
            ends.append(match.end())
    return ends


def _attach_closing_pieces(pieces: list[str]) -> list[str]:
    """Blank pieces and lone bracket groups join the sentence before them; strip the rest."""
    merged: list[str] = []
    for piece in pieces:
        body = piece.strip(_WS)
        if merged and (
            not body or (body[0] in _BRACKET_OPENERS and _is_closing_parenthetical(body))
        ):
            merged[-1] += piece
        elif body:
            merged.append(piece)
    return [piece.strip(_WS) for piece in merged]


def _past_closing_parenthetical(text: str, cut: int) -> int:
    """Move a cut past a parenthetical that closes the sentence before it."""
    if cut >= len(text) or text[cut] not in _BRACKET_OPENERS or marker_of(text, cut):
        return cut
    depth = 0
    for match in _BRACKET.finditer(text, cut):
        if match[0] in _BRACKET_OPENERS:
            depth += 1
            continue
        depth -= 1
        if depth == 0:
            group = text[cut : match.end()]
            if _RESPONSIBILITY.search(group[1:]) or len(group) <= _TAG_MAX:
                end = match.end()
                while end < len(text) and text[end] in _STOPS_AND_WS:
                    end += 1
                return end
            return cut
    return cut


def _is_closing_parenthetical(piece: str) -> bool:
    """A piece that is one bracket group (maybe ending in 。): it belongs to the unit before."""
    body = piece.rstrip("。；;")
    if not body or body[0] not in _BRACKET_OPENERS or marker_of(body):
        return False
    close = _OPEN_TO_CLOSE.get(body[0], "")
    if body[-1] not in _BRACKET_CLOSERS:
        return False
    depth = 0
    last = len(body) - 1
    for match in _BRACKET.finditer(body):
        if match[0] in _BRACKET_OPENERS:
            depth += 1
        else:
            depth -= 1
            if depth == 0 and match.start() != last:
                return False
    return close != "" and depth == 0


def split_run_in_title(text: str, marker: Marker | None) -> tuple[str, str]:
    """`（一）强化学习贯彻。各级…` → (`（一）强化学习贯彻。`, `各级…`); else ("", text).

    A numbered title may stand alone (`（十）深化专项整治。`); an unnumbered one
    must be a bare name (`煤矿。`, `道路交通。`), as sector sub-titles are.
    """
    if marker is _MARKER_ARTICLE:
        return "", text  # an article has no title: its first sentence is already its rule
    number = _MARKERS_BY_KIND[marker].match(text) if marker is not None else None
    # Look for the title's full stop after the item number: `1.煤矿。` has a `.` of its own.
    first_end = _first_sentence_end(text, number.end() if number else 0)
    if first_end is None:
        return "", text
    first = text[:first_end].strip(_WS)
    if marker is not None:
        title = first[number.end() :] if number else first
        limit = _RUN_IN_TITLE_MAX
    else:
        title, limit = first, _BARE_TITLE_MAX
    if (
        2 <= len(title.rstrip("。.")) <= limit
        and first.endswith(("。", "."))
        and not _NOT_IN_TITLE.search(title)
        and (marker is not None or not _NOT_IN_BARE_TITLE.search(title))
    ):
        return first, text[first_end:].strip(_WS)
    return "", text


def _first_sentence_end(text: str, start: int = 0) -> int | None:
    """End of the first sentence when it ends in `。` outside brackets, else None."""
    match = _FULL_STOP.search(text, start, start + _RUN_IN_TITLE_MAX + 2)  # titles are short
    if match is None:
        return None
    head = text[: match.start()]
    return match.end() if _bracket_depth(head) == 0 and "“" not in head else None


_FULL_STOP = re.compile("[。.]")
_NOT_IN_TITLE = re.compile("[，,；;：:、“”（）()]")
_NOT_IN_BARE_TITLE = re.compile(r"[要应须将把\d]")
