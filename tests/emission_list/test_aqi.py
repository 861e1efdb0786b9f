"""IAQI and AQI (HJ 633): the vectorised kernels and the scalar reference, by hand and at random.

Edge tables below were computed by hand from the formula (and spot-checked against the national
examples): for every edge of every table, the edge itself and one reporting step either side
(1 µg/m³; 0.1 mg/m³ for CO). ``None`` marks a value above the table's top: IAQI 500 flagged
beyond range, or, for SO2 1h and O3 8h, no IAQI of its own.
"""

import math
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emission_list.aqi import (
    CATEGORIES,
    COLUMNS,
    POLLUTANTS,
    category_of,
    daily_aqi,
    evaluate_columns,
    hourly_aqi,
    iaqi,
    pollutant_names,
    round_concentration,
)
from emission_list.breakpoints import get_table
from emission_list.i18n import is_bilingual
from emission_list.reference import aqi as reference

# fmt: off
# (concentration, expected IAQI): at 0, then edge - 1 step, edge, edge + 1 step.
EDGES_2012 = {
    "so2_24h": [
        (0, 0), (1, 1),  (49, 49), (50, 50), (51, 51),  (149, 100), (150, 100), (151, 101),
        (474, 150), (475, 150), (476, 151),  (799, 200), (800, 200), (801, 201),
        (1599, 300), (1600, 300), (1601, 301),  (2099, 400), (2100, 400), (2101, 401),
        (2619, 500), (2620, 500), (2621, None),
    ],
    "so2_1h": [
        (0, 0), (1, 1),  (149, 50), (150, 50), (151, 51),  (499, 100), (500, 100), (501, 101),
        (649, 150), (650, 150), (651, 151),  (799, 200), (800, 200), (801, None),
    ],
    "no2_24h": [
        (0, 0), (1, 2),  (39, 49), (40, 50), (41, 52),  (79, 99), (80, 100), (81, 101),
        (179, 150), (180, 150), (181, 151),  (279, 200), (280, 200), (281, 201),
        (564, 300), (565, 300), (566, 301),  (749, 400), (750, 400), (751, 401),
        (939, 500), (940, 500), (941, None),
    ],
    "no2_1h": [
        (0, 0), (1, 1),  (99, 50), (100, 50), (101, 51),  (199, 100), (200, 100), (201, 101),
        (699, 150), (700, 150), (701, 151),  (1199, 200), (1200, 200), (1201, 201),
        (2339, 300), (2340, 300), (2341, 301),  (3089, 400), (3090, 400), (3091, 401),
        (3839, 500), (3840, 500), (3841, None),
    ],
    "co_24h": [
        (0, 0), (0.1, 3),  (1.9, 48), (2, 50), (2.1, 53),  (3.9, 98), (4, 100), (4.1, 101),
        (13.9, 150), (14, 150), (14.1, 151),  (23.9, 200), (24, 200), (24.1, 201),
        (35.9, 300), (36, 300), (36.1, 301),  (47.9, 400), (48, 400), (48.1, 401),
        (59.9, 500), (60, 500), (60.1, None),
    ],
    "co_1h": [
        (0, 0), (0.1, 1),  (4.9, 49), (5, 50), (5.1, 51),  (9.9, 99), (10, 100), (10.1, 101),
        (34.9, 150), (35, 150), (35.1, 151),  (59.9, 200), (60, 200), (60.1, 201),
        (89.9, 300), (90, 300), (90.1, 301),  (119.9, 400), (120, 400), (120.1, 401),
        (149.9, 500), (150, 500), (150.1, None),
    ],
    "o3_1h": [
        (0, 0), (1, 1),  (159, 50), (160, 50), (161, 52),  (199, 99), (200, 100), (201, 101),
        (299, 150), (300, 150), (301, 151),  (399, 200), (400, 200), (401, 201),
        (799, 300), (800, 300), (801, 301),  (999, 400), (1000, 400), (1001, 401),
        (1199, 500), (1200, 500), (1201, None),
    ],
    "o3_8h": [
        (0, 0), (1, 1),  (99, 50), (100, 50), (101, 51),  (159, 100), (160, 100), (161, 101),
        (214, 150), (215, 150), (216, 151),  (264, 199), (265, 200), (266, 201),
        (799, 300), (800, 300), (801, None),
    ],
    "pm10_24h": [
        (0, 0), (1, 1),  (49, 49), (50, 50), (51, 51),  (149, 100), (150, 100), (151, 101),
        (249, 150), (250, 150), (251, 151),  (349, 200), (350, 200), (351, 202),
        (419, 299), (420, 300), (421, 302),  (499, 399), (500, 400), (501, 401),
        (599, 499), (600, 500), (601, None),
    ],
    "pm25_24h": [
        (0, 0), (1, 2),  (34, 49), (35, 50), (36, 52),  (74, 99), (75, 100), (76, 102),
        (114, 149), (115, 150), (116, 152),  (149, 199), (150, 200), (151, 201),
        (249, 299), (250, 300), (251, 301),  (349, 399), (350, 400), (351, 401),
        (499, 500), (500, 500), (501, None),
    ],
}
EDGES_2026 = {key: points for key, points in EDGES_2012.items() if not key.startswith("pm")}
EDGES_2026["pm10_24h"] = [
    (0, 0), (1, 1),  (49, 49), (50, 50), (51, 51),  (119, 100), (120, 100), (121, 101),
    (249, 150), (250, 150), (251, 151),  (349, 200), (350, 200), (351, 202),
    (419, 299), (420, 300), (421, 302),  (499, 399), (500, 400), (501, 401),
    (599, 499), (600, 500), (601, None),
]
EDGES_2026["pm25_24h"] = [
    (0, 0), (1, 2),  (34, 49), (35, 50), (36, 52),  (59, 98), (60, 100), (61, 101),
    (114, 150), (115, 150), (116, 152),  (149, 199), (150, 200), (151, 201),
    (249, 299), (250, 300), (251, 301),  (349, 399), (350, 400), (351, 401),
    (499, 500), (500, 500), (501, None),
]
# fmt: on
EDGES = {"2012": EDGES_2012, "2026": EDGES_2026}
NAN = math.nan


