"""The ML backend's light retrain (refit of the measure-type regression and span CRF),
its reference score, and the uncertainty-first queue after a swap (real Label Studio)."""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import annotate_in_studio, annotated_task

from corpus_tools.errors import ModelError
from corpus_tools.schema import MEASURE_TYPES
from corpus_tools.studio.ml_backend import BackendState, load_served_model
from corpus_tools.studio.retraining import RetrainMode, RetrainOutcome

TEXTS = (
    "各县（区）人民政府要年底前全面排查整治重大事故隐患。",
    "市应急局要每季度开展联合执法检查。",
    "安全生产形势总体平稳。",
    "各乡镇要每月组织一次应急演练。",
    "市教育局要 2025年6月底前完成校园安全培训。",
    "压紧压实安全生产主体责任。",
)


def _rotated(measure_type: str) -> str:
    return MEASURE_TYPES[(MEASURE_TYPES.index(measure_type) + 1) % len(MEASURE_TYPES)]


def _seed(tiny_export):
    from corpus_tools.studio.retraining import read_seed

    return read_seed(tiny_export)


def _tasks(units, *, relabel: bool = False, prefix: str = "new") -> list[dict]:
    """Label Studio JSON of annotated tasks for `units` (GoldUnits), in new notices."""
    return [
        annotated_task(
            i + 1,
            unit_id=f"{prefix}-{i}",
            doc_id=f"{prefix}-doc{i // 10}",
            unit_index=i % 10,
            text=unit.text,
            measure_type=_rotated(unit.measure_type) if relabel else unit.measure_type,
            spans=list(unit.spans),
        )
        for i, unit in enumerate(units)
    ]


def _measure_types(model_dir: Path, texts) -> list[str]:
    from corpus_tools.model import load_model
    from corpus_tools.prelabel import predict_texts

    return [p.measure_type for p in predict_texts(load_model(model_dir), list(texts))]


# ---------------------------------------------------------------- the refit


def test_light_refit_writes_a_loadable_model_that_learns_changed_labels(
    tiny_export, tiny_model, tmp_path
):
    from corpus_tools.model import read_meta
    from corpus_tools.model.refit import refit_model

    train = list(_seed(tiny_export).train)
    texts = [u.text for u in train]
    relabelled = [replace(u, measure_type=_rotated(u.measure_type)) for u in train]
    result = refit_model(
        tiny_model, relabelled, tmp_path / "refit", version="0.1.0+r1", trained_on=["train"]
    )
    # a complete model directory, read by the normal loader
    served = load_served_model(result.model_dir)
    assert served.model_version.startswith("zh_worksafety_prelabel-0.1.0+r1+")
    before = _measure_types(tiny_model, texts)
    after = _measure_types(result.model_dir, texts)
    rotated = [u.measure_type for u in relabelled]
    # it learned the changed labels: had the refit done nothing, `after` would be `before`
    assert sum(a == r for a, r in zip(after, rotated, strict=True)) >= 0.9 * len(texts)
    assert sum(b == r for b, r in zip(before, rotated, strict=True)) <= 0.2 * len(texts)
    # what is not refitted is the base model's: config (rule options, mix weight), textcat, tokenizer
    base_cfg = (tiny_model / "config.cfg").read_text(encoding="utf-8")
    assert (result.model_dir / "config.cfg").read_text(encoding="utf-8") == base_cfg
    assert (result.model_dir / "textcat" / "model").read_bytes() == (
        tiny_model / "textcat" / "model"
    ).read_bytes()
    assert (result.model_dir / "crf_spans" / "crf.model").read_bytes() != (
        tiny_model / "crf_spans" / "crf.model"
    ).read_bytes()
    meta = read_meta(result.model_dir)["corpus_tools"]
    assert meta["refit"]["units"] == len(train) and meta["trained_on"] == ["train"]
    assert meta["rules"] == read_meta(tiny_model)["corpus_tools"]["rules"]


def test_light_refit_learns_changed_spans(tiny_export, tiny_model, tmp_path):
    """Spans relabelled DEADLINE → FREQUENCY in every unit: the refitted CRF follows."""
    from corpus_tools.model import load_model, prediction_of
    from corpus_tools.model.refit import refit_model

    swap = {"DEADLINE": "FREQUENCY", "FREQUENCY": "DEADLINE"}
    train = list(_seed(tiny_export).train)
    changed = [
        replace(u, spans=tuple((s, e, swap.get(label, label)) for s, e, label in u.spans))
        for u in train
    ]
    result = refit_model(tiny_model, changed, tmp_path / "m", version="x", trained_on=["train"])
    nlp = load_model(result.model_dir)
    with nlp.select_pipes(disable=["rule_spans"]):  # the learned spans, not the rules'
        found = [
            {(s, e, label) for s, e, label, *_ in prediction_of(d).spans}
            for d in nlp.pipe(u.text for u in changed)
        ]
    wanted = [{sp for sp in u.spans if sp[2] != "RESPONSIBLE_BODY"} for u in changed]
    hits = sum(len(w & f) for w, f in zip(wanted, found, strict=True))
    total = sum(len(w) for w in wanted)
    assert total > 20 and hits >= 0.8 * total


