"""Documents of other issuers and genres: metadata tables, sectors, new layouts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from corpus_tools.errors import InputFileError
from corpus_tools.ingest import iter_input_files
from corpus_tools.segment import iter_documents, iter_units, segment_text
from corpus_tools.sources import sector_from_title
from tests.conftest import MORE_NOTICES, SAMPLE_NOTICES


def body_texts(path: Path) -> list[str]:
    return [
        u.text for u in iter_units([path]) if not isinstance(u, InputFileError) and u.kind == "body"
    ]


@pytest.mark.parametrize(
    ("title", "sector"),
    [
        ("教育系统安全生产治本攻坚三年行动方案（2024—2026年）", "教育系统"),
        ("化工和危险化学品安全生产治本攻坚三年行动方案（2024—2026年）", "化工和危险化学品"),
        ("矿山安全生产治本攻坚三年行动方案（2024—2026年）", "矿山"),
        ("消防安全治本攻坚三年行动方案（2024—2026年）", "消防"),
        # issuers, places and ordinary notices name no sector
        ("山西省人民政府关于做好2025年安全生产工作的通知", ""),
        ("关于做好春节假期安全工作的通知", ""),
        ("大同市安全生产工作要点", ""),
        ("", ""),
    ],
)
def test_sector_from_title(title, sector):
    assert sector_from_title(title) == sector


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


PLAN = (
    "各单位要认真落实。\n"
    "海关系统安全生产治本攻坚\n"
    "三年行动方案（2024—2026年）\n"
    "为认真贯彻落实有关要求，制定本方案。\n"
    "一、工作目标\n"
    "各级海关要在2024年底前完成排查。\n"
)


def test_a_title_broken_before_its_title_word_is_one_title_with_its_sector(tmp_path: Path):
    docs = [d for d in iter_documents([write(tmp_path, "plan.txt", PLAN)])]
    titles = [d.meta.title for d in docs]
    assert "海关系统安全生产治本攻坚三年行动方案（2024—2026年）" in titles
    plan = docs[titles.index("海关系统安全生产治本攻坚三年行动方案（2024—2026年）")]
    assert plan.meta.sector == "海关系统"
    assert all("治本攻坚" not in t for t in body_texts(tmp_path / "plan.txt"))


def test_contents_entries_are_meta_and_the_title_after_them_starts_a_document():
    text = (
        "子方案目录\n"
        "1.教育系统安全生产治本攻坚三年行动方案（2024-2026 年） .....5\n"
        "2.公安系统安全生产治本攻坚三年行动方案（2024-2026 年）17\n"
        "教育系统安全生产治本攻坚三年行动方案（2024—2026年）\n"
        "一、工作目标\n"
        "各级教育行政部门要在2024年底前完成排查。\n"
    )
    docs = segment_text(text, stem="plan")
    assert docs[-1].meta.title == "教育系统安全生产治本攻坚三年行动方案（2024—2026年）"
    roles = {p.text[:2]: p.role.value for d in docs for p in d.paragraphs}
    assert roles["1."] == roles["2."] == "contents"


def test_web_page_entities_zero_width_breaks_and_run_in_chapters():
    text = (
        "生产安全事故应急预案管理办法\u200d\u200d"
        "第一章   总   则第一条   为规范应急预案管理工作，制定本办法。\n"
        "&emsp;\n"
        "第二条 生产经营单位应当编制应急预案。&emsp;\n"
    )
    units = [u for d in segment_text(text, stem="rules") for u in _units(d)]
    bodies = [u.text for u in units if u.kind == "body"]
    assert bodies[0] == "第一条   为规范应急预案管理工作，制定本办法。"
    assert all("&emsp;" not in u.text and "\u200d" not in u.text for u in units)
    assert any(u.text.startswith("第一章") and u.kind == "heading" for u in units)


def _units(document):
    from corpus_tools.segment import document_units

    return document_units(document)


def test_metadata_table_states_issuer_sector_genre_and_readme_is_not_a_notice(tmp_path: Path):
    write(tmp_path, "README.md", "# 来源\n\n这些文件来自某公司。要认真阅读。\n")
    write(
        tmp_path, "metadata.csv", "file,issuer,sector,genre\nnotice*,某公司,商业综合体,紧急通知\n"
    )
    write(tmp_path, "notice_a.txt", "关于做好消防安全工作的紧急通知\n各部门要在3月底前完成自查。\n")
    assert [p.name for p in iter_input_files([tmp_path])] == ["notice_a.txt"]
    [unit] = [u for u in iter_units([tmp_path]) if u.kind == "body"]
    assert (unit.issuer, unit.sector, unit.genre) == ("某公司", "商业综合体", "紧急通知")
    assert unit.to_dict()["genre"] == "紧急通知"


def test_a_malformed_metadata_table_is_reported_by_name_and_the_batch_goes_on(tmp_path: Path):
    bad = tmp_path / "bad"
    bad.mkdir()
    write(bad, "metadata.csv", "name,issuer\nx,y\n")
    write(bad, "a.txt", "各部门要在3月底前完成自查。\n")
    good = write(tmp_path, "b.txt", "各部门要在6月底前完成自查。\n")
    items = list(iter_units([bad / "a.txt", good]))
    errors = [i for i in items if isinstance(i, InputFileError)]
    assert len(errors) == 1 and "metadata.csv" in str(errors[0]) and "'file'" in str(errors[0])
    assert [u.text for u in items if not isinstance(u, InputFileError)] == [
        "各部门要在6月底前完成自查。"
    ]


def test_sample_corpus_documents_carry_sector_and_genre():
    docs = [d for d in iter_documents([SAMPLE_NOTICES]) if not isinstance(d, InputFileError)]
    assert len(docs) == 21
    assert {d.meta.genre for d in docs} == {"年度工作通知"}
    assert all(d.meta.sector and d.meta.issuer for d in docs)


def test_more_notices_have_many_sectors_and_genres_from_their_table():
    docs = [
        d
        for d in iter_documents(sorted(MORE_NOTICES.glob("*.txt")))
        if not isinstance(d, InputFileError)
    ]
    sectors = Counter(d.meta.sector for d in docs)
    genres = {d.meta.genre for d in docs}
    # 31 sector sub-plans (one, 公安系统, under its own title) and the table's own fields
    assert {"教育系统", "公安系统", "矿山", "消防", "民航系统", "铁路系统"} <= set(sectors)
    assert len(sectors) >= 33
    assert {"实施方案", "部门规章", "责任制", "节假日通知", "紧急通知"} <= genres
    assert all(d.meta.issuer and d.meta.genre and d.meta.sector for d in docs)


@pytest.mark.slow
@pytest.mark.parametrize(
    "pdf", sorted((MORE_NOTICES / "pdf").glob("*.pdf")), ids=lambda p: p.stem[:12]
)
def test_more_notices_pdfs_give_the_units_of_their_text(pdf: Path):
    text = next(MORE_NOTICES.glob(f"{pdf.stem}*.txt"))

    def compact(path: Path) -> list[str]:
        return ["".join(t.split()) for t in body_texts(path)]

    from_pdf, from_txt = compact(pdf), compact(text)
    assert len(from_txt) > 15
    assert from_pdf == from_txt


def test_evaluation_only_texts_are_found_inside_longer_sentences_and_across_lines(tmp_path):
    from corpus_tools.sources import evaluation_only

    write(
        tmp_path,
        "external.txt",
        "一、工作目标\n2024年1月19日，某县某学校学生宿舍发生火\n灾，造成重大人员伤亡，教训深刻。\n",
    )
    held_out = evaluation_only([tmp_path])
    assert held_out("2024年1月19日，某县某学校学生宿舍发生火灾，造成重大人员伤亡。") is False
    assert held_out("2024年1月19日，某县某学校学生宿舍 发生火灾，造成重大人员伤亡")
    assert not held_out("各部门要在3月底前完成自查自改。")
    assert not held_out("一、工作目标")  # too short to say it was taken from there


def test_evaluation_only_finds_their_sentence_inside_a_longer_unit(tmp_path):
    from corpus_tools.sources import evaluation_only

    write(
        tmp_path,
        "external.txt",
        "推动安全宣传进企业。落实“谁执法谁普法”普法责任制，深入开展法治宣传教育。\n",
    )
    held_out = evaluation_only([tmp_path])
    # a sub-plan's unit that carries the external sentence and goes on
    assert held_out("落实“谁执法谁普法”普法责任制，深入开展法治宣传教育，制作播放安全警示宣传片。")
    # sharing a clause is not sharing a sentence
    assert not held_out("落实“谁执法谁普法”普法责任制，加强安全生产公益宣传。")