# --- one test body, two implementations --------------------------------------------------------


def vectorised_iaqi(c, pollutant, period, edition):
    result = iaqi(np.array([c]), pollutant, period, edition)
    return float(result.value[0]), bool(result.beyond_range[0]), bool(result.no_own_iaqi[0])


IAQI_IMPLEMENTATIONS = {"vectorised": vectorised_iaqi, "reference": reference.iaqi}


def vectorised_row(values, edition, report_only=()):
    columns = {k: np.array([v], dtype=float) for k, v in values.items()}
    t = evaluate_columns(columns, edition, report_only=report_only)

    def names(mask):
        return {p for p, m in zip(POLLUTANTS, mask[0], strict=True) if m}

    return {
        "iaqi_by_column": {k: float(v[0]) for k, v in t.iaqi_by_column.items()},
        "iaqi": {p: float(v) for p, v in zip(POLLUTANTS, t.iaqi_by_pollutant[0], strict=True)},
        "aqi": float(t.aqi[0]),
        "category": int(t.category[0]),
        "primary": names(t.primary),
        "exceeding": names(t.exceeding),
        "beyond_range": names(t.beyond_range),
        "flagged": names(t.flagged),
        "missing": names(t.missing),
    }


ROW_IMPLEMENTATIONS = {"vectorised": vectorised_row, "reference": reference.aqi_row}


@pytest.fixture(params=sorted(IAQI_IMPLEMENTATIONS))
def score(request):
    return IAQI_IMPLEMENTATIONS[request.param]


@pytest.fixture(params=sorted(ROW_IMPLEMENTATIONS))
def row(request):
    return ROW_IMPLEMENTATIONS[request.param]


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


# --- IAQI at and around every breakpoint ---------------------------------------------------------


@pytest.mark.parametrize("edition", ["2012", "2026"])
def test_iaqi_at_and_around_every_edge(score, edition):
    for key, points in EDGES[edition].items():
        pollutant, period = key.split("_")
        no_own = key in ("so2_1h", "o3_8h")
        for c, expected in points:
            value, beyond, none = score(c, pollutant, period, edition)
            if expected is None:
                assert (same(value, NAN if no_own else 500.0), beyond, none) == (
                    True,
                    not no_own,
                    no_own,
                ), (key, c)
            else:
                assert (value, beyond, none) == (expected, False, False), (key, c)


