"""`corpus-tools report`: alias normalisation, the deadline timeline with the
deadlines it cannot place, "what changed" matching, empty input, bad lines,
exported datasets, and the report of the real pre-labelled sample notices."""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from corpus_tools.bodies import DEFAULT_BODY_ALIASES, body_key, load_body_aliases
from corpus_tools.cli import app
from corpus_tools.deadlines import deadline_for
from corpus_tools.errors import OutputPathError, ReportError
from corpus_tools.report import GroupBy, build_report
from corpus_tools.report.changes import THRESHOLD, match_measures, same_series
from corpus_tools.report.tables import MEASURE_NAMES, frequency_period
from corpus_tools.schema import Unit

REPO = Path(__file__).resolve().parent.parent


def record(
    unit_id: str,
    text: str,
    measure_type: str | None,
    *,
    doc_id: str = "doc-a",
    issuer: str = "某市人民政府",
    date: str | None = "2025-03-01",
    genre: str = "",
    kind: str = "body",
    bodies: tuple[str, ...] = (),
    deadlines: tuple[str, ...] = (),
    frequencies: tuple[str, ...] = (),
) -> dict:
    """A prelabel record as `prelabel` writes it; spans are found in `text`."""
    spans = []
    for label, words in (
        ("RESPONSIBLE_BODY", bodies),
        ("DEADLINE", deadlines),
        ("FREQUENCY", frequencies),
    ):
        for word in words:
            start = text.index(word)
            spans.append(
                {
                    "start": start,
                    "end": start + len(word),
                    "label": label,
                    "text": word,
                    "score": 0.9,
                }
            )
    unit = Unit(unit_id=unit_id, doc_id=doc_id, unit_index=int(unit_id.split("-")[-1]), kind=kind,
                text=text, issuer=issuer, date=date, genre=genre,
                title=f"{issuer}关于做好安全生产工作的通知")  # fmt: skip
    return unit.to_dict() | {
        "measure_type": measure_type,
        "measure_type_score": 0.9 if measure_type else None,
        "measure_type_top3": [],
        "spans": spans,
        "deadlines": [
            deadline_for(s["text"], s["start"], s["end"], notice_date=date).to_dict()
            for s in spans
            if s["label"] == "DEADLINE"
        ],
        "model_version": "test" if measure_type else None,
    }


def write_jsonl(path: Path, rows: list[dict | str]) -> Path:
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_table(report_dir: Path, name: str) -> pl.DataFrame:
    csv = pl.read_csv(report_dir / f"{name}.csv", infer_schema_length=0)
    parquet = pl.read_parquet(report_dir / f"{name}.parquet")
    assert csv.height == parquet.height and csv.columns == parquet.columns
    return parquet


def chart_svg(page: str, key: str) -> str:
    return page.split(f'data-chart="{key}"')[1].split("</figure>")[0]


def axis_labels(svg: str, axis: str = "X") -> list[str]:
    """The labels Vega drew on an axis (those it hid for overlap left out)."""
    labels = svg.split(f'aria-label="{axis}-axis', 1)[1].split("role-axis-label", 1)[1]
    return re.findall(r'opacity="1">([^<]*)</text>', labels.split("</g>", 1)[0])


def hovers(svg: str) -> list[str]:
    """What hovering each mark shows (its SVG <title>)."""
    return [html_lib.unescape(t) for t in re.findall(r"<title>(.*?)</title>", svg)]


def reading(page: str, key: str) -> str:
    section = page.split(f'<section id="{key}">')[1]
    return html_lib.unescape(section.split('<p class="reading">')[1].split("</p>")[0])


# ---------------------------------------------------------------- aliases


