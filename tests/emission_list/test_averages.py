"""Daily statistics and their validity rules (GB 3095-2012, HJ 663-2013), vectorised and scalar."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emission_list.aqi import daily_aqi, pollutant_names
from emission_list.averages import (
    daily_columns,
    daily_max,
    daily_mean,
    missing_pollutants,
    o3_8h_moving,
    o3_daily_max_8h,
    valid_hours,
)
from emission_list.reference import aqi as reference

NAN = math.nan
HOURS = np.arange(24, dtype=float) * 10  # 0, 10, ..., 230: hour-ending 01:00 .. 24:00


def same(a, b):
    return np.array_equal(np.asarray(a, float), np.asarray(b, float), equal_nan=True)


# --- one test body, two implementations ----------------------------------------------------------

IMPLEMENTATIONS = {
    "vectorised": {
        "daily_mean": lambda h: float(daily_mean(h)),
        "daily_max": lambda h: float(daily_max(h)),
        "moving": lambda h, prev=None: o3_8h_moving(h, prev).tolist(),
        "max_8h": lambda h, prev=None, **kw: float(o3_daily_max_8h(h, prev, **kw)),
    },
    "reference": {
        "daily_mean": reference.daily_mean,
        "daily_max": reference.daily_max,
        "moving": reference.o3_8h_moving,
        "max_8h": reference.o3_daily_max_8h,
    },
}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def impl(request):
    return IMPLEMENTATIONS[request.param]


def with_nan(values, indices):
    out = list(values)
    for i in indices:
        out[i] = NAN
    return out


def test_daily_mean_needs_20_valid_hours(impl):
    mean = impl["daily_mean"]
    assert mean(list(HOURS)) == 115.0
    twenty = with_nan(HOURS, [20, 21, 22, 23])  # valid: 0..190
    assert mean(twenty) == 95.0
    nineteen = with_nan(HOURS, [19, 20, 21, 22, 23])
    assert math.isnan(mean(nineteen))


def test_negative_and_infinite_hours_do_not_count(impl):
    mean = impl["daily_mean"]
    hours = list(HOURS)
    hours[0], hours[1], hours[2], hours[3] = -1.0, math.inf, NAN, -math.inf  # 20 valid left
    assert mean(hours) == pytest.approx(sum(HOURS[4:]) / 20, abs=0)
    hours[4] = -0.5
    assert math.isnan(mean(hours))


def test_daily_max_needs_20_valid_hours(impl):
    peak = impl["daily_max"]
    assert peak(list(HOURS)) == 230.0
    assert peak(with_nan(HOURS, [19, 20, 21, 22])) == 230.0  # 20 valid, 23 among them
    assert math.isnan(peak(with_nan(HOURS, [0, 1, 2, 3, 4])))


def test_8h_moving_mean_without_previous_hours(impl):
    means = impl["moving"](list(HOURS))
    assert all(math.isnan(m) for m in means[:7])  # their windows reach into the day before
    assert means[7] == 35.0  # hours ending 01:00..08:00: 0..70
    assert means[23] == 195.0  # 160..230


def test_8h_moving_mean_with_previous_hours(impl):
    previous = [100.0] * 7
    means = impl["moving"](list(HOURS), previous)
    assert means[0] == (700 + 0) / 8
    assert means[6] == (100 + sum(HOURS[:7])) / 8
    assert means[7] == 35.0
    # a whole previous day is accepted: its last 7 hours are used
    assert impl["moving"](list(HOURS), [0.0] * 17 + previous)[:8] == means[:8]


def test_8h_moving_mean_needs_6_valid_hours(impl):
    six = with_nan(HOURS, [8, 9])  # the window ending at index 15 covers 8..15
    assert impl["moving"](six)[15] == sum(HOURS[10:16]) / 6
    five = with_nan(HOURS, [8, 9, 10])
    assert math.isnan(impl["moving"](five)[15])
    assert impl["moving"](five)[18] == sum(HOURS[11:19]) / 8


def test_daily_max_8h_needs_14_valid_means(impl):
    max_8h = impl["max_8h"]
    assert max_8h(list(HOURS)) == 195.0
    # Hours 19..23 missing: the windows ending at indices 7..20 keep >= 6 valid hours (14 means);
    # the largest is the window 13..20 with valid 13..18: 10 * 15.5 = 155.
    fourteen = with_nan(HOURS, range(19, 24))
    assert max_8h(fourteen) == 155.0
    thirteen = with_nan(HOURS, range(18, 24))  # windows ending 7..19: 13 valid means
    assert math.isnan(max_8h(thirteen))


def test_daily_max_8h_can_keep_a_day_above_the_limit(impl):
    max_8h = impl["max_8h"]
    thirteen = with_nan(HOURS, range(18, 24))  # largest valid mean: window 12..19 -> 145
    assert max_8h(thirteen, keep_if_above=140.0) == 145.0
    assert math.isnan(max_8h(thirteen, keep_if_above=160.0))


def test_daily_max_8h_uses_only_windows_ending_08_to_24(impl):
    max_8h = impl["max_8h"]
    hours = [300.0] * 7 + [10.0] * 17  # high until 07:00; every counted window holds a 10
    assert max_8h(hours) == (7 * 300 + 10) / 8  # the window ending 08:00
    previous = [900.0] * 24
    assert max_8h(hours, previous) == max_8h(hours)  # windows ending 01:00..07:00 do not count
    earlier = max_8h(hours, previous, first_window_end=1, min_means=14)
    assert earlier == (7 * 900 + 300) / 8  # window ending 01:00 reaches into the day before


def test_daily_max_8h_previous_day_is_unused_with_the_default_windows():
    rng = np.random.default_rng(2)
    day, before = rng.uniform(0, 300, 24), rng.uniform(0, 300, 24)
    assert o3_daily_max_8h(day, before) == o3_daily_max_8h(day)
    with pytest.raises(ValueError, match="first_window_end"):
        o3_daily_max_8h(day, first_window_end=0)


def test_leading_shapes_are_vectorised():
    rng = np.random.default_rng(5)
    hourly = rng.uniform(0, 200, (3, 2, 24))
    hourly[rng.random(hourly.shape) < 0.2] = np.nan
    for function in (daily_mean, daily_max, o3_daily_max_8h):
        out = function(hourly)
        assert out.shape == (3, 2)
        for i in range(3):
            for j in range(2):
                assert same(out[i, j], function(hourly[i, j]))
    assert o3_8h_moving(hourly).shape == (3, 2, 24)
    with pytest.raises(ValueError, match="24"):
        daily_mean(np.zeros((3, 23)))
    with pytest.raises(ValueError, match="at least 7 hours"):
        o3_8h_moving(hourly, previous=np.zeros((3, 2, 6)))


def test_valid_hours():
    assert valid_hours([0.0, 1.0, -0.0, -1.0, NAN, math.inf]).tolist() == [
        True, True, True, False, False, False,
    ]  # fmt: skip


def test_daily_columns_missing_pollutants_and_the_daily_aqi():
    day = {
        "pm25": np.full(24, 80.0),
        "pm10": with_nan(np.full(24, 120.0), range(5)),  # 19 valid hours: no 24h mean
        "o3": HOURS,
    }
    columns = daily_columns(day)
    assert sorted(columns) == ["o3_1h", "o3_8h", "pm10_24h", "pm25_24h"]
    assert columns["pm25_24h"] == 80.0 and math.isnan(columns["pm10_24h"])
    assert columns["o3_8h"] == 195.0 and columns["o3_1h"] == 230.0
    missing = missing_pollutants(columns)
    assert pollutant_names(missing).tolist() == "so2;no2;co;pm10"
    t = daily_aqi(
        pm25=columns["pm25_24h"], pm10=columns["pm10_24h"], o3_8h=columns["o3_8h"],
        o3_1h_max=columns["o3_1h"], edition="2012",
    )  # fmt: skip
    # PM2.5 80: 100 + ceil(50 * 5 / 40) = 107; O3 8h 195: 100 + ceil(50 * 35 / 55) = 132
    assert float(t.aqi) == 132.0 and pollutant_names(t.primary).tolist() == "o3"
    assert pollutant_names(t.missing).tolist() == "so2;no2;co;pm10"
    with pytest.raises(ValueError, match="unknown pollutants"):
        daily_columns({"pm1": HOURS})


# --- properties -------------------------------------------------------------------------------

hour = st.one_of(
    st.floats(0, 500), st.just(NAN), st.floats(-10, -0.01), st.integers(0, 300).map(float)
)
day = st.lists(hour, min_size=24, max_size=24)


@settings(max_examples=200, deadline=None)
@given(day, st.one_of(st.none(), st.lists(hour, min_size=7, max_size=24)))
def test_vectorised_equals_reference(hours, previous):
    assert same(daily_mean(hours), reference.daily_mean(hours))
    assert same(daily_max(hours), reference.daily_max(hours))
    assert same(o3_8h_moving(hours, previous), reference.o3_8h_moving(hours, previous))
    assert same(o3_daily_max_8h(hours, previous), reference.o3_daily_max_8h(hours, previous))
    assert same(
        o3_daily_max_8h(hours, previous, first_window_end=3, min_means=10, keep_if_above=150.0),
        reference.o3_daily_max_8h(hours, previous, 3, 10, 150.0),
    )


@settings(max_examples=50, deadline=None)
@given(st.lists(day, min_size=1, max_size=5))
def test_vectorised_over_days_equals_reference(days):
    means = daily_mean(np.array(days))
    maxima = o3_daily_max_8h(np.array(days))
    for i, hours in enumerate(days):
        assert same(means[i], reference.daily_mean(hours))
        assert same(maxima[i], reference.o3_daily_max_8h(hours))
