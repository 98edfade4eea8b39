"""The model inside Label Studio, in headless Chromium: a real Label Studio, a real
backend process (started as quickstart starts it) connected to a small project.

Opening a task draws the backend's suggestion (the measure type selected, the spans
highlighted with their labels); submitting annotations up to the retrain threshold
(one through the UI, the rest through the API) retrains the model in the background,
and the next task opened is suggested by the new `model_version`.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from test_studio import notice_units, sdk, unique_title

from corpus_tools import studio
from corpus_tools.schema import MEASURE_TYPE_NAMES_ZH, SPAN_LABEL_NAMES_ZH, MeasureType, SpanLabel
from corpus_tools.studio.backend_link import connect_model
from corpus_tools.studio.projects import find_project, task_index

RETRAIN_AFTER = 3

# What the labeling page draws: the checked measure-type radio (named by its Chinese
# name) and the highlighted spans of the sentence (data-label "N:中文名").
DRAWN_JS = """() => ({
  choices: [...document.querySelectorAll('input.ant-radio-input[type=radio]:checked')]
    .map(input => input.name),
  spans: [...document.querySelectorAll('.lsf-richtext .htx-highlight')]
    .map(span => [span.textContent, span.dataset.label.split(':').pop(),
                  Number(span.dataset.start), Number(span.dataset.end)]),
})"""


def _login(page, server) -> None:
    page.goto(f"{server.url}/user/login/")
    page.fill('input[name="email"]', server.username)
    page.fill('input[name="password"]', server.password)
    page.click('button[type="submit"], input[type="submit"]')
    page.wait_for_load_state("networkidle")


def _open_task(page, server, project_id: int, task_id: int, sentence: str) -> dict:
    """Open a task on the labeling page and read what the page drew once the suggestion is in."""
    page.goto(f"{server.url}/projects/{project_id}/data?task={task_id}")
    page.wait_for_selector(f"text={MEASURE_TYPE_NAMES_ZH[MeasureType.OTHER]}", timeout=90_000)
    page.wait_for_selector(
        ".lsf-richtext .htx-highlight, input.ant-radio-input:checked", timeout=60_000
    )
    page.wait_for_timeout(1000)  # the last region renders after the first
    assert sentence in page.inner_text("body")
    return page.evaluate(DRAWN_JS)


def _expected(prediction, sentence: str) -> dict:
    """The prediction's result as the page should draw it."""
    choices = [
        MEASURE_TYPE_NAMES_ZH[MeasureType(item["value"]["choices"][0])]
        for item in prediction.result
        if item["type"] == "choices"
    ]
    spans = []
    for item in prediction.result:
        if item["type"] == "labels":
            value = item["value"]
            assert sentence[value["start"] : value["end"]] == value["text"]  # code points
            label = SPAN_LABEL_NAMES_ZH[SpanLabel(value["labels"][0])]
            spans.append([value["text"], label, value["start"], value["end"]])
    return {"choices": choices, "spans": spans}


def _items(result: list[dict]) -> set[tuple]:
    """A result's choices and spans, whatever extra keys the UI or the backend add."""
    return {
        (item["from_name"], *item["value"].get("choices", ()))
        if item["type"] == "choices"
        else (
            item["from_name"],
            item["value"]["start"],
            item["value"]["end"],
            *item["value"]["labels"],
        )
        for item in result
    }


def _wait_for_retrain(backend_url: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            health = httpx.get(f"{backend_url}/health", timeout=5).json()
        except httpx.TimeoutException:  # the retrain thread can hold the interpreter for seconds
            health = {"last_retrain": "", "retraining": True}
        if health["last_retrain"] and not health["retraining"]:
            return health
        assert time.monotonic() < deadline, f"no retrain within {timeout} s: {health}"
        time.sleep(1)


@pytest.mark.browser
@pytest.mark.integration
@pytest.mark.slow
def test_suggestions_are_drawn_and_annotations_retrain_the_served_model(
    studio_server, background_backend, tiny_model, tiny_export, chromium, tmp_path: Path
):

    title = unique_title("live-model")
    access = {"url": studio_server.url, "api_key": studio_server.api_key}
    units = [u for u in notice_units("live1") if u.kind == "body"]
    studio.push_units(units, project=title, **access)
    info, _ = background_backend(
        model_dir=tiny_model,
        seed_export=tiny_export,
        studio_url=studio_server.url,
        studio_api_key=studio_server.api_key,
        retrain_after=RETRAIN_AFTER,
        retrain_steps=30,
    )
    connect_model(project=title, backend_url=info.url, **access)
    client = sdk(studio_server)
    project_id = find_project(client, studio_server.url, title).id
    task_ids = {
        uid: ids[0] for uid, ids in task_index(client, studio_server.url, project_id).items()
    }
    first = units[0]  # 各县（区）人民政府要在2025年6月底前完成…: a body and a deadline

    browser = chromium
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    _login(page, studio_server)

    # 1. the suggestion is drawn: the measure type chosen, the spans highlighted
    drawn = _open_task(page, studio_server, project_id, task_ids[first.unit_id], first.text)
    (suggestion,) = client.predictions.list(task=task_ids[first.unit_id])
    assert suggestion.model_version == info.model_version
    expected = _expected(suggestion, first.text)
    assert drawn["choices"] == expected["choices"] and len(drawn["choices"]) == 1
    assert sorted(drawn["spans"]) == sorted(expected["spans"])
    assert any(label == "责任主体" for _, label, _, _ in drawn["spans"])
    page.screenshot(path=str(tmp_path / "suggestion.png"), full_page=True)

    # 2. the annotator accepts it through the UI …
    page.get_by_role("button", name="Submit").click()
    deadline = time.monotonic() + 30
    while not client.annotations.list(id=task_ids[first.unit_id]):
        assert time.monotonic() < deadline, "the UI's submit stored no annotation"
        time.sleep(0.5)
    (submitted,) = client.annotations.list(id=task_ids[first.unit_id])
    assert _items(submitted.result) == _items(suggestion.result)
    # … and the next ones through the API, up to the retrain threshold
    for unit in units[1:RETRAIN_AFTER]:
        task_id = task_ids[unit.unit_id]
        client.tasks.get(id=task_id)
        (prediction,) = client.predictions.list(task=task_id)
        client.annotations.create(id=task_id, result=prediction.result, lead_time=2.0)

    # 3. the webhook count reached the threshold: a background retrain swaps the model
    health = _wait_for_retrain(info.url)
    assert health["last_retrain"].startswith("now "), health["last_retrain"]
    new_version = health["model_version"]
    assert new_version != info.model_version

    # 4. the next task opened is suggested by the retrained model
    later = [u for u in notice_units("live2") if u.kind == "body"][0]
    studio.push_units([later], project=title, **access)
    later_id = task_index(client, studio_server.url, project_id)[later.unit_id][0]
    drawn = _open_task(page, studio_server, project_id, later_id, later.text)
    (fresh,) = client.predictions.list(task=later_id)
    assert fresh.model_version == new_version
    expected = _expected(fresh, later.text)
    assert drawn["choices"] == expected["choices"]
    assert sorted(drawn["spans"]) == sorted(expected["spans"])
    assert new_version[-6:] in page.inner_text("body")  # the prediction's tab
    page.screenshot(path=str(tmp_path / "after-retrain.png"), full_page=True)