@pytest.mark.parametrize("edition", ["2012", "2026"])
def test_pm_1h_is_scored_against_the_24h_table(score, edition):
    for pollutant in ("pm10", "pm25"):
        for c, expected in EDGES[edition][f"{pollutant}_24h"]:
            assert score(c, pollutant, "1h", edition) == score(c, pollutant, "24h", edition)
            if expected is not None:
                assert score(c, pollutant, "1h", edition)[0] == expected


@pytest.mark.parametrize(
    ("pollutant", "c", "edition", "expected"),
    [
        ("pm25", 75, "2026", 114),  # domain.md check values
        ("pm10", 150, "2026", 112),
        ("pm25", 75, "2012", 100),
        ("pm10", 150, "2012", 100),
        ("pm25", 49, "2026", 78),  # the published station-hour: 78, not 68
        ("pm25", 49, "2012", 68),  # 50 + 50 * 14 / 40 = 67.5, rounded up
        ("pm25", 60, "2026", 100),
        ("pm10", 120, "2026", 100),
    ],
)
def test_check_values(score, pollutant, c, edition, expected):
    assert score(c, pollutant, "24h", edition) == (expected, False, False)
    assert score(c, pollutant, "1h", edition) == (expected, False, False)


def test_2026_pm25_49_gives_aqi_78_in_the_hourly_report():
    t = hourly_aqi(so2=[8.0], no2=[40.0], co=[0.6], o3=[30.0], pm10=[70.0], pm25=[49.0],
                   edition="2026")  # fmt: skip
    assert t.aqi.tolist() == [78.0]
    assert t.category.tolist() == [2]
    assert pollutant_names(t.primary).tolist() == ["pm25"]
    t2012 = hourly_aqi(so2=[8.0], no2=[40.0], co=[0.6], o3=[30.0], pm10=[70.0], pm25=[49.0],
                       edition="2012")  # fmt: skip
    assert t2012.aqi.tolist() == [68.0]  # PM10 70 gives 60, PM2.5 49 gives 68


@pytest.mark.parametrize(
    ("pollutant", "c", "expected"),
    [
        ("pm25", 34.5, 49),  # rounds to 34 (half to even): ceil(50 * 34 / 35) = 49
        ("pm25", 35.5, 52),  # rounds to 36: 50 + ceil(50 / 40) = 52
        ("pm25", 35.49, 50),
        ("pm25", 0.5, 0),  # rounds to 0
        ("pm25", 1.5, 3),  # rounds to 2: ceil(50 * 2 / 35) = ceil(2.86) = 3
        ("pm25", 2.5, 3),  # rounds to 2 as well
        ("co", 2.05, 50),  # 2.05 -> 2.0 mg/m³ (half to even)
        ("co", 2.04, 50),
        ("co", 2.06, 53),  # 2.1: 50 + ceil(50 * 0.1 / 2) = 53
    ],
)
def test_concentrations_are_rounded_before_use(score, pollutant, c, expected):
    assert score(c, pollutant, "24h", "2012")[0] == expected


def test_co_rounding_to_a_tenth(score):
    # 2.15 rounds to 2.2 mg/m³ (1 odd: half to even goes up): 50 + ceil(50 * 0.2 / 2) = 55.
    assert score(2.15, "co", "24h", "2012")[0] == 55
    # 2.25 rounds to 2.2 (2 even): 55 again; 2.26 rounds to 2.3: 50 + ceil(7.5) = 58.
    assert score(2.25, "co", "24h", "2012")[0] == 55
    assert score(2.26, "co", "24h", "2012")[0] == 58


def test_round_concentration():
    np.testing.assert_array_equal(
        round_concentration([0.5, 1.5, 2.5, 34.5, 35.5, 35.49, NAN], "pm25"),
        [0, 2, 2, 34, 36, 35, NAN],
    )
    np.testing.assert_array_equal(
        round_concentration([0.05, 0.15, 0.25, 0.35, 1.04, 2.15], "co"),
        [0.0, 0.2, 0.2, 0.4, 1.0, 2.2],
    )
    with pytest.raises(ValueError, match="unknown pollutant"):
        round_concentration(1.0, "pm1")


