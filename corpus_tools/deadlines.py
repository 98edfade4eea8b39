"""Deadline normalisation: a `DEADLINE` span's text → ISO date window.

`年底前` in a 2025 notice → `2025-12-31`; `6月底前` → that month's last day;
`1小时内` stays relative (`PT1H`); what cannot be resolved keeps its text with
`date: None`. Expressions are matched against a table of patterns (first
match wins) after light cleaning, so adding a form is one row.

Also home of the deadline/frequency *finders* (regexes over raw unit text)
used by the pre-labeling pipeline's rule component.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

# Spring Festival (正月初一) by Gregorian year: lunar, so a table, not a formula.
SPRING_FESTIVAL: dict[int, date] = {
    y: date.fromisoformat(d)
    for y, d in {
        2005: "2005-02-09", 2006: "2006-01-29", 2007: "2007-02-18", 2008: "2008-02-07",
        2009: "2009-01-26", 2010: "2010-02-14", 2011: "2011-02-03", 2012: "2012-01-23",
        2013: "2013-02-10", 2014: "2014-01-31", 2015: "2015-02-19", 2016: "2016-02-08",
        2017: "2017-01-28", 2018: "2018-02-16", 2019: "2019-02-05", 2020: "2020-01-25",
        2021: "2021-02-12", 2022: "2022-02-01", 2023: "2023-01-22", 2024: "2024-02-10",
        2025: "2025-01-29", 2026: "2026-02-17", 2027: "2027-02-06", 2028: "2028-01-26",
        2029: "2029-02-13", 2030: "2030-02-03", 2031: "2031-01-23", 2032: "2032-02-11",
        2033: "2033-01-31", 2034: "2034-02-19", 2035: "2035-02-08",
    }.items()
}  # fmt: skip

# Fixed-date holidays: "X前" means by the day before.
SOLAR_HOLIDAYS: dict[str, tuple[int, int]] = {
    "元旦": (1, 1),
    "五一": (5, 1),
    "劳动节": (5, 1),
    "五一劳动节": (5, 1),
    "国庆": (10, 1),
    "国庆节": (10, 1),
}

_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = "〇零一二两三四五六七八九十百"


def cn_to_int(token: str) -> int:
    """`12` / `十二` / `二〇二五` / `一百` → int (ValueError if not a number)."""
    if token.isdigit():
        return int(token)
    if all(ch in _CN_DIGITS for ch in token) and len(token) >= 2:  # 二〇二五: digit by digit
        return int("".join(str(_CN_DIGITS[ch]) for ch in token))
    total, current = 0, 0
    for ch in token:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            raise ValueError(token)
    return total + current


@dataclass(frozen=True, slots=True)
class Normalised:
    """A deadline's meaning: the window's end (`date`), its start where the
    text gives one (`date_start`), or a relative ISO 8601 duration."""

    date: str | None = None
    date_start: str | None = None
    relative: str | None = None


@dataclass(frozen=True, slots=True)
class Deadline:
    """A `DEADLINE` span of a unit with its normalisation (the prelabel record's
    `deadlines` item). `start`/`end` are code-point offsets in the unit text."""

    text: str
    start: int
    end: int
    date: str | None
    date_start: str | None
    relative: str | None

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "date": self.date,
            "date_start": self.date_start,
            "relative": self.relative,
        }


# ---------------------------------------------------------------- parsing

_YEAR = r"(?:(?P<y>\d{4}|[〇零一二三四五六七八九]{4})年|(?P<ry>今|本|当|明|次)年)?"
_NUM = rf"(?:\d{{1,3}}|[{_CN_NUM}]{{1,4}})"
_LEAD = re.compile(
    r"^(?:在|于|确保|力争|争取|务必|必须|要|应当|应|需要|需|并|最迟|最晚|[，,、\s])+"
)
_TRAIL_BY = re.compile(r"(?:之前|以前|前|为止|止)$")
_WINDOW = re.compile(r"^(?:从|自)?(?P<a>.+?)(?:起|开始)?(?:至|到|—|－|-|~|～)(?P<b>.+)$")
_TO_ONLY = re.compile(r"^(?:到|至|截至|截止到?)(?P<b>.+)$")
_START_ONLY = re.compile(r"^(?:从|自)?(?P<a>[^至到]+?)(?:起|开始)$")

_RELATIVE_UNITS = {
    "小时": "PT{n}H",
    "日": "P{n}D",
    "天": "P{n}D",
    "周": "P{n}W",
    "星期": "P{n}W",
    "个月": "P{n}M",
    "月": "P{n}M",
    "年": "P{n}Y",
}


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


class _Ctx:
    """The reference a yearless expression is resolved against: the notice's
    date, or where the notice gives no date its year alone (`year`), which
    resolves `年底前` and `10月底前` but nothing that counts from a day."""

    def __init__(self, ref: date | None, year: int | None = None) -> None:
        self.ref = ref
        self.ref_year = ref.year if ref else year

    def year(self, m: re.Match) -> int | None:
        if m.group("y"):
            return cn_to_int(m.group("y"))
        if self.ref_year is None:
            return None
        return self.ref_year + (1 if m.group("ry") in ("明", "次") else 0)

    def roll(self, m: re.Match, build: Callable[[int], date]) -> date | None:
        """Build the date in the resolved year; a yearless date already past
        the notice's date means next year's (a December notice's `3月底前`)."""
        year = self.year(m)
        if year is None:
            return None
        day = build(year)
        if not m.group("y") and not m.group("ry") and self.ref and day < self.ref:
            day = build(year + 1)
        return day


_Handler = Callable[[re.Match, _Ctx], tuple[date | None, date | None]]


def _year_end(m: re.Match, c: _Ctx) -> tuple[date | None, date | None]:
    y = c.year(m)
    return (date(y, 12, 31), None) if y else (None, None)


def _whole_year(m: re.Match, c: _Ctx) -> tuple[date | None, date | None]:
    y = c.year(m)
    return (date(y, 12, 31), date(y, 1, 1)) if y else (None, None)


def _half(m: re.Match, c: _Ctx) -> tuple[date | None, date | None]:
    y = c.year(m)
    if not y:
        return None, None
    first = m.group("h") == "上"
    return (date(y, 6, 30), date(y, 1, 1)) if first else (date(y, 12, 31), date(y, 7, 1))


def _quarter(m: re.Match, c: _Ctx) -> tuple[date | None, date | None]:
    q = cn_to_int(m.group("q"))
    if not 1 <= q <= 4:
        return None, None
    end = c.roll(m, lambda y: _month_end(y, q * 3))
    return end, (date(end.year, q * 3 - 2, 1) if end else None)


def _month(m: re.Match, c: _Ctx) -> tuple[date | None, date | None]:
    mo = cn_to_int(m.group("m"))
    if not 1 <= mo <= 12:
        return None, None
    part = m.group("part") or "底"
    day_of = {"上旬": 10, "初": 10, "中旬": 20, "中": 15}
    if part in day_of:
        return c.roll(m, lambda y: date(y, mo, day_of[part])), None
    return c.roll(m, lambda y: _month_end(y, mo)), None


def _day(m: re.Match, c: _Ctx) -> tuple[date | None, date | None]:
    mo, d = cn_to_int(m.group("m")), cn_to_int(m.group("d"))
    try:
        return c.roll(m, lambda y: date(y, mo, d)), None
    except ValueError:
        return None, None


def _spring_festival(m: re.Match, c: _Ctx) -> tuple[date | None, date | None]:
    if m.group("y") or m.group("ry"):
        y = c.year(m)
        fest = SPRING_FESTIVAL.get(y) if y else None
    else:  # the next Spring Festival on or after the notice's date
        if c.ref is None:
            return None, None
        fest = SPRING_FESTIVAL.get(c.ref.year)
        if fest is not None and fest < c.ref:
            fest = SPRING_FESTIVAL.get(c.ref.year + 1)
    return (fest - timedelta(days=1), None) if fest else (None, None)


def _solar_holiday(m: re.Match, c: _Ctx) -> tuple[date | None, date | None]:
    mo, d = SOLAR_HOLIDAYS[m.group("hol")]
    day = c.roll(m, lambda y: date(y, mo, d))
    return (day - timedelta(days=1), None) if day else (None, None)


def _today(m: re.Match, c: _Ctx) -> tuple[date | None, date | None]:
    return c.ref, None


def _this_month(m: re.Match, c: _Ctx) -> tuple[date | None, date | None]:
    return (_month_end(c.ref.year, c.ref.month), None) if c.ref else (None, None)


_HOLIDAYS = "|".join(sorted(SOLAR_HOLIDAYS, key=len, reverse=True))

# (pattern over the cleaned expression without its "by" marker, handler)
_POINT_PATTERNS: tuple[tuple[re.Pattern, _Handler], ...] = tuple(
    (re.compile(p), h)
    for p, h in (
        (rf"^{_YEAR}(?:年底|年末|年内|底|末|内|年度内)$", _year_end),
        (rf"^{_YEAR}(?P<h>上|下)半年(?:内|底|末)?$", _half),
        (rf"^{_YEAR}第?(?P<q>[1-4一二三四])季度(?:内|底|末)?$", _quarter),
        (rf"^{_YEAR}(?P<m>{_NUM})月(?P<d>{_NUM})[日号]$", _day),
        (rf"^{_YEAR}(?P<m>{_NUM})月份?(?P<part>底|末|内|上旬|中旬|下旬|初|中)?$", _month),
        (rf"^{_YEAR}(?:春节|新春)$", _spring_festival),
        (rf"^{_YEAR}(?P<hol>{_HOLIDAYS})$", _solar_holiday),
        (r"^(?P<y>\d{4})年度?$", _whole_year),
        (r"^(?:即日|今日|今天|发文之日|印发之日)$", _today),
        (r"^(?:本|当)月份?(?:底|末)$", _this_month),
    )
)
_RELATIVE = re.compile(rf"^(?P<n>{_NUM})(?P<u>小时|日|天|周|星期|个月|年)(?:内|之内|以内)$")


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)  # full-width digits, brackets
    text = re.sub(r"\s+", "", text)
    return _LEAD.sub("", text)