def test_default_alias_table_merges_short_and_long_names():
    aliases = load_body_aliases()
    assert aliases.sources == (DEFAULT_BODY_ALIASES,)
    assert aliases.normalise("市应急局") == aliases.normalise("市应急管理局") == "市应急管理局"
    assert aliases.normalise("省应急厅") == "省应急管理厅"
    # full-width and half-width brackets and stray spaces are one name
    assert aliases.normalise("各县（区） 人民政府") == aliases.normalise("各县(区)人民政府")
    assert aliases.normalise("市教育局") == "市教育局"  # not in the table: itself


def test_user_alias_table_extends_and_overrides_and_chains(tmp_path):
    extra = tmp_path / "mine.csv"
    extra.write_text(
        "alias,canonical\n市应急局,应急管理局（市）\n市安监局,市应急局\n\n县教育局,县教育科技局\n",
        encoding="utf-8",
    )
    aliases = load_body_aliases([extra])
    assert aliases.sources == (DEFAULT_BODY_ALIASES, extra)
    assert aliases.normalise("市应急局") == body_key("应急管理局（市）")  # a later row wins
    assert aliases.normalise("市安监局") == body_key("应急管理局（市）")  # chained to the end
    assert aliases.normalise("县教育局") == "县教育科技局"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,full\n市应急局,市应急管理局\n", "line 1 should be the header `alias,canonical`"),
        (
            "alias,canonical\n市应急局,市应急管理局\n市住建局\n",
            "line 3 should be `alias,canonical`",
        ),
        ("alias,canonical\n甲局,乙局\n乙局,甲局\n", "go round in a circle"),
    ],
)
def test_bad_alias_table_names_the_file_and_line(tmp_path, content, message):
    bad = tmp_path / "aliases.csv"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(ReportError, match=message) as raised:
        load_body_aliases([bad])
    assert str(bad) in str(raised.value)


def test_report_counts_aliased_bodies_as_one_and_lists_the_alias(tmp_path):
    rows = [
        record("u-1", "市应急局要开展执法检查。", "enforcement", bodies=("市应急局",)),
        record("u-2", "市应急管理局要组织应急演练。", "emergency", bodies=("市应急管理局",)),
        record("u-3", "市教育局要开展安全教育。", "study_publicity", bodies=("市教育局",)),
    ]
    result = build_report([write_jsonl(tmp_path / "p.jsonl", rows)], tmp_path / "report")
    bodies = read_table(result.out_dir, "bodies_by_measure_type")
    totals = dict(bodies.group_by("body").agg(pl.col("units").sum()).iter_rows())
    assert totals == {"市应急管理局": 2, "市教育局": 1}
    applied = read_table(result.out_dir, "body_aliases")
    assert applied.filter(pl.col("alias") == "市应急局")["mentions"].to_list() == [1]
    html = result.index.read_text(encoding="utf-8")
    assert "data/body-aliases.csv" in html and "--aliases FILE" in html
    # the alias table once, in its section, not again as a collapsed preview
    assert html.count("<th>canonical</th>") == 1 and 'data-testid="aliases"' in html


# ---------------------------------------------------------------- deadlines and frequencies


