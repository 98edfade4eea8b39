"""The segmenter: readers, cleaning, document splitting, unit cutting, CLI."""

from __future__ import annotations

import json
import re
from dataclasses import FrozenInstanceError, fields
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus_tools.cli import app
from corpus_tools.errors import InputFileError
from corpus_tools.schema import Unit
from corpus_tools.segment import (
    cut_sentences,
    iter_documents,
    iter_units,
    read_units,
    responsible_bodies,
    segment_text,
    write_units,
)
from tests.conftest import NEW_NOTICES, SAMPLE_NOTICES, TEST_DATA

CJK_FONT = Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

NOTICE_PARAGRAPHS = [
    "测试市人民政府关于做好2025年安全生产工作的通知",
    "测政发〔2025〕3号",
    "各县（区）人民政府，市直各有关单位：",
    "2025年，全市上下要坚持安全第一、预防为主。现将有关事项通知如下：",
    "一、强化责任落实",
    "（一）压实部门责任。各级各部门要认真落实“三管三必须”要求，每季度至少召开1次专题会议；对《安全生产法》规定的职责逐项明确。（责任单位：市应急局、市消防救援局）",
    "（二）加强隐患排查。企业要在6月底前完成自查自改！检查结果报市安委会办公室。",
    "测试市人民政府",
    "2025年3月6日",
]


def units_of(path: Path) -> list[tuple[str, str]]:
    return [(u.kind, u.text) for u in iter_units([path]) if not isinstance(u, InputFileError)]


def single_document_units(text: str) -> list[tuple[str, str]]:
    """(kind, text) of the units of a text that makes one document."""
    from corpus_tools.segment import document_units

    (document,) = segment_text(text, stem="x")
    return [(u.kind, u.text) for u in document_units(document)]


def without_spaces(units: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(kind, re.sub(r"\s+", "", text)) for kind, text in units]


