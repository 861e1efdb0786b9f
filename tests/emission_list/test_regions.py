import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emission_list.levels import Level, Response
from emission_list.regions import N_STATES, STATE_LEVEL, RegionTree, decode_state, state_code

REGIONS = [
    ("150203001", "150203"),
    ("150000", None),
    ("150200", "150000"),
    ("150203", "150200"),
    ("150203002", "150203"),
    ("150100", "150000"),
    ("150205", "150200"),
]


def tree() -> RegionTree:
    return RegionTree(REGIONS)


def test_preorder_parents_and_subtrees():
    t = tree()
    assert t.ids == ("150000", "150100", "150200", "150203", "150203001", "150203002", "150205")
    assert [t.ids[p] if p >= 0 else None for p in t.parent] == [
        None,
        "150000",
        "150000",
        "150200",
        "150203",
        "150203",
        "150200",
    ]
    assert t.subtree("150200") == ["150200", "150203", "150203001", "150203002", "150205"]
    assert t.subtree("150203001") == ["150203001"]
    assert t.leaves == ("150100", "150203001", "150203002", "150205")
    assert t.depth.tolist() == [0, 1, 1, 2, 3, 3, 2]


def test_ancestors_and_common_ancestor():
    t = tree()
    assert t.ancestors("150203002") == ["150203", "150200", "150000"]
    assert t.ancestors("150000") == []
    assert t.common_ancestor(["150203001", "150203002"]) == "150203"
    assert t.common_ancestor(["150203001", "150100"]) == "150000"
    assert t.common_ancestor(["150203"]) == "150203"


@pytest.mark.parametrize(
    "regions, message",
    [
        ([("a", None), ("a", None)], "duplicate"),
        ([("a", "b")], "unknown parent"),
        ([("r", None), ("a", "b"), ("b", "a")], "cycle"),
    ],
)
def test_bad_trees_are_refused(regions, message):
    with pytest.raises(ValueError, match=message):
        RegionTree(regions)


def test_state_codes_order_level_then_response():
    codes = [state_code(lvl, r) for lvl in (1, 2, 3) for r in ("advisory", "o3", "full")]
    assert codes == list(range(1, N_STATES))
    assert state_code(Level.NONE, Response.FULL) == 0
    for code in range(N_STATES):
        level, response = decode_state(code)
        assert STATE_LEVEL[code] == level
        assert code == 0 or state_code(level, response) == code


def test_city_warning_reaches_every_district_and_higher_own_level_wins():
    t = tree()
    own = np.zeros(len(t), dtype=np.int8)
    own[t.index["150200"]] = state_code(Level.YELLOW, Response.FULL)
    own[t.index["150203002"]] = state_code(Level.ORANGE, Response.FULL)
    effective = {r: decode_state(c)[0] for r, c in zip(t.ids, t.effective_states(own), strict=True)}
    assert effective == {
        "150000": Level.NONE,
        "150100": Level.NONE,
        "150200": Level.YELLOW,
        "150203": Level.YELLOW,
        "150203001": Level.YELLOW,
        "150203002": Level.ORANGE,
        "150205": Level.YELLOW,
    }


@given(st.lists(st.integers(0, N_STATES - 1), min_size=7, max_size=7))
def test_effective_state_is_max_over_ancestors(own_list):
    t = tree()
    own = np.array(own_list, dtype=np.int8)
    effective = t.effective_states(own)
    for region in t.ids:
        chain = [region, *t.ancestors(region)]
        assert effective[t.index[region]] == max(own[t.index[r]] for r in chain)
