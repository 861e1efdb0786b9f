"""Synthetic lists: determinism, size, valid codes, catalog consistency and shares."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emission_list import credit_code
from emission_list.catalog import GRADES, default_catalog
from emission_list.compiler import compile_columns, compile_revision
from emission_list.regions import RegionTree
from emission_list.revisions import validate_revision
from emission_list.samples import kundulun_region_tree
from emission_list.synthetic import (
    DEFAULT_MIX,
    NEVER_APPLIED,
    IndustryProfile,
    _draw,
    synthetic_list,
    synthetic_regions,
)

FIELDS = (
    "enterprise_id",
    "region",
    "industry",
    "grade",
    "guaranteed_supply",
    "baseline",
    "override_rows",
)


@pytest.fixture(scope="module")
def big():
    return synthetic_list(100_000, seed=7)


def _allowed() -> np.ndarray:
    """allowed[industry, grade] for the default mix's industries over GRADES."""
    catalog = default_catalog()
    return np.array([[g in catalog.industries[k].grades for g in GRADES] for k in DEFAULT_MIX])


def test_same_seed_same_list_other_seed_other_list():
    a, b, c = (
        synthetic_list(3000, seed=11),
        synthetic_list(3000, seed=11),
        synthetic_list(3000, seed=12),
    )
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.overrides == b.overrides and a.region_ids == b.region_ids
    assert not np.array_equal(a.enterprise_id, c.enterprise_id)
    assert not np.array_equal(a.baseline, c.baseline)


@pytest.mark.parametrize("n", [0, 1, 1000, 12_345])
def test_sizes_and_shapes(n):
    s = synthetic_list(n, seed=1)
    assert len(s) == n
    assert s.baseline.shape == (n, 4) and s.baseline.dtype == np.float64
    for name in ("enterprise_id", "region", "industry", "grade", "guaranteed_supply"):
        assert getattr(s, name).shape == (n,)
    assert s.enterprise_id.dtype == np.dtype("<U18")
    assert len(s.override_rows) == len(s.overrides)


def test_a_million_rows_over_two_thousand_leaves():
    s = synthetic_list(1_000_000, seed=0)
    tree = s.region_tree()
    assert len(s) == 1_000_000
    assert int(tree.is_leaf.sum()) == 2000 and int((tree.depth == 2).sum()) == 100
    assert credit_code.is_valid_array(s.enterprise_id).all()
    assert len(np.unique(s.enterprise_id)) == len(s)
    assert tree.is_leaf[s.region].all()
    assert np.isfinite(s.baseline).all() and (s.baseline >= 0).all()


def test_codes_valid_distinct_and_registered_in_the_district(big):
    codes = big.enterprise_id
    assert credit_code.is_valid_array(codes).all()
    assert all(credit_code.is_valid(c) for c in codes[:500].tolist())  # scalar check agrees
    assert len(np.unique(codes)) == len(codes)
    district = big.region_codes().astype("<U6")
    own = np.char.add("91", district) == codes.astype("<U8")
    city = np.char.add(np.char.add("91", district.astype("<U4")), "00") == codes.astype("<U8")
    assert (own | city).all()
    assert 0.03 < city.mean() < 0.07
    assert len(np.unique(codes.astype("<U8"))) == 10 + 1  # 1e5 rows: 10 districts, 1 city


def test_grades_belong_to_their_industry_and_never_applied_take_the_lowest(big):
    assert big.industries == tuple(DEFAULT_MIX) and big.grades == GRADES
    assert _allowed()[big.industry, big.grade].all()
    catalog = default_catalog()
    lowest = np.array([GRADES.index(catalog.industries[k].lowest_grade) for k in big.industries])
    at_lowest = (big.grade == lowest[big.industry]).mean()
    assert at_lowest > NEVER_APPLIED  # the never-applied plus those graded lowest
    other = big.industries.index("other")
    assert (big.grade_codes()[big.industry == other] == "other").all()
    grades = {g: (big.grade_codes() == g).mean() for g in GRADES}
    assert grades["B"] + grades["C"] > 0.35 and grades["A+"] < 0.01 and grades["D"] > 0.1


def test_shares_roughly_as_specified(big):
    weights = np.array([p.weight for p in DEFAULT_MIX.values()])
    share = np.bincount(big.industry, minlength=len(weights)) / len(big)
    np.testing.assert_allclose(share, weights / weights.sum(), atol=0.005)
    assert share[big.industries.index("steel")] < share[big.industries.index("brick")] / 10
    heating = big.industry == big.industries.index("heating")
    assert big.guaranteed_supply[heating].all()
    assert 0.02 < big.guaranteed_supply.mean() < 0.04
    assert 0.003 < len(big.override_rows) / len(big) < 0.007
    assert not big.guaranteed_supply[big.override_rows].any()
    assert (np.diff(big.override_rows) > 0).all()