def test_co_rounding_is_decimal_half_to_even_for_two_decimals():
    """rint(10 c) equals GB/T 8170 rounding of the decimal as written, 0.00 .. 200.00 mg/m³."""
    texts = [f"{i // 100}.{i % 100:02d}" for i in range(20_001)]
    tenths = np.rint(np.array([float(s) for s in texts]) * 10)
    expected = [int(Decimal(s).scaleb(1).quantize(Decimal(1), ROUND_HALF_EVEN)) for s in texts]
    assert tenths.astype(int).tolist() == expected


@pytest.mark.parametrize("edition", ["2012", "2026"])
def test_vectorised_equals_reference_at_every_step_of_every_table(edition):
    """Exhaustive: every reporting step from 0 to 3 steps above the top."""
    for key, bp in get_table(edition).tables.items():
        pollutant, period = key.split("_")
        steps = np.arange(bp.top_steps + 4)
        c = steps / bp.steps_per_unit
        got = iaqi(c, pollutant, period, edition)
        for i, ci in enumerate(c.tolist()):
            want = reference.iaqi(ci, pollutant, period, edition)
            have = (float(got.value[i]), bool(got.beyond_range[i]), bool(got.no_own_iaqi[i]))
            assert same(have[0], want[0]) and have[1:] == want[1:], (key, ci)


def test_missing_negative_and_extreme_values(score):
    for c in (NAN, -1.0, -0.3, -math.inf):
        assert same(score(c, "pm25", "24h", "2012")[0], NAN)
        assert score(c, "pm25", "24h", "2012")[1:] == (False, False)
    assert score(-0.0, "pm25", "24h", "2012") == (0.0, False, False)
    for c in (math.inf, 1e300, 2.0**52, 2.0**51 + 0.5):
        assert score(c, "pm25", "24h", "2012") == (500.0, True, False)
        assert score(c, "co", "1h", "2012") == (500.0, True, False)
        assert same(score(c, "so2", "1h", "2012")[0], NAN)
        assert score(c, "so2", "1h", "2012")[1:] == (False, True)
    assert score(500.5, "pm25", "24h", "2012") == (500.0, False, False)  # rounds to 500
    assert score(500.6, "pm25", "24h", "2012") == (500.0, True, False)  # rounds to 501


def test_iaqi_keeps_the_shape_and_checks_names():
    result = iaqi(np.array([[35.0, 75.0], [NAN, 600.0]]), "pm25", "24h", "2012")
    np.testing.assert_array_equal(result.value, [[50, 100], [NAN, 500]])
    np.testing.assert_array_equal(result.beyond_range, [[False, False], [False, True]])
    assert result.no_own_iaqi.shape == (2, 2)
    assert iaqi(75.0, "pm25", "24h", "2026").value.shape == ()
    with pytest.raises(ValueError, match="unknown pollutant"):
        iaqi([1.0], "pm1", "24h", "2012")
    with pytest.raises(KeyError):
        iaqi([1.0], "pm25", "8h", "2012")


# --- AQI of a row: special rules, missing data, primary pollutants -------------------------------


def test_so2_1h_above_800_without_24h_is_reported_200_flagged(row):
    r = row({"so2_1h": 801.0, "pm25_24h": 50.0}, "2012")
    assert same(r["iaqi_by_column"]["so2_1h"], NAN)
    assert r["iaqi"]["so2"] == 200.0 and r["flagged"] == {"so2"}
    assert r["aqi"] == 200.0 and r["primary"] == {"so2"} and r["category"] == 4
    r = row({"so2_1h": 801.0, "so2_24h": NAN}, "2012")  # the 24h column is there but missing
    assert r["iaqi"]["so2"] == 200.0 and r["flagged"] == {"so2"}


def test_so2_1h_above_800_takes_the_24h_iaqi(row):
    r = row({"so2_1h": 900.0, "so2_24h": 100.0}, "2012")  # 24h: 50 + 50 * 50 / 100 = 75
    assert r["iaqi"]["so2"] == 75.0 and r["flagged"] == set() and r["aqi"] == 75.0
    r = row({"so2_1h": 800.0}, "2012")  # on the top edge: its own IAQI
    assert r["iaqi"]["so2"] == 200.0 and r["flagged"] == set()
    r = row({"so2_1h": 650.0, "so2_24h": 1600.0}, "2012")  # otherwise: the larger of both
    assert r["iaqi"]["so2"] == 300.0