def test_deadline_timeline_places_dates_and_lists_the_rest(tmp_path):
    rows = [
        record("u-1", "年底前完成隐患整改。", "risk_hazard", deadlines=("年底前",)),
        record("u-2", "6月底前完成应急预案修订。", "emergency", deadlines=("6月底前",)),
        record("u-3", "3个月内完成整改。", "risk_hazard", deadlines=("3个月内",)),
        record("u-4", "汛期前完成尾矿库排查。", "risk_hazard", deadlines=("汛期前",)),
        # a yearless 年底前 with no notice date: not resolvable, listed, not dropped
        record(
            "u-5",
            "年底前建立制度。",
            "institution",
            deadlines=("年底前",),
            date=None,
            doc_id="doc-b",
        ),
    ]
    result = build_report([write_jsonl(tmp_path / "p.jsonl", rows)], tmp_path / "report")
    deadlines = read_table(result.out_dir, "deadlines").sort("unit_id")
    assert deadlines.select("unit_id", "status", "date", "relative").rows() == [
        ("u-1", "dated", "2025-12-31", None),
        ("u-2", "dated", "2025-06-30", None),
        ("u-3", "relative", None, "P3M"),
        ("u-4", "not normalised", None, None),
        ("u-5", "not normalised", None, None),
    ]
    points = read_table(result.out_dir, "deadline_points")
    assert sorted(points["date"]) == ["2025-06-30", "2025-12-31"]
    html = result.index.read_text(encoding="utf-8")
    unplaced = html.split('data-testid="deadlines-unplaced"')[1].split("</table>")[0]
    for text in ("3个月内", "汛期前完成尾矿库排查", "年底前建立制度"):
        assert text in unplaced
    assert "2 dated deadlines" in html and "1 relative and 2 not normalised" in html
    # hovering a point shows its unit's text: each mark carries an SVG <title>
    figure = html.split('data-chart="deadlines"')[1].split("</figure>")[0]
    assert "<title>" in figure and "年底前完成隐患整改" in figure.split("<title>", 1)[1]


def test_deadline_axis_labels_carry_the_year_in_a_short_range(tmp_path):
    rows = [
        record("u-1", "4月8日前完成排查。", "risk_hazard", deadlines=("4月8日前",)),
        record("u-2", "10月底前完成整改。", "risk_hazard", deadlines=("10月底前",)),
    ]
    result = build_report([write_jsonl(tmp_path / "p.jsonl", rows)], tmp_path / "report")
    svg = chart_svg(result.index.read_text(encoding="utf-8"), "deadlines")
    labels = axis_labels(svg)
    assert len(labels) >= 3 and all(label.startswith("2025") for label in labels), labels
    assert any("deadline: 2025-04-08" in hover for hover in hovers(svg))  # the hover has the day


def test_deadlines_of_units_typed_other_are_not_on_the_page(tmp_path):
    rows = [
        record("u-1", "年底前完成隐患整改。", "risk_hazard", deadlines=("年底前",)),
        record("u-2", "2026年底前形成隐患动态清零的常态。", "other", deadlines=("2026年底前",)),
        record("u-3", "3个月内见到成效。", "other", deadlines=("3个月内",)),
    ]
    result = build_report([write_jsonl(tmp_path / "p.jsonl", rows)], tmp_path / "report")
    points = read_table(result.out_dir, "deadline_points")
    assert points.select("date", "measure_type", "deadlines").rows() == [
        ("2025-12-31", "risk_hazard", 1)
    ]  # the column counts deadlines
    assert read_table(result.out_dir, "deadlines").height == 3  # the CSV keeps them all
    html = result.index.read_text(encoding="utf-8")
    assert "1 dated deadline " in html and "0 relative and 0 not normalised" in html
    dated = html.split('data-testid="deadlines-dated"')[1].split("</table>")[0]
    assert "年底前完成隐患整改" in dated and "2026年底前" not in dated
    unplaced = html.split('data-testid="deadlines-unplaced"')[1].split("</table>")[0]
    assert "3个月内" not in unplaced
    assert "2026年底前" not in "".join(hovers(chart_svg(html, "deadlines")))
    meta = html.split('<p class="meta">')[1].split("</p>")[0]
    assert "deadlines" in meta and "<code>other</code> are left out" in meta


@pytest.mark.parametrize(
    ("written", "period"),
    [("每月", "每月"), ("月", "每月"), ("每季度", "每季度"), ("季", "每季度"), ("每半年", "每半年"),
     ("每年度", "每年"), ("年终", "每年"), ("每天", "每日"), ("每3至5年", "每数年"), ("每班", "每班")],
)  # fmt: skip
def test_frequency_words_map_to_one_period(written, period):
    assert frequency_period(written) == period


