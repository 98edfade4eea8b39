"""Training and evaluation on a tiny export (seconds), and their bad inputs."""

from __future__ import annotations

import json
import pickle
import re
import shutil
from pathlib import Path

import pytest
import spacy

from corpus_tools.errors import ExportError, ModelError
from corpus_tools.model import (
    classification_scores,
    evaluate_model,
    iter_gold,
    load_export,
    load_model,
    model_info,
    parse_overrides,
    pick_rule_option,
    read_meta,
    span_scores,
    train_model,
)
from corpus_tools.schema import MEASURE_TYPES, NER_TAGS, SPAN_LABELS


def test_trained_model_loads_with_spacy_and_carries_meta(tiny_model):
    nlp = spacy.load(tiny_model)  # the components are registered by corpus_tools.model
    assert nlp.component_names == ["textcat", "char_ngram_cats", "crf_spans", "rule_spans"]
    # textcat runs only where the mix chosen on validation gives it a share of doc.cats
    weight = nlp.get_pipe("char_ngram_cats").weight
    assert ("textcat" in nlp.disabled) == (weight >= 1.0)
    assert set(nlp.get_pipe("textcat").labels) == set(MEASURE_TYPES)
    assert set(nlp.get_pipe("crf_spans").labels) == set(NER_TAGS)
    meta = json.loads((tiny_model / "meta.json").read_text(encoding="utf-8"))
    assert meta["name"] == "zh_worksafety_prelabel" and meta["version"] == "0.1.0"
    assert meta["corpus_tools"]["span_labels"] == list(SPAN_LABELS)
    assert model_info(nlp).model_version == "zh_worksafety_prelabel-0.1.0"


def test_tokens_are_characters(tiny_model):
    nlp = load_model(tiny_model)
    doc = nlp.make_doc("2025年6月底前，市应急局负责。")
    assert [t.text for t in doc] == list("2025年6月底前，市应急局负责。")


def test_trained_model_finds_the_templated_spans(tiny_model):
    nlp = load_model(tiny_model)
    doc = nlp("市消防救援局要年底前每季度开展联合执法检查。")
    found = {(e.text, e.label_) for e in doc.ents}
    assert ("市消防救援局", "RESPONSIBLE_BODY") in found
    assert ("年底前", "DEADLINE") in found
    assert ("每季度", "FREQUENCY") in found
    assert abs(sum(doc.cats.values()) - 1) < 1e-3  # exclusive classes


def test_training_is_seeded(tiny_export, tmp_path):
    a = train_model(tiny_export, tmp_path / "a", max_steps=10, seed=3, select_rules=False)
    b = train_model(tiny_export, tmp_path / "b", max_steps=10, seed=3, select_rules=False)
    assert a.best_score == b.best_score
    text = "企业要每月开展风险辨识评估和隐患治理。"
    assert load_model(a.model_dir)(text).cats == load_model(b.model_dir)(text).cats


def test_whole_corpus_training_reads_every_split_and_keeps_the_config_choices(
    tiny_export, tmp_path
):
    result = train_model(tiny_export, tmp_path / "m", max_steps=10, whole_corpus=True)
    assert result.n_train == 120  # 80 train + 20 validation + 20 test
    assert result.rules == () and result.measure_type_mix is None
    meta = read_meta(result.model_dir)["corpus_tools"]
    assert meta["trained_on"] == ["test", "train", "validation"]
    rules = spacy.util.load_config(result.model_dir / "config.cfg")["components"]["rule_spans"]
    assert rules["override"] == ["RESPONSIBLE_BODY", "FREQUENCY"]
    assert rules["add"] == ["DEADLINE"] and rules["replace"] == []
    # a test-split text is now in-sample: the CRF learned its spans
    nlp = load_model(result.model_dir)
    test_unit = next(iter_gold(load_export(tiny_export)["test"]))
    predicted = {(e.start_char, e.end_char, e.label_) for e in nlp(test_unit.text).ents}
    assert set(test_unit.spans) <= predicted


def test_progress_and_overrides(tiny_export, tmp_path):
    seen = []
    result = train_model(
        tiny_export,
        tmp_path / "m",
        overrides=parse_overrides(["components.crf_spans.c2=0.5", "training.eval_frequency=5"]),
        max_steps=10,
        progress=seen.append,
        select_rules=True,
    )
    assert [p.step for p in seen] == [0, 5, 10]
    assert seen[-1].max_steps == 10
    config = spacy.util.load_config(result.model_dir / "config.cfg")
    assert config["components"]["crf_spans"]["c2"] == 0.5
    assert {r.label for r in result.rules} == set(SPAN_LABELS)
    assert all(set(r.f1) == {"learned", "replace", "add", "override"} for r in result.rules)


def test_parse_overrides_types():
    assert parse_overrides(["training.max_steps=5", "a.b=0.5", "a.c=true", 'a.d="x"']) == {
        "training.max_steps": 5,
        "a.b": 0.5,
        "a.c": True,
        "a.d": "x",
    }
    with pytest.raises(ModelError, match="section.key=value"):
        parse_overrides(["max_steps"])


