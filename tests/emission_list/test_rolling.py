"""Moving 24-hour statistics and region means against plain loops over the reference."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from emission_list import rolling
from emission_list.reference import aqi as reference

NAN = float("nan")
values = st.one_of(
    st.just(NAN), st.floats(0, 900, allow_nan=False), st.floats(-5, -0.1), st.just(math.inf)
)


def grids(stations: int, hours: int):
    return hnp.arrays(np.float64, (stations, hours), elements=values)


@st.composite
def hourly_grids(draw):
    stations, hours = draw(st.integers(1, 3)), draw(st.integers(24, 60))
    return {p: draw(grids(stations, hours)) for p in ("so2", "no2", "co", "o3", "pm10", "pm25")}


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=60, deadline=None)
@given(hourly=hourly_grids())
def test_window_columns_equal_the_day_statistics_of_each_window(hourly):
    got = rolling.window_columns(hourly)
    stations, hours = hourly["o3"].shape
    assert set(got) == set(rolling.WINDOW_COLUMNS)
    for s in range(stations):
        for e in range(23, hours):
            k = e - 23
            for p in rolling.MEAN_24H:
                want = reference.daily_mean(hourly[p][s, e - 23 : e + 1].tolist())
                assert same(got[f"{p}_24h"][s, k], want), (p, s, e)
            o3 = hourly["o3"][s].tolist()
            assert same(got["o3_8h"][s, k], reference.o3_8h_moving(o3[: e + 1])[-1])
            assert same(got["o3_8h_max"][s, k], reference.o3_daily_max_8h(o3[e - 23 : e + 1]))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_member_means_are_the_mean_of_the_valid_station_values(data):
    stations, hours = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 5))
    v = data.draw(grids(stations, hours))
    members = data.draw(hnp.arrays(bool, (data.draw(st.integers(1, 4)), stations)))
    means, counts = rolling.member_means(v, members)
    for r, row in enumerate(members.tolist()):
        for h in range(hours):
            good = [v[s, h] for s in range(stations) if row[s] and 0 <= v[s, h] < math.inf]
            total = 0.0
            for x in good:
                total += x
            assert counts[r, h] == len(good)
            assert same(means[r, h], total / len(good) if good else NAN)


def test_windows_touched_marks_the_24_windows_holding_a_changed_hour():
    changed = np.zeros((2, 60), dtype=bool)
    changed[0, 30] = True
    touched = rolling.windows_touched(changed)
    assert touched.shape == (2, 37)
    assert np.flatnonzero(touched[0]).tolist() == list(range(30 - 23, 30 + 1))
    assert not touched[1].any()


def test_a_grid_shorter_than_a_window_is_refused():
    try:
        rolling.windows_touched(np.zeros((1, 23), dtype=bool))
    except ValueError as exc:
        assert "hours >= 24" in str(exc)
    else:
        raise AssertionError("a 23-hour grid was accepted")