def test_o3_8h_above_800_without_1h_is_reported_300_flagged(row):
    r = row({"o3_8h": 801.0}, "2026")
    assert same(r["iaqi_by_column"]["o3_8h"], NAN)
    assert r["iaqi"]["o3"] == 300.0 and r["flagged"] == {"o3"} and r["aqi"] == 300.0
    assert r["category"] == 5 and r["beyond_range"] == set()


def test_o3_8h_above_800_takes_the_1h_iaqi(row):
    r = row({"o3_8h": 850.0, "o3_1h": 250.0}, "2012")  # 1h: 100 + 50 * 50 / 100 = 125
    assert r["iaqi"]["o3"] == 125.0 and r["flagged"] == set() and r["aqi"] == 125.0
    r = row({"o3_8h": 850.0, "o3_1h": 1100.0}, "2012")  # 1h: 400 + 100 * 100 / 200 = 450
    assert r["iaqi"]["o3"] == 450.0 and r["exceeding"] == {"o3"}


def test_beyond_range_is_500_and_flagged(row):
    r = row({"pm25_24h": 501.0, "pm10_24h": 100.0}, "2012")
    assert r["iaqi"]["pm25"] == 500.0 and r["beyond_range"] == {"pm25"}
    assert r["aqi"] == 500.0 and r["category"] == 6 and r["primary"] == {"pm25"}
    r = row({"pm25_1h": 700.0, "pm25_24h": 200.0, "co_24h": 60.1}, "2026")
    assert r["beyond_range"] == {"pm25", "co"} and r["primary"] == {"pm25", "co"}
    r = row({"pm25_24h": 500.0}, "2012")
    assert r["aqi"] == 500.0 and r["beyond_range"] == set()


def test_all_missing_gives_no_aqi(row):
    r = row({c: NAN for c in COLUMNS}, "2026")
    assert same(r["aqi"], NAN) and r["category"] == 0
    assert r["primary"] == set() and r["missing"] == set(POLLUTANTS)
    r = row({"pm25_24h": -5.0}, "2026")  # a negative value is missing
    assert same(r["aqi"], NAN) and r["missing"] == set(POLLUTANTS)


def test_one_pollutant_missing(row):
    values = {"so2_24h": 10.0, "no2_24h": 30.0, "co_24h": 0.8, "o3_8h": 90.0, "pm10_24h": 80.0}
    r = row({**values, "pm25_24h": NAN}, "2012")
    assert r["missing"] == {"pm25"}
    assert r["aqi"] == 65.0 and r["primary"] == {"pm10"}  # PM10: 50 + 50 * 30 / 100
    r = row(values, "2012")  # not measured at all: missing too
    assert r["missing"] == {"pm25"}


def test_primary_ties_are_all_primary(row):
    r = row({"pm25_24h": 75.0, "pm10_24h": 150.0, "no2_24h": 80.0}, "2012")
    assert r["aqi"] == 100.0 and r["primary"] == {"pm25", "pm10", "no2"}
    assert r["exceeding"] == set()  # exceeding is strictly above 100
    r = row({"pm25_24h": 60.0, "pm10_24h": 120.0}, "2026")
    assert r["aqi"] == 100.0 and r["primary"] == {"pm25", "pm10"}


def test_no_primary_at_or_below_50(row):
    r = row({"pm25_24h": 35.0, "pm10_24h": 50.0}, "2012")
    assert r["aqi"] == 50.0 and r["category"] == 1 and r["primary"] == set()
    r = row({"pm25_24h": 36.0, "pm10_24h": 50.0}, "2012")  # 50 + ceil(50 / 40) = 52
    assert r["aqi"] == 52.0 and r["category"] == 2 and r["primary"] == {"pm25"}


def test_exceeding_pollutants(row):
    r = row({"pm25_24h": 116.0, "o3_8h": 161.0, "no2_24h": 80.0}, "2012")
    assert r["iaqi"]["pm25"] == 152.0 and r["iaqi"]["o3"] == 101.0
    assert r["exceeding"] == {"pm25", "o3"} and r["primary"] == {"pm25"}