def test_evaluate_reports_model_and_baseline(tiny_model, tiny_export):
    result = evaluate_model(tiny_model, tiny_export, split="test")
    assert result.n_units == 20 and result.split == "test"
    assert set(result.spans.per_label) == set(SPAN_LABELS)
    assert result.spans.per_label["FREQUENCY"].f1 > 0.5
    assert result.baseline_measure_type.labels  # the baseline was trained and scored
    assert result.baseline_name.startswith("char 1-3-gram TF-IDF")
    m = result.measure_type
    assert len(m.confusion) == len(m.labels) and sum(map(sum, m.confusion)) == 20
    json.dumps(result.to_dict())  # serialisable as the JSON report


def test_classification_scores_by_hand():
    s = classification_scores(["other", "other", "training"], ["other", "training", "training"])
    assert s.accuracy == pytest.approx(2 / 3, abs=1e-4)
    assert s.per_label["other"].precision == 1.0 and s.per_label["other"].recall == 0.5
    assert s.per_label["training"].f1 == pytest.approx(2 / 3, abs=1e-4)
    assert s.labels == ("training", "other")  # schema order
    assert s.confusion == ((1, 0), (1, 1))


def test_span_scores_exact_match():
    gold = [{(0, 3, "DEADLINE"), (4, 6, "FREQUENCY")}]
    pred = [{(0, 3, "DEADLINE"), (4, 7, "FREQUENCY")}]
    s = span_scores(gold, pred)
    assert s.per_label["DEADLINE"].f1 == 1.0
    assert s.per_label["FREQUENCY"].f1 == 0.0
    assert s.micro.precision == 0.5


# ---------------------------------------------------------------- bad input


def test_not_an_export(tmp_path):
    with pytest.raises(ExportError, match="not an export directory"):
        load_export(tmp_path)


def test_export_with_missing_split(tiny_export, tiny_model, tmp_path):
    from datasets import DatasetDict, load_from_disk

    full = load_from_disk(str(tiny_export / "dataset"))
    DatasetDict({"train": full["train"], "test": full["test"]}).save_to_disk(
        str(tmp_path / "dataset")
    )
    with pytest.raises(ExportError, match="no 'validation' split .*has: train, test"):
        train_model(tmp_path, tmp_path / "model", max_steps=1)
    with pytest.raises(ExportError, match="no 'validation' split"):
        evaluate_model(tiny_model, tmp_path, split="validation")


def test_export_dir_itself_is_accepted(tiny_export):
    assert set(load_export(tiny_export / "dataset")) == {"train", "validation", "test"}