@pytest.fixture
def notice_txt(tmp_path: Path) -> Path:
    path = tmp_path / "notice.txt"
    path.write_text("\n\n".join(NOTICE_PARAGRAPHS) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- unit rules


def test_cuts_after_sentence_ends_but_not_inside_brackets_quotes_or_book_titles():
    text = (
        "要落实“不安全。不生产”要求；按《条例（试行）。》执行。（责任单位：市应急局）对照检查？是。"
    )
    assert cut_sentences(text) == [
        "要落实“不安全。不生产”要求；",
        "按《条例（试行）。》执行。（责任单位：市应急局）",
        "对照检查？",
        "是。",
    ]


def test_half_width_punctuation_and_closing_tag_parenthetical():
    text = "加强执法检查;依法查处违法行为.严肃追责。(重大隐患)完善制度!"
    assert cut_sentences(text) == [
        "加强执法检查;",
        "依法查处违法行为.严肃追责。(重大隐患)",
        "完善制度!",
    ]


@pytest.mark.parametrize(
    ("parenthetical", "bodies"),
    [
        ("（责任单位：市应急局、市消防救援局）", ("市应急局", "市消防救援局")),
        ("（县安委会有关成员单位负责）", ("县安委会有关成员单位",)),
        (
            "〔市安委会成员单位和各县(市、区)政府负责。以下事项均需县级政府负责，不再一一列明〕",
            ("市安委会成员单位", "各县(市、区)政府"),
        ),
        (
            "（责任单位：各县（区）人民政府，经开区管委会，市级负有安全生产监管职责的部门指导督促落实）",
            ("各县（区）人民政府", "经开区管委会", "市级负有安全生产监管职责的部门"),
        ),
        ("（市住房和城乡建设局牵头，市应急局等部门分工负责）", ("市住房和城乡建设局", "市应急局")),
    ],
)
def test_responsible_bodies_are_split_and_stripped_of_role_words(parenthetical, bodies):
    assert responsible_bodies(parenthetical) == bodies


def test_notice_structure_metadata_and_item_bodies(notice_txt: Path):
    units = [u for u in iter_units([notice_txt])]
    by_text = {u.text: u for u in units}
    assert [u.kind for u in units if u.kind != "body"][:4] == ["meta", "meta", "meta", "heading"]
    title = by_text["（一）压实部门责任。"]
    assert title.kind == "heading"
    first = units[units.index(title) + 1]
    assert first.text == "各级各部门要认真落实“三管三必须”要求，每季度至少召开1次专题会议；"
    assert first.section_path == ("一、强化责任落实", "（一）压实部门责任。")
    assert first.item_responsible_bodies == ("市应急局", "市消防救援局")
    assert by_text["企业要在6月底前完成自查自改！"].item_responsible_bodies == ()
    meta = units[0]
    assert (meta.title, meta.doc_number, meta.date) == (
        "测试市人民政府关于做好2025年安全生产工作的通知",
        "测政发〔2025〕3号",
        "2025-03-06",
    )
    assert meta.issuer == "测试市人民政府"
    assert meta.addressees == ("各县（区）人民政府", "市直各有关单位")
    assert by_text["2025年3月6日"].kind == "meta"


def test_pdf_line_breaks_page_numbers_and_form_feeds_are_cleaned():
    text = (
        "一、加强监管\n\n各级各部门要加强安全生产监管，减少一\n\n— 3 —\n\f般事故。\n"
        "（责任单位：市应急\n局）\n\n二、强化保障\n"
    )
    (document,) = segment_text(text, stem="x")
    from corpus_tools.segment import document_units

    texts = [u.text for u in document_units(document)]
    assert texts == [
        "一、加强监管",
        "各级各部门要加强安全生产监管，减少一般事故。（责任单位：市应急局）",
        "二、强化保障",
    ]


def test_unit_ids_are_stable_across_runs(notice_txt: Path):
    first = [u.unit_id for u in iter_units([notice_txt])]
    second = [u.unit_id for u in iter_units([notice_txt])]
    assert first == second and len(set(first)) == len(first)
    assert all(uid.startswith("notice:") for uid in first)


def test_units_are_built_as_real_frozen_units(notice_txt: Path):
    # `document_units` builds Units a cheap way (a non-frozen twin whose class is switched).
    units = [u for u in iter_units([notice_txt]) if not isinstance(u, InputFileError)]
    built = next(u for u in units if u.item_responsible_bodies)
    normal = Unit(**{f.name: getattr(built, f.name) for f in fields(Unit)})
    assert type(built) is Unit and built == normal and hash(built) == hash(normal)
    assert built.to_dict() == normal.to_dict() and Unit.from_dict(built.to_dict()) == built
    with pytest.raises(FrozenInstanceError):
        built.text = "changed"  # type: ignore[misc]
    assert not hasattr(built, "__dict__")


def test_sentence_ends_regex_agrees_with_the_stack_walk():
    # `_sentence_ends` skips whole bracket/quote pairs by regex and falls back to
    # the stack walk; on nested, stray and same-kind quote marks both must agree.
    import random

    from corpus_tools.segment import marks, sentences

    pairs = list(marks._OPEN_TO_CLOSE.items())
    pieces = ["要", "。", "；", "!", "，", "…", "……", " ", "）", "“"]
    rng = random.Random(3)

    def text(depth: int = 0) -> str:
        out = ""
        for _ in range(rng.randint(0, 5)):
            if depth < 3 and rng.random() < 0.3:
                opener, closer = rng.choice(pairs)
                closer = closer if rng.random() < 0.9 else rng.choice(pairs)[rng.randint(0, 1)]
                out += opener + text(depth + 1) + closer
            else:
                out += rng.choice(pieces)
        return out

    def by_regex(sample: str) -> bool:  # the regex reaches the end without the fallback
        pos = 0
        while match := sentences._TO_SENTENCE_END.match(sample, pos):
            if match[1] is None:
                return True
            pos = match.end()
        return False

    samples = [text() for _ in range(20_000)]
    for sample in samples:
        assert sentences._sentence_ends(sample) == sentences._nested_sentence_ends(sample), sample
    taken = sum(map(by_regex, samples))
    assert 5_000 < taken < 19_000, taken  # both paths are exercised


def test_meta_role_prefilter_only_skips_lines_no_role_check_accepts():
    # `_meta_role` skips its checks for lines that fail cheap first/last-character
    # tests; every check must still see each line it would accept.
    from corpus_tools import segment
    from corpus_tools.ingest import read_source
    from corpus_tools.segment import line_roles

    def full_check(line: str):
        compact = line.replace(" ", "").replace("\u3000", "").replace("\t", "")
        prose = "，" in compact or "。" in compact[:-1]
        checks = line_roles._PROSE_CHECKS if prose else line_roles._ROLE_CHECKS
        return next((role for role, check in checks if check(line, compact)), None)

    files = sorted([*SAMPLE_NOTICES.glob("*.txt"), *NEW_NOTICES.glob("*.txt")])
    lines = []
    for path in files:
        file_lines = segment.clean_lines(read_source(path).text)
        lines += file_lines + [p.text for p in segment.join_paragraphs(file_lines)]
    lines += [
        "（此件公开发布）",
        "( 此 件 主动公开)",
        "附件：1. 方案.PDF",
        "国家矿山安全监察局 文 件",
    ]
    lines += ["抄送：市委办公室，市人大办公室。", "2025 年 3 月 6 日", "各 有关单位，各区："]
    lines += ["https://www.example.gov.cn/a,b", "市应急管理局"]
    roles = {line: line_roles._meta_role(line) for line in lines}
    assert roles == {line: full_check(line) for line in lines}
    met = sum(role is not None for role in roles.values())
    assert met >= 100, met  # the corpus's meta lines are among them


# ---------------------------------------------------------------- the corpus


def test_multi_notice_file_splits_into_yearly_documents():
    documents = [d for d in iter_documents([SAMPLE_NOTICES / "003_5b1f32f4b5edf1e8.txt"])]
    years = [d.meta.doc_id.split("#")[1] for d in documents]
    assert years == [str(year) for year in range(2009, 2027)]
    by_year = {d.meta.doc_id.split("#")[1]: d for d in documents}
    # 2010 and 2014 have no title line: found by restarted numbering and by the signature.
    assert by_year["2010"].meta.title == "" and by_year["2014"].meta.date == "2014-01-02"
    assert by_year["2015"].meta.doc_number == "晋政发〔2015〕1号"
    assert by_year["2021"].meta.date == "2021-01-28"
    assert all(d.meta.issuer in {"山西省人民政府", ""} for d in documents)


@pytest.mark.parametrize(
    ("name", "doc_number", "date"),
    [
        ("000_274cda8d185c1074.txt", "同政发〔2025〕1号", "2025-03-06"),
        ("001_adfa3942083f85c1.txt", "垣政发〔2025〕1号", "2025-03-06"),
        ("002_bf9bfaf859591b6d.txt", "并政发〔2025〕1号", "2025-04-03"),
    ],
)
def test_single_notice_files_have_metadata(name, doc_number, date):
    (document,) = list(iter_documents([SAMPLE_NOTICES / name]))
    assert (document.meta.doc_number, document.meta.date) == (doc_number, date)
    assert document.meta.doc_id == name.removesuffix(".txt")
    assert "关于做好2025年安全生产工作的通知" in document.meta.title


@pytest.mark.parametrize(
    ("name", "doc_number", "date", "issuer_part"),
    [
        (
            "01_guowuyuan_anwei_2024_2_zhiben_gongjian_fangan_md.txt",
            "安委会[2024]2号",
            "2024-01-21",
            "国务院安全生产委员会",
        ),
        (
            "02_shandong_luanfa_2024_1_xiaofang_jinji_tongzhi_pdf.txt",
            "鲁安发〔2024〕1号",
            "2024-01-21",
            "山东省人民政府安全生产委员会",
        ),
        ("03_taian_anweiban_2024_mingcha_anfang_zhenggai_pdf.txt", "", "2024-03-24", "泰安市"),
        (
            "04_nea_guoneng_zongtong_anquan_2021_108_dianli_huozai_html.txt",
            "国能综通安全〔2021〕108号",
            "2021-12-06",
            "国家能源局综合司",
        ),
    ],
)
def test_external_notices_read_as_they_are(name, doc_number, date, issuer_part):
    documents = list(iter_documents([NEW_NOTICES / name]))
    notice = documents[0]
    assert (notice.meta.doc_number, notice.meta.date) == (doc_number, date)
    assert issuer_part in notice.meta.issuer
    units = [u for d in documents for u in iter_units([NEW_NOTICES / name])]
    texts = [u.text for u in units]
    # No markup, page numbers, entities or indentation survive cleaning.
    assert not any(re.search(r"<[a-z/]|&[a-z]+;|— \d+ —|\f|^[\s\u3000]", t) for t in texts)
    assert sum(u.kind == "body" for u in units) >= 15


def test_html_bold_run_in_titles_become_headings():
    units = units_of(NEW_NOTICES / "04_nea_guoneng_zongtong_anquan_2021_108_dianli_huozai_html.txt")
    assert ("heading", "抓好电力领域高风险场所火灾防控检查治理。") in units
    index = units.index(("heading", "抓好电力领域高风险场所火灾防控检查治理。"))
    assert units[index + 1][0] == "body" and units[index + 1][1].startswith("电力企业要高度重视")


@pytest.mark.parametrize(
    "stem",
    [
        "02_shandong_luanfa_2024_1_xiaofang_jinji_tongzhi",
        "03_taian_anweiban_2024_mingcha_anfang_zhenggai",
    ],
)
def test_real_pdfs_give_the_units_of_their_text_extractions(stem):
    from_pdf = units_of(TEST_DATA / "pdf" / f"{stem}.pdf")
    from_txt = units_of(TEST_DATA / "pdf" / f"{stem}_pdf.txt")
    assert len(from_pdf) == len(from_txt) > 30
    # The two extractors place spaces around numbers differently (`至21 日` / `至 21 日`);
    # boundaries, kinds and every other character must agree.
    assert without_spaces(from_pdf) == without_spaces(from_txt)
    docs_pdf = [d.meta for d in iter_documents([TEST_DATA / "pdf" / f"{stem}.pdf"])]
    docs_txt = [d.meta for d in iter_documents([TEST_DATA / "pdf" / f"{stem}_pdf.txt"])]
    assert [(m.title, m.doc_number, m.date) for m in docs_pdf] == [
        (m.title, m.doc_number, m.date) for m in docs_txt
    ]


# ---------------------------------------------------------------- readers


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8-sig", "utf-8"])
def test_text_encodings_are_detected(notice_txt: Path, tmp_path: Path, encoding: str):
    encoded = tmp_path / f"notice_{encoding}.txt"
    encoded.write_bytes(notice_txt.read_text(encoding="utf-8").encode(encoding))
    assert units_of(encoded) == units_of(notice_txt)


def test_html_reader_matches_plain_text(notice_txt: Path, tmp_path: Path):
    body = "".join(f"<p>&emsp;&emsp;{p}</p>\n" for p in NOTICE_PARAGRAPHS)
    page = tmp_path / "notice.html"
    page.write_text(
        f"<html><head><style>p{{}}</style></head><body>{body}</body></html>", encoding="utf-8"
    )
    assert units_of(page) == units_of(notice_txt)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "<nav>首页 | 政务公开 | 通知公告</nav>",
            "<footer>版权所有 © 某市应急管理局 鲁ICP备12345号</footer>",
        ),
        (
            '<div class="top-nav">首页 | 政务公开</div><ul class="crumbs"><li>当前位置：通知</li></ul>',
            '<div id="footer_bottom">版权所有 © 某市应急管理局 鲁ICP备12345号</div>',
        ),
    ],
)
def test_a_government_pages_navigation_and_footer_are_not_the_notice(
    notice_txt: Path, tmp_path: Path, before: str, after: str
):
    body = "".join(f"<p>&emsp;&emsp;{p}</p>\n" for p in NOTICE_PARAGRAPHS)
    page = tmp_path / "notice.html"
    page.write_text(
        f"<html><body>{before}<div id='content'>{body}</div>{after}</body></html>",
        encoding="utf-8",
    )
    assert units_of(page) == units_of(notice_txt)


