"""A cover notice with attached plans, read from a real (generated) PDF.

A smaller build of `benchmarks/large_pdf.py`: the cover notice and 5 plans,
about 20 pages, each plan on new pages under `附件N` and its own title; and
the wrapped line that split a plan in two in the full-size build.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from corpus_tools.segment import document_units, iter_documents, segment_text
from tests.conftest import PROJECT_ROOT


def _load_benchmark():
    # By path: an installed dependency ships a top-level `benchmarks` package.
    path = PROJECT_ROOT / "benchmarks" / "large_pdf.py"
    spec = importlib.util.spec_from_file_location("large_pdf_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


large_pdf = _load_benchmark()
COVER_TITLE, DATE, DOC_NUMBER = large_pdf.COVER_TITLE, large_pdf.DATE, large_pdf.DOC_NUMBER
build_notice_pdf, plan_title = large_pdf.build_notice_pdf, large_pdf.plan_title
PLANS = 5


@pytest.mark.slow
@pytest.mark.parametrize(
    "list_after_signature", [True, False], ids=["list-after-date", "list-before-signature"]
)
def test_each_attached_plan_is_its_own_document(tmp_path: Path, list_after_signature: bool):
    path = tmp_path / "cover_with_plans.pdf"
    pages = build_notice_pdf(
        path, PLANS, sentences_per_item=4, list_after_signature=list_after_signature
    )
    assert pages >= 15

    documents = list(iter_documents([path]))

    assert [d.meta.title for d in documents] == [COVER_TITLE] + [
        plan_title(index) for index in range(PLANS)
    ]
    assert len({d.meta.doc_id for d in documents}) == len(documents)
    cover, *plans = documents
    assert (cover.meta.doc_number, cover.meta.date) == (DOC_NUMBER, "2024-03-06")
    cover_units = document_units(cover)
    # The attachment list names the plans: meta of the cover, not a document of its own.
    for index in range(PLANS):
        entry = next(u for u in cover_units if u.text.endswith(plan_title(index)))
        assert entry.kind == "meta"
    assert any(u.text == DATE and u.kind == "meta" for u in cover_units)
    for number, plan in enumerate(plans, 1):
        units = document_units(plan)
        # The `附件N` label printed above a plan belongs to that plan.
        assert [(u.kind, u.text) for u in units[:2]] == [
            ("meta", f"附件{number}"),
            ("meta", plan_title(number - 1)),
        ]
        # a plan with no date of its own is issued with the cover notice: its date
        assert plan.meta.date == "2024-03-06" and plan.meta.doc_number == ""
        assert plan.meta.issuer == cover.meta.issuer
        headings = [u.text for u in units if u.kind == "heading"]
        assert headings[:2] == ["一、总体要求", "二、主要任务"]
        assert all(u.doc_id == plan.meta.doc_id for u in units)
        assert not any(u.text.startswith("附件") for u in units[2:])


def test_a_full_line_that_ends_like_a_title_continues_its_sentence():
    # PDF lines of one paragraph; the second ends in `规定` like a title would.
    lines = [
        "测试市人民政府关于做好道路交通安全工作的通知",
        "各县（区）人民政府，市直各有关单位：",
        "一、严格道路交通执法",
        "各地要加强道路交通安全管理，持续开展隐患排查整治。从严查处非法营运、非",
        "法挂靠、“三超一疲劳”、酒后驾驶、货车不按规定车道行驶、机动车违反禁限行规定",
        "、农用机动车载人等违法行为。各地要加强道路交通安全管理，严格落实企业主体",
        "责任，每季度至少开展一次专项检查，检查结果报市安委会办公室备案并向社会公布。",
        "测试市人民政府",
        "2025年3月6日",
    ]
    (document,) = segment_text("\n".join(lines), stem="notice")
    bodies = [u.text for u in document_units(document) if u.kind == "body"]
    assert bodies[1] == (
        "从严查处非法营运、非法挂靠、“三超一疲劳”、酒后驾驶、货车不按规定车道行驶、"
        "机动车违反禁限行规定、农用机动车载人等违法行为。"
    )
    assert document.meta.title == lines[0]


@pytest.mark.parametrize("cut", [1, 2, 5], ids=["last-char", "last-two", "last-five"])
def test_a_plan_title_wrapped_under_its_attachment_label_stays_whole(cut: int):
    title = "城市地下空间和大型商业综合体等人员密集场所消防安全专项整治实施方案"
    lines = [
        "测试市人民政府关于印发专项整治方案的通知",
        "各县（区）人民政府：",
        "现将方案印发给你们，请认真贯彻落实。",
        "测试市人民政府",
        "2025年3月6日",
        "附件2",
        title[:-cut],
        title[-cut:],
        "为深入排查整治消防安全风险隐患，",
        "结合实际，制定本方案。",
        "一、总体要求",
        "各地要压实属地责任。",
    ]
    cover, plan = segment_text("\n".join(lines), stem="notice")
    units = document_units(plan)
    assert plan.meta.title == title
    assert [(u.kind, u.text) for u in units[:3]] == [
        ("meta", "附件2"),
        ("meta", title),
        ("body", "为深入排查整治消防安全风险隐患，结合实际，制定本方案。"),
    ]