def test_model_dir_that_is_not_a_model(tmp_path):
    with pytest.raises(ModelError, match="no such model directory"):
        load_model(tmp_path / "missing")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("hi")
    with pytest.raises(ModelError, match="not a spaCy model directory"):
        load_model(tmp_path / "junk")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.cfg").write_text("this is [not a config")
    (broken / "meta.json").write_text("{}")
    with pytest.raises(ModelError, match="cannot be loaded as a spaCy model"):
        load_model(broken)


def test_model_with_labels_off_schema(tmp_path):
    nlp = spacy.blank("zh")
    textcat = nlp.add_pipe("textcat")
    for label in (*MEASURE_TYPES[1:], "weather"):
        textcat.add_label(label)
    nlp.add_pipe("ner").add_label("DEADLINE")
    nlp.initialize()
    nlp.to_disk(tmp_path / "odd")
    with pytest.raises(ModelError, match="differ from the schema") as caught:
        load_model(tmp_path / "odd")
    message = str(caught.value)
    assert "missing study_publicity" in message and "unknown weather" in message
    assert "span labels: missing FREQUENCY, RESPONSIBLE_BODY" in message


def test_output_dir_that_holds_something_else(tiny_export, tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(ModelError, match="not empty and holds no model"):
        train_model(tiny_export, tmp_path, max_steps=1)
    assert (tmp_path / "notes.txt").exists()


def test_retraining_into_a_model_dir_replaces_it(tiny_model, tiny_export, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(tiny_model, target)
    result = train_model(tiny_export, target, max_steps=2, select_rules=False)
    assert load_model(result.model_dir).meta["corpus_tools"]["best_step"] in (0, 2)


def test_plain_spacy_load_finds_the_components_in_a_fresh_process(tiny_model):
    import subprocess
    import sys

    code = (
        "import spacy, sys; nlp = spacy.load(sys.argv[1]);"
        "assert 'corpus_tools.model.training' not in sys.modules;"
        "print(nlp.component_names[2], len(nlp('市应急局要年底前完成。').cats))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tiny_model)], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["crf_spans", "10"]


@pytest.mark.parametrize(("strip_markers", "first_clause_weight"), [(False, 0.0), (True, 0.7)])
def test_char_ngram_classifier_matches_scikit_learn_and_round_trips(
    tmp_path, strip_markers, first_clause_weight
):
    """The stored arrays reproduce scikit-learn's TF-IDF + LR probabilities,
    with the first clause as a second, scaled feature block when asked."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from spacy.training import Example

    from corpus_tools.model import CharNgramCats

    texts = {
        "risk_hazard": [
            "1.开展隐患排查治理，落实整改",
            "重大风险辨识管控",
            "隐患  整改闭环（市应急局负责）",
        ],
        "training": ["组织安全培训考核", "（二）特种作业人员培训，考核发证", "培训教育持证上岗"],
        "emergency": ["修订应急预案演练", "应急救援队伍建设，配齐装备", "应急物资储备"],
    }
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    examples = [
        Example.from_dict(nlp.make_doc(t), {"cats": {m: float(m == label) for m in MEASURE_TYPES}})
        for label, ts in texts.items()
        for t in ts
    ]
    component = CharNgramCats(
        "c",
        ngram_range=[1, 3],
        C=10.0,
        balanced=True,
        weight=1.0,
        strip_markers=strip_markers,
        first_clause_weight=first_clause_weight,
    )
    component.initialize(lambda: examples)
    component.to_disk(tmp_path / "c")
    loaded = CharNgramCats("c", ngram_range=[1, 3], C=1.0, balanced=False, weight=0.0)
    loaded.from_disk(tmp_path / "c")
    assert loaded.weight == 1.0 and loaded.labels == tuple(MEASURE_TYPES)
    assert (loaded.strip_markers, loaded.first_clause_weight) == (
        strip_markers,
        first_clause_weight,
    )

    flat = [(t, label) for label, ts in texts.items() for t in ts]
    item_number, closing = re.compile(r"^(?:\d+\.|（[一二三]）)"), re.compile(r"（[^（）]*）$")

    def body(text: str) -> str:
        return item_number.sub("", closing.sub("", text)) if strip_markers else text

    def blocks(fitted: list[TfidfVectorizer], batch: list[str]):
        whole = fitted[0].transform([body(t) for t in batch])
        if not first_clause_weight:
            return whole
        first = fitted[1].transform([re.split("，", body(t))[0] for t in batch])
        return hstack([whole, first * first_clause_weight]).tocsr()

    fitted = [
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True).fit(
            [body(t) for t, _ in flat]
        ),
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True).fit(
            [re.split("，", body(t))[0] for t, _ in flat]
        ),
    ]
    reference = LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced")
    reference.fit(blocks(fitted, [t for t, _ in flat]), [lab for _, lab in flat])
    probe = ["排查重大隐患，加强培训", "3.应急预案  培训（县应急局负责）", "无关的句子", ""]
    expected = reference.predict_proba(blocks(fitted, probe))
    for text, row in zip(probe, expected, strict=True):
        got = loaded.probabilities(text)
        for label, p in zip(reference.classes_, row, strict=True):
            assert got[MEASURE_TYPES.index(label)] == pytest.approx(p, abs=1e-4)
        unseen = [m for m in MEASURE_TYPES if m not in texts]
        assert all(got[MEASURE_TYPES.index(m)] < 1e-6 for m in unseen)
    # one sparse batch of texts of every length, an empty one among them, gives the same rows
    columns = [MEASURE_TYPES.index(label) for label in reference.classes_]
    batch = loaded.batch_probabilities(["", *probe])
    assert batch[1:, columns] == pytest.approx(expected, abs=1e-4)
    assert batch[0, columns] == pytest.approx(expected[-1], abs=1e-4)
    # fitted again on other data, its cached views of the weights follow
    component.batch_probabilities(probe)  # fills the caches
    component.initialize(lambda: examples[:6])
    fresh = CharNgramCats("d", ngram_range=[1, 3], C=10.0, balanced=True, weight=1.0)
    fresh.strip_markers, fresh.first_clause_weight = strip_markers, first_clause_weight
    fresh.initialize(lambda: examples[:6])
    assert component.batch_probabilities(probe) == pytest.approx(fresh.batch_probabilities(probe))
    # the caches are not pickled
    state = pickle.loads(pickle.dumps(component)).__dict__
    assert state["_coef"] is None and state["_first"] is None


@pytest.mark.parametrize(
    ("text", "cues"),
    [
        ("各部门要每月开展隐患排查。", {"directive"}),
        ("商户未设置烟感和灭火器。", {"defect", "no-directive"}),
        ("为了加强应急预案管理，制定本办法。", {"purpose", "directive"}),
        (
            "本办法所称应急预案，是指为有效预防和控制可能发生的事故而预先制定的方案。",
            {"definition", "directive"},
        ),
        ("到2026年底，重大事故隐患动态清零。", {"target", "no-directive"}),
        ("安全形势总体平稳。", {"no-directive"}),
        # a list item that states a condition (guide § 1: `……的` orders nothing)
        ("（三）未按规定采取防治突出措施的；", {"defect", "condition", "no-directive"}),
        ("（一）矿井总风量不足的", {"condition", "no-directive"}),
    ],
)
def test_cue_words(text, cues):
    from corpus_tools.model.char_ngram_cats import CUE_MARK, cue_words

    assert {c.removeprefix(CUE_MARK) for c in cue_words(text)} == cues


def test_cue_words_are_features_the_classifier_learns_and_stores(tmp_path):
    from spacy.training import Example

    from corpus_tools.model import CharNgramCats

    # the same words, ordered or found missing: only the cues tell them apart
    texts = {
        "risk_hazard": ["要设置烟感和灭火器。", "要配齐消防器材。", "要设置疏散指示标志。"],
        "other": ["未设置烟感和灭火器。", "未配齐消防器材。", "未设置疏散指示标志。"],
    }
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    examples = [
        Example.from_dict(nlp.make_doc(t), {"cats": {m: float(m == label) for m in MEASURE_TYPES}})
        for label, ts in texts.items()
        for t in ts
    ]
    component = CharNgramCats("c", ngram_range=[1, 2], C=10.0, balanced=True, weight=1.0, cues=True)
    component.initialize(lambda: examples)
    component.to_disk(tmp_path / "c")
    loaded = CharNgramCats("c", ngram_range=[1, 2], C=1.0, balanced=False, weight=0.0)
    loaded.from_disk(tmp_path / "c")
    assert loaded.cues
    probe = ["未张贴安全警示标识。", "要张贴安全警示标识。"]
    assert loaded.batch_probabilities(probe) == pytest.approx(component.batch_probabilities(probe))
    other, risk = MEASURE_TYPES.index("other"), MEASURE_TYPES.index("risk_hazard")
    found, ordered = loaded.batch_probabilities(probe)
    assert found[other] > found[risk] and ordered[risk] > ordered[other]


def test_training_records_the_measure_type_mix_chosen_on_validation(tiny_model):
    meta = json.loads((tiny_model / "meta.json").read_text(encoding="utf-8"))
    mix = meta["corpus_tools"]["measure_type_mix"]
    assert set(mix["validation_macro_f1"]) == {"0.0", "0.25", "0.5", "0.75", "1.0"}
    assert mix["validation_macro_f1"][str(mix["weight"])] == max(
        mix["validation_macro_f1"].values()
    )
    nlp = load_model(tiny_model)
    assert nlp.get_pipe("char_ngram_cats").weight == mix["weight"]


def test_learned_spans_shorter_than_min_chars_are_dropped(tiny_model):
    nlp = load_model(tiny_model)
    tagger = nlp.get_pipe("crf_spans")
    assert tagger.min_chars == 2  # from the project config
    text = "市消防救援局要年底前每季度开展联合执法检查。"
    with nlp.select_pipes(disable=["rule_spans"]):
        tagger.min_chars = 1
        loose = {(e.text, e.label_) for e in nlp(text).ents}
        tagger.min_chars = 7
        strict = {(e.text, e.label_) for e in nlp(text).ents}
        tagger.min_chars = 2
    assert ("市消防救援局", "RESPONSIBLE_BODY") in loose
    assert strict == {(t, lab) for t, lab in loose if len(t) >= 7}


@pytest.mark.parametrize(
    ("f1", "chosen"),
    [
        ({"learned": 0.75, "replace": 0.74, "add": 0.83, "override": 0.86}, "override"),
        ({"learned": 0.89, "replace": 0.89, "add": 0.89, "override": 0.89}, "replace"),
        ({"learned": 0.90, "replace": 0.70, "add": 0.80, "override": 0.80}, "learned"),
        ({"learned": 0.60, "replace": 0.50, "add": 0.70, "override": 0.70}, "override"),
    ],
)
def test_rule_option_best_on_validation_ties_to_rules(f1, chosen):
    assert pick_rule_option(f1) == chosen


def test_crf_features_read_characters_and_rule_tags():
    from corpus_tools.model import crf_features

    rows = crf_features("市局要做", [[(0, 2)], []])
    assert len(rows) == 4
    first, third = set(rows[0]), set(rows[2])
    assert {"c-2=^", "c-1=^", "c0=市", "c1=局", "c2=要", "b-1=^市", "b0=市局", "t-1=^市局"} < first
    assert {"r0=B", "r0+1=I"} < first and not any(f.startswith("r1") for f in first)
    assert {"r0-1=I"} < third and not any(f.startswith("r0=") for f in third)
    assert crf_features("", [[]]) == []


def test_crf_spans_round_trip_and_rule_finds_are_computed_once(tiny_model, tmp_path):
    from corpus_tools.model import RULES_KEY, CrfSpans

    nlp = load_model(tiny_model)
    crf = nlp.get_pipe("crf_spans")
    crf.to_disk(tmp_path / "crf")
    loaded = CrfSpans("crf", c1=0.0, c2=0.0, max_iterations=1, min_chars=9)
    loaded.from_disk(tmp_path / "crf")
    assert loaded.min_chars == crf.min_chars and loaded.labels == crf.labels
    text = "市消防救援局要年底前每季度开展联合执法检查。"
    before = [(e.start_char, e.end_char, e.label_) for e in crf(nlp.make_doc(text)).ents]
    after = [(e.start_char, e.end_char, e.label_) for e in loaded(nlp.make_doc(text)).ents]
    assert before == after and before

    doc = nlp(text)
    text_read, finds = doc.user_data[RULES_KEY]  # left by crf_spans, read again by rule_spans
    assert text_read == text
    assert finds["DEADLINE"] == [(7, 10)] and finds["FREQUENCY"] == [(10, 13)]


def test_crf_spans_read_a_doc_with_stray_spaces_like_one_without(tiny_model):
    nlp = load_model(tiny_model)
    plain = "市消防救援局要年底前每季度开展联合执法检查。"
    spaced = "市消防救援局 要 年底前 每季度开展联合执法检查。"
    doc = nlp(spaced)
    assert len(doc) < len(spaced)  # the single spaces are whitespace of the token before
    for e in doc.ents:
        assert spaced[e.start_char : e.end_char] == e.text
    with nlp.select_pipes(disable=["rule_spans"]):  # the CRF alone
        expected = [(e.text, e.label_) for e in nlp(plain).ents]
        assert [(e.text, e.label_) for e in nlp(spaced).ents] == expected
    assert ("市消防救援局", "RESPONSIBLE_BODY") in expected


def test_a_damaged_crf_file_is_refused_before_crfsuite_reads_it(tiny_model, tmp_path):
    broken = tmp_path / "model"
    shutil.copytree(tiny_model, broken)
    crf_file = broken / "crf_spans" / "crf.model"
    crf_file.write_bytes(crf_file.read_bytes()[: crf_file.stat().st_size // 2])
    with pytest.raises(ModelError, match=r"crf\.model: damaged .*retrain"):
        load_model(broken)


def test_the_span_crf_refuses_an_empty_training_set():
    from corpus_tools.model import CrfSpans

    crf = CrfSpans("crf", c1=0.1, c2=0.05, max_iterations=5, min_chars=2)
    with pytest.raises(ModelError, match="no training examples"):
        crf.initialize(lambda: [])


def test_whitespace_is_never_a_span_and_pickled_models_still_tag(tiny_model):
    nlp = load_model(tiny_model)
    for text in ("   ", " \n ", "市消防救援局  要年底前完成。"):
        for e in nlp(text).ents:
            assert e.text == e.text.strip() and e.text, (text, e.text)
    crf = nlp.get_pipe("crf_spans")
    copy = pickle.loads(pickle.dumps(crf))
    text = "市消防救援局要年底前每季度开展联合执法检查。"
    assert [e.text for e in copy(nlp.make_doc(text)).ents] == [
        e.text for e in crf(nlp.make_doc(text)).ents
    ]


def test_rule_finds_are_read_again_for_a_doc_with_another_text(tiny_model):
    from corpus_tools.model import RULES_KEY, rule_finds

    nlp = load_model(tiny_model)
    doc = nlp("市消防救援局要年底前完成。")
    part = doc[7:].as_doc(copy_user_data=True)  # `年底前完成。`, old offsets in user_data
    assert doc.user_data[RULES_KEY][1]["DEADLINE"] == [(7, 10)]
    assert rule_finds(part, part.text, "DEADLINE") == [(0, 3)]


def test_rule_finders_read_a_spaced_unit_without_its_stray_spaces(tiny_model):
    from corpus_tools.model import rule_finds

    nlp = load_model(tiny_model)
    text = "各区县应急局 要在 2013年 9月底前完成。"
    doc = nlp.make_doc(text)
    bodies = rule_finds(doc, text, "RESPONSIBLE_BODY")
    deadlines = rule_finds(doc, text, "DEADLINE")
    assert [text[s:e] for s, e in bodies] == ["各区县应急局"]
    assert [text[s:e] for s, e in deadlines] == ["2013年 9月底前"]
    assert ("各区县应急局", "RESPONSIBLE_BODY") in {(e.text, e.label_) for e in nlp(text).ents}


def test_docs_cross_processes_with_their_span_scores(tiny_model):
    # spaCy's own nlp.pipe(n_process=2) sends docs between processes with Doc.to_bytes
    from spacy.tokens import Doc

    from corpus_tools.model import prediction_of

    nlp = load_model(tiny_model)
    texts = ["市消防救援局要年底前每季度开展联合执法检查。", "企业要每月开展风险辨识评估。"] * 3
    alone = [prediction_of(doc) for doc in nlp.pipe(texts)]
    assert any(score is not None for p in alone for *_, score in p.spans)
    copied = [prediction_of(Doc(nlp.vocab).from_bytes(nlp(t).to_bytes())) for t in texts]
    assert copied == alone
    assert [prediction_of(doc) for doc in nlp.pipe(texts, n_process=2)] == alone


def test_heading_block_is_learned_stored_and_read_from_the_doc(tmp_path):
    from spacy.training import Example

    from corpus_tools.model import CharNgramCats
    from corpus_tools.model.context import HEADING_KEY, heading_of, make_docs

    assert heading_of(["一、总体要求", "（三）强化应急处置。"]) == "强化应急处置。"
    # the same sentences under two headings: only the heading tells them apart
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    texts = ["要开展一次检查。", "要组织专项行动。", "要落实各项措施。"]
    headings = {"emergency": "强化应急处置", "training": "加强教育培训"}
    examples = [
        Example.from_dict(doc, {"cats": {m: float(m == label) for m in MEASURE_TYPES}})
        for label, heading in headings.items()
        for doc in make_docs(nlp, texts, [heading] * len(texts))
    ]
    component = CharNgramCats(
        "c", ngram_range=[1, 2], C=10.0, balanced=True, weight=1.0, heading_weight=0.5
    )
    component.initialize(lambda: examples)
    component.to_disk(tmp_path / "c")
    loaded = CharNgramCats("c", ngram_range=[1, 2], C=1.0, balanced=False, weight=1.0)
    loaded.from_disk(tmp_path / "c")
    assert loaded.heading_weight == 0.5
    probe = ["要开展一次演练。"] * 2
    under = ["应急处置", "教育培训"]
    assert loaded.batch_probabilities(probe, under) == pytest.approx(
        component.batch_probabilities(probe, under)
    )
    emergency, training = MEASURE_TYPES.index("emergency"), MEASURE_TYPES.index("training")
    first, second = loaded.batch_probabilities(probe, under)
    assert first[emergency] > first[training] and second[training] > second[emergency]
    docs = list(loaded.pipe(make_docs(nlp, probe, under)))
    assert docs[0].user_data[HEADING_KEY] == "应急处置"
    assert docs[0].cats["emergency"] == pytest.approx(float(first[emergency]))


def _training_and_oversight_examples() -> list:
    """Six one-sentence examples of two measure types, told apart by their words."""
    from spacy.training import Example

    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    texts = {
        "training": ["要组织安全生产培训。", "要开展应急演练培训。", "要加强岗位技能培训。"],
        "oversight": ["要开展安全生产督查。", "要组织专项督导检查。", "要加强日常巡查检查。"],
    }
    return [
        Example.from_dict(nlp.make_doc(t), {"cats": {m: float(m == label) for m in MEASURE_TYPES}})
        for label, ts in texts.items()
        for t in ts
    ]


def test_word_block_is_learned_stored_and_read(tmp_path):
    from corpus_tools.model import CharNgramCats
    from corpus_tools.model.char_ngram_cats import WORD_MARK, words

    assert words("各单位要加强安全生产检查。")[:3] == ["各", "单位", "要"]
    examples = _training_and_oversight_examples()
    with_words = CharNgramCats(
        "c", ngram_range=[1, 2], C=10.0, balanced=True, weight=1.0, word_weight=1.0
    )
    with_words.initialize(lambda: examples)
    without = CharNgramCats("c", ngram_range=[1, 2], C=10.0, balanced=True, weight=1.0)
    without.initialize(lambda: examples)
    assert any(g.startswith(WORD_MARK) for g in with_words.vocab)
    assert not any(g.startswith(WORD_MARK) for g in without.vocab)
    with_words.to_disk(tmp_path / "c")
    loaded = CharNgramCats("c", ngram_range=[1, 2], C=1.0, balanced=False, weight=1.0)
    loaded.from_disk(tmp_path / "c")
    probe = ["要组织专项培训。", "要开展专项督查。"]
    assert loaded.word_weight == 1.0
    assert loaded.batch_probabilities(probe) == pytest.approx(with_words.batch_probabilities(probe))
    assert loaded.batch_probabilities(probe) != pytest.approx(without.batch_probabilities(probe))
    training, oversight = MEASURE_TYPES.index("training"), MEASURE_TYPES.index("oversight")
    first, second = loaded.batch_probabilities(probe)
    assert first[training] > first[oversight] and second[oversight] > second[training]


def test_pooled_and_group_macro_f1_weights_every_group_alike():
    from corpus_tools.model.scores import classification_scores, pooled_and_group_macro_f1

    gold = ["training", "other", "training", "other", "training", "emergency"]
    predicted = ["training", "other", "training", "other", "other", "emergency"]
    keys = ["a", "a", "a", "a", "b", "b"]
    pooled, mean = pooled_and_group_macro_f1(gold, predicted, keys)
    assert pooled == classification_scores(gold, predicted).macro_f1
    # group a is all right (1.0); group b misses its training unit
    b = classification_scores(gold[4:], predicted[4:]).macro_f1
    assert b < 1.0
    assert mean == (1.0 + b) / 2


def test_the_bootstrap_draws_score_macro_f1_as_classification_scores_does():
    import numpy

    from corpus_tools.model.scores import _macro_f1_of_draws, classification_scores

    gold = ["training", "other", "training", "emergency", "other", "training"]
    predicted = ["training", "other", "other", "oversight", "other", "training"]
    codes = {label: i for i, label in enumerate(sorted({*gold, *predicted}))}
    truth, guess = (numpy.array([codes[x] for x in xs]) for xs in (gold, predicted))
    whole = numpy.arange(len(gold))[None, :]  # one draw: every unit once
    assert _macro_f1_of_draws(truth, guess, whole, len(codes))[0] == pytest.approx(
        classification_scores(gold, predicted).macro_f1, abs=1e-4
    )


def test_difference_interval_holds_the_difference_and_is_sure_only_when_it_should_be():
    from corpus_tools.model.scores import classification_scores, difference_interval

    gold = (["training", "other", "emergency", "oversight"] * 30)[:120]
    right = list(gold)
    # the baseline misses every third unit; the model misses none
    worse = [
        ("other" if g != "other" else "training") if i % 3 == 0 else g for i, g in enumerate(gold)
    ]
    low, high = difference_interval(gold, right, worse)
    difference = 1.0 - classification_scores(gold, worse).macro_f1
    assert 0.0 < low <= difference <= high
    # the same predictions twice: no difference in any draw
    assert difference_interval(gold, worse, worse) == (0.0, 0.0)
    # the same seed, the same interval; fewer units, a wider one
    assert difference_interval(gold, right, worse) == (low, high)
    few_low, few_high = difference_interval(gold[:12], right[:12], worse[:12])
    assert few_high - few_low > high - low


def test_mean_difference_interval_is_over_groups():
    from corpus_tools.model.scores import mean_difference_interval

    model = [0.8, 0.7, 0.9, 0.6, 0.75]
    baseline = [0.7, 0.72, 0.8, 0.5, 0.7]  # model ahead by +0.066 on average, behind once
    low, high = mean_difference_interval(model, baseline)
    assert low < 0.066 < high and high - low < 0.2
    assert low > -0.02  # one group of five behind: the mean is still mostly ahead
    assert mean_difference_interval([0.5] * 4, [0.5] * 4) == (0.0, 0.0)
    assert mean_difference_interval([], []) == (0.0, 0.0)


def test_a_model_trained_from_the_same_inputs_is_kept(tiny_export, tmp_path):
    from conftest import make_tiny_export

    out = tmp_path / "model"
    first = train_model(tiny_export, out, max_steps=20, reuse_if_unchanged=True)
    assert not first.reused
    weights = out / "char_ngram_cats" / "weights.npz"
    written = weights.stat().st_mtime_ns

    again = train_model(tiny_export, out, max_steps=20, reuse_if_unchanged=True)
    assert again.reused and weights.stat().st_mtime_ns == written
    assert (again.model_version, again.steps, again.n_train, again.best_step) == (
        first.model_version,
        first.steps,
        first.n_train,
        first.best_step,
    )
    # other settings or other rows: trained again
    assert not train_model(tiny_export, out, max_steps=30, reuse_if_unchanged=True).reused
    other = make_tiny_export(tmp_path / "other-export", seed=1)
    assert not train_model(other, out, max_steps=30, reuse_if_unchanged=True).reused
    # without the flag `train` always trains
    assert not train_model(other, out, max_steps=30).reused


def test_temperature_sharpens_the_scores_keeps_the_pick_and_is_stored(tmp_path):
    from corpus_tools.model import CharNgramCats

    examples = _training_and_oversight_examples()
    plain = CharNgramCats("c", ngram_range=[1, 2], C=10.0, balanced=True, weight=1.0)
    plain.initialize(lambda: examples)
    plain.to_disk(tmp_path / "plain")
    sharp = CharNgramCats("c", ngram_range=[1, 2], C=10.0, balanced=True, weight=1.0)
    sharp.from_disk(tmp_path / "plain")
    sharp.temperature = 0.5
    sharp.to_disk(tmp_path / "sharp")
    loaded = CharNgramCats("c", ngram_range=[1, 2], C=10.0, balanced=True, weight=1.0)
    loaded.from_disk(tmp_path / "sharp")
    assert loaded.temperature == 0.5
    text = "要组织岗位培训。"
    before, after = plain.probabilities(text), loaded.probabilities(text)
    assert before.argmax() == after.argmax()
    assert after.max() > before.max()
    with pytest.raises(ModelError, match="temperature"):
        CharNgramCats("c", ngram_range=[1, 2], C=10.0, balanced=True, weight=1.0, temperature=0)


def test_squared_hinge_loss_fits_linear_svms_whose_margins_are_stored_and_read(tmp_path):
    import numpy
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    from corpus_tools.model import CharNgramCats
    from corpus_tools.model.char_ngram_cats import Loss, char_ngrams

    examples = _training_and_oversight_examples()
    svm = CharNgramCats(
        "c",
        ngram_range=[1, 2],
        C=1.0,
        balanced=True,
        weight=1.0,
        loss="squared_hinge",
        temperature=0.2,
    )
    svm.initialize(lambda: examples)
    log = CharNgramCats("c", ngram_range=[1, 2], C=1.0, balanced=True, weight=1.0)
    log.initialize(lambda: examples)
    probe = ["要组织专项培训。", "要开展专项督查。"]
    training, oversight = MEASURE_TYPES.index("training"), MEASURE_TYPES.index("oversight")
    first, second = svm.batch_probabilities(probe)
    assert first[training] > first[oversight] and second[oversight] > second[training]
    # the stored weights are scikit-learn's LinearSVC's: same margin for the probe
    texts = [eg.reference.text for eg in examples]
    labels = [max(eg.reference.cats, key=eg.reference.cats.get) for eg in examples]
    vectorizer = TfidfVectorizer(analyzer=lambda t: char_ngrams(t, 1, 2), sublinear_tf=True)
    reference = LinearSVC(C=1.0, class_weight="balanced", random_state=0)
    reference.fit(vectorizer.fit_transform(texts), labels)
    margin = reference.decision_function(vectorizer.transform(probe[:1]))[0]
    # two classes: one margin, for classes_[1]; ours is the softmax of (0, margin) / T
    sign = 1 if reference.classes_[1] == "training" else -1
    expected = 1 / (1 + numpy.exp(-sign * margin / 0.2))
    assert first[training] == pytest.approx(expected, abs=1e-4)
    assert svm.batch_probabilities(probe) != pytest.approx(log.batch_probabilities(probe))
    svm.to_disk(tmp_path / "svm")
    loaded = CharNgramCats("c", ngram_range=[1, 2], C=10.0, balanced=True, weight=1.0)
    loaded.from_disk(tmp_path / "svm")
    assert loaded.loss is Loss.SQUARED_HINGE and loaded.temperature == 0.2
    assert loaded.batch_probabilities(probe) == pytest.approx(svm.batch_probabilities(probe))
    with pytest.raises(ModelError, match="loss must be one of log, squared_hinge"):
        CharNgramCats("c", ngram_range=[1, 2], C=1.0, balanced=True, weight=1.0, loss="huber")


def test_the_model_records_the_export_as_named_not_this_machines_path(
    tiny_export, tmp_path, monkeypatch
):
    # A model shipped in a repository is read on other machines: its config and
    # meta name the export relative to where training ran, as it was given.
    monkeypatch.chdir(tiny_export.parent)
    out = tmp_path / "model"
    train_model(Path(tiny_export.name), out, max_steps=2, select_rules=False)
    config = (out / "config.cfg").read_text(encoding="utf-8")
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert f'export = "{tiny_export.name}"' in config
    assert meta["corpus_tools"]["export"] == tiny_export.name
    assert str(tiny_export.parent) not in config + json.dumps(meta)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"training.dropuot": 0.1},
            r"\[training\] has no setting 'dropuot'.*did you mean 'dropout'",
        ),
        ({"foo.bar": 1}, r"the config has no section \[foo\]; it has components"),
        ({"components.crf_spans.c3": 0.1}, r"\[components.crf_spans\] has no setting 'c3'"),
        ({"components.crf_spans.c2": "abc"}, r"a setting does not validate \(crf_spans -> c2"),
    ],
)
def test_a_bad_override_is_one_clear_error(tiny_export, tmp_path, override, message):
    # spaCy would train with a mistyped setting added and ignored, or fail with a
    # traceback when the config is resolved
    with pytest.raises(ModelError, match=message) as caught:
        train_model(tiny_export, tmp_path / "m", max_steps=1, overrides=override)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "m" / "meta.json").exists()


@pytest.mark.parametrize(
    ("split", "fix"),
    [
        ("dev", "did you mean --split validation?"),
        ("tset", "did you mean --split test?"),
        ("holdout", "pass one of those, or re-export with a holdout share"),
    ],
)
def test_an_unknown_split_names_the_ones_there_and_the_likely_fix(
    tiny_model, tiny_export, split, fix
):
    with pytest.raises(ExportError, match="no '" + split + "' split") as caught:
        evaluate_model(tiny_model, tiny_export, split=split, baseline=False)
    assert "it has: " in str(caught.value) and fix in str(caught.value)


def test_a_folder_given_as_gold_says_what_gold_takes(tiny_model, tiny_export):
    with pytest.raises(ExportError, match="is a folder; --gold takes a JSON Lines file"):
        evaluate_model(tiny_model, tiny_export, gold_files=[tiny_export], baseline=False)


def test_a_damaged_export_says_to_export_again(tiny_export, tmp_path):
    damaged = tmp_path / "export"
    shutil.copytree(tiny_export, damaged)
    for arrow in (damaged / "dataset" / "test").glob("*.arrow"):
        arrow.unlink()
    with pytest.raises(ExportError, match="missing or damaged: export it again") as caught:
        load_export(damaged)
    assert "\n" not in str(caught.value)