def test_frequency_reading_names_a_tie_and_counts_are_whole(tmp_path):
    rows = [
        record("u-1", "每月开展一次隐患排查。", "risk_hazard", frequencies=("每月",)),
        record("u-2", "每季度开展一次应急演练。", "emergency", frequencies=("每季度",)),
        record("u-3", "每年开展一次安全培训。", "training", frequencies=("每年",)),
    ]
    result = build_report([write_jsonl(tmp_path / "p.jsonl", rows)], tmp_path / "all-tied")
    html = result.index.read_text(encoding="utf-8")
    assert reading(html, "frequencies") == (
        "3 frequency demands in measures; no frequency is more common than another (each 1)."
    )
    assert axis_labels(chart_svg(html, "frequencies")) == ["0", "1"]  # no 0.5 of a measure

    rows += [
        record("u-4", "每月检查一次。", "enforcement", frequencies=("每月",)),
        record("u-5", "每季度检查一次。", "enforcement", frequencies=("每季度",)),
    ]
    result = build_report([write_jsonl(tmp_path / "p.jsonl", rows)], tmp_path / "two-tied")
    html = result.index.read_text(encoding="utf-8")
    assert reading(html, "frequencies") == (
        "5 frequency demands in measures; 每季度 and 每月 are the most common (2 each)."
    )
    assert axis_labels(chart_svg(html, "frequencies")) == ["0", "1", "2"]


def test_hovers_show_shares_to_one_decimal_and_the_measure_type_once(tmp_path):
    rows = []
    for year in (2023, 2024, 2025):
        doc = {"doc_id": f"y{year}", "date": f"{year}-02-01", "genre": "年度工作通知"}
        rows += [
            record(f"{year}-1", "市应急局年底前开展执法检查。", "enforcement", bodies=("市应急局",), deadlines=("年底前",), **doc),
            record(f"{year}-2", "市应急局每月组织安全培训。", "training", bodies=("市应急局",), frequencies=("每月",), **doc),
            record(f"{year}-3", "每季度组织全员安全培训考核。", "training", frequencies=("每季度",), **doc),
        ]  # fmt: skip
    result = build_report([write_jsonl(tmp_path / "p.jsonl", rows)], tmp_path / "report")
    assert len(result.charts) == 7
    html = result.index.read_text(encoding="utf-8")
    names = set(MEASURE_NAMES.values())
    for key in result.charts:
        for hover in hovers(chart_svg(html, key)):
            fields = [field.split(": ", 1) for field in hover.split("; ")]
            keys = [k for k, _ in fields]
            assert len(keys) == len(set(keys)) and not {"measure_type", "measure_name"} & set(keys)
            assert sum(value in names for _, value in fields) == 1, hover  # the type, once
            shares = [value for _, value in fields if value.endswith("%")]
            assert all(re.fullmatch(r"\d+(\.\d)?%", share) for share in shares), hover
    # one enforcement and two training measures a year
    for key in ("mix-by-notice", "mix-by-group", "share-by-year"):
        assert any("33.3%" in hover for hover in hovers(chart_svg(html, key))), key


# ---------------------------------------------------------------- what changed


def test_matching_carries_over_reworded_measures_one_to_one():
    earlier = [
        "落实企业内部事故隐患报告奖励机制。",
        "开展危险化学品安全专项整治。",
        "加强森林草原防灭火宣传。",
    ]
    later = [
        "健全企业内部事故隐患报告奖励机制，提升员工发现隐患的内生动力。",
        "开展危险化学品安全专项整治行动。",
        "开展危险化学品安全专项整治。",  # a second near-copy: only one may take the match
        "推进电动自行车充电设施建设。",
    ]
    matching = match_measures(earlier, later)
    carried = {(i, j) for i, j, _ in matching.carried}
    assert (1, 2) in carried  # the identical text wins over the near copy
    assert (0, 0) in carried  # re-worded, above the threshold
    assert all(sim >= THRESHOLD for _, _, sim in matching.carried)
    assert {j for j, _, _ in matching.new} == {1, 3}  # one-to-one: the near copy is new
    assert {i for i, _, _ in matching.dropped} == {2}
    new = {j: (i, sim) for j, i, sim in matching.new}
    assert new[1][0] == 1 and new[1][1] >= THRESHOLD  # its closest measure was taken by the copy
    assert new[3][1] < THRESHOLD and matching.dropped[0][2] < THRESHOLD