def test_refit_refuses_to_fit_on_no_units(tiny_model, tmp_path):
    from corpus_tools.model.refit import refit_model

    with pytest.raises(ModelError, match="no annotated units"):
        refit_model(tiny_model, [], tmp_path / "m", version="x", trained_on=["train"])


def test_crf_fit_raises_the_callbacks_error_after_training_and_refuses_unknown_algorithms(
    tiny_export, tiny_model
):
    from corpus_tools.model import load_model
    from corpus_tools.model.refit import gold_doc

    nlp = load_model(tiny_model)
    crf = nlp.get_pipe("crf_spans")
    docs = [gold_doc(nlp, u) for u in _seed(tiny_export).train]
    before = crf.model_bytes

    def fails() -> None:
        raise RuntimeError("regression failed")

    with pytest.raises(RuntimeError, match="regression failed"):
        crf.fit(docs, algorithm="l2sgd", epochs=2, while_training=fails)
    assert crf.model_bytes == before  # nothing swapped in
    with pytest.raises(ModelError, match="unknown CRF training algorithm"):
        crf.fit(docs, algorithm="bogus")


def test_token_chars_from_offsets_equal_reading_every_token(tiny_model):
    from corpus_tools.model import load_model
    from corpus_tools.model.rule_spans import token_chars

    nlp = load_model(tiny_model)
    for text in (*TEXTS, " 市应急局  要 每季度 ", "", "a b"):
        doc = nlp.make_doc(text)
        expected = ([t.idx for t in doc], "".join(t.text[:1] for t in doc))
        assert token_chars(doc) == expected
        assert token_chars(doc) == expected  # cached


# ---------------------------------------------------------------- the retrain job


def test_in_memory_score_equals_heldout_score(tiny_export, tiny_model):
    from corpus_tools.model import load_model
    from corpus_tools.studio.retraining import heldout_score, score_units

    assert score_units(load_model(tiny_model), _seed(tiny_export).test) == heldout_score(
        tiny_model, tiny_export
    )


def test_light_retrain_on_tasks_trains_on_seed_plus_annotations(tiny_export, tiny_model, tmp_path):
    from corpus_tools.studio.retraining import retrain_on_tasks

    seed = _seed(tiny_export)
    outcome = retrain_on_tasks(
        _tasks(seed.train[:30]),
        current_model=tiny_model,
        seed_export=tiny_export,
        work_dir=tmp_path,
    )
    assert outcome.mode == RetrainMode.LIGHT and outcome.compared_with == "the served model"
    assert outcome.n_new_units == 30 and outcome.n_train_units == len(seed.train) + 30
    assert outcome.accepted == (outcome.new_score >= outcome.old_score)
    served = load_served_model(outcome.model_dir)
    assert served.model_version != load_served_model(tiny_model).model_version
    stages = dict(outcome.stage_seconds)
    assert {"read", "load", "fit", "measure_type", "save", "score", "reference"} <= set(stages)


def test_a_project_annotation_replaces_the_seed_judgement_of_its_unit(tiny_export):
    from corpus_tools.studio.retraining import merged_units

    seed = list(_seed(tiny_export).train)
    changed = replace(seed[0], measure_type=_rotated(seed[0].measure_type))
    merged = merged_units(seed, [changed])
    assert len(merged) == len(seed)
    assert [u for u in merged if u.id == seed[0].id] == [changed]