def test_baselines_are_log_normal_per_industry_with_zeros_where_not_emitted(big):
    for k, (code, profile) in enumerate(DEFAULT_MIX.items()):
        rows = big.baseline[big.industry == k]
        for p, median in enumerate(profile.baseline):
            if median == 0:
                assert (rows[:, p] == 0).all(), code
            elif len(rows) > 1000:
                assert 0.7 * median < np.median(rows[:, p]) < 1.4 * median, code
    printing = big.baseline[big.industry == big.industries.index("printing")]
    assert (printing[:, :3] == 0).all() and 10 < np.median(printing[:, 3]) < 40
    steel = big.baseline[big.industry == big.industries.index("steel")]
    assert np.median(steel[:, 0]) > 100 * np.median(printing[:, 3]) / 25


def test_entries_and_revision_validate_and_compile():
    s = synthetic_list(1500, seed=5)
    tree = s.region_tree()
    revision = s.to_revision()
    catalog = default_catalog()
    assert len(revision) == 1500 and revision.status == "published"
    assert validate_revision(revision, catalog, tree.leaves, regions=tree.ids) == []
    entry = revision.entry(str(s.enterprise_id[s.override_rows[0]]))
    assert dict(entry.overrides) == dict(s.overrides[0])
    compiled = compile_columns(s.to_list_columns(), catalog, tree)
    assert compiled is not None and compile_revision(revision, catalog, tree) is not None


def test_given_regions_are_used_leaves_only():
    tree = kundulun_region_tree()
    s = synthetic_list(5000, seed=2, regions=tree)
    assert s.region_ids == tree.ids
    assert set(s.region_codes().tolist()) == set(tree.leaves)  # neighbours are leaves too
    kundulun = s.region_codes().astype("<U6") == "150203"
    registered = s.enterprise_id.astype("<U8")
    assert set(registered[kundulun].tolist()) == {"91150203", "91150200"}  # district or city
    assert set(registered[~kundulun].tolist()) == {"91150100", "91150600", "91150900"}
    pairs = synthetic_regions(2, 3, districts_per_city=1)
    s2 = synthetic_list(100, seed=2, regions=pairs)
    assert set(s2.region_codes().tolist()) <= {
        "990101001",
        "990101002",
        "990101003",
        "990201001",
        "990201002",
        "990201003",
    }


def test_synthetic_regions_structure():
    pairs = synthetic_regions(25, 4, districts_per_city=10)
    tree = RegionTree(pairs)
    assert pairs[0] == ("990000", None)
    assert len(pairs) == 1 + 3 + 25 + 25 * 4
    assert int(tree.is_leaf.sum()) == 100
    assert tree.ancestors("990305004") == ["990305", "990300", "990000"]
    assert len(tree.subtree("990300")) == 1 + 5 + 5 * 4
    with pytest.raises(ValueError):
        synthetic_regions(0)
    with pytest.raises(ValueError):
        synthetic_regions(5, 1000)


def test_mix_must_use_catalog_industries():
    with pytest.raises(ValueError, match="not in the catalog"):
        synthetic_list(10, mix={"glass": IndustryProfile(1.0, (1, 1, 1, 1))})
    s = synthetic_list(200, mix={"printing": IndustryProfile(1.0, (0, 0, 0, 30))})
    assert set(s.industry_codes().tolist()) == {"printing"}
    with pytest.raises(ValueError):
        synthetic_list(-1)


def _draw_reference(v: float, p: list[float]) -> int:
    """First index whose cumulative weight (summed left to right, as np.cumsum) exceeds v."""
    acc = 0.0
    for i, x in enumerate(p):
        acc += x
        if v < acc:
            return i
    return len(p) - 1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 10.0), min_size=1, max_size=8).filter(lambda p: sum(p) > 0),
    st.integers(0, 50),
    st.integers(0, 2**32 - 1),
)
def test_draw_matches_a_scalar_inverse_cdf(p, n, seed):
    p = np.array(p)
    got = _draw(np.random.default_rng(seed), p, n)
    total = float(np.cumsum(p)[-1])
    expected = [
        _draw_reference(u * total, p.tolist()) for u in np.random.default_rng(seed).random(n)
    ]
    assert got.tolist() == expected
    assert all(p[i] > 0 for i in got.tolist())


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 400), st.integers(0, 2**32 - 1))
def test_every_row_is_consistent(n, seed):
    s = synthetic_list(n, seed=seed)
    catalog = default_catalog()
    tree = s.region_tree()
    industries, grades, regions = s.industry_codes(), s.grade_codes(), s.region_codes()
    for i in range(n):
        assert credit_code.is_valid(str(s.enterprise_id[i]))
        assert grades[i] in catalog.industries[industries[i]].grades
        assert tree.is_leaf[tree.index[regions[i]]]
        median = DEFAULT_MIX[industries[i]].baseline
        assert all(b >= 0 and (m > 0 or b == 0) for b, m in zip(s.baseline[i], median, strict=True))
        if industries[i] == "heating":
            assert s.guaranteed_supply[i]
        if DEFAULT_MIX[industries[i]].guaranteed == 0:
            assert not s.guaranteed_supply[i]
    assert len(set(s.enterprise_id.tolist())) == n
