"""Paging of the Data Manager task list (unit tests; the real server is in test_studio)."""

from __future__ import annotations

from typing import Any

import pytest

from corpus_tools.studio import projects, push


def _fake_pages(
    monkeypatch: pytest.MonkeyPatch, module: Any, total: int, page_size: int
) -> list[int]:
    """Serve `total` tasks in pages of `page_size`; record the pages asked for."""
    asked: list[int] = []

    def fake_raw_json(client, url, path, *, params, doing):
        page = params["page"]
        asked.append(page)
        if len(asked) > 10:
            raise AssertionError("kept asking for pages")
        first = (page - 1) * page_size
        ids = range(first, min(first + page_size, total))
        tasks = [
            {
                "id": i,
                "data": {"unit_id": f"u{i}", "text": "x"},
                "annotations": [{"completed_by": 7}],
            }
            for i in ids
        ]
        return {"tasks": tasks, "total": total}

    monkeypatch.setattr(module, "raw_json", fake_raw_json)
    return asked


def test_task_index_reads_every_page(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _fake_pages(monkeypatch, projects, total=25_000, page_size=10_000)
    index = projects.task_index(None, "http://studio", 1)
    assert asked == [1, 2, 3]
    assert len(index) == 25_000 and index["u24999"] == (24999, "x")


def test_existing_annotations_reads_every_page(monkeypatch: pytest.MonkeyPatch) -> None:
    # a re-run of push-annotations past 10k annotated tasks must still see them all
    asked = _fake_pages(monkeypatch, projects, total=12_000, page_size=10_000)
    done = push._existing_annotations(None, "http://studio", 1)
    assert asked == [1, 2]
    assert len(done) == 12_000 and done[11_999] == {7}