def test_matching_with_an_empty_side_makes_everything_new_or_dropped():
    matching = match_measures([], ["开展执法检查。"])
    assert matching.carried == () and matching.new == ((0, -1, 0.0),)


def test_what_changed_compares_the_latest_two_years_of_an_issuer(tmp_path):
    issuer, genre = "某省人民政府", "年度工作通知"
    rows = [
        record("u-1", "开展危险化学品安全专项整治。", "risk_hazard", doc_id="y2024", issuer=issuer, date="2024-01-10", genre=genre),
        record("u-2", "加强森林草原防灭火宣传。", "study_publicity", doc_id="y2024", issuer=issuer, date="2024-01-10", genre=genre),
        record("u-3", "开展危险化学品安全专项整治行动。", "risk_hazard", doc_id="y2025", issuer=issuer, date="2025-01-12", genre=genre),
        record("u-4", "推进电动自行车充电设施建设。", "technology", doc_id="y2025", issuer=issuer, date="2025-01-12", genre=genre),
        record("u-5", "安全生产形势总体平稳。", "other", doc_id="y2025", issuer=issuer, date="2025-01-12", genre=genre),
        record("u-6", "开展执法检查。", "enforcement", doc_id="y2023", issuer=issuer, date="2023-02-01", genre=genre),
        # the issuer's latest notice, of another genre: on another subject, not compared
        record("u-7", "煤矿企业应当取得安全生产许可证。", "institution", doc_id="order", issuer=issuer, date="2026-03-01", genre="部门规章"),
    ]  # fmt: skip
    result = build_report([write_jsonl(tmp_path / "p.jsonl", rows)], tmp_path / "report")
    changes = read_table(result.out_dir, "changes")
    assert set(changes["later"]) == {"2025 · 某省人民政府 · 某省人民政府关于做好安全生产工作的通知"}
    assert sorted(changes.select("status", "text").rows()) == [
        ("carried over", "开展危险化学品安全专项整治行动。"),
        ("dropped", "加强森林草原防灭火宣传。"),
        ("new", "推进电动自行车充电设施建设。"),
    ]  # `other` is no measure; 2023 is not the year before the latest
    html = result.index.read_text(encoding="utf-8")
    assert f"similarity ≥ {THRESHOLD}" in html and "character-bigram TF-IDF" in html
    assert f"{issuer}, {genre}: 2024 · " in html  # the page names the genre compared
    # every compared measure listed once, not also as the chart table's preview
    assert html.count("Every measure compared (") == 1 and "<summary>changes (" not in html


def test_what_changed_compares_nothing_across_genres(tmp_path):
    issuer = "某部"
    rows = [
        record("u-1", "煤矿企业应当取得安全生产许可证。", "institution", doc_id="order-86", issuer=issuer, date="2016-02-16", genre="部门规章"),
        record("u-2", "煤矿企业应当对从业人员进行安全培训。", "training", doc_id="notice", issuer=issuer, date="2018-01-11", genre="通知"),
        record("u-3", "开展执法检查。", "enforcement", doc_id="no-genre", issuer=issuer, date="2019-01-11"),
    ]  # fmt: skip
    result = build_report([write_jsonl(tmp_path / "p.jsonl", rows)], tmp_path / "report")
    assert read_table(result.out_dir, "changes").is_empty()
    assert "changes" not in result.charts
    html = result.index.read_text(encoding="utf-8")
    section = html.split('<section id="changes">')[1].split("</section>")[0]
    assert "nothing comparable" in section and "Compared" not in section