def _point(expr: str, ctx: _Ctx) -> tuple[date | None, date | None] | None:
    """Resolve one time point; None if no pattern knows the form."""
    bare = _TRAIL_BY.sub("", expr)
    for candidate in (bare, expr):
        for pattern, handler in _POINT_PATTERNS:
            m = pattern.match(candidate)
            if m:
                return handler(m, ctx)
    return None


def _parse_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def normalise(
    text: str, *, notice_date: date | str | None, notice_year: int | None = None
) -> Normalised:
    """Normalise one deadline expression against the notice's date (ISO string
    or `date`). Without a date, `notice_year` (`notice_year_of`) resolves what
    needs only a year; with neither, only expressions that carry their own
    year resolve."""
    ref = _parse_date(notice_date)
    ctx = _Ctx(ref, notice_year)
    expr = _clean(text)
    if not expr:
        return Normalised()

    rel = _RELATIVE.match(expr)
    if rel:
        try:
            n = cn_to_int(rel.group("n"))
        except ValueError:
            return Normalised()
        return Normalised(relative=_RELATIVE_UNITS[rel.group("u")].format(n=n))

    start_only = _START_ONLY.match(expr)
    if start_only:  # `自4月8日起`: a start without an end is no deadline
        point = _point(start_only.group("a"), ctx)
        return Normalised(date_start=_iso(point[0]) if point else None)

    window = _WINDOW.match(expr)
    if window and not _TO_ONLY.match(expr):
        a = _point(window.group("a"), ctx)
        if a is not None and a[0] is not None:
            # The end inherits the start's year and can't precede it.
            end = _point(window.group("b"), _Ctx(a[1] or a[0]))
            if end is not None:
                return Normalised(date=_iso(end[0]), date_start=_iso(a[1] or a[0]))
    to_only = _TO_ONLY.match(expr)
    if to_only:
        expr = to_only.group("b")

    point = _point(expr, ctx)
    if point is None:
        return Normalised()
    return Normalised(date=_iso(point[0]), date_start=_iso(point[1]))


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# `每年三月底前`, `每季度第一个月10日前`: a deadline that falls again each period (a law's
# yearly filing) has no one date; read against the notice's date it would name one.
_RECURRING = re.compile(
    r"(?:每(?:一)?(?:年|季度?|半年|个?月|周|日|天)|年度)(?:的)?\s*(?:于|在)?\s*$"
)


