import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from consumers.readings_aqi import hourly_results
from emission_list.breakpoints import edition_for
from emission_list.reference.aqi import aqi_row
from service.bus.records import ReadingBatch

LOCAL = dt.timezone(dt.timedelta(hours=8))


def batch(stamps_utc, values):
    return ReadingBatch(
        station_id=["S"] * len(stamps_utc),
        observed_at=np.array(stamps_utc, dtype="datetime64[s]"),
        values=np.array(values, dtype=np.float64).reshape(len(values), 6),
        flags=[[] for _ in stamps_utc],
        records=[],
    )


def test_a_batch_across_the_2026_edition_change_scores_each_row_by_its_local_date():
    # PM2.5 49 µg/m³ alone: AQI 68 under HJ 633-2012, 78 under HJ 633—2026.
    nan = np.nan
    rows = [[49, nan, nan, nan, nan, nan]] * 3
    stamps = [
        "2026-02-28T15:00:00",  # 23:00 local on 28 Feb
        "2026-02-28T16:00:00",  # 24:00 local: the last hour of 28 Feb
        "2026-02-28T17:00:00",  # 01:00 local on 1 Mar
    ]
    result = hourly_results(batch(stamps, rows))
    assert result.aqi.tolist() == [68, 68, 78]
    assert result.edition.tolist() == ["2012", "2012", "2026"]
    assert result.primary == ["pm25"] * 3 and result.category.tolist() == [2, 2, 2]


def test_no_pollutant_gives_no_aqi():
    result = hourly_results(batch(["2026-12-05T06:00:00"], [[np.nan] * 6]))
    assert np.isnan(result.aqi[0]) and result.category[0] == 0 and result.primary == [""]


conc = st.one_of(st.just(float("nan")), st.floats(0, 600, allow_nan=False))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2000), st.lists(conc, min_size=6, max_size=6)),
        min_size=1,
        max_size=20,
    )
)
def test_equals_the_scalar_reference_row_by_row(rows):
    start = np.datetime64("2025-12-01T00:00:00")
    stamps = [start + np.timedelta64(h * 3, "h") for h, _ in rows]
    values = [v for _, v in rows]
    result = hourly_results(batch(stamps, values))
    for i, (stamp, v) in enumerate(zip(stamps, values, strict=True)):
        local = (
            stamp.astype(dt.datetime).replace(tzinfo=dt.UTC) - dt.timedelta(seconds=1)
        ).astimezone(LOCAL)
        pm25, pm10, so2, no2, o3, co = v
        expected = aqi_row(
            {
                "pm25_1h": pm25,
                "pm10_1h": pm10,
                "so2_1h": so2,
                "no2_1h": no2,
                "o3_1h": o3,
                "co_1h": co,
            },
            edition_for(local.date()),
        )
        want = expected["aqi"]
        assert (np.isnan(result.aqi[i]) and np.isnan(want)) or result.aqi[i] == want