def test_what_changed_compares_no_two_laws_on_two_subjects(tmp_path):
    """宁波's legislature passed a school-safety law (2020) and an enterprise-duty law (2021):
    one issuer and genre, two subjects; their titles say so, and they are not compared."""
    issuer, genre = "宁波市人民代表大会常务委员会", "地方性法规"
    school = record(
        "u-1",
        "学校应当建立健全校园安全制度。",
        "institution",
        doc_id="school",
        issuer=issuer,
        date="2020-05-15",
        genre=genre,
    ) | {"title": "宁波市学校安全条例"}
    duty = record("u-2", "生产经营单位应当建立安全生产责任制。", "institution", doc_id="duty",
                  issuer=issuer, date="2021-03-26", genre=genre) | {
                      "title": "宁波市生产经营单位安全生产主体责任规定"}  # fmt: skip
    result = build_report([write_jsonl(tmp_path / "p.jsonl", [school, duty])], tmp_path / "r")
    assert read_table(result.out_dir, "changes").is_empty()
    assert not same_series("宁波市学校安全条例", "宁波市生产经营单位安全生产主体责任规定")
    # a yearly series whose issuer prefix and wording drift stays one series
    assert same_series(
        "山西省人民政府关于做好2017年安全生产工作的通知", "关于做好2025年安全生产工作的通知"
    )
    assert same_series(
        "山西省人民政府关于2024年安全生产工作的意见", "关于做好2025年安全生产工作的通知"
    )
    assert same_series("", "关于做好2025年安全生产工作的通知")  # no title: could be either


# ---------------------------------------------------------------- bad and empty input


def test_bad_lines_are_reported_by_number_and_the_rest_goes_on(tmp_path):
    rows: list[dict | str] = [
        record(f"u-{k}", f"第{k}条：开展执法检查。", "enforcement") for k in range(1, 7)
    ]
    rows[2] = '{"unit_id": "u-3", "text": "broken'  # line 3: cut short
    rows[4] = json.dumps({"doc_id": "doc-a", "text": "没有编号", "measure_type": "other"})  # line 5
    rows.insert(5, "")  # a blank line is no record (and no problem)
    rows.append(record("u-7", "开展执法检查。", "enforcement") | {"spans": "市应急局"})  # line 8
    path = write_jsonl(tmp_path / "p.jsonl", rows)
    result = build_report([path], tmp_path / "report")
    assert result.units == 4
    assert len(result.problems) == 3
    assert result.problems[0].startswith(f"{path}: line 3: not JSON")
    assert result.problems[1].startswith(f"{path}: line 5: no unit_id field")
    assert result.problems[2].startswith(f"{path}: line 8: a field has the wrong type")
    assert sorted(read_table(result.out_dir, "measure_mix_by_notice")["units"]) == [4]
    html = result.index.read_text(encoding="utf-8")
    assert "line 3: not JSON" in html and "line 5: no unit_id field" in html

    cli = CliRunner().invoke(
        app, ["report", str(path), "-o", str(tmp_path / "cli")], env={"COLUMNS": "300"}
    )
    assert cli.exit_code == 0, cli.output
    assert "skipped:" in cli.output and "line 3" in cli.output and "line 5" in cli.output
    assert "4 units" in cli.output


