"""Deadline normalisation, table-driven over expressions found in the corpus."""

from __future__ import annotations

import pytest

from corpus_tools.deadlines import (
    DEADLINE_CUE,
    DEADLINE_PATTERN,
    SPRING_FESTIVAL,
    cn_to_int,
    deadline_for,
    find_deadlines,
    find_frequencies,
    normalise,
    notice_year_of,
    recurs,
)

# (expression as it stands in the source, notice date, date, date_start, relative)
# Sources: data/notices/000 (大同 2025-03-06), 001 (垣曲 2025-03-06), 002 (太原
# 2025-04-03), 003 (晋政发 2009–2026, one notice a year), data/new-notices/01
# (安委 2024), 02 (鲁安发 2024-01-21), 03 (泰安 2024-03-24), 04 (国能 2021-12-06).
REAL_EXPRESSIONS = [
    ("年底前", "2025-03-06", "2025-12-31", None, None),  # 000
    ("年底前", "2025-04-03", "2025-12-31", None, None),  # 002
    ("要在年底前", "2016-01-20", "2016-12-31", None, None),  # 003 (在 left out)
    ("2025年6月底前", "2025-03-06", "2025-06-30", None, None),  # 000
    ("2025年 6月底前", "2025-01-10", "2025-06-30", None, None),  # 003, space as in PDF
    ("6月底前", "2022-01-15", "2022-06-30", None, None),  # 003 (2022)
    ("10月底前", "2017-01-15", "2017-10-31", None, None),  # 003 (2017)
    ("2016年年底前", "2016-01-20", "2016-12-31", None, None),  # 003
    ("2016年年底之前", "2016-01-20", "2016-12-31", None, None),  # 003
    ("在 2016年年底之前", "2016-01-20", "2016-12-31", None, None),  # 003
    ("2015年年底前", "2015-01-20", "2015-12-31", None, None),  # 003
    ("2018年年底前", "2018-01-20", "2018-12-31", None, None),  # 003
    ("2017年底前", "2017-01-15", "2017-12-31", None, None),  # 003
    ("2024年底前", "2024-01-09", "2024-12-31", None, None),  # new-notices/01
    ("2025年底前", "2024-01-09", "2025-12-31", None, None),  # new-notices/01
    ("2026年底前", "2024-01-09", "2026-12-31", None, None),  # new-notices/01
    ("2010年 4月底前", "2010-01-20", "2010-04-30", None, None),  # 003
    ("2013年 9月底前", "2013-01-31", "2013-09-30", None, None),  # 003
    ("2016年 3月底前", "2016-01-20", "2016-03-31", None, None),  # 003
    ("2016年 4月底前", "2016-01-20", "2016-04-30", None, None),  # 003
    ("2016年 8月底前", "2016-01-20", "2016-08-31", None, None),  # 003
    ("2017年 6月底前", "2017-01-15", "2017-06-30", None, None),  # 003
    ("2017年 7月底前", "2017-01-15", "2017-07-31", None, None),  # 003
    ("2018年 2月底前", "2018-01-20", "2018-02-28", None, None),  # 003
    ("确保年底", "2021-01-20", "2021-12-31", None, None),  # 003 (2021)
    ("年内", "2023-01-15", "2023-12-31", None, None),  # 003 (2023)
    ("确保年内", "2019-01-15", "2019-12-31", None, None),  # 003
    ("1小时内", "2011-01-20", None, None, "PT1H"),  # 003
    ("三年内", "2018-01-20", None, None, "P3Y"),  # 003
    ("3个月之内", "2025-03-06", None, None, "P3M"),  # 000
    ("6个月之内", "2025-03-06", None, None, "P6M"),  # 000
    ("2021年12月10日前", "2021-12-06", "2021-12-10", None, None),  # new-notices/04
    ("于2022年3月31日前", "2021-12-06", "2022-03-31", None, None),  # new-notices/04
    ("2021年12月11日至2022年3月25日", "2021-12-06", "2022-03-25", "2021-12-11", None),  # 04
    ("从即日起至春节前", "2024-01-21", "2024-02-09", "2024-01-21", None),  # new-notices/02
    ("必须在春节前", "2024-01-21", "2024-02-09", None, None),  # new-notices/02
    ("自即日起至 4 月 8 日", "2024-03-24", "2024-04-08", "2024-03-24", None),  # new-notices/03
    ("汛期之前", "2010-01-20", None, None, None),  # 003: flood season differs by region
    ("汛期前", "2017-01-15", None, None, None),  # 003
]

