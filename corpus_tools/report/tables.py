"""The tables behind the charts, as polars frames over the loaded units.

Each is written beside the page as CSV and Parquet; the charts draw from them
and nothing else, so a number on a chart can be found in its table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import polars as pl

from corpus_tools.bodies import BodyAliases, body_key
from corpus_tools.schema import MEASURE_TYPE_NAMES_ZH, MeasureType

NOT_A_MEASURE = MeasureType.OTHER.value
MEASURE_NAMES: dict[str, str] = {m.value: name for m, name in MEASURE_TYPE_NAMES_ZH.items()}
NO_VALUE = "(none)"


class GroupBy(StrEnum):
    ISSUER = "issuer"
    YEAR = "year"
    SECTOR = "sector"
    GENRE = "genre"


class DeadlineStatus(StrEnum):
    DATED = "dated"
    RELATIVE = "relative"
    NOT_NORMALISED = "not normalised"


# A frequency span's words → the period it demands (first match wins).
FREQUENCY_PERIODS: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r"小时", "每小时"),
        (r"班", "每班"),
        (r"半年", "每半年"),
        (r"[0-9一二两三四五]\s*至\s*[0-9一二两三四五六七八九十]\s*年", "每数年"),
        (r"[两二]年", "每两年"),
        (r"三年", "每三年"),
        (r"季", "每季度"),
        (r"旬", "每旬"),
        (r"周|星期", "每周"),
        (r"[两二]个?月", "每两月"),
        (r"月", "每月"),
        (r"[日天]", "每日"),
        (r"年", "每年"),
    )
)
OTHER_PERIOD = "其他"


def frequency_period(text: str) -> str:
    return next((name for pattern, name in FREQUENCY_PERIODS if pattern.search(text)), OTHER_PERIOD)


_YEAR = pl.coalesce(
    pl.col("date").str.extract(r"^(\d{4})"),
    pl.col("doc_number").str.extract(r"[〔\[(（](\d{4})[〕\])）]"),
    pl.col("title").str.extract(r"(\d{4})年"),
    pl.col("doc_id").str.extract(r"#(\d{4})"),
).cast(pl.Int32)


@dataclass(frozen=True, slots=True)
class Notice:
    doc_id: str
    label: str
    issuer: str
    year: int | None
    units: int


def with_notice_columns(units: pl.DataFrame, by: GroupBy) -> pl.DataFrame:
    """`units` plus `year` (date, doc number, title or `#YYYY` of the doc id,
    taken once per notice), `notice` (a readable unique label) and `group`."""
    per_notice = (
        units.with_columns(_YEAR.alias("year"))
        .group_by("doc_id", maintain_order=True)
        .agg(
            pl.col("year").drop_nulls().first(),
            pl.col("issuer").filter(pl.col("issuer") != "").first().fill_null(""),
            pl.col("doc_number").filter(pl.col("doc_number") != "").first().fill_null(""),
            pl.col("title").filter(pl.col("title") != "").first().fill_null(""),
        )
        .with_columns(
            pl.concat_str(
                pl.col("year").cast(pl.String).fill_null("—"),
                pl.when(pl.col("issuer") != "").then(pl.col("issuer")).otherwise(pl.lit("?")),
                pl.when(pl.col("doc_number") != "")
                .then(pl.col("doc_number"))
                .when(pl.col("title") != "")
                .then(pl.col("title").str.slice(0, 24))
                .otherwise(pl.col("doc_id")),
                separator=" · ",
            ).alias("notice")
        )
        .with_columns(
            pl.when(pl.col("notice").is_duplicated())
            .then(pl.concat_str(pl.col("notice"), pl.lit(" ["), pl.col("doc_id"), pl.lit("]")))
            .otherwise(pl.col("notice"))
            .alias("notice")
        )
        .select("doc_id", "year", "notice")
    )
    enriched = units.join(per_notice, on="doc_id", how="left", maintain_order="left")
    group = pl.col(by.value).cast(pl.String)
    return enriched.with_columns(
        pl.when(group.is_null() | (group == ""))
        .then(pl.lit(NO_VALUE))
        .otherwise(group)
        .alias("group")
    )


def _named(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("measure_type")
        .replace_strict(MEASURE_NAMES, default=pl.col("measure_type"))
        .alias("measure_name")
    )


def measures(units: pl.DataFrame) -> pl.DataFrame:
    return units.filter(pl.col("measure_type") != NOT_A_MEASURE)


def measure_mix_by_notice(units: pl.DataFrame) -> pl.DataFrame:
    counted = (
        measures(units)
        .group_by("doc_id", "notice", "issuer", "year", "measure_type")
        .agg(pl.len().alias("units"))
        .with_columns((pl.col("units") / pl.col("units").sum().over("doc_id")).alias("share"))
        .sort("year", "notice", "measure_type", nulls_last=True)
    )
    return _named(counted)


def measure_mix_by_group(units: pl.DataFrame, by: GroupBy) -> pl.DataFrame:
    counted = (
        measures(units)
        .group_by("group", "measure_type")
        .agg(pl.len().alias("units"), pl.col("doc_id").n_unique().alias("notices"))
        .with_columns((pl.col("units") / pl.col("units").sum().over("group")).alias("share"))
        .sort("group", "measure_type")
        .rename({"group": by.value})
    )
    return _named(counted)


def series_issuer(units: pl.DataFrame, *, min_years: int = 3) -> str | None:
    """The issuer with notices in the most distinct years (at least `min_years`)."""
    years = (
        units.filter(pl.col("year").is_not_null() & (pl.col("issuer") != ""))
        .group_by("issuer")
        .agg(pl.col("year").n_unique().alias("years"), pl.len().alias("units"))
        .filter(pl.col("years") >= min_years)
        .sort(["years", "units", "issuer"], descending=[True, True, False])
    )
    return years["issuer"][0] if years.height else None


def measure_share_by_year(units: pl.DataFrame, issuer: str) -> pl.DataFrame:
    """Share of each measure type among `issuer`'s measures, year by year
    (a type absent in a year is there with share 0, so a line drops to it)."""
    mine = measures(units).filter((pl.col("issuer") == issuer) & pl.col("year").is_not_null())
    counted = mine.group_by("year", "measure_type").agg(pl.len().alias("units"))
    grid = (
        mine.select("year")
        .unique()
        .join(mine.select("measure_type").unique(), how="cross")
        .join(counted, on=["year", "measure_type"], how="left")
        .with_columns(pl.col("units").fill_null(0))
        .with_columns(
            (pl.col("units") / pl.col("units").sum().over("year")).alias("share"),
            pl.lit(issuer).alias("issuer"),
        )
        .select("issuer", "year", "measure_type", "units", "share")
        .sort("year", "measure_type")
    )
    return _named(grid)


def body_mentions(units: pl.DataFrame, aliases: BodyAliases) -> pl.DataFrame:
    """One row per (unit, normalised body) named as RESPONSIBLE_BODY, with the
    name as written (`as_written`) and whether the alias table changed it."""
    spans = (
        units.select("unit_id", "doc_id", "measure_type", "spans")
        .explode("spans")
        .drop_nulls("spans")
        .unnest("spans")
        .filter(pl.col("label") == "RESPONSIBLE_BODY")
        .select("unit_id", "doc_id", "measure_type", pl.col("text").alias("as_written"))
    )
    names = pl.DataFrame(
        [
            (name, aliases.normalise(name), body_key(name) in aliases.table)
            for name in spans["as_written"].unique().to_list()
        ],
        schema={"as_written": pl.String, "body": pl.String, "aliased": pl.Boolean},
        orient="row",
    )
    return spans.join(names, on="as_written", how="left", maintain_order="left")


def bodies_by_measure_type(mentions: pl.DataFrame) -> pl.DataFrame:
    distinct = mentions.unique(["unit_id", "body"])
    counted = (
        distinct.group_by("body", "measure_type")
        .agg(pl.len().alias("units"))
        .with_columns(pl.col("units").sum().over("body").alias("body_units"))
        .sort(["body_units", "body", "measure_type"], descending=[True, False, False])
    )
    return _named(counted)


def aliases_applied(mentions: pl.DataFrame, aliases: BodyAliases) -> pl.DataFrame:
    """Every alias of the table with how many mentions it merged here."""
    used = (
        mentions.filter(pl.col("aliased"))
        .with_columns(
            pl.col("as_written").map_elements(body_key, return_dtype=pl.String).alias("alias")
        )
        .group_by("alias")
        .agg(pl.len().alias("mentions"))
    )
    table = pl.DataFrame(
        {"alias": list(aliases.table), "canonical": list(aliases.table.values())},
        schema={"alias": pl.String, "canonical": pl.String},
    )
    return (
        table.join(used, on="alias", how="left")
        .with_columns(pl.col("mentions").fill_null(0).cast(pl.UInt32))
        .sort(["mentions", "alias"], descending=[True, False])
    )


def deadlines(units: pl.DataFrame) -> pl.DataFrame:
    """Every normalised deadline with its unit; `status` says whether it has a
    date (on the timeline), is relative (`3个月内`) or could not be normalised."""
    rows = (
        units.select("unit_id", "doc_id", "notice", "group", "measure_type", "text", "deadlines")
        .rename({"text": "unit_text"})
        .explode("deadlines")
        .drop_nulls("deadlines")
        .unnest("deadlines")
        .rename({"text": "expression"})
        .with_columns(
            pl.when(pl.col("date").is_not_null())
            .then(pl.lit(DeadlineStatus.DATED.value))
            .when(pl.col("relative").is_not_null())
            .then(pl.lit(DeadlineStatus.RELATIVE.value))
            .otherwise(pl.lit(DeadlineStatus.NOT_NORMALISED.value))
            .alias("status")
        )
        .select(
            "doc_id",
            "notice",
            "group",
            "unit_id",
            "measure_type",
            "expression",
            "date",
            "date_start",
            "relative",
            "status",
            "unit_text",
        )  # fmt: skip
    )
    return _named(rows)


def deadline_points(deadline_rows: pl.DataFrame) -> pl.DataFrame:
    """Dated deadlines of measures per (date, group, measure type): the
    timeline's points, each with one unit's text as an example for the hover.
    `other` units are left out, as in the bodies and frequencies charts."""
    dated = measures(deadline_rows).filter(pl.col("status") == DeadlineStatus.DATED.value)
    return (
        dated.group_by("date", "group", "measure_type", "measure_name")
        .agg(
            pl.len().alias("deadlines"),  # a unit with two deadlines on one date counts twice
            pl.col("expression").first().alias("expression"),
            pl.col("unit_text").first().str.slice(0, 80).alias("example"),
        )
        .sort("date", "group", "measure_type")
    )


def frequencies_by_measure_type(units: pl.DataFrame) -> pl.DataFrame:
    spans = (
        units.select("unit_id", "measure_type", "spans")
        .explode("spans")
        .drop_nulls("spans")
        .unnest("spans")
        .filter(pl.col("label") == "FREQUENCY")
    )
    periods = {text: frequency_period(text) for text in spans["text"].unique().to_list()}
    counted = (
        spans.with_columns(
            pl.col("text").replace_strict(periods, return_dtype=pl.String).alias("frequency")
        )
        .group_by("measure_type", "frequency")
        .agg(
            pl.col("unit_id").n_unique().alias("units"),
            pl.col("text").unique().sort().str.join("、").alias("as_written"),
        )
        .sort("measure_type", "frequency")
    )
    return _named(counted)