def test_empty_input_is_a_clear_error_and_writes_no_page(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    headings = write_jsonl(
        tmp_path / "headings.jsonl", [record("h-1", "一、总体要求", None, kind="heading")]
    )
    for inputs in ([empty], [headings], [empty, headings]):
        out = tmp_path / "report"
        with pytest.raises(ReportError, match="no labelled units to report") as raised:
            build_report(inputs, out)
        assert "No report was written" in str(raised.value)
        assert str(inputs[0]) in str(raised.value)
        assert not out.exists()

    cli = CliRunner().invoke(
        app, ["report", str(empty), "-o", str(tmp_path / "cli")], env={"COLUMNS": "300"}
    )
    assert cli.exit_code == 1
    assert cli.output.count("error:") == 1 and "Traceback" not in cli.output
    assert not (tmp_path / "cli").exists()


def test_a_missing_input_is_skipped_when_another_has_units(tmp_path):
    good = write_jsonl(tmp_path / "p.jsonl", [record("u-1", "开展执法检查。", "enforcement")])
    result = build_report([tmp_path / "missing.jsonl", good], tmp_path / "report")
    assert result.units == 1
    assert len(result.problems) == 1
    assert result.problems[0].startswith(f"{tmp_path / 'missing.jsonl'}: does not exist; expected")


def test_a_file_named_twice_counts_once(tmp_path):
    good = write_jsonl(tmp_path / "p.jsonl", [record("u-1", "开展执法检查。", "enforcement")])
    twice = build_report([good, tmp_path / "." / "p.jsonl"], tmp_path / "report")
    assert twice.units == 1 and not twice.problems


def test_two_inputs_holding_the_same_units_count_each_unit_once(tmp_path):
    rows = [record("u-1", "开展执法检查。", "enforcement"), record("u-2", "加强培训。", "training")]
    first = write_jsonl(tmp_path / "p.jsonl", rows)
    copy = write_jsonl(tmp_path / "p-copy.jsonl", [*rows, record("u-3", "开展演练。", "emergency")])
    result = build_report([first, copy], tmp_path / "report")
    assert result.units == 3
    assert result.problems == (
        f"{copy}: 2 units already read from an earlier input (the same unit_id, e.g. u-1); "
        "each is counted once: do two inputs hold the same notices?",
    )


def test_prelabel_parquet_input_and_the_aliases_flag(tmp_path):
    from corpus_tools.prelabel import WRITERS

    rows = [
        record("u-1", "市安监局要开展执法检查。", "enforcement", bodies=("市安监局",), deadlines=()),
        record("u-2", "市应急管理局年底前完成整改。", "risk_hazard", bodies=("市应急管理局",), deadlines=("年底前",)),
        record("h-3", "一、总体要求", None, kind="heading"),
    ]  # fmt: skip
    parquet = tmp_path / "p.parquet"
    writer = WRITERS[".parquet"](parquet)  # the writer `prelabel -o X.parquet` uses
    writer.write(rows)
    writer.close()
    aliases = tmp_path / "mine.csv"
    aliases.write_text("alias,canonical\n市安监局,市应急局\n", encoding="utf-8")
    out = tmp_path / "report"
    cli = CliRunner().invoke(
        app,
        ["report", str(parquet), "-o", str(out), "--aliases", str(aliases), "--title", "我的报告"],
        env={"COLUMNS": "300"},
    )
    assert cli.exit_code == 0, cli.output
    assert (
        "2 units (2 measures) of 1 notice(s), 7 charts" not in cli.output
    )  # one notice: no series
    assert "2 units (2 measures) of 1 notice(s)" in cli.output
    bodies = read_table(out, "bodies_by_measure_type")
    assert set(bodies["body"]) == {"市应急管理局"}  # 市安监局 → 市应急局 → 市应急管理局
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "<title>我的报告</title>" in html and str(aliases) in html
    assert read_table(out, "deadlines")["date"].to_list() == ["2025-12-31"]


@pytest.mark.parametrize("name", ["r.html", "r.HTM"])
def test_an_html_file_name_for_the_report_folder_is_refused(tmp_path, name):
    good = write_jsonl(tmp_path / "p.jsonl", [record("u-1", "开展执法检查。", "enforcement")])
    out = tmp_path / name
    with pytest.raises(OutputPathError, match="the report is a folder") as raised:
        build_report([good], out)
    folder = tmp_path / "r"
    assert f"-o {folder} (the page is then {folder / 'index.html'})" in str(raised.value)
    assert not out.exists()

    cli = CliRunner().invoke(app, ["report", str(good), "-o", str(out)], env={"COLUMNS": "300"})
    assert cli.exit_code == 1
    assert cli.output.count("error:") == 1 and "Traceback" not in cli.output
    assert "the report is a folder" in cli.output and not out.exists()


# ---------------------------------------------------------------- exported datasets (gold)


def test_exported_dataset_is_read_with_gold_labels(tiny_export, tmp_path):
    result = build_report([tiny_export], tmp_path / "report", by=GroupBy.SECTOR)
    assert result.units == 120  # every unit of the three splits
    mix = read_table(result.out_dir, "measure_mix_by_notice")
    assert mix["units"].sum() == 120 - 12  # 12 of them are typed other
    by_sector = read_table(result.out_dir, "measure_mix_by_group")
    assert set(by_sector["sector"]) == {"交通运输系统", "教育系统", "矿山", "消防"}
    deadlines = read_table(result.out_dir, "deadlines")
    # the fixture's deadlines: 年底前 and 2025年6月底前 resolve against 2025-03-06, 3个月内 is relative
    assert set(deadlines.filter(pl.col("status") == "dated")["date"]) <= {
        "2025-12-31",
        "2025-06-30",
    }
    assert set(deadlines.filter(pl.col("status") == "relative")["relative"]) == {"P3M"}
    assert "labels: gold" in result.index.read_text(encoding="utf-8")


def test_a_laws_yearly_deadline_is_not_dated_in_the_report(tmp_path):
    """Shanghai's regulation: `每年三月底前` recurs; read against the law's 2018 date it
    had been dated 2019-03-31 in the report's timeline."""
    result = build_report([REPO / "exports" / "corpus"], tmp_path / "report", by=GroupBy.SECTOR)
    deadlines = read_table(result.out_dir, "deadlines")
    yearly = deadlines.filter(pl.col("expression") == "三月底前")
    assert yearly.height >= 1
    assert yearly["date"].is_null().all()


def test_committed_export_split_parquet_counts_match(tmp_path):
    split = REPO / "exports" / "corpus" / "data" / "test.parquet"
    rows = pl.read_parquet(split)
    result = build_report([split], tmp_path / "report", by=GroupBy.GENRE)
    assert result.units == rows.height
    assert result.measures == rows.filter(pl.col("measure_type") != 9).height  # 9 = other


# ---------------------------------------------------------------- the real sample notices


@pytest.mark.slow
def test_report_of_the_prelabelled_sample_notices(sample_prelabels, tmp_path):
    records = [
        json.loads(line) for line in sample_prelabels.read_text(encoding="utf-8").splitlines()
    ]
    labelled = [r for r in records if r["kind"] == "body" and r["measure_type"]]
    result = build_report([sample_prelabels], tmp_path / "report", by=GroupBy.YEAR, title="样例")
    assert result.units == len(labelled)
    assert result.measures == sum(r["measure_type"] != "other" for r in labelled)
    assert result.notices == len({r["doc_id"] for r in labelled})
    assert set(result.charts) == {
        "mix-by-notice", "mix-by-group", "share-by-year", "bodies", "deadlines", "frequencies", "changes",
    }  # fmt: skip
    for path in result.tables:
        assert path.parent == result.out_dir and path.stat().st_size > 0
    series = read_table(result.out_dir, "measure_share_by_year")
    assert set(series["issuer"]) == {"山西省人民政府"}
    assert set(series["year"]) == set(range(2009, 2027))  # 晋政发 2009–2026
    changes = read_table(result.out_dir, "changes")
    assert set(changes["earlier"]) == {"2025 · 山西省人民政府 · 晋政发〔2025〕1号"}
    assert set(changes["later"]) == {"2026 · 山西省人民政府 · 晋政发〔2026〕1号"}
    deadlines = read_table(result.out_dir, "deadlines")
    assert deadlines.height == sum(len(r["deadlines"]) for r in labelled)
