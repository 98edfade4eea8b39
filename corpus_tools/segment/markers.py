"""Item numbers (`一、`, `（一）`, `1.`, `第一章` …) and how to read them off a line."""

from __future__ import annotations

import re
from enum import StrEnum

from corpus_tools.segment.marks import _CN_NUM


class Marker(StrEnum):
    """Numbering styles; their nesting order is learned per document."""

    CN_DUN = "cn_dun"  # 一、
    CN_PAREN = "cn_paren"  # （一）
    ARABIC = "arabic"  # 1. 1． 1、
    ARABIC_PAREN = "arabic_paren"  # （1）
    DECIMAL = "decimal"  # 3.1 (an enterprise rule's second level)
    CIRCLED = "circled"  # ①
    CHAPTER = "chapter"  # 第一章 (regulations)
    ARTICLE = "article"  # 第一条
    BOLD = "bold"  # unnumbered bold run-in title


_MAJOR_MARKERS = frozenset({Marker.CN_DUN, Marker.CN_PAREN})
_MARKERS: tuple[tuple[Marker, re.Pattern[str]], ...] = (
    (Marker.CN_DUN, re.compile(rf"^[{_CN_NUM}]{{1,3}}\s*、")),
    (Marker.CN_PAREN, re.compile(rf"^[（(]\s*[{_CN_NUM}]{{1,3}}\s*[)）]")),
    (Marker.ARABIC, re.compile(r"^\d{1,2}\s*[.．、](?!\d)")),
    (Marker.ARABIC_PAREN, re.compile(r"^[（(]\s*\d{1,2}\s*[)）]")),
    # `4.1风险评价方法`, `3.2 辨识范围`, but not a quantity (`1.5米`, `2.5倍`)
    (
        Marker.DECIMAL,
        re.compile(
            r"^\d{1,2}\.\d{1,2}(?![\d.%％])"
            r"(?:[ \u3000]+|(?![米倍万亿元吨秒分小时天年月日度级个人次毫厘千公平立兆克升周]))(?=[\u4e00-\u9fff])"
        ),
    ),
    (Marker.CIRCLED, re.compile(r"^[①-⑳]")),
    (Marker.CHAPTER, re.compile(rf"^第[{_CN_NUM}百零〇]{{1,4}}章")),
    (Marker.ARTICLE, re.compile(rf"^第[{_CN_NUM}百零〇]{{1,4}}条")),
)


# Plain names for hot loops: see `records` (enum attribute lookup is slow on 3.11).
_MARKER_CHAPTER, _MARKER_ARTICLE = Marker.CHAPTER, Marker.ARTICLE
_MARKER_CN_DUN, _MARKER_BOLD = Marker.CN_DUN, Marker.BOLD
_MARKERS_BY_KIND = dict(_MARKERS)


_ANY_MARKER = re.compile(
    "|".join(
        f"(?P<{marker.value}>{pattern.pattern.removeprefix('^')})" for marker, pattern in _MARKERS
    )
)


_MARKER_BY_GROUP = {marker.value: marker for marker in Marker}  # a dict is faster than Marker(…)


def marker_of(text: str, pos: int = 0) -> Marker | None:
    """The numbering style that starts `text` at `pos`, if any."""
    match = _ANY_MARKER.match(text, pos)
    return _MARKER_BY_GROUP[match.lastgroup] if match else None


def strip_item_marker(text: str) -> str:
    """`text` without the item number that starts it (`3.`, `（十一）`, `二、`)."""
    match = _ANY_MARKER.match(text)
    return text[match.end() :].lstrip() if match else text
