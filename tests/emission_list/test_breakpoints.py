"""HJ 633 breakpoint tables: the data against domain.md, editions by name and by date."""

import datetime as dt
from fractions import Fraction
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from emission_list.breakpoints import (
    EDITIONS,
    LOCAL_TIME,
    edition_for,
    get_table,
    normalise_edition,
)

# domain.md, HJ 633-2012 Table 1, typed by hand: (concentration edges, IAQI edges).
IAQI = [0, 50, 100, 150, 200, 300, 400, 500]
TABLE_2012 = {
    "so2_24h": [0, 50, 150, 475, 800, 1600, 2100, 2620],
    "so2_1h": [0, 150, 500, 650, 800],
    "no2_24h": [0, 40, 80, 180, 280, 565, 750, 940],
    "no2_1h": [0, 100, 200, 700, 1200, 2340, 3090, 3840],
    "pm10_24h": [0, 50, 150, 250, 350, 420, 500, 600],
    "co_24h": [0, 2, 4, 14, 24, 36, 48, 60],
    "co_1h": [0, 5, 10, 35, 60, 90, 120, 150],
    "o3_1h": [0, 160, 200, 300, 400, 800, 1000, 1200],
    "o3_8h": [0, 100, 160, 215, 265, 800],
    "pm25_24h": [0, 35, 75, 115, 150, 250, 350, 500],
}
CHANGED_2026 = {"pm10_24h": (2, 120), "pm25_24h": (2, 60)}  # (edge index, new value)


@pytest.mark.parametrize("key", sorted(TABLE_2012))
def test_2012_tables_match_domain_brief(key):
    bp = get_table("2012").tables[key]
    assert bp.concentration.tolist() == TABLE_2012[key]
    assert bp.iaqi.tolist() == IAQI[: len(TABLE_2012[key])]
    assert bp.unit == ("mg/m³" if key.startswith("co") else "µg/m³")
    assert bp.no_own_iaqi_above_top is (key in ("so2_1h", "o3_8h"))


@pytest.mark.parametrize("key", sorted(TABLE_2012))
def test_2026_differs_only_in_pm_at_iaqi_100(key):
    edges = list(TABLE_2012[key])
    if key in CHANGED_2026:
        index, value = CHANGED_2026[key]
        assert IAQI[index] == 100
        edges[index] = value
    bp = get_table("2026").tables[key]
    assert bp.concentration.tolist() == edges
    assert bp.iaqi.tolist() == IAQI[: len(edges)]


def test_pm_1h_is_scored_against_the_24h_table():
    for edition in EDITIONS:
        table = get_table(edition)
        assert table.breakpoints("pm25", "1h") is table.breakpoints("pm25", "24h")
        assert table.breakpoints("pm10", "1h") is table.breakpoints("pm10", "24h")


def test_unknown_table_raises_key_error():
    with pytest.raises(KeyError, match="o3_24h"):
        get_table("2012").breakpoints("o3", "24h")


def test_tables_are_read_only():
    bp = get_table("2026").breakpoints("pm25", "24h")
    for array in (bp.concentration, bp.iaqi, bp.lut, bp.gather):
        with pytest.raises(ValueError):
            array[0] = 1


@pytest.mark.parametrize(
    ("name", "edition"),
    [
        ("2012", "2012"),
        ("2026", "2026"),
        ("HJ 633-2012", "2012"),
        ("HJ 633—2026", "2026"),
        ("HJ 633–2026", "2026"),
        ("hj633-2012", "2012"),
        ("  HJ 633-2026 ", "2026"),
    ],
)
def test_edition_names(name, edition):
    assert normalise_edition(name) == edition
    assert get_table(name).edition == edition


def test_edition_display_names():
    assert get_table("2012").name == "HJ 633-2012"
    assert get_table("2026").name == "HJ 633—2026"


@pytest.mark.parametrize("name", ["2018", "HJ 663-2013", "", "latest"])
def test_unknown_edition_raises(name):
    with pytest.raises(ValueError, match="unknown HJ 633 edition"):
        get_table(name)


@pytest.mark.parametrize(
    ("day", "edition"),
    [
        (dt.date(2013, 1, 1), "2012"),
        (dt.date(2025, 12, 31), "2012"),
        (dt.date(2026, 2, 28), "2012"),
        (dt.date(2026, 3, 1), "2026"),
        (dt.date(2030, 1, 1), "2026"),
    ],
)
def test_edition_by_day(day, edition):
    assert edition_for(day) == edition
    assert get_table(day).edition == edition


def test_aware_datetime_is_read_in_local_time():
    utc = ZoneInfo("UTC")
    # 16:00 UTC on 28 February is 00:00 on 1 March in Asia/Shanghai.
    assert edition_for(dt.datetime(2026, 2, 28, 16, 0, tzinfo=utc)) == "2026"
    assert edition_for(dt.datetime(2026, 2, 28, 15, 59, tzinfo=utc)) == "2012"
    assert edition_for(dt.datetime(2026, 2, 28, 23, 0)) == "2012"  # naive: already local


def test_none_is_the_edition_in_force_today():
    today = dt.datetime.now(LOCAL_TIME).date()
    assert get_table(None).edition == edition_for(today)


@pytest.mark.parametrize("edition", EDITIONS)
def test_interpolation_at_every_edge_gives_the_edge_iaqi(edition):
    for bp in get_table(edition).tables.values():
        steps = bp.edges_steps
        assert bp.interpolate_steps(steps).tolist() == bp.iaqi.tolist()
        assert bp.lut[steps].tolist() == bp.iaqi.tolist()


@pytest.mark.parametrize("edition", EDITIONS)
def test_lookup_table_is_the_exact_rational_ceiling(edition):
    for key, bp in get_table(edition).tables.items():
        edges = [int(e) for e in bp.edges_steps]
        levels = [int(i) for i in bp.iaqi]
        expected = []
        for c in range(edges[-1] + 1):
            k = max(i for i in range(len(edges) - 1) if edges[i] <= c)
            q = Fraction(levels[k + 1] - levels[k]) * (c - edges[k]) / (edges[k + 1] - edges[k])
            expected.append(levels[k] + -(-q.numerator // q.denominator))
        assert bp.lut[: edges[-1] + 1].tolist() == expected, key
        above = np.nan if bp.no_own_iaqi_above_top else 500.0
        np.testing.assert_array_equal(bp.lut[edges[-1] + 1 :], [above, np.nan])
        np.testing.assert_array_equal(bp.gather, [np.nan, *bp.lut[: edges[-1] + 2]])


def test_co_edges_are_counted_in_tenths():
    bp = get_table("2012").breakpoints("co", "24h")
    assert bp.steps_per_unit == 10
    assert bp.edges_steps.tolist() == [0, 20, 40, 140, 240, 360, 480, 600]
    assert get_table("2012").breakpoints("pm25", "24h").steps_per_unit == 1


def test_reporting_steps_are_the_same_in_both_editions():
    assert dict(get_table("2012").steps_per_unit) == dict(get_table("2026").steps_per_unit)
    assert dict(get_table("2026").steps_per_unit) == {
        "so2": 1, "no2": 1, "co": 10, "o3": 1, "pm10": 1, "pm25": 1,
    }  # fmt: skip