def recurs(before: str) -> bool:
    """Whether a deadline whose unit text runs `before` up to it recurs each period."""
    return _RECURRING.search(before[-8:]) is not None


def deadline_for(
    text: str,
    start: int,
    end: int,
    *,
    notice_date: date | str | None,
    notice_year: int | None = None,
    before: str = "",
) -> Deadline:
    """The prelabel record's deadline item for a `DEADLINE` span; `before` is the unit's
    text before it (a deadline after `每年` recurs: it keeps its text, no date)."""
    if recurs(before):
        return Deadline(text, start, end, None, None, None)
    n = normalise(text, notice_date=notice_date, notice_year=notice_year)
    return Deadline(text, start, end, n.date, n.date_start, n.relative)


_NUMBER_YEAR = re.compile(r"[〔\[［(（]\s*((?:19|20)\d{2})\s*[〕\]］)）]")
_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_DOC_ID_YEAR = re.compile(r"#((?:19|20)\d{2})(?:-\d+)?$")


def notice_year_of(
    *, date: str | None, doc_number: str, title: str, doc_id: str = ""
) -> int | None:
    """The year a notice's yearless deadlines count in: its date's, else its
    文号's (`晋政发〔2017〕1号`), else the first year its title names
    (`关于做好2017年安全生产工作的通知`: the year the notice plans), else the
    year `segment` gave a notice of a multi-notice file (`stem#2010`)."""
    parsed = _parse_date(date)
    if parsed is not None:
        return parsed.year
    for pattern, source in (
        (_NUMBER_YEAR, doc_number),
        (_TITLE_YEAR, title),
        (_DOC_ID_YEAR, doc_id),
    ):
        found = pattern.search(source or "")
        if found:
            return int(found.group(1))
    return None