# Forms the guidelines name that the sample corpus does not happen to contain.
GUIDELINE_EXPRESSIONS = [
    ("到2027年底", "2025-03-06", "2027-12-31", None, None),
    ("力争年底前", "2025-03-06", "2025-12-31", None, None),
    ("2025年", "2025-03-06", "2025-12-31", "2025-01-01", None),  # a year timing one measure
    ("3个月内", "2025-03-06", None, None, "P3M"),
    ("今年底前", "2025-03-06", "2025-12-31", None, None),
    ("明年6月底前", "2025-03-06", "2026-06-30", None, None),
    ("第三季度末前", "2025-03-06", "2025-09-30", "2025-07-01", None),
    ("上半年", "2025-03-06", "2025-06-30", "2025-01-01", None),
    ("下半年", "2025-03-06", "2025-12-31", "2025-07-01", None),
    ("国庆节前", "2025-03-06", "2025-09-30", None, None),
    ("元旦前", "2025-03-06", "2025-12-31", None, None),
    ("３月底前", "2025-01-06", "2025-03-31", None, None),  # full-width digit
    ("二〇二五年底前", "2025-01-06", "2025-12-31", None, None),
    ("十二月底前", "2025-01-06", "2025-12-31", None, None),
    ("6月中旬前", "2025-01-06", "2025-06-20", None, None),
    ("7天内", None, None, None, "P7D"),
    ("2周内", None, None, None, "P2W"),
    ("3月底前", "2025-12-10", "2026-03-31", None, None),  # already past → next year's
    ("春节前", "2025-03-06", "2026-02-16", None, None),  # this year's is past → next
]


@pytest.mark.parametrize(
    ("text", "notice_date", "date", "date_start", "relative"),
    REAL_EXPRESSIONS + GUIDELINE_EXPRESSIONS,
)
def test_normalise(text, notice_date, date, date_start, relative):
    got = normalise(text, notice_date=notice_date)
    assert (got.date, got.date_start, got.relative) == (date, date_start, relative)


def test_table_has_thirty_real_distinct_expressions():
    assert len({row[0] for row in REAL_EXPRESSIONS}) >= 30


@pytest.mark.parametrize("text", ["年底前", "6月底前", "年内", "春节前", "确保年底"])
def test_yearless_expression_without_notice_date_is_not_resolved(text):
    got = normalise(text, notice_date=None)
    assert got.date is None and got.relative is None


@pytest.mark.parametrize(
    "text", ["限期整改", "为期一年", "定期", "", "  ", "13月底前", "2月30日前"]
)
def test_not_normalisable_gives_null(text):
    got = normalise(text, notice_date="2025-03-06")
    assert got.date is None and got.relative is None


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("年底前", "2017-12-31"),
        ("10月底前", "2017-10-31"),
        ("年内", "2017-12-31"),
        ("明年底前", "2018-12-31"),
    ],
)
def test_a_notice_with_a_year_but_no_date_resolves_what_needs_only_the_year(text, date):
    assert normalise(text, notice_date=None, notice_year=2017).date == date


@pytest.mark.parametrize("text", ["春节前", "本月底前", "即日起至本月底", "自即日起"])
def test_what_counts_from_a_day_needs_the_notice_date(text):
    got = normalise(text, notice_date=None, notice_year=2017)
    assert got.date is None and got.date_start is None


def test_this_month_is_the_notice_dates_month():
    assert normalise("本月底前", notice_date="2024-01-11").date == "2024-01-31"
    got = normalise("自即日起至本月底", notice_date="2024-01-11")
    assert (got.date_start, got.date) == ("2024-01-11", "2024-01-31")


@pytest.mark.parametrize(
    ("date", "doc_number", "title", "year"),
    [
        ("2019-02-01", "晋政发〔2017〕1号", "", 2019),  # the date first
        (None, "晋政发〔2017〕1号", "关于做好2018年安全生产工作的通知", 2017),
        (None, "晋政发[2016]3号", "", 2016),
        (None, "", "关于做好2018年安全生产工作的通知", 2018),
        (None, "", "关于加强冬季安全生产工作的通知", None),
    ],
)
def test_notice_year_of(date, doc_number, title, year):
    assert notice_year_of(date=date, doc_number=doc_number, title=title) == year


