"""The report of the pre-labelled sample notices in headless Chromium (Debian's),
opened from file:// as an analyst with no internet would: no console error, no
request other than the page itself, every chart drawn with Chinese text, and
the counts on the page equal to the counts of the input."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from corpus_tools.report import GroupBy, build_report

# Per chart: its marks (Vega's SVG puts each mark in a `role-mark` group) with
# their drawn size, and the CJK text it holds.
CHART_MARKS_JS = """() => [...document.querySelectorAll('figure.chart')].map(figure => {
  const svg = figure.querySelector('svg');
  const marks = svg ? [...svg.querySelectorAll('.role-mark > *')] : [];
  const drawn = marks.filter(m => { const b = m.getBBox(); return b.width > 0 || b.height > 0; });
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  const cjk = svg ? [...svg.querySelectorAll('text')].filter(t => /[\\u4e00-\\u9fff]/.test(t.textContent)) : [];
  const cjkWidth = cjk.length ? Math.max(...cjk.map(t => t.getBBox().width)) : 0;
  return {key: figure.dataset.chart, marks: marks.length, drawn: drawn.length,
          width: box.width, height: box.height, cjk: cjk.length, cjkWidth};
})"""


@pytest.mark.browser
@pytest.mark.slow
def test_report_opens_offline_with_every_chart_drawn(sample_prelabels, chromium, tmp_path: Path):

    result = build_report([sample_prelabels], tmp_path / "report", by=GroupBy.ISSUER)
    records = [
        json.loads(line) for line in sample_prelabels.read_text(encoding="utf-8").splitlines()
    ]
    labelled = [r for r in records if r["kind"] == "body" and r["measure_type"]]
    expected = {
        "units": len(labelled),
        "measures": sum(r["measure_type"] != "other" for r in labelled),
        "notices": len({r["doc_id"] for r in labelled}),
        "issuers": len({r["issuer"] for r in labelled if r["issuer"]}),
    }

    requests: list[str] = []
    console_errors: list[str] = []
    page_errors: list[str] = []
    browser = chromium
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.on("request", lambda request: requests.append(request.url))
    page.on(
        "console",
        lambda message: console_errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.goto(result.index.as_uri(), wait_until="load")
    page.wait_for_load_state("networkidle")

    charts = page.evaluate(CHART_MARKS_JS)
    counts = {name: int(page.locator(f'[data-count="{name}"]').inner_text()) for name in expected}
    inputs_row = page.locator('[data-testid="inputs"] tbody tr').first.inner_text()
    unplaced_rows = page.locator('[data-testid="deadlines-unplaced"] tbody tr').count()
    screenshot = tmp_path / "report.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"report screenshot: {screenshot}")

    assert console_errors == [] and page_errors == []
    assert requests and all(url.startswith(("file://", "data:")) for url in requests), requests
    assert requests[0] == result.index.as_uri()

    assert [c["key"] for c in charts] == list(result.charts)
    assert len(charts) == 7
    for chart in charts:
        assert chart["marks"] > 0 and chart["drawn"] > 0, chart
        assert chart["width"] > 200 and chart["height"] > 50, chart
        assert chart["cjk"] > 0 and chart["cjkWidth"] > 10, chart  # Chinese labels laid out
    assert screenshot.stat().st_size > 50_000

    # the page's numbers are the input's
    assert counts == expected
    assert f"{len(records)}" in inputs_row and f"{len(labelled)}" in inputs_row
    mix = pl.read_csv(result.out_dir / "measure_mix_by_notice.csv")
    assert mix["units"].sum() == expected["measures"]
    deadlines = pl.read_parquet(result.out_dir / "deadlines.parquet")
    all_deadlines = [d for r in labelled for d in r["deadlines"]]
    assert deadlines.height == len(all_deadlines)
    # the page lists measures' deadlines; `other` units' are in the CSV only
    measure_deadlines = [
        d for r in labelled if r["measure_type"] != "other" for d in r["deadlines"]
    ]
    assert unplaced_rows == sum(d["date"] is None for d in measure_deadlines)
