"""The labeling page in headless Chromium (Debian's), driven by Playwright.

Opens a pushed task as an annotator would, checks the sentence, its context,
the 10 measure types and 3 span labels are shown, labels a choice and a span
through the UI, submits, and checks Label Studio stored the schema ids.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_studio import SENTENCES, notice_units, sdk, unique_title

from corpus_tools import studio
from corpus_tools.schema import (
    MEASURE_TYPE_NAMES_ZH,
    SPAN_LABEL_NAMES_ZH,
    MeasureType,
    SpanLabel,
)
from corpus_tools.studio.projects import find_project, task_index

# The visible text node holding `fragment` (the Data Manager keeps hidden
# copies of task text), as a viewport rectangle to drag the mouse across.
VISIBLE_RANGE_JS = """([needle, fragment]) => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const i = node.textContent.indexOf(fragment);
    if (!node.textContent.includes(needle) || i < 0) continue;
    const range = document.createRange();
    range.setStart(node, i);
    range.setEnd(node, i + fragment.length);
    const r = range.getBoundingClientRect();
    const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    if (hit && (hit.contains(node) || node.parentElement.contains(hit))) {
      return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    }
  }
  return null;
}"""


@pytest.mark.browser
@pytest.mark.integration
@pytest.mark.slow
def test_labeling_page_shows_context_and_choices_and_stores_ids(
    studio_server, chromium, tmp_path: Path
):
    from playwright.sync_api import expect

    title = unique_title("browser")
    units = notice_units()
    studio.push_units(units, project=title, url=studio_server.url, api_key=studio_server.api_key)
    client = sdk(studio_server)
    project_id = find_project(client, studio_server.url, title).id
    task_ids = {
        uid: ids[0] for uid, ids in task_index(client, studio_server.url, project_id).items()
    }
    unit = units[3]  # SENTENCES[1], between SENTENCES[0] and SENTENCES[2]
    task_id = task_ids[unit.unit_id]

    browser = chromium
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    page.goto(f"{studio_server.url}/user/login/")
    page.fill('input[name="email"]', studio_server.username)
    page.fill('input[name="password"]', studio_server.password)
    page.click('button[type="submit"], input[type="submit"]')
    page.wait_for_load_state("networkidle")
    page.goto(f"{studio_server.url}/projects/{project_id}/data?task={task_id}")
    page.wait_for_selector(f"text={MEASURE_TYPE_NAMES_ZH[MeasureType.OTHER]}", timeout=90_000)

    # The panels render one after another: wait for each text (a loaded
    # CI machine once read the page before the title had come).
    for shown in (
        SENTENCES[1],  # the sentence
        unit.title,
        "一、压实安全生产责任 › （一）强化党政领导责任",
        unit.item_parenthetical,
        SENTENCES[0],  # the sentence before
        SENTENCES[2],  # the sentence after
    ):
        expect(page.locator("body")).to_contain_text(shown, timeout=30_000)
    body = page.inner_text("body")
    for name in MEASURE_TYPE_NAMES_ZH.values():
        assert name in body, name
    for label in SpanLabel:
        assert SPAN_LABEL_NAMES_ZH[label] in body and label.value in body, label

    # Label as an annotator: a measure type, then 市应急局 as RESPONSIBLE_BODY.
    page.get_by_text(MEASURE_TYPE_NAMES_ZH[MeasureType.ENFORCEMENT]).first.click()
    page.get_by_text(SpanLabel.RESPONSIBLE_BODY.value).first.click()
    box = page.evaluate(VISIBLE_RANGE_JS, [SENTENCES[1][:10], "市应急局"])
    assert box, "the sentence is not visible on the labeling page"
    middle = (box["top"] + box["bottom"]) / 2
    page.mouse.move(box["left"] + 1, middle)
    page.mouse.down()
    page.mouse.move(box["right"] - 1, middle, steps=5)
    page.mouse.up()
    page.wait_for_timeout(500)
    screenshot = tmp_path / "labeling-page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    page.get_by_role("button", name="Submit").click()
    page.wait_for_timeout(1500)

    annotations = client.annotations.list(id=task_id)
    assert len(annotations) == 1
    result = annotations[0].result
    choices = [r for r in result if r["from_name"] == "measure_type"]
    spans = [r for r in result if r["from_name"] == "spans"]
    # The UI shows Chinese names; the stored values are the schema ids (aliases).
    assert choices[0]["value"]["choices"] == [MeasureType.ENFORCEMENT.value]
    assert spans[0]["value"]["labels"] == [SpanLabel.RESPONSIBLE_BODY.value]
    start, end = spans[0]["value"]["start"], spans[0]["value"]["end"]
    assert unit.text[start:end] == spans[0]["value"]["text"] == "市应急局"
