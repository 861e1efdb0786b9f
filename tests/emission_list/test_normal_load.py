"""Normal load: the median of the same hour of day against statistics.median over the valid
hours, by hand and over random histories."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from emission_list import normal_load as module
from emission_list.normal_load import normal_load

NAN = math.nan


def test_the_median_of_each_hour_of_day_counts_only_valid_hours():
    hours = np.arange(24 * 3) % 24  # three days
    load = np.tile(np.arange(24, dtype=float), 3)[None, :] * np.array([[1.0], [2.0]])
    load[0, 24 + 5] = 1000.0  # an outlier at 05:00 on day 2: the median of 5, 1000, 5 is 5
    valid = np.ones_like(load, bool)
    valid[1, [7, 31]] = False  # line 1, 07:00 under a warning twice: one hour left
    result = normal_load(load, valid, hours, min_history=2)
    assert result.median_kw.shape == result.hours.shape == (2, 24)
    assert result.median_kw[0, 5] == 5.0
    assert result.hours[0].tolist() == [3] * 24
    assert result.hours[1, 7] == 1 and math.isnan(result.median_kw[1, 7])  # too little
    assert result.too_little_history[1].tolist() == [h == 7 for h in range(24)]
    assert result.median_kw[1, 8] == 16.0


def test_an_even_count_takes_the_mean_of_the_middle_two_and_nan_is_invalid():
    load = np.array([[1.0, 4.0, NAN, 10.0]])
    result = normal_load(load, np.ones((1, 4), bool), np.array([0, 0, 0, 0]), min_history=1)
    assert result.median_kw[0, 0] == 4.0 and result.hours[0, 0] == 3
    result = normal_load(load[:, :2], np.ones((1, 2), bool), np.array([0, 0]), min_history=1)
    assert result.median_kw[0, 0] == 2.5
    assert np.isnan(result.median_kw[0, 1:]).all() and (result.hours[0, 1:] == 0).all()


@st.composite
def histories(draw):
    lines, days = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    first_hour = draw(st.integers(0, 23))
    n = days * 24 + draw(st.integers(0, 23))
    values = st.one_of(st.just(NAN), st.floats(0, 5000, allow_nan=False))
    load = draw(hnp.arrays(np.float64, (lines, n), elements=values))
    valid = draw(hnp.arrays(bool, (lines, n)))
    return load, valid, (first_hour + np.arange(n)) % 24


@settings(max_examples=150, deadline=None)
@given(history=histories(), min_history=st.integers(1, 4), block=st.integers(1, 200))
def test_equals_statistics_median_of_the_valid_hours(history, min_history, block):
    load, valid, hours = history
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "_BLOCK_VALUES", block)  # several blocks of lines
        result = normal_load(load, valid, hours, min_history)
    for line in range(load.shape[0]):
        for h in range(24):
            kept = [
                v
                for v, ok, hour in zip(load[line], valid[line], hours, strict=True)
                if ok and hour == h and not math.isnan(v)
            ]
            assert result.hours[line, h] == len(kept)
            expected = statistics.median(kept) if len(kept) >= min_history else NAN
            got = result.median_kw[line, h]
            assert (math.isnan(got) and math.isnan(expected)) or got == expected