def test_report_only_columns_do_not_enter(row):
    r = row({"o3_1h": 100.0, "o3_8h": 300.0}, "2012", ("o3_8h",))
    assert r["iaqi_by_column"]["o3_8h"] == 207.0  # 200 + ceil(100 * 35 / 535)
    assert r["iaqi"]["o3"] == 32.0 and r["aqi"] == 32.0  # ceil(50 * 100 / 160) = 32
    r = row({"o3_1h": NAN, "o3_8h": 900.0}, "2012", ("o3_8h",))
    assert same(r["aqi"], NAN) and r["flagged"] == set()


# --- wrappers, categories, shapes -----------------------------------------------------------------


def test_hourly_aqi():
    t = hourly_aqi(so2=[900.0, 10.0], pm25=[20.0, 80.0], o3=[100.0, 30.0], o3_8h=[300.0, NAN],
                   edition="2026")  # fmt: skip
    np.testing.assert_array_equal(t.aqi, [200, 119])  # PM2.5 80: 100 + ceil(50 * 20 / 55 = 18.2)
    np.testing.assert_array_equal(t.flagged[:, 0], [True, False])
    np.testing.assert_array_equal(t.iaqi_by_column["o3_8h"], [207, NAN])
    np.testing.assert_array_equal(t.iaqi_by_pollutant[:, 3], [32, 10])  # from O3 1h only
    assert set(t.iaqi_by_column) == {"so2_1h", "pm25_1h", "o3_1h", "o3_8h"}


def test_daily_aqi_uses_o3_1h_only_where_the_8h_rule_says_so():
    t = daily_aqi(pm25=[50.0, 50.0, 50.0], o3_8h=[801.0, 700.0, 801.0],
                  o3_1h_max=[450.0, 1000.0, NAN], edition="2012")  # fmt: skip
    # 801: the 1h maximum stands in, 200 + ceil(100 * 50 / 400) = 213;
    # 700: the 8h maximum counts, 200 + ceil(100 * 435 / 535) = 282 (the 1h 400 does not);
    # 801 with no 1h maximum: 300, flagged.
    np.testing.assert_array_equal(t.iaqi_by_pollutant[:, 3], [213, 282, 300])
    np.testing.assert_array_equal(t.flagged[:, 3], [False, False, True])
    np.testing.assert_array_equal(t.aqi, [213, 282, 300])
    with pytest.raises(ValueError, match="o3_1h_max"):
        daily_aqi(pm25=[1.0], o3_1h_max=[1.0])


def test_category_of_at_every_boundary():
    aqi = [0, 50, 51, 100, 101, 150, 151, 200, 201, 300, 301, 500, NAN]
    expected = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 0]
    assert category_of(aqi).tolist() == expected
    assert category_of(aqi).dtype == np.int8
    assert [reference.category(a) for a in aqi] == expected


def test_categories_are_the_standard_six():
    assert [c.number for c in CATEGORIES] == [1, 2, 3, 4, 5, 6]
    assert [c.roman for c in CATEGORIES] == ["I", "II", "III", "IV", "V", "VI"]
    assert [c.name["zh-CN"] for c in CATEGORIES] == [
        "优", "良", "轻度污染", "中度污染", "重度污染", "严重污染",
    ]  # fmt: skip
    assert [c.hex for c in CATEGORIES] == [
        "#00E400", "#FFFF00", "#FF7E00", "#FF0000", "#99004C", "#7E0023",
    ]  # fmt: skip
    assert [c.colour["en"] for c in CATEGORIES] == [
        "green", "yellow", "orange", "red", "purple", "maroon",
    ]  # fmt: skip
    for c in CATEGORIES:
        assert is_bilingual(c.name) and is_bilingual(c.colour)
        assert is_bilingual(c.health_effects) and is_bilingual(c.advice)
        assert c.hex == "#{:02X}{:02X}{:02X}".format(*c.rgb)
    assert [(c.aqi_min, c.aqi_max) for c in CATEGORIES] == [
        (0, 50), (51, 100), (101, 150), (151, 200), (201, 300), (301, None),
    ]  # fmt: skip


def test_pollutant_names():
    mask = np.array([[0, 0, 0, 0, 1, 1], [1, 0, 0, 1, 0, 0], [0] * 6], dtype=bool)
    assert pollutant_names(mask).tolist() == ["pm10;pm25", "so2;o3", ""]


