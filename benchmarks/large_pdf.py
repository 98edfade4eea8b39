"""Read a large PDF end to end: a cover notice with 31 sub-plans, over 200 pages.

The issue's real file (a 安委会 cover notice with 31 专项整治方案) is not
available offline, so this builds one with fpdf2 from real sentences of the
sample corpus: a cover notice (title, 文号, addressee, a few sentences,
signature, date, 附件 list of the plans) and 31 plans, each on a new page
under its own `……专项整治方案` title with numbered sections. It then times
`iter_documents` (pypdf read + segmentation) and, in the same run, pypdf's
text extraction alone and the segmenter alone, so the figures show which of
the two dominates. Finally it checks that each plan came out as its own
document with its own title.

    uv run python benchmarks/large_pdf.py [--plans 31] [--keep notice.pdf]

Target (issue 3): well under a minute for the whole file.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from corpus_tools.errors import InputFileError
from corpus_tools.ingest import read_source
from corpus_tools.segment import Document, iter_documents, iter_units, segment_text

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "notices"
CJK_FONT = Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

ISSUER = "测试省安全生产委员会"
DOC_NUMBER = "测安委〔2024〕5号"
DATE = "2024年3月6日"
COVER_TITLE = f"{ISSUER}关于印发安全生产治本攻坚专项整治方案的通知"
SECTORS = (
    "道路交通",
    "危险化学品重大危险源企业、化工园区和油气储存",  # long titles wrap, as real ones do
    "非煤矿山",
    "煤矿",
    "高层建筑、大型商业综合体和老旧居民小区消防",
    "建筑施工",
    "城镇燃气",
    "工贸行业",
    "特种设备",
    "水上交通",
    "铁路运输",
    "民航运输",
    "电力",
    "农业机械",
    "渔业船舶",
    "旅游景区",
    "学校",
    "医疗机构",
    "文化娱乐场所",
    "烟花爆竹",
    "民用爆炸物品",
    "粉尘涉爆",
    "有限空间作业",
    "冶金",
    "人员密集场所",
    "经营性自建房",
    "电动自行车",
    "高层建筑",
    "大型商业综合体",
    "城市地下空间和大型商业综合体等人员密集场所消防",
    "油气长输管道",
)
TASKS = (
    "压实安全生产责任",
    "深化重大事故隐患排查整治",
    "强化源头安全管控",
    "严格监管执法",
    "提升本质安全水平",
    "加强安全宣传教育",
    "强化应急处置能力",
    "推进信息化建设",
)
STAGES = (
    "动员部署阶段（2024年3月）",
    "排查整治阶段（2024年4月至9月）",
    "巩固提升阶段（2024年10月至12月）",
)
SAFEGUARDS = ("加强组织领导", "强化督导检查", "严格考核问责")
RESPONSIBLE = "（责任单位：省应急厅、省公安厅，各市人民政府）"
CN_NUMBERS = "一二三四五六七八九十"


class Style:
    """How a paragraph is set on the page (real notices centre titles, sign on the right)."""

    TITLE = "title"
    CENTER = "center"
    LEFT = "left"
    RIGHT = "right"
    BODY = "body"
    NEW_PAGE = "new_page"


@dataclass(frozen=True)
class Block:
    style: str
    text: str = ""


def plan_title(index: int) -> str:
    """`道路交通安全专项整治方案`; every third one an `…实施方案`, as real sets mix them."""
    kind = "实施方案" if index % 3 == 2 else "方案"
    return f"{SECTORS[index]}安全专项整治{kind}"


def real_sentences(corpus: Path = CORPUS) -> list[str]:
    """Whole body sentences of the sample corpus that the fonts can set.

    No numbered or parenthetical starts (they would change the plan's outline);
    no glyph the fonts lack (the text layer would lose it).
    """
    printable = _printable_characters()
    sentences = {
        unit.text
        for unit in iter_units([corpus])
        if not isinstance(unit, InputFileError)
        and unit.kind == "body"
        and 20 <= len(unit.text) <= 160
        and unit.text.endswith("。")
        and not unit.item_parenthetical
        and not re.match(r"[（(\d一二三四五六七八九十①-⑳]", unit.text)
        and all(ord(ch) in printable for ch in unit.text)
    }
    return sorted(sentences)


def _printable_characters() -> set[int]:
    from fontTools.ttLib import TTFont  # fpdf2's own dependency

    return {code for font in (CJK_FONT, LATIN_FONT) for code in TTFont(font).getBestCmap()}


def notice_blocks(
    plans: int,
    *,
    sentences_per_item: int,
    list_after_signature: bool = True,
    seed: int = 20240306,
) -> list[Block]:
    """The whole file: the cover notice, then each plan on a new page."""
    pool = real_sentences()
    rng = random.Random(seed)

    def prose(count: int) -> str:
        return "".join(rng.choice(pool) for _ in range(count))

    titles = [plan_title(index) for index in range(plans)]
    attachment_list = [
        Block(Style.BODY, f"附件：{number}．{title}" if number == 1 else f"{number}．{title}")
        for number, title in enumerate(titles, 1)
    ]
    signature = [Block(Style.RIGHT, ISSUER), Block(Style.RIGHT, DATE)]
    blocks = [
        Block(Style.TITLE, COVER_TITLE),
        Block(Style.CENTER, DOC_NUMBER),
        Block(Style.LEFT, "各市人民政府，省安委会各成员单位，省属各企业："),
        Block(Style.BODY, prose(3) + f"现将{plans}个专项整治方案印发给你们，请认真贯彻落实。"),
        Block(Style.BODY, prose(2)),
        *(signature + attachment_list if list_after_signature else attachment_list + signature),
    ]
    for number, title in enumerate(titles, 1):
        blocks += [Block(Style.NEW_PAGE), Block(Style.LEFT, f"附件{number}")]
        blocks += list(_plan_blocks(title, prose, sentences_per_item))
    return blocks


def _plan_blocks(title: str, prose, sentences_per_item: int) -> Iterator[Block]:
    yield Block(Style.TITLE, title)
    yield Block(Style.BODY, prose(2) + "结合实际，制定本方案。")
    yield Block(Style.LEFT, "一、总体要求")
    yield Block(Style.BODY, prose(sentences_per_item))
    yield Block(Style.LEFT, "二、主要任务")
    for number, task in enumerate(TASKS):
        text = f"（{CN_NUMBERS[number]}）{task}。{prose(sentences_per_item)}"
        yield Block(Style.BODY, text.removesuffix("。") + "。" + RESPONSIBLE)
    yield Block(Style.LEFT, "三、时间安排")
    for number, stage in enumerate(STAGES):
        yield Block(Style.BODY, f"（{CN_NUMBERS[number]}）{stage}。{prose(2)}")
    yield Block(Style.LEFT, "四、保障措施")
    for number, safeguard in enumerate(SAFEGUARDS):
        yield Block(Style.BODY, f"（{CN_NUMBERS[number]}）{safeguard}。{prose(3)}")


def write_pdf(blocks: list[Block], path: Path) -> int:
    """Set the blocks on A4 pages with `— n —` page numbers; return the page count."""
    from fpdf import FPDF

    class Notice(FPDF):
        def footer(self) -> None:
            self.set_y(-15)
            self.cell(0, 8, f"— {self.page_no()} —", align="C")

    pdf = Notice(format="A4")
    pdf.set_margins(25, 25, 25)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_font("latin", fname=str(LATIN_FONT))
    pdf.add_font("cjk", fname=str(CJK_FONT))
    pdf.set_font("cjk", size=12)
    pdf.set_fallback_fonts(["latin"])
    pdf.add_page()
    align = {Style.TITLE: "C", Style.CENTER: "C", Style.LEFT: "L", Style.RIGHT: "R"}
    for block in blocks:
        if block.style == Style.NEW_PAGE:
            pdf.add_page()
            continue
        pdf.set_font_size(16 if block.style == Style.TITLE else 12)
        text = block.text if block.style != Style.BODY else "\u3000\u3000" + block.text
        pdf.multi_cell(
            w=0, h=7, text=text, align=align.get(block.style, "J"), new_x="LMARGIN", new_y="NEXT"
        )
        pdf.ln(2)
    pdf.output(str(path))
    return pdf.page_no()


def build_notice_pdf(
    path: Path, plans: int, *, sentences_per_item: int, list_after_signature: bool = True
) -> int:
    """Write the cover + plans PDF to `path`; return its page count."""
    blocks = notice_blocks(
        plans, sentences_per_item=sentences_per_item, list_after_signature=list_after_signature
    )
    return write_pdf(blocks, path)


def plan_documents(documents: list[Document], plans: int) -> list[str]:
    """Problems with the split, as sentences ([] when each plan is its own document)."""
    problems = []
    titles = [doc.meta.title for doc in documents]
    if len(documents) != plans + 1:
        problems.append(f"expected {plans + 1} documents (cover + plans), found {len(documents)}")
    if titles[:1] != [COVER_TITLE]:
        problems.append(f"first document is not the cover: {titles[:1]}")
    for index in range(plans):
        title = plan_title(index)
        if titles.count(title) != 1:
            problems.append(f"plan {index + 1} ({title}) is in {titles.count(title)} documents")
    return problems


def timed(run) -> tuple[float, object]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plans", type=int, default=len(SECTORS))
    parser.add_argument("--sentences-per-item", type=int, default=14)
    parser.add_argument("--keep", type=Path, help="write the PDF here and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "cover_with_plans.pdf"
        start = time.perf_counter()
        pages = build_notice_pdf(path, args.plans, sentences_per_item=args.sentences_per_item)
        print(f"built {path.name}: {pages} pages in {time.perf_counter() - start:.1f} s (fpdf2)")

        # One run each, segmentation first in the process: no warm caches flatter it.
        read, source = timed(lambda: read_source(path))
        segment, _ = timed(lambda: segment_text(source.text, stem=path.stem))
        total, documents = timed(lambda: list(iter_documents([path])))

    chars = len(source.text)
    print(f"text layer: {chars:,} characters")
    print(
        f"{'iter_documents (read + segment)':34s} {total:7.2f} s  {chars / total / 1e6:6.2f} Mchar/s"
    )
    print(f"{'  pypdf text extraction alone':34s} {read:7.2f} s  {chars / read / 1e6:6.2f} Mchar/s")
    print(f"{'  segment_text alone':34s} {segment:7.2f} s  {chars / segment / 1e6:6.2f} Mchar/s")
    print(f"documents found: {len(documents)} (cover + {args.plans} plans expected)")
    problems = plan_documents(documents, args.plans)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("target: well under a minute; each plan its own document")
    too_small = args.plans == len(SECTORS) and pages <= 200
    if too_small:
        print(f"PROBLEM: only {pages} pages; the issue's file has over 200")
    if problems or too_small:
        sys.exit(1)


if __name__ == "__main__":
    main()