# ---------------------------------------------------------------- finders

# Deadline expressions as annotated (§3: leading 在/于/确保/力争 left out).
_Y = r"(?:\d{4}\s*年\s*|[今明本当次]年)"
_M = rf"(?:{_NUM})\s*月\s*"
_D = rf"(?:{_NUM})\s*[日号]\s*"
_BY = r"(?:之前|以前|前)"
_POINT = (
    rf"(?:{_Y}?(?:年底|年末)|{_Y}(?:底|末)|(?:本|当)月份?(?:底|末)"
    rf"|{_Y}?{_M}(?:{_D}|份?(?:底|末|上旬|中旬|下旬))"
    rf"|{_Y}?(?:上|下)半年"
    rf"|{_Y}?第?[1-4一二三四]季度(?:末|底)?"
    rf"|(?:{_Y})?(?:春节|元旦|国庆节?|五一|汛期|主汛期|冬季|节日|两会))"
)
DEADLINE_PATTERN = re.compile(
    rf"(?:(?:从|自)?即日起?至\s*{_POINT}{_BY}?"
    rf"|(?:到|至)\s*\d{{4}}\s*年\s*(?:{_M})?(?:底|末)"
    rf"|{_POINT}\s*{_BY}"
    rf"|{_Y}?(?:年底|年末)"
    rf"|(?<![0-9{_CN_NUM}])(?:\d{{4}}\s*年\s*)?年内"
    rf"|{_NUM}\s*个?\s*(?:小时|工作日|日|天|周|个月|月)\s*(?:之内|以内|内))"
)
# Years/periods that FREQUENCY annotates: 每季度, 每半年, 每年, 每月, 每周 …, and
# the short forms of a recurring check (§3: 月调度、季约谈 → 月, 季; 班组日查 → 日).
FREQUENCY_PATTERN = re.compile(
    r"每(?:个)?(?:半年|季度|年度|年|月|周|星期|旬|天|日|一年|两年|三年|[一二两三]个?月|小时|班|季)"
    r"|(?<![今全上下去明本当每节假时0-9一二三四五六七八九十个])(?:半年|年终|月|季|年|周|日)"
    r"(?=查|通报|发布|考核|调度|约谈|会商|研判|督查|检查|评估|分析|讲评|例会|排名|点评|报告)"
)


# Every alternative of DEADLINE_PATTERN holds one of these characters; most
# units hold none, and this search costs a tenth of the full pattern's.
DEADLINE_CUE = re.compile(r"[至底末前内]")


def find_deadlines(text: str) -> Iterator[tuple[int, int]]:
    """`[start, end)` of deadline expressions in a unit's text (rule finder)."""
    if DEADLINE_CUE.search(text) is None:
        return
    for m in DEADLINE_PATTERN.finditer(text):
        start, end = m.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            yield start, end


def find_frequencies(text: str) -> Iterator[tuple[int, int]]:
    """`[start, end)` of frequency period words (rule finder)."""
    for m in FREQUENCY_PATTERN.finditer(text):
        yield m.span()
