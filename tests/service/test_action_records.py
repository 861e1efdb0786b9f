"""The haze.actions records from templates are the bytes of the per-object encoding, and the
changed set a board reports is the one the evaluator's rows give."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emission_list.catalog import default_catalog
from emission_list.levels import Level, Response
from emission_list.lifecycle import RegionAlertState, apply_manual
from emission_list.revisions import Revision
from emission_list.samples import kundulun_list, kundulun_region_tree
from emission_list.synthetic import synthetic_list
from service.bus.records import _rounded, action_records, actions_value
from service.services.board import ActionBoard

AT = dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)
REASON = {"zh-CN": "测试", "en": 'test %s "quoted"'}
TREE = kundulun_region_tree()
LEVELS = [Level.NONE, Level.YELLOW, Level.ORANGE, Level.RED]


def _per_object(board: ActionBoard, ids: list[str]) -> list[tuple[bytes, bytes]]:
    return [(e.encode(), json.dumps(actions_value(board, e)).encode()) for e in ids]


def _board(size: int, seed: int) -> ActionBoard:
    if size == 0:
        return ActionBoard(kundulun_list(), TREE, default_catalog())
    entries = synthetic_list(size, seed=seed, regions=TREE).entries()
    revision = Revision(2, 1, "published", dt.date(2026, 1, 1), "t", "", entries)
    return ActionBoard(revision, TREE, default_catalog())


warnings = st.lists(
    st.tuples(
        st.sampled_from(TREE.ids),
        st.sampled_from(LEVELS),
        st.sampled_from([Response.FULL, Response.O3, Response.ADVISORY]),
        st.integers(0, 72),
    ),
    max_size=4,
)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([0, 300, 1500]), st.integers(0, 5), warnings, st.data())
def test_templated_records_are_the_per_object_ones(size, seed, alerts, data) -> None:
    board = _board(size, seed)
    states = {}
    for region, level, response, hours in alerts:
        at = AT - dt.timedelta(hours=hours)
        states[region], _ = apply_manual(
            RegionAlertState(region=region), level, response, REASON, at
        )
    changed = board.apply_alerts(states, AT)
    ids = list(changed)
    assert action_records(board, changed) == _per_object(board, ids)
    everyone = board.evaluator.compiled.enterprise_ids.tolist()
    picked = data.draw(st.lists(st.sampled_from(everyone), max_size=30))
    picked += data.draw(st.lists(st.text(max_size=8), max_size=3))  # off the list: null
    picked = data.draw(st.permutations(picked))
    expected = [(e.encode(), json.dumps(actions_value(board, e)).encode()) for e in picked]
    assert action_records(board, picked) == expected


def test_the_changed_set_is_every_enterprise_of_the_regions_the_alerts_moved() -> None:
    board = _board(2000, 3)
    compiled = board.evaluator.compiled
    before = board.evaluator.key.copy()
    state, _ = apply_manual(RegionAlertState(region="150203"), Level.RED, Response.FULL, REASON, AT)
    changed = board.apply_alerts({"150203": state}, AT)
    moved = np.flatnonzero(board.evaluator.key != before)
    assert list(changed) == compiled.enterprise_ids[moved].tolist()
    assert len(changed) == len(moved) and changed == list(changed)
    under = {r for r in TREE.ids if r == "150203" or "150203" in TREE.ancestors(r)}
    assert set(changed.regions) <= under  # type: ignore[attr-defined]
    assert np.array_equal(board.rows_in(changed.regions), moved)  # type: ignore[attr-defined]
    assert board.apply_alerts({"150203": state}, AT) == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(0, 1e9, allow_nan=False),
            st.integers(0, 10**9).map(lambda i: i / 2000),  # ties in decimal at 3 digits
            st.integers(0, 10**7).map(lambda i: i * 0.0005),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_numpy_rounding_with_the_ties_by_python_is_pythons_round(values) -> None:
    got = _rounded(np.array(values), 3).tolist()
    assert [repr(v) for v in got] == [repr(round(v, 3)) for v in values]