def test_a_served_model_trained_on_the_held_out_notices_is_compared_like_for_like(
    tiny_export, tiny_model, tmp_path, monkeypatch
):
    """models/prelabel is trained on every split: its in-sample held-out score would keep
    every retrain out, so the reference is the same retrain on the seed alone (cached)."""
    from corpus_tools.studio import retraining

    whole = tmp_path / "whole"
    shutil.copytree(tiny_model, whole)
    meta = json.loads((whole / "meta.json").read_text(encoding="utf-8"))
    meta["corpus_tools"]["trained_on"] = ["test", "train", "validation"]
    (whole / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    seed = _seed(tiny_export)
    work = tmp_path / "work"
    first = retraining.retrain_on_tasks(
        _tasks(seed.train[:20]), current_model=whole, seed_export=tiny_export, work_dir=work
    )
    assert "on the seed alone" in first.compared_with
    cached = json.loads((work / retraining.REFERENCE_SCORES).read_text(encoding="utf-8"))
    assert list(cached.values()) == [first.old_score]
    assert not [p for p in work.iterdir() if (p / "reference").exists()]  # cleaned up

    def no_second_time(*args, **kwargs):
        raise AssertionError("the reference score is computed once per served model and seed")

    monkeypatch.setattr(retraining, "_seed_only_score", no_second_time)
    again = retraining.retrain_on_tasks(
        _tasks(seed.train[:20]), current_model=whole, seed_export=tiny_export, work_dir=work
    )
    assert again.old_score == first.old_score


def test_full_retrain_is_still_available(tiny_export, tiny_model, tmp_path):
    from corpus_tools.studio.retraining import retrain_on_tasks

    outcome = retrain_on_tasks(
        _tasks(_seed(tiny_export).train[:20]),
        current_model=tiny_model,
        seed_export=tiny_export,
        work_dir=tmp_path,
        mode=RetrainMode.FULL,
        max_steps=10,
    )
    assert outcome.mode == "full" and "train" in dict(outcome.stage_seconds)
    assert load_served_model(outcome.model_dir).model_version


def test_a_light_retrain_that_raises_leaves_the_served_model_unchanged(
    tiny_export, tiny_model, tmp_path, monkeypatch
):
    from corpus_tools.model.crf_spans import CrfSpans
    from corpus_tools.studio.ml_backend import predict_tasks
    from corpus_tools.studio.retraining import retrain_on_tasks

    def broken_fit(self, docs, **kwargs):
        raise RuntimeError("CRFsuite ran out of memory")

    monkeypatch.setattr(CrfSpans, "fit", broken_fit)
    served = load_served_model(tiny_model)
    tasks = [{"id": 1, "data": {"text": TEXTS[0]}}]
    before = predict_tasks(served, tasks)
    requeued = []
    state = BackendState(
        served=served,
        retrain=lambda project, current: retrain_on_tasks(
            _tasks(_seed(tiny_export).train[:20]),
            current_model=current,
            seed_export=tiny_export,
            work_dir=tmp_path,
        ),
        requeue=lambda project, model: requeued.append(model),
    )
    assert state.start_retrain("p")
    state.wait_for_retrain(120)
    assert state.served is served and not state.retraining
    assert "retrain failed" in state.last_retrain and "out of memory" in state.last_retrain
    assert predict_tasks(state.served, tasks) == before
    assert requeued == []  # nothing swapped, nothing re-scored


def test_after_a_swap_the_queue_is_rescored_and_a_failing_rescore_keeps_the_swap(
    tiny_model, tmp_path
):
    served = load_served_model(tiny_model)
    candidate = tmp_path / "new"
    shutil.copytree(tiny_model, candidate)
    meta = json.loads((candidate / "meta.json").read_text(encoding="utf-8"))
    meta["version"] = "0.1.0+r9"
    (candidate / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    seen: list = []
    release = threading.Event()

    def requeue(project, model):
        seen.append((project, model.model_version))
        release.wait(10)
        raise RuntimeError("Label Studio went away")

    state = BackendState(
        served=served,
        retrain=lambda project, current: RetrainOutcome(candidate, True, 0.8, 0.7, 20, 1.0),
        requeue=requeue,
    )
    state.start_retrain("p")
    release.set()
    state.wait_for_retrain(60)
    assert "0.1.0+r9" in state.served.model_version
    assert seen == [("p", state.served.model_version)]
    assert "failed" in state.last_requeue and "went away" in state.last_requeue
    assert state.last_retrain.startswith("now ")


# ---------------------------------------------------------------- real Label Studio


def _units(n: int) -> list[dict]:
    return [
        {
            "unit_id": f"rq-{i}",
            "doc_id": "rq-doc",
            "unit_index": i,
            "kind": "body",
            "text": TEXTS[i % len(TEXTS)],
            "section_path": [],
            "item_responsible_bodies": [],
            "item_parenthetical": None,
            "title": "关于做好安全生产工作的通知",
            "issuer": "",
            "doc_number": "",
            "date": "2025-03-06",
            "source_file": "x.txt",
        }
        for i in range(n)
    ]


@pytest.mark.integration
def test_requeue_rescores_unlabelled_tasks_and_orders_the_default_view_least_certain_first(
    studio_server, tiny_model, tmp_path
):
    from label_studio_sdk import LabelStudio

    from corpus_tools.studio import push_units
    from corpus_tools.studio.client import raw_json
    from corpus_tools.studio.requeue import QUEUE_ORDERING, requeue_project

    project = "requeue-test"
    push_units(
        _units(len(TEXTS)),
        project=project,
        url=studio_server.url,
        api_key=studio_server.api_key,
        record_dir=tmp_path,
    )
    client = LabelStudio(base_url=studio_server.url, api_key=studio_server.api_key)
    found = [p for p in client.projects.list(title=project) if p.title == project][0]
    tasks = {t.data["unit_id"]: t.id for t in client.tasks.list(project=found.id)}
    labelled = tasks["rq-0"]
    annotate_in_studio(client, labelled, "risk_hazard")
    served = load_served_model(tiny_model)

    report = requeue_project(project, served, url=studio_server.url, api_key=studio_server.api_key)
    assert report.tasks_unlabelled == len(TEXTS) - 1
    assert report.predictions_created == len(TEXTS) - 1
    predictions = list(client.predictions.list(project=found.id))
    by_task = {p.task: p for p in predictions if p.model_version == served.model_version}
    assert set(by_task) == set(tasks.values()) - {labelled}
    assert all(p.score is not None and 0.0 <= p.score <= 1.0 for p in by_task.values())
    kinds = {item["type"] for p in by_task.values() for item in p.result}
    assert "choices" in kinds

    full = client.projects.get(id=found.id)
    assert full.model_version == served.model_version
    assert full.sampling == "Uncertainty sampling"
    views = list(client.views.list(project=found.id))
    assert [v.id for v in views] == [report.view_id]
    # the default view's order, as the Data Manager lists it: lowest score first
    listed = raw_json(
        client,
        studio_server.url,
        "api/tasks/",
        params={"project": found.id, "view": report.view_id, "fields": "task_only"},
        doing="listing the view",
    )["tasks"]
    order = [t["id"] for t in listed]
    scores = [by_task[i].score for i in order if i in by_task]
    assert scores == sorted(scores)
    assert order[0] == min(by_task, key=lambda i: by_task[i].score)
    assert order[-1] == labelled  # no score of the current model: last

    # a second run adds nothing twice and keeps the view
    again = requeue_project(project, served, url=studio_server.url, api_key=studio_server.api_key)
    assert again.predictions_created == 0 and again.view_id == report.view_id
    assert not again.view_created

    # an existing first view with other ordering and a title: reordered, title kept
    client.views.update(
        id=str(report.view_id),
        project=found.id,
        data={"title": "Mine", "ordering": ["-tasks:id"]},
    )
    newer = replace(served, model_version=served.model_version + "-b")
    third = requeue_project(project, newer, url=studio_server.url, api_key=studio_server.api_key)
    assert third.view_id == report.view_id and third.predictions_created == len(TEXTS) - 1
    view = client.views.get(id=str(report.view_id))
    assert view.data["ordering"] == QUEUE_ORDERING and view.data["title"] == "Mine"
    assert client.projects.get(id=found.id).model_version == newer.model_version


def test_predictions_from_threads_at_once_equal_one_at_a_time(project_root):
    """/predict and the queue re-scoring share the served model: the CRF tagger keeps
    the last sequence for its marginals, so unguarded threads read each other's
    (seen with the shipped model, whose span scores vary; the tiny model's do not)."""
    import sys

    from corpus_tools.model import iter_gold, load_export
    from corpus_tools.prelabel import predict_texts

    served = load_served_model(project_root / "models" / "prelabel")
    dataset = load_export(project_root / "exports" / "corpus")
    texts = [u.text for u in iter_gold(dataset["test"])]
    expected = [repr(p) for p in predict_texts(served.nlp, texts)]
    results: dict[int, list[str]] = {}

    def run(k: int) -> None:
        ordered = texts if k % 2 == 0 else texts[::-1]
        results[k] = [repr(p) for p in predict_texts(served.nlp, ordered)]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often
    try:
        threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert len(results) == 4
    for k, got in results.items():
        assert got == (expected if k % 2 == 0 else expected[::-1])


def test_prediction_versions_are_read_whole_not_as_substrings():
    from corpus_tools.studio.requeue import prediction_versions

    assert prediction_versions({"predictions_model_versions": ["m+1", "m+12"]}) == ["m+1", "m+12"]
    assert prediction_versions({"predictions_model_versions": "m+12, n"}) == ["m+12", "n"]
    assert "m+1" not in prediction_versions({"predictions_model_versions": "m+12"})
    assert prediction_versions({}) == []
