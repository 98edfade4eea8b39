"""Punctuation, brackets and quotes: the marks every stage reads text by."""

from __future__ import annotations

import re
from functools import cache

_WS = " \t\u3000\u2003\u2002\u00a0\ufeff"
_TERMINAL = "。！？；!?;"
_CLOSERS = "”’」』）)】〕]》"
_OPEN_TO_CLOSE = {
    "（": "）",
    "(": ")",
    "〔": "〕",
    "【": "】",
    "[": "]",
    "“": "”",
    "‘": "’",
    "「": "」",
    "《": "》",
    "［": "］",
}
_CLOSE_TO_OPEN = {v: k for k, v in _OPEN_TO_CLOSE.items()}
_CLOSERS_AND_WS = _CLOSERS + _WS
_PARAGRAPH_END = _TERMINAL + "：:"
_LIST_COMMA = re.compile("[，,、]")
_SENTENCE_OR_LEAD_IN_END = re.compile("[。！？；!?;：:]")
_NESTING_MARKS = "（）()〔〕【】[]［］“”‘’「」《》"
_STRUCTURAL = re.compile(f"[{re.escape(_NESTING_MARKS + _TERMINAL)}…]")
_BRACKET_OPENERS = "（(〔【[［"
_BRACKET_CLOSERS = "）)〕】]］"
_NESTING = re.compile(r"[（(〔【\[［《）)〕】\]］》]")  # what `_bracket_depth` counts
_BRACKET = re.compile(f"[{re.escape(_BRACKET_OPENERS + _BRACKET_CLOSERS)}]")
_STOPS_AND_WS = "。；;" + _WS
_SENTENCE_OR_CLAUSE_END = re.compile("[。！？；!?;，,]")

_CN_NUM = "一二三四五六七八九十"


def _has_terminal(text: str) -> bool:
    return _SENTENCE_OR_CLAUSE_END.search(text) is not None


def _balanced(text: str) -> bool:
    return _bracket_depth(text) == 0


def _bracket_depth(text: str) -> int:
    depth = 0
    for ch in _NESTING.findall(text):
        if ch in _BRACKET_OPENERS or ch == "《":
            depth += 1
        elif depth > 0:
            depth -= 1  # a stray closer does not go below zero
    return depth


def _split_list(text: str, *, separators: str) -> list[str]:
    """Split on separators that stand outside brackets: `各县（市、区）政府` stays whole."""
    items, depth, start = [], 0, 0
    for match in _list_marks(separators).finditer(text):
        ch = match[0]
        if ch in _BRACKET_OPENERS:
            depth += 1
        elif ch in _BRACKET_CLOSERS:
            depth = max(0, depth - 1)
        elif depth == 0:
            items.append(text[start : match.start()])
            start = match.end()
    items.append(text[start:])
    return [item.strip(_WS) for item in items if item.strip(_WS)]


@cache
def _list_marks(separators: str) -> re.Pattern[str]:
    """The characters `_split_list` acts on (brackets and separators); the rest it skips."""
    return re.compile(f"[{re.escape(_BRACKET_OPENERS + _BRACKET_CLOSERS + separators)}]")