def test_evaluate_columns_shapes_and_errors():
    t = evaluate_columns({"pm25_24h": np.full((2, 3), 75.0)}, "2026")
    assert t.aqi.shape == (2, 3) and t.iaqi_by_pollutant.shape == (2, 3, 6)
    assert (t.aqi == 114).all() and t.primary[..., 5].all()
    empty = evaluate_columns({}, "2026")
    assert empty.aqi.shape == (0,) and empty.iaqi_by_pollutant.shape == (0, 6)
    with pytest.raises(ValueError, match="unknown columns"):
        evaluate_columns({"pm25": [1.0]}, "2026")
    with pytest.raises(ValueError, match="differ in shape"):
        evaluate_columns({"pm25_24h": [1.0], "pm10_24h": [1.0, 2.0]}, "2026")


def test_many_blocks_agree_with_one(monkeypatch):
    import emission_list.aqi as module

    rng = np.random.default_rng(3)
    columns = {c: rng.uniform(-5, 900, 1000) for c in COLUMNS}
    whole = evaluate_columns(columns, "2012")
    monkeypatch.setattr(module, "BLOCK_ROWS", 7)
    blocked = evaluate_columns(columns, "2012")
    for field in ("aqi", "category", "iaqi_by_pollutant", "primary", "flagged", "beyond_range"):
        np.testing.assert_array_equal(getattr(blocked, field), getattr(whole, field))


# --- properties -----------------------------------------------------------------------------------

TABLE_KEYS = [(e, k) for e in ("2012", "2026") for k in get_table(e).tables]


@pytest.mark.parametrize(("edition", "key"), TABLE_KEYS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_iaqi_is_monotone_in_concentration(edition, key, data):
    bp = get_table(edition).tables[key]
    top = float(bp.concentration[-1])
    c = np.sort(np.array(data.draw(st.lists(st.floats(0, top * 1.2), min_size=2, max_size=60))))
    result = iaqi(c, *key.split("_"), edition)
    defined = ~np.isnan(result.value)
    assert np.all(np.diff(result.value[defined]) >= 0)
    assert np.all(np.isnan(result.value) == result.no_own_iaqi)  # undefined only above the top
    assert np.all(result.value[defined] <= 500) and np.all(result.value[defined] >= 0)


def concentration(top):
    return st.one_of(
        st.floats(0, top * 1.1),
        st.integers(0, int(top) + 2).map(float),
        st.just(NAN),
        st.floats(-50, -1e-9),
        st.sampled_from([0.0, top, top + 1, math.inf]),
    )


@st.composite
def rows(draw):
    edition = draw(st.sampled_from(["2012", "2026"]))
    table = get_table(edition)
    names = draw(st.lists(st.sampled_from(COLUMNS), unique=True, min_size=1, max_size=12))
    n = draw(st.integers(1, 8))
    columns = {}
    for name in names:
        top = float(table.tables[name].concentration[-1])
        columns[name] = draw(st.lists(concentration(top), min_size=n, max_size=n))
    report_only = tuple(draw(st.lists(st.sampled_from(names or ["o3_8h"]), max_size=1)))
    return edition, n, columns, report_only


@settings(max_examples=300, deadline=None)
@given(rows())
def test_vectorised_equals_reference_on_random_rows(case):
    edition, n, columns, report_only = case
    arrays = {k: np.array(v, dtype=float) for k, v in columns.items()}
    t = evaluate_columns(arrays, edition, report_only=report_only)
    for i in range(n):
        want = reference.aqi_row({k: v[i] for k, v in columns.items()}, edition, report_only)
        assert same(float(t.aqi[i]), want["aqi"])
        assert int(t.category[i]) == want["category"]
        for k in columns:
            assert same(float(t.iaqi_by_column[k][i]), want["iaqi_by_column"][k])
        for j, p in enumerate(POLLUTANTS):
            assert same(float(t.iaqi_by_pollutant[i, j]), want["iaqi"][p])
            for field, mask in (
                ("primary", t.primary),
                ("exceeding", t.exceeding),
                ("beyond_range", t.beyond_range),
                ("flagged", t.flagged),
                ("missing", t.missing),
            ):
                assert bool(mask[i, j]) == (p in want[field]), (field, p)
