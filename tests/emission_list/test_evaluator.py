"""The vectorised evaluator against the plain scalar reference, and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emission_list.catalog import default_catalog
from emission_list.compiler import ListColumns, compile_columns
from emission_list.credit_code import check_character
from emission_list.entries import Enterprise, MeasureOverride
from emission_list.evaluator import Evaluator
from emission_list.levels import LIST_POLLUTANTS, Level, Response
from emission_list.reference import evaluator as reference
from emission_list.regions import RegionTree, decode_state, state_code

REGIONS = [
    ("150000", None),
    ("150100", "150000"),
    ("150200", "150000"),
    ("150203", "150200"),
    ("150203001", "150203"),
    ("150203002", "150203"),
    ("150203003", "150203"),
    ("150205", "150200"),
    ("150205001", "150205"),
]
TREE = RegionTree(REGIONS)
PARENTS = dict(REGIONS)
LEAVES = [r for r in TREE.leaves]
CATALOG = default_catalog()
INDUSTRY_GRADES = [(code, g) for code, ind in CATALOG.industries.items() for g in ind.grades]
STATES = [state_code(lvl, r) for lvl in Level if lvl for r in Response] + [0]


def credit_code(n: int) -> str:
    first17 = f"91150203{n:09d}"
    return first17 + check_character(first17)


def entry(n: int, region: str, industry: str, grade: str, **kw) -> Enterprise:
    return Enterprise(
        enterprise_id=credit_code(n),
        name=f"测试企业{n}",
        name_en=f"Test enterprise {n}",
        region=region,
        industry=industry,
        grade=grade,
        **kw,
    )


baselines = st.tuples(*[st.floats(0, 5000, allow_nan=False)] * 4)


@st.composite
def entries(draw, min_size=0, max_size=40):
    n = draw(st.integers(min_size, max_size))
    out = []
    for i in range(n):
        industry, grade = draw(st.sampled_from(INDUSTRY_GRADES))
        overrides = {}
        if draw(st.integers(0, 9)) == 0:
            level = draw(st.sampled_from(["yellow", "orange", "red"]))
            overrides[level] = MeasureOverride(production_cut=draw(st.floats(0, 1)))
        out.append(
            entry(
                i,
                draw(st.sampled_from(LEAVES)),
                industry,
                grade,
                guaranteed_supply=draw(st.booleans()),
                baseline=draw(baselines),
                overrides=overrides,
            )
        )
    return out


own_states = st.lists(st.sampled_from(STATES), min_size=len(TREE), max_size=len(TREE))


def own_map(own) -> dict:
    return {TREE.ids[i]: decode_state(c) for i, c in enumerate(own) if c}


def assert_matches_reference(evaluator: Evaluator, list_entries, own) -> None:
    expected = reference.evaluate_list(list_entries, CATALOG, PARENTS, own_map(own))
    compiled = evaluator.compiled
    for eid, want in expected.items():
        row = compiled.row_of[eid]
        got = evaluator.actions_of(row)
        assert (got.level, got.response) == (want.level, want.response), eid
        assert got.production_cut == pytest.approx(want.production_cut)
        assert [got.reductions[p] for p in LIST_POLLUTANTS] == pytest.approx(want.reductions)
        assert got.actions == want.actions
    totals = reference.region_totals(list_entries, expected, PARENTS, own_map(own))
    report = evaluator.region_report()
    for region, want in totals.items():
        i = TREE.index[region]
        for field in ("baseline", "required", "minimum", "shortfall"):
            got = getattr(report, field)[i]
            np.testing.assert_allclose(got, want[field], rtol=1e-9, atol=1e-6, err_msg=field)


def build(list_entries) -> Evaluator:
    return Evaluator(compile_columns(ListColumns.from_entries(list_entries), CATALOG, TREE))


@settings(max_examples=60, deadline=None)
@given(entries(), own_states)
def test_full_evaluation_equals_reference(list_entries, own):
    evaluator = build(list_entries)
    evaluator.evaluate(np.array(own, dtype=np.int8))
    assert_matches_reference(evaluator, list_entries, own)


@settings(max_examples=40, deadline=None)
@given(entries(min_size=1), st.lists(own_states, min_size=1, max_size=5))
def test_incremental_updates_equal_reference_and_report_exactly_the_changed(list_entries, steps):
    evaluator = build(list_entries)
    for own in steps:
        before = evaluator.state.copy()
        update = evaluator.update(np.array(own, dtype=np.int8))
        assert (
            sorted(update.changed_rows.tolist())
            == np.flatnonzero(evaluator.state != before).tolist()
        )
        assert update.touched_rows <= len(list_entries)
        assert_matches_reference(evaluator, list_entries, own)


def test_update_touches_only_the_changed_district():
    list_entries = [
        entry(i, LEAVES[i % len(LEAVES)], "steel", "B", baseline=(10, 20, 30, 0)) for i in range(60)
    ]
    evaluator = build(list_entries)
    own = np.zeros(len(TREE), dtype=np.int8)
    own[TREE.index["150203"]] = state_code(Level.ORANGE, Response.FULL)
    update = evaluator.update(own)
    under = {e.enterprise_id for e in list_entries if PARENTS[e.region] == "150203"}
    assert update.touched_rows == len(under)
    assert {str(evaluator.compiled.enterprise_ids[r]) for r in update.changed_rows} == under
    assert evaluator.update(own).touched_rows == 0


def test_b_grade_at_orange_by_hand():
    measure = CATALOG.measure("steel", "B", False, Level.ORANGE)
    e = entry(1, "150203001", "steel", "B", baseline=(1000.0, 800.0, 400.0, 50.0))
    evaluator = build([e])
    own = np.zeros(len(TREE), dtype=np.int8)
    own[TREE.index["150200"]] = state_code(Level.ORANGE, Response.FULL)
    evaluator.evaluate(own)
    got = evaluator.actions_of(0)
    assert got.level is Level.ORANGE and got.production_cut == pytest.approx(0.20)
    assert [got.reductions[p] for p in LIST_POLLUTANTS] == pytest.approx(
        [b * f for b, f in zip(e.baseline, measure.fractions, strict=True)]
    )
    assert got.actions == measure.actions


def test_o3_response_cuts_only_nox_and_vocs_and_advisory_cuts_nothing():
    e = entry(1, "150203001", "coating", "C", baseline=(100.0, 100.0, 100.0, 100.0))
    evaluator = build([e])
    own = np.zeros(len(TREE), dtype=np.int8)
    own[TREE.index["150203"]] = state_code(Level.RED, Response.O3)
    evaluator.evaluate(own)
    got = evaluator.actions_of(0)
    assert got.response is Response.O3 and got.production_cut == 0
    assert got.reductions["so2"] == 0 and got.reductions["pm"] == 0
    assert got.reductions["vocs"] > 0
    assert all({"nox", "vocs"} & set(a.pollutants) for a in got.actions)
    own[TREE.index["150203"]] = state_code(Level.RED, Response.ADVISORY)
    evaluator.update(own)
    got = evaluator.actions_of(0)
    assert got.level is Level.RED and got.response is Response.ADVISORY
    assert sum(got.reductions.values()) == 0 and got.actions == ()


def test_a_grade_region_shows_the_whole_minimum_as_shortfall():
    e = entry(1, "150205001", "steel", "A", baseline=(1000.0, 0.0, 500.0, 0.0))
    evaluator = build([e])
    own = np.zeros(len(TREE), dtype=np.int8)
    own[TREE.index["150205"]] = state_code(Level.YELLOW, Response.FULL)
    evaluator.evaluate(own)
    report = evaluator.region_report()
    i = TREE.index["150205"]
    assert report.minimum[i].tolist() == pytest.approx([100.0, 0.0, 50.0, 0.0])
    assert report.shortfall[i].tolist() == pytest.approx(
        np.maximum(report.minimum[i] - report.required[i], 0).tolist()
    )
    assert report.level[TREE.index["150200"]] == Level.NONE