@pytest.mark.parametrize(
    ("doc_id", "year"),
    [("003_5b1f#2010", 2010), ("003_5b1f#2024-2", 2024), ("01_plan", None), ("a#b", None)],
)
def test_notice_year_of_a_notice_in_a_multi_notice_file(doc_id, year):
    assert notice_year_of(date=None, doc_number="", title="", doc_id=doc_id) == year


def test_start_alone_is_a_start_without_date():
    got = normalise("自4月8日起", notice_date="2024-03-24")
    assert got.date is None and got.date_start == "2024-04-08"


def test_deadline_for_keeps_text_and_offsets():
    d = deadline_for("汛期之前", 5, 9, notice_date="2025-03-06")
    assert d.to_dict() == {
        "text": "汛期之前",
        "start": 5,
        "end": 9,
        "date": None,
        "date_start": None,
        "relative": None,
    }


def test_spring_festival_table_is_plausible():
    for year, day in SPRING_FESTIVAL.items():
        assert day.year == year and (day.month, day.day) >= (1, 21) and day.month <= 2


@pytest.mark.parametrize(("token", "value"), [("12", 12), ("十二", 12), ("二十", 20), ("三", 3)])
def test_cn_to_int(token, value):
    assert cn_to_int(token) == value


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("力争年底前完成改造。", ["年底前"]),
        ("普查，2025年6月底前完成。", ["2025年6月底前"]),
        ("必须在 1小时内向当地报告。", ["1小时内"]),
        ("从即日起至春节前，各级各有关部门要开展检查。", ["从即日起至春节前"]),
        ("限期整改，及时销号。", []),
        ("三年行动，为期一年。", []),
        ("自即日起至本月底，在全公司开展排查。", ["自即日起至本月底"]),
        ("各单位要于本月底前上报。", ["本月底前"]),
        ("月底前完成。", []),  # no month named: not the year's end either
    ],
)
def test_find_deadlines(text, found):
    assert [text[s:e] for s, e in find_deadlines(text)] == found


def test_deadline_cue_is_in_every_deadline_the_pattern_finds(project_root):
    """The cheap pre-check may skip a unit only if the full pattern finds nothing in it."""
    from corpus_tools.segment import iter_units

    folders = [project_root / "data" / "notices", project_root / "data" / "new-notices"]
    units = [u.text for u in iter_units(folders) if not isinstance(u, Exception)]
    expressions = [row[0] for row in REAL_EXPRESSIONS]
    matched = 0
    for text in [*expressions, *units]:
        for m in DEADLINE_PATTERN.finditer(text):
            matched += 1
            assert DEADLINE_CUE.search(m.group()), m.group()
    assert matched > len(expressions)


def test_find_frequencies_labels_period_words_only():
    text = "市县党委每季度、政府每月至少听取一次汇报，每半年至少召开1次专题会议。定期检查。"
    assert [text[s:e] for s, e in find_frequencies(text)] == ["每季度", "每月", "每半年"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("严格落实“班组日查、车间周查、厂矿月查、集团公司季查”制度。", ["日", "周", "月", "季"]),
        ("认真实施月通报、半年发布、年终考核制度。", ["月", "半年", "年终"]),
        ("建立“一单四制”和月调度、季约谈机制。", ["月", "季"]),
        ("全年检查企业120家，节日检查不放松，今年考核优秀。", []),
    ],
)
def test_find_frequencies_short_forms(text, found):
    assert [text[s:e] for s, e in find_frequencies(text)] == found


@pytest.mark.parametrize(
    ("before", "recurring"),
    [
        ("……建立安全生产费用管理制度，并于每年", True),  # 每年三月底前: a law's yearly filing
        ("主要负责人每季度", True),
        ("年度", True),
        ("确保", False),
        ("2025年", False),
    ],
)
def test_a_deadline_after_a_period_word_recurs(before, recurring):
    assert recurs(before) is recurring


def test_a_recurring_deadline_keeps_its_text_and_gets_no_date():
    text = "高危行业的生产经营单位应当……并于每年三月底前将本单位当年度安全生产费用……备案。"
    start = text.index("三月底前")
    once = deadline_for("三月底前", start, start + 4, notice_date="2018-05-24")
    every_year = deadline_for(
        "三月底前", start, start + 4, notice_date="2018-05-24", before=text[:start]
    )
    assert once.date == "2019-03-31"  # read as one date, it would be the next March's end
    assert (every_year.date, every_year.date_start, every_year.relative) == (None, None, None)
    assert every_year.text == "三月底前"
