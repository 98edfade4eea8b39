"""Active learning: the uncertainty scores, the least-certain-first order and the
simulated annotator on a tiny export (whole sectors held out)."""

from __future__ import annotations

import numpy
import pytest
from conftest import make_tiny_export

from corpus_tools.errors import ModelError
from corpus_tools.model import GroupBy, iter_gold, load_export
from corpus_tools.model.active_learning import (
    Order,
    Uncertainty,
    check_disjoint,
    classifier_settings,
    fit_measure_type,
    hold_out_groups,
    least_certain_first,
    measure_type_examples,
    predict_types,
    queue_score,
    simulate_annotator,
    uncertainties,
    uncertainty,
    units_to_reach,
)
from corpus_tools.schema import MEASURE_TYPES

SURE = [0.90, 0.05, 0.05]
TORN = [0.40, 0.35, 0.25]
LEANING = [0.60, 0.30, 0.10]


@pytest.mark.parametrize("measure", list(Uncertainty))
def test_least_certain_first_puts_the_least_certain_first(measure):
    items = ["sure", "torn", "leaning"]
    scores = uncertainties([SURE, TORN, LEANING], measure=measure)
    assert least_certain_first(items, scores) == ["torn", "leaning", "sure"]


def test_the_measures_differ_where_they_should():
    # two types tied at the top against a spread of three: only the margin calls the tie less certain
    tie, spread = [0.5, 0.5, 0.0], [0.4, 0.3, 0.3]
    lc = uncertainties([tie, spread], measure=Uncertainty.LEAST_CONFIDENT)
    margin = uncertainties([tie, spread], measure=Uncertainty.MARGIN)
    assert lc[1] > lc[0]
    assert margin[0] > margin[1]
    assert margin[0] == pytest.approx(1.0)
    assert uncertainty([1.0, 0.0, 0.0], measure=Uncertainty.ENTROPY) == pytest.approx(0.0)
    assert uncertainty([0.25] * 4, measure=Uncertainty.ENTROPY) == pytest.approx(1.0)


def test_uncertainty_of_doc_cats_equals_the_matrix_row():
    cats = dict(zip(MEASURE_TYPES, numpy.linspace(1, 2, len(MEASURE_TYPES)) / 15, strict=True))
    for measure in Uncertainty:
        row = uncertainties([list(cats.values())], measure=measure)[0]
        assert uncertainty(cats, measure=measure) == pytest.approx(row)


@pytest.mark.parametrize("measure", list(Uncertainty))
def test_ascending_queue_score_is_least_certain_first(measure):
    rows = {"sure": SURE, "torn": TORN, "leaning": LEANING}
    by_score = sorted(rows, key=lambda name: queue_score(rows[name], measure=measure))
    assert by_score == ["torn", "leaning", "sure"]
    assert queue_score(SURE, measure=Uncertainty.LEAST_CONFIDENT) == pytest.approx(0.9)


def test_ties_keep_their_order_and_bad_input_is_named():
    assert least_certain_first(["a", "b", "c"], [0.2, 0.5, 0.2]) == ["b", "a", "c"]
    with pytest.raises(ModelError, match="3 items but 2"):
        least_certain_first(["a", "b", "c"], [0.1, 0.2])
    with pytest.raises(ModelError, match="matrix"):
        uncertainties([0.1, 0.9])


def test_units_to_reach():
    curve = [(300, 0.7), (100, 0.5), (200, 0.66)]
    assert units_to_reach(curve, 0.65) == 200
    assert units_to_reach(curve, 0.75) is None


@pytest.fixture(scope="module")
def tiny_units(tmp_path_factory):
    export = make_tiny_export(tmp_path_factory.mktemp("al-export"))
    dataset = load_export(export)
    return [u for name in dataset for u in iter_gold(dataset[name])]


@pytest.fixture(scope="module")
def held(tiny_units):
    return hold_out_groups(tiny_units, group_by=GroupBy.SECTOR, share=0.25, seed=0)


def test_held_out_groups_are_whole_sectors(tiny_units, held):
    assert held.groups and len(held.pool) + len(held.held_out) == len(tiny_units)
    assert {u.sector for u in held.held_out} == set(held.groups)
    assert not {u.sector for u in held.pool} & set(held.groups)
    assert not {u.doc_id for u in held.pool} & {u.doc_id for u in held.held_out}


def _run(held, order, *, seed=0, max_units=60):
    return list(
        simulate_annotator(
            held.pool,
            held.held_out,
            order=order,
            seed_units=10,
            batch_size=10,
            max_units=max_units,
            seed=seed,
        )
    )


@pytest.mark.parametrize("order", list(Order))
def test_simulation_never_trains_on_held_out_notices_and_grows(held, order):
    points = _run(held, order)
    assert [p.units for p in points] == list(range(10, 61, 10))
    trained = [i for p in points for i in p.batch_ids]
    assert len(trained) == len(set(trained)) == 60  # each unit annotated once
    by_id = {u.id: u for u in held.pool}
    assert set(trained) <= set(by_id)
    held_docs = {u.doc_id for u in held.held_out}
    held_sectors = {u.sector for u in held.held_out}
    assert not {by_id[i].doc_id for i in trained} & held_docs
    assert not {by_id[i].sector for i in trained} & held_sectors
    f1 = [p.macro_f1 for p in points]
    assert f1[0] < f1[2] < f1[-1]  # 10, 30, 60 units
    assert f1[-1] >= f1[0] + 0.4 and f1[-1] >= 0.75  # the tiny export's types are easy to tell


def test_uncertainty_first_hands_over_what_the_model_is_least_sure_of(held):
    points = _run(held, Order.UNCERTAINTY_FIRST, max_units=20)
    by_id = {u.id: u for u in held.pool}
    seed_units = [by_id[i] for i in points[0].batch_ids]
    model = fit_measure_type(measure_type_examples(seed_units), settings=classifier_settings())
    rest = [u for u in held.pool if u.id not in set(points[0].batch_ids)]
    _, probabilities = predict_types(model, rest)
    scores = uncertainties(probabilities)
    batch = set(points[1].batch_ids)
    assert min(s for u, s in zip(rest, scores, strict=True) if u.id in batch) >= max(
        s for u, s in zip(rest, scores, strict=True) if u.id not in batch
    )


def test_random_order_is_reproducible_with_a_seed(held):
    first = _run(held, Order.RANDOM, seed=3, max_units=30)
    again = _run(held, Order.RANDOM, seed=3, max_units=30)
    other = _run(held, Order.RANDOM, seed=4, max_units=30)
    assert [p.batch_ids for p in first] == [p.batch_ids for p in again]
    assert [p.macro_f1 for p in first] == [p.macro_f1 for p in again]
    assert [p.batch_ids for p in first] != [p.batch_ids for p in other]
    # both orders start from the same seed draw
    assert (
        _run(held, Order.UNCERTAINTY_FIRST, seed=3, max_units=10)[0].batch_ids == first[0].batch_ids
    )


def test_overlapping_notices_are_refused(held):
    leaked = list(held.pool) + [held.held_out[0]]
    with pytest.raises(ModelError, match="notice"):
        check_disjoint(leaked, held.held_out, group_by=GroupBy.SECTOR)
    with pytest.raises(ModelError, match="share"):
        next(simulate_annotator(leaked, held.held_out, order=Order.RANDOM))