def test_docx_reader_matches_plain_text(notice_txt: Path, tmp_path: Path):
    import docx

    document = docx.Document()
    for paragraph in NOTICE_PARAGRAPHS:
        document.add_paragraph(paragraph)
    path = tmp_path / "notice.docx"
    document.save(path)
    assert units_of(path) == units_of(notice_txt)


def test_pdf_reader_matches_plain_text(notice_txt: Path, tmp_path: Path):
    from fpdf import FPDF

    assert CJK_FONT.exists(), "install Debian's fonts-droid-fallback (.ci/run does)"
    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("latin", fname=str(LATIN_FONT))
    pdf.add_font("cjk", fname=str(CJK_FONT))
    pdf.set_font("cjk", size=11)
    pdf.set_fallback_fonts(["latin"])
    for paragraph in NOTICE_PARAGRAPHS:
        # Narrow cells force line breaks inside paragraphs, as real PDFs have.
        pdf.multi_cell(w=120, h=7, text=paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    path = tmp_path / "notice.pdf"
    pdf.output(str(path))
    assert units_of(path) == units_of(notice_txt)


# ---------------------------------------------------------------- output and CLI


def test_parquet_and_jsonl_round_trip(notice_txt: Path, tmp_path: Path):
    units = [u for u in iter_units([notice_txt])]
    for name in ("units.jsonl", "units.parquet"):
        path = tmp_path / name
        assert write_units(units, path) == len(units)
        assert list(read_units(path)) == units


def test_cli_reports_each_bad_file_and_still_writes_the_rest(notice_txt: Path, tmp_path: Path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(256)) * 8)
    corrupt = tmp_path / "corrupt.pdf"
    corrupt.write_bytes(b"%PDF-1.4\n1 0 obj garbage")
    missing = tmp_path / "missing.txt"
    output = tmp_path / "out" / "units.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "segment",
            str(notice_txt),
            str(empty),
            str(binary),
            str(corrupt),
            str(missing),
            "-o",
            str(output),
        ],
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    for bad, reason in [
        (empty, "empty"),
        (binary, "binary"),
        (corrupt, "PDF"),
        (missing, "does not exist"),
    ]:
        assert any(str(bad) in line and reason in line for line in lines), (bad, result.output)
    assert "Traceback" not in result.output
    written = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert {row["source_path"] for row in written} == {str(notice_txt)}
    assert "1 documents from 1 files" in result.output


