"""What changed between two notices of one issuer and genre: measures new,
dropped or carried over, matched by text similarity.

Only notices of one genre (年度工作通知 …) and one series (titles alike, years left
out) are compared: an issuer's notices of two genres, or two laws of one legislature,
are on unrelated subjects, and matching them reads as nearly all new and dropped. A
notice with no genre is not compared.

Method: the measures (units whose type is not `other`) of both notices become
TF-IDF vectors of character bigrams (fitted on the two notices together, so
words both share weigh less); pairs are matched one to one, most similar
first, while their cosine similarity is at least `THRESHOLD`. A matched
measure is carried over; a measure of the later notice left unmatched is new,
one of the earlier notice dropped. Character bigrams need no word segmenter
and catch re-worded sentences that keep their key terms (`隐患排查` …).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import polars as pl

from corpus_tools.report.tables import measures

# Set on the 晋政发 2025 → 2026 pair: from 0.35 up, matches are the same measure
# re-worded (隐患报告奖励机制 ↔ 隐患报告奖励制度); below 0.3, neighbours in topic only.
THRESHOLD = 0.35
METHOD = (
    "cosine similarity of character-bigram TF-IDF vectors (fitted on the two notices), "
    f"pairs matched one to one, most similar first, at similarity ≥ {THRESHOLD}"
)


class ChangeStatus(StrEnum):
    NEW = "new"
    DROPPED = "dropped"
    CARRIED_OVER = "carried over"


@dataclass(frozen=True, slots=True)
class NoticePair:
    issuer: str
    genre: str
    earlier_doc: str
    earlier: str  # notice label
    later_doc: str
    later: str


@dataclass(frozen=True, slots=True)
class Change:
    issuer: str
    earlier: str
    later: str
    status: ChangeStatus
    measure_type: str  # the later measure's type (the earlier's when dropped)
    text: str
    matched_text: str  # the measure it was matched to, or the closest one below the threshold
    similarity: float  # of that pair (0 when the other notice has no measure)
    type_changed: bool  # carried over under another measure type


def notice_pairs(units: pl.DataFrame, *, max_pairs: int = 3) -> list[NoticePair]:
    """For each issuer with notices of one genre in two or more years (most
    years first, at most `max_pairs`), in its genre with the most years: the
    latest notice of that genre and the latest of an earlier year."""
    notices = (
        measures(units)
        .filter(pl.col("year").is_not_null() & (pl.col("issuer") != "") & (pl.col("genre") != ""))
        .group_by("issuer", "genre", "year", "doc_id", "notice")
        .agg(pl.len().alias("units"), pl.col("title").fill_null("").first())
        .sort(
            ["issuer", "genre", "year", "units", "doc_id"],
            descending=[False, False, True, True, False],
        )
    )
    series = (
        notices.group_by("issuer", "genre")
        .agg(pl.col("year").n_unique().alias("years"), pl.col("units").sum())
        .filter(pl.col("years") >= 2)
        .sort(["issuer", "years", "units", "genre"], descending=[False, True, True, False])
        .unique("issuer", keep="first", maintain_order=True)  # an issuer's longest series
        .sort(["years", "issuer"], descending=[True, False])
        .head(max_pairs)
    )
    pairs = []
    for issuer, genre in series.select("issuer", "genre").iter_rows():
        mine = notices.filter((pl.col("issuer") == issuer) & (pl.col("genre") == genre))
        later = mine.row(0, named=True)
        earlier = next(
            (
                row
                for row in mine.filter(pl.col("year") < later["year"]).iter_rows(named=True)
                if same_series(row["title"], later["title"])
            ),
            None,
        )
        if earlier is None:
            continue  # two laws of one legislature, on two subjects: nothing to compare
        pairs.append(
            NoticePair(
                issuer,
                genre,
                earlier["doc_id"],
                earlier["notice"],
                later["doc_id"],
                later["notice"],
            )
        )
    return pairs


_TITLE_NUMBERS = re.compile(r"[0-9０-９〇零一二三四五六七八九十]+|\s+")
# Jaccard of the titles' character bigrams. Set on the 晋政发 series (`山西省人民政府关于做好
# 2017年安全生产工作的通知` ↔ `关于做好2025年安全生产工作的通知`: 0.65; `……关于2024年安全生产工作的
# 意见` ↔ the 2025 `通知`: 0.35) against laws of one issuer on two subjects (宁波 `学校安全条例` ↔
# `生产经营单位安全生产主体责任规定`: 0.14; 令第86号 ↔ 令第92号: 0.11).
SERIES_SIMILARITY = 0.3


def same_series(earlier_title: str, later_title: str) -> bool:
    """Whether two notices of one issuer and genre are one series (the yearly notice
    and the last year's) by their titles, years and numbers left out; a notice with no
    title could be either, so it counts."""
    a, b = (_bigrams(_TITLE_NUMBERS.sub("", t)) for t in (earlier_title, later_title))
    if not a or not b:
        return True
    return len(a.keys() & b.keys()) / len(a.keys() | b.keys()) >= SERIES_SIMILARITY


def _bigrams(text: str) -> Counter[str]:
    text = re.sub(r"\s+", "", text)
    return Counter(text[k : k + 2] for k in range(len(text) - 1))


def _similarities(earlier: list[str], later: list[str]) -> np.ndarray:
    """Cosine similarities (earlier × later) of character-bigram TF-IDF vectors,
    idf smoothed as `ln((1 + n) / (1 + df)) + 1`, rows L2-normalised."""
    counts = [_bigrams(t) for t in earlier + later]
    vocabulary = {gram: k for k, gram in enumerate(sorted(set().union(*counts)))}
    matrix = np.zeros((len(counts), max(len(vocabulary), 1)))
    for row, grams in enumerate(counts):
        for gram, count in grams.items():
            matrix[row, vocabulary[gram]] = count
    document_frequency = (matrix > 0).sum(axis=0)
    matrix *= np.log((1 + len(counts)) / (1 + document_frequency)) + 1
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix /= np.where(norms == 0, 1, norms)
    return matrix[: len(earlier)] @ matrix[len(earlier) :].T


@dataclass(frozen=True, slots=True)
class Matching:
    """Indices into the earlier/later measure lists: matched pairs (carried
    over) and the rest, each with its closest counterpart (-1 if none)."""

    carried: tuple[tuple[int, int, float], ...]  # (earlier i, later j, similarity)
    new: tuple[tuple[int, int, float], ...]  # (later j, closest earlier i, similarity)
    dropped: tuple[tuple[int, int, float], ...]  # (earlier i, closest later j, similarity)


def match_measures(
    earlier: list[str], later: list[str], *, threshold: float = THRESHOLD
) -> Matching:
    """Match the texts of two notices' measures (see the module docstring)."""
    if not earlier or not later:
        return Matching(
            (),
            tuple((j, -1, 0.0) for j in range(len(later))),
            tuple((i, -1, 0.0) for i in range(len(earlier))),
        )
    sims = _similarities(earlier, later)
    used_earlier: set[int] = set()
    used_later: set[int] = set()
    carried = []
    for flat in sims.ravel().argsort(kind="stable")[::-1]:
        i, j = divmod(int(flat), sims.shape[1])
        if sims[i, j] < threshold:
            break
        if i in used_earlier or j in used_later:
            continue
        used_earlier.add(i)
        used_later.add(j)
        carried.append((i, j, float(sims[i, j])))
    new = tuple(
        (j, int(sims[:, j].argmax()), float(sims[:, j].max()))
        for j in range(len(later))
        if j not in used_later
    )
    dropped = tuple(
        (i, int(sims[i].argmax()), float(sims[i].max()))
        for i in range(len(earlier))
        if i not in used_earlier
    )
    return Matching(tuple(sorted(carried, key=lambda p: p[1])), new, dropped)


def changes_between(
    units: pl.DataFrame, pair: NoticePair, *, threshold: float = THRESHOLD
) -> list[Change]:
    def measures_of(doc_id: str) -> list[tuple[str, str]]:
        rows = measures(units).filter(pl.col("doc_id") == doc_id).sort("unit_index")
        return list(zip(rows["measure_type"], rows["text"], strict=True))

    earlier, later = measures_of(pair.earlier_doc), measures_of(pair.later_doc)
    matching = match_measures([t for _, t in earlier], [t for _, t in later], threshold=threshold)
    base = {"issuer": pair.issuer, "earlier": pair.earlier, "later": pair.later}

    def text_at(measures_list: list[tuple[str, str]], index: int) -> str:
        return measures_list[index][1] if index >= 0 else ""

    changes = [
        Change(
            **base,
            status=ChangeStatus.CARRIED_OVER,
            measure_type=later[j][0],
            text=later[j][1],
            matched_text=earlier[i][1],
            similarity=round(sim, 3),
            type_changed=later[j][0] != earlier[i][0],
        )
        for i, j, sim in matching.carried
    ]
    changes += [
        Change(
            **base,
            status=ChangeStatus.NEW,
            measure_type=later[j][0],
            text=later[j][1],
            matched_text=text_at(earlier, i),
            similarity=round(sim, 3),
            type_changed=False,
        )
        for j, i, sim in matching.new
    ]
    changes += [
        Change(
            **base,
            status=ChangeStatus.DROPPED,
            measure_type=earlier[i][0],
            text=earlier[i][1],
            matched_text=text_at(later, j),
            similarity=round(sim, 3),
            type_changed=False,
        )
        for i, j, sim in matching.dropped
    ]
    return changes


CHANGE_SCHEMA = {
    "issuer": pl.String,
    "earlier": pl.String,
    "later": pl.String,
    "status": pl.String,
    "measure_type": pl.String,
    "text": pl.String,
    "matched_text": pl.String,
    "similarity": pl.Float64,
    "type_changed": pl.Boolean,
}


def changes_frame(changes: list[Change]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {name: getattr(c, name) for name in CHANGE_SCHEMA} | {"status": c.status.value}
            for c in changes
        ],
        schema=CHANGE_SCHEMA,
    )


def changes_by_measure_type(changes: pl.DataFrame) -> pl.DataFrame:
    return (
        changes.group_by("issuer", "earlier", "later", "measure_type", "status")
        .agg(pl.len().alias("units"))
        .sort("issuer", "measure_type", "status")
    )
