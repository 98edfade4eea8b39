"""Responsibility parentheticals (`（责任单位：市应急局、市消防救援局）`) and the bodies they name."""

from __future__ import annotations

import re

from corpus_tools.segment.markers import marker_of
from corpus_tools.segment.marks import _BRACKET, _BRACKET_CLOSERS, _STOPS_AND_WS, _WS, _split_list

_RESPONSIBILITY = re.compile(
    r"^(责任(单位|部门|主体)|牵头(单位|部门)|配合(单位|部门)|主责(单位|部门))\s*[:：]|负责|牵头|落实|配合"
)
_ROLE_PREFIX = re.compile(
    r"^(责任(单位|部门|主体)|牵头(单位|部门)|配合(单位|部门)|主责(单位|部门))\s*[:：]\s*"
)
_ROLE_SUFFIXES = (
    "按职责分工负责",
    "按职责负责",
    "分工负责",
    "指导督促落实",
    "督促落实",
    "负责落实",
    "共同负责",
    "负责",
    "牵头",
    "配合",
    "参与",
    "落实",
)
_ROLE_SUFFIX = re.compile(f"({'|'.join(_ROLE_SUFFIXES)})$")
# Words that end an organisation's name; alone they name no body.
_BARE_ORG_WORDS = (
    "单位",
    "政府",
    "部门",
    "局",
    "委",
    "会",
    "办",
    "厅",
    "中心",
    "公司",
    "集团",
    "企业",
)
_AND_AFTER_ORG = re.compile("(?:" + "|".join(f"(?<={s})" for s in _BARE_ORG_WORDS) + ")和")
_ETC_BODIES = re.compile("等(有关)?(部门|单位)?$")


def responsible_bodies(parenthetical: str) -> tuple[str, ...]:
    """Bodies named in a responsibility parenthetical, each on its own, role words removed."""
    inner = parenthetical.strip(_WS + "。；;")[1:-1].split("。", 1)[0]
    bodies = []
    for clause in _split_list(inner, separators="；;，,、"):
        clause = _ROLE_PREFIX.sub("", clause.strip(_WS))
        for part in _AND_AFTER_ORG.split(clause) if "和" in clause else (clause,):
            name = _without_role_suffix(_without_role_suffix(part))
            if "等" in name:
                name = _ETC_BODIES.sub("", name).strip(_WS)
            if name and name not in bodies and len(name) >= 2:
                bodies.append(name)
    return tuple(b for b in bodies if b not in _BARE_ORG_WORDS)


def _without_role_suffix(name: str) -> str:
    name = name.strip(_WS)
    # The endswith test is exact: the suffix pattern is anchored at the end.
    return _ROLE_SUFFIX.sub("", name).strip(_WS) if name.endswith(_ROLE_SUFFIXES) else name


def _closing_parenthetical(sentence: str) -> str:
    """The responsibility parenthetical that ends this sentence, or ""."""
    stripped = sentence.rstrip(_STOPS_AND_WS)
    if not stripped or stripped[-1] not in _BRACKET_CLOSERS:
        return ""
    depth = 0
    for index in reversed([match.start() for match in _BRACKET.finditer(stripped)]):
        if stripped[index] in _BRACKET_CLOSERS:
            depth += 1
            continue
        depth -= 1
        if depth == 0:
            group = stripped[index:]
            if index > 0 and _RESPONSIBILITY.search(group[1:-1]) and marker_of(group) is None:
                return group
            return ""
    return ""