def test_cli_segments_the_sample_corpus(tmp_path: Path):
    output = tmp_path / "units.parquet"
    result = CliRunner().invoke(app, ["segment", str(SAMPLE_NOTICES), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "21 documents from 4 files" in result.output
    import polars as pl

    frame = pl.read_parquet(output)
    assert frame.filter(pl.col("kind") == "body").height > 1500
    assert frame["unit_id"].n_unique() == frame.height


def test_title_only_items_and_bare_sector_titles_are_headings():
    text = "一、重点行业\n（十）深化重点行业专项整治。\n煤矿。要严格落实瓦斯防治措施。\n道路交通。\n强化〖HTF〗源头管控，每月通报一次。\n"
    (document,) = segment_text(text, stem="x")
    from corpus_tools.segment import document_units

    units = [(u.kind, u.text, u.section_path) for u in document_units(document)]
    assert units == [
        ("heading", "一、重点行业", ()),
        ("heading", "（十）深化重点行业专项整治。", ("一、重点行业",)),
        ("heading", "煤矿。", ("一、重点行业", "（十）深化重点行业专项整治。")),
        (
            "body",
            "要严格落实瓦斯防治措施。",
            ("一、重点行业", "（十）深化重点行业专项整治。", "煤矿。"),
        ),
        ("heading", "道路交通。", ("一、重点行业", "（十）深化重点行业专项整治。")),
        (
            "body",
            "强化源头管控，每月通报一次。",
            ("一、重点行业", "（十）深化重点行业专项整治。", "道路交通。"),
        ),
    ]


def test_arabic_numbered_title_only_items_are_headings():
    text = "一、重点行业\n1.煤矿。\n要严格落实瓦斯防治措施。\n2．水旱灾害。加强汛期值守。\n3.完善应急预案，组织开展演练。\n"
    kinds = single_document_units(text)
    assert kinds == [
        ("heading", "一、重点行业"),
        ("heading", "1.煤矿。"),
        ("body", "要严格落实瓦斯防治措施。"),
        ("heading", "2．水旱灾害。"),
        ("body", "加强汛期值守。"),
        ("body", "3.完善应急预案，组织开展演练。"),
    ]


def test_cli_prints_bracketed_file_names_as_they_are(tmp_path: Path):
    # Rich would read `[bold]` as markup and swallow it.
    empty = tmp_path / "通知[bold]2009.txt"
    empty.write_bytes(b"")
    result = CliRunner().invoke(app, ["segment", str(empty), "-o", str(tmp_path / "u.jsonl")])
    assert result.exit_code == 1
    assert f"{empty}: file is empty" in result.output


def test_short_numbered_sentences_of_a_findings_list_are_bodies():
    # Tai'an's findings list: `6．…未持证上岗。` looks like a run-in title, but a
    # heading heads something, and the next paragraph is the list's next item.
    text = (
        "一、消防领域\n1．拉动微型消防站人员，集结时间较长。\n2．消防控制室值班人员未持证上岗。\n"
        "3．微型消防站消防器材配备不齐全，部分已过期。\n二、燃气领域\n1．燃气报警器已过期。\n"
        "要立即更换报警器。\n"
    )
    kinds = single_document_units(text)
    assert kinds == [
        ("heading", "一、消防领域"),
        ("body", "1．拉动微型消防站人员，集结时间较长。"),
        ("body", "2．消防控制室值班人员未持证上岗。"),
        ("body", "3．微型消防站消防器材配备不齐全，部分已过期。"),
        ("heading", "二、燃气领域"),
        ("heading", "1．燃气报警器已过期。"),  # heads the sentence under it
        ("body", "要立即更换报警器。"),
    ]


# A web page's inspection record in Markdown: its findings end in no `。`, so the blank
# lines, list items, rules and images are what separate them; images, links and inline
# HTML are markup. An enterprise rule's second level (`3.2 辨识范围`) is an item number
# whose line is a title; `1.5米` at a line start is a quantity carrying on the sentence.
MARKDOWN_RECORD = (
    "---\npageClass: x\n---\n# 3月1楼安全卫生大检查\n- 检查时间：2024年3月21日\n"
    "- 检查人员：刘壮 郭庆乐\n---\n## 周大生\n![周大生](/img/1.jpg)\nled屏幕后方使用喷绘布遮盖\n\n"
    "![周大生](/img/2.jpg)\n配电箱内放置杂物\n\n见[整改要求](files/req.md)。\n---\n"
    "<p style=\"text-align:right;\nfont-size:22px;font-family:'仿宋';\">附件：[《值班表》](/files/a.pdf)</p>\n"
)
DECIMAL_RULE = (
    "危险源辨识\n3.1 辨识方法\n（1）生产过程中的危险源辨识采用工作危害分析法（JHA），建立作业活动清单。\n"
    "3.2 辨识范围\n危险源的辨识范围覆盖所有的作业活动，包括：\n常规和非常规作业活动；\n"
    "仓库内货物与灯具的距离不得小于\n1.5米，并定期检查。\n3.4 分级管控\n管道壁厚不得小于\n2.5毫米，并逐月检测。\n"
)


@pytest.mark.parametrize(
    ("text", "expected", "markup"),
    [
        (
            MARKDOWN_RECORD,
            [
                ("body", "检查时间：2024年3月21日"),
                ("body", "检查人员：刘壮 郭庆乐"),
                ("body", "led屏幕后方使用喷绘布遮盖"),
                ("body", "配电箱内放置杂物"),
                ("body", "见整改要求。"),
                ("meta", "附件：《值班表》"),
            ],
            ["](", "<p", "font-size", "files/req.md"],
        ),
        (
            DECIMAL_RULE,
            [
                ("heading", "3.1 辨识方法"),
                ("heading", "3.2 辨识范围"),
                ("body", "危险源的辨识范围覆盖所有的作业活动，包括："),
                ("body", "仓库内货物与灯具的距离不得小于1.5米，并定期检查。"),
                ("heading", "3.4 分级管控"),
                ("body", "管道壁厚不得小于2.5毫米，并逐月检测。"),
            ],
            [],
        ),
    ],
    ids=["markdown-findings", "decimal-items"],
)
def test_markdown_blocks_and_decimal_items_cut_where_the_layout_does(text, expected, markup):
    units = single_document_units(text)
    assert [unit for unit in units if unit in expected] == expected
    assert not [piece for piece in markup if any(piece in t for _, t in units)]


# An enterprise rule's `4、风险评价` is a title (the item number's own `、` is no list
# comma), so the sentence on the next line is a unit of its own; an unnumbered short
# sentence that a heading follows heads nothing (the list's last entry); a Markdown
# image whose `)` the source lost is still markup, not a run into the finding after it.
TITLES_AND_LAST_ENTRIES = (
    "# 风险分级管控制度\n## 二、工作程序\n4、风险评价\n4.1风险评价方法\n选择作业条件危险性分析法进行评价。\n"
    "4.2 风险评价准则\n风险判定准则的制定应充分考虑以下要求：\n设计规范、技术标准；\n相关方的投诉。\n"
    "4.3 风险评价与分级\n根据评价结果判定风险等级。\n6、文件管理\n公司应完整保存风险分级管控的记录资料。\n"
    "## 酷戴潮品\n![](/inspection-img/m3/2m-1f-14.jpg\n展台占用消防卷帘位置。\n"
)


def test_short_titles_and_last_list_entries_take_their_own_kind():
    units = single_document_units(TITLES_AND_LAST_ENTRIES)
    expected = [
        ("heading", "4、风险评价"),
        ("heading", "4.1风险评价方法"),
        ("body", "选择作业条件危险性分析法进行评价。"),
        ("body", "设计规范、技术标准；"),
        ("body", "相关方的投诉。"),
        ("heading", "4.3 风险评价与分级"),
        ("heading", "6、文件管理"),
        ("body", "公司应完整保存风险分级管控的记录资料。"),
        ("heading", "酷戴潮品"),
        ("body", "展台占用消防卷帘位置。"),
    ]
    assert [unit for unit in units if unit in expected] == expected
    assert not [t for _, t in units if "](" in t or ".jpg" in t]


def test_an_unnumbered_sub_title_over_numbered_items_stays_a_title():
    text = (
        "一、重点行业\n煤矿。\n（一）严格煤矿安全准入\n"
        + "各产煤地区要严格审查煤矿建设项目安全设施设计，严禁未批先建、批小建大和超能力生产。\n" * 4
        + "二、长度不超过四十个字符的没有标点的一级标题也是标题的一种情形\n各地要抓好落实。\n"
    )
    units = single_document_units(text)
    assert ("heading", "煤矿。") in units
    assert ("heading", "二、长度不超过四十个字符的没有标点的一级标题也是标题的一种情形") in units


def test_an_image_that_lost_its_bracket_keeps_the_text_after_it_on_its_line():
    text = "# 检查\n## 酷戴潮品\n![](/img/14.jpg 展台占用消防卷帘位置。\n"
    units = single_document_units(text)
    assert ("body", "展台占用消防卷帘位置。") in units
    assert not [t for _, t in units if ".jpg" in t]


def test_an_item_run_into_the_line_before_it_starts_a_line_of_its_own():
    # a PDF line that ran two items together; a web page that lost its line breaks
    # (em spaces between the items); a bracket closed, and a quote left open on an earlier line
    text = (
        "一、压实责任\n"
        "各级要落实责任。（二）强化执法。各地要严格执法。\n"
        "二、专项整治\n说明“见附件\n"
        "（一）加强值班（节假日）。各镇要安排专人值守。\u2003\u2003（二）开展检查。各部门要排查隐患。\n"
    )
    from corpus_tools.segment import document_units

    (document,) = segment_text(text, stem="x")
    units = {u.text: u for u in document_units(document)}
    assert units["（二）强化执法。"].kind == "heading"
    assert units["各地要严格执法。"].section_path[-1] == "（二）强化执法。"
    assert units["（二）开展检查。"].kind == "heading"
    assert units["各部门要排查隐患。"].section_path[-1] == "（二）开展检查。"


@pytest.mark.parametrize(
    "text",
    [
        # a list inside one sentence, after `：` and `；`
        "各地要做到三个到位：一、责任到位；二、措施到位；三、投入到位。各地要加强检查。",
        "各地要重点监测。一、二级重大危险源企业要加强巡查。",  # two levels, not an item
        "各地要落实“三个必须。1、管行业必须管安全”的要求。",  # inside quotes
        "各地要组织培训（内容：法规。2. 技能）。",  # inside brackets
        "井下巷道宽度不得小于规定。1.5米以下的巷道要整改。",  # a quantity, no item number
        "各地要落实责任。2、3号楼要限期整改。",  # buildings 2 and 3, no item number
    ],
)
def test_an_item_number_inside_a_sentence_stays_in_it(text):
    from corpus_tools.segment import clean_lines

    assert clean_lines(text) == [text]  # no line break made
    units = single_document_units("一、要求\n" + text + "\n")
    assert [kind for kind, _ in units] == ["heading"] + ["body"] * (len(units) - 1)
    assert "".join(t for _, t in units[1:]) == text


def test_plain_text_blank_lines_still_fall_inside_paragraphs():
    # PDF extraction puts blank lines mid-sentence: only Markdown sources break there.
    text = "一、强化责任\n各级各部门要认真落实\n\n安全生产责任。\n"
    assert ("body", "各级各部门要认真落实安全生产责任。") in single_document_units(text)


def test_a_list_title_is_the_documents_title():
    text = "国务院安委会明查暗访发现共性问题清单\n一、消防领域\n1．拉动微型消防站人员，集结时间较长。\n"
    (document,) = segment_text(text, stem="x")
    from corpus_tools.segment import document_units

    units = document_units(document)
    assert document.meta.title == "国务院安委会明查暗访发现共性问题清单"
    assert [u.kind for u in units] == ["meta", "heading", "body"]


@pytest.mark.parametrize(
    ("text", "stripped"),
    [
        ("3. 加强培训。", "加强培训。"),
        ("（十一）强化执法。", "强化执法。"),
        ("二、加强培训", "加强培训"),
        ("2025年底前完成。", "2025年底前完成。"),  # a year is no item number
        ("加强培训。", "加强培训。"),
    ],
)
def test_strip_item_marker(text, stripped):
    from corpus_tools.segment import strip_item_marker

    assert strip_item_marker(text) == stripped


def test_a_file_named_twice_is_read_once(notice_txt: Path, tmp_path: Path):
    once = list(iter_units([notice_txt]))
    assert list(iter_units([notice_txt.parent, notice_txt])) == once


def test_a_label_studio_export_named_as_a_notice_is_refused_with_the_command_to_use(
    tmp_path: Path,
):
    export = tmp_path / "seed.json"
    export.write_text('[{"id": 1, "data": {"text": "要加强。"}}]', encoding="utf-8")
    (error,) = list(iter_units([export]))
    assert isinstance(error, InputFileError)
    assert "a Label Studio export goes to `corpus-tools export`" in str(error)


def test_a_folder_names_the_notices_it_cannot_read_and_passes_over_companions(
    notice_txt: Path, tmp_path: Path
):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "notice.txt").write_bytes(notice_txt.read_bytes())
    (folder / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0 not read")
    (folder / "scan.PNG").write_bytes(b"\x89PNG not read")
    (folder / "metadata.csv").write_text("file,issuer\nnotice.txt,X\n", encoding="utf-8")
    (folder / "units.jsonl").write_text("", encoding="utf-8")
    items = list(iter_units([folder]))
    errors = sorted(str(e) for e in items if isinstance(e, InputFileError))
    assert errors == [
        f"{folder / 'old.doc'}: a legacy Word (.doc) file; save it as .docx, which the "
        "reader understands",
        f"{folder / 'scan.PNG'}: an image, with no text to read; give the notice's text, "
        "or its PDF with a text layer",
    ]
    assert any(isinstance(u, Unit) for u in items)  # the notice is read all the same


def test_a_folder_without_notices_fails_by_name(tmp_path: Path):
    (tmp_path / "nothing").mkdir()
    result = CliRunner().invoke(
        app, ["segment", str(tmp_path / "nothing"), "-o", str(tmp_path / "u.jsonl")]
    )
    assert result.exit_code == 1
    assert "nothing: folder holds no notice file (.txt" in result.output


def test_a_batch_where_every_file_fails_keeps_the_previous_units_file(
    notice_txt: Path, tmp_path: Path
):
    output = tmp_path / "units.jsonl"
    assert CliRunner().invoke(app, ["segment", str(notice_txt), "-o", str(output)]).exit_code == 0
    before = output.read_bytes()
    result = CliRunner().invoke(app, ["segment", str(tmp_path / "gone.txt"), "-o", str(output)])
    assert result.exit_code == 1 and "gone.txt: file does not exist" in result.output
    assert f"nothing read: {output} left as it was" in " ".join(result.output.split())
    assert "→" not in result.output
    assert output.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notice.txt", "units.jsonl"]


@pytest.mark.parametrize(
    ("output", "needle"),
    [
        ("units.csv", "units.csv: expected a file ending in .jsonl or .parquet"),
        ("afile/units.jsonl", "afile: File exists; a file stands where a folder is needed"),
        ("adir", "adir: is a folder; give a file name inside it"),
    ],
)
def test_an_output_that_cannot_be_written_is_one_line_before_any_work(
    notice_txt: Path, tmp_path: Path, output: str, needle: str
):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    result = CliRunner().invoke(app, ["segment", str(notice_txt), "-o", str(tmp_path / output)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], result.output


def test_an_attachment_takes_the_issuer_and_date_of_its_notice(tmp_path: Path):
    # without a metadata.csv: the plan attached to 安委〔2024〕2号 and the findings list
    # attached to 泰安's notice say neither issuer nor date themselves
    for name in (
        "01_guowuyuan_anwei_2024_2_zhiben_gongjian_fangan_md.txt",
        "03_taian_anweiban_2024_mingcha_anfang_zhenggai_pdf.txt",
    ):
        (tmp_path / name).write_bytes((NEW_NOTICES / name).read_bytes())
    docs = {
        d.meta.doc_id: d.meta for d in iter_documents([tmp_path]) if not isinstance(d, Exception)
    }
    for stem in (
        "01_guowuyuan_anwei_2024_2_zhiben_gongjian_fangan_md",
        "03_taian_anweiban_2024_mingcha_anfang_zhenggai_pdf",
    ):
        notice, attachment = docs[f"{stem}#2024"], docs[f"{stem}#2024-2"]
        assert notice.date and notice.issuer
        assert (attachment.date, attachment.issuer) == (notice.date, notice.issuer)


def test_a_notice_of_a_compilation_keeps_its_own_dates():
    # the Shanxi file holds a notice a year; each follows the signed one before it
    # but has its own 文号: none takes the date of the year before
    docs = [d for d in iter_documents([SAMPLE_NOTICES / "003_5b1f32f4b5edf1e8.txt"])]
    by_id = {d.meta.doc_id: d.meta for d in docs}
    assert by_id["003_5b1f32f4b5edf1e8#2016"].date is None
    assert by_id["003_5b1f32f4b5edf1e8#2016"].doc_number == "晋政发〔2016〕1号"


def test_a_joint_letterhead_run_into_one_line_gives_the_issuers_named_below_it(tmp_path: Path):
    name = "02_shandong_luanfa_2024_1_xiaofang_jinji_tongzhi_pdf.txt"
    (tmp_path / name).write_bytes((NEW_NOTICES / name).read_bytes())
    (doc,) = [d for d in iter_documents([tmp_path]) if not isinstance(d, Exception)]
    assert doc.meta.issuer == "山东省人民政府安全生产委员会、山东省人民政府消防安全委员会"


# A law as a law library stores it (LawRefBook's Markdown, `data/more-notices/42_…`–`49_…`):
# its name as a `#` heading, its record of passing and amending, an HTML comment, chapters
# and articles whose lists end right before the next article.
LAW_LIBRARY_PAGE = """# 某市电梯安全条例

2017年10月30日 某市人民代表大会常务委员会第六次会议通过

2018年3月1日 施行

<!-- INFO END -->

## 第一章 总则

第一条 为了加强电梯安全工作，根据有关法律，制定本条例。

第二条 使用单位应当履行下列义务：

（一）建立电梯安全管理制度；

（二）配备电梯安全管理人员。

第三条 禁止下列行为：

（一）乘坐明示处于非正常状态的电梯。

第四条 本条例自2018年3月1日起施行。
"""


def test_a_law_library_page_gives_its_title_record_and_every_article_as_body():
    (document,) = segment_text(LAW_LIBRARY_PAGE, stem="x")
    from corpus_tools.segment import document_units

    units = [(u.kind, u.text) for u in document_units(document)]
    assert document.meta.title == "某市电梯安全条例"  # `条例` names a document
    assert ("meta", "2017年10月30日 某市人民代表大会常务委员会第六次会议通过") in units
    assert ("meta", "2018年3月1日 施行") in units
    assert not any("INFO" in text or text.startswith("<!") for _, text in units)
    assert ("heading", "第一章 总则") in units
    # an article has no title, and a list's last item is no heading of the next article
    assert ("body", "（一）乘坐明示处于非正常状态的电梯。") in units
    assert ("body", "第四条 本条例自2018年3月1日起施行。") in units
    assert [kind for kind, _ in units].count("heading") == 1
