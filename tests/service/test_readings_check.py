import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from service.services.readings_check import check_readings

NOW = dt.datetime(2026, 12, 5, 6, 5, tzinfo=dt.UTC)
STATIONS = {"1502A01", "1502A02"}


def row(**kw):
    base = {"station_id": "1502A01", "observed_at": "2026-12-05T14:00:00+08:00", "pm25": 80}
    return base | kw


def codes(rejected):
    return {r.index: [e["code"] for e in r.errors] for r in rejected}


def test_good_rows_are_kept_and_bad_ones_reported_by_index():
    rows = [
        row(),
        row(station_id="nope"),
        row(observed_at="2026-12-05T15:00:00+08:00", pm10="abc"),
        row(observed_at="2026-12-05T13:00:00+08:00", so2=-1, co=500),
        "not an object",
        row(observed_at="2026-12-05T12:00:00+08:00", pm25=None, o3=None),
    ]
    good, rejected = check_readings(rows, STATIONS, NOW)
    assert [g.observed_at.hour for g in good] == [6, 4]  # UTC hours of rows 0 and 5
    assert good[0].values["pm25"] == 80 and good[1].values["pm25"] is None
    assert codes(rejected) == {
        1: ["station.unknown"],
        2: ["type"],
        3: ["value.negative", "value.impossible"],
        4: ["type"],
    }
    assert rejected[1].errors[0]["field"] == "pm10"


def test_future_and_off_hour_stamps_are_rejected_within_tolerance_accepted():
    rows = [
        row(observed_at="2026-12-05T14:14:00+08:00"),  # 9 min ahead but not on the hour
        row(observed_at="2026-12-05T15:00:00+08:00"),  # 55 min ahead
        row(observed_at="2026-12-05T06:00:00+00:00"),
    ]
    good, rejected = check_readings(rows, STATIONS, NOW)
    assert codes(rejected) == {0: ["observed_at.not_on_hour"], 1: ["observed_at.future"]}
    assert len(good) == 1


def test_station_tokens_post_only_for_their_stations():
    good, rejected = check_readings(
        [row(), row(station_id="1502A02")], STATIONS, NOW, allowed_stations={"1502A01"}
    )
    assert len(good) == 1 and codes(rejected) == {1: ["station.forbidden"]}


def test_pm25_above_pm10_is_flagged_when_plausible_and_rejected_when_impossible():
    good, rejected = check_readings(
        [row(pm25=110, pm10=100), row(observed_at="2026-12-05T13:00:00+08:00", pm25=300, pm10=50)],
        STATIONS,
        NOW,
    )
    assert good[0].flags == ["pm25_above_pm10"]
    assert codes(rejected) == {1: ["pm25.above_pm10"]}


def test_the_later_copy_of_a_station_hour_wins_and_the_earlier_is_reported():
    good, rejected = check_readings([row(pm25=10), row(pm25=20)], STATIONS, NOW, language="zh-CN")
    assert [g.values["pm25"] for g in good] == [20]
    assert codes(rejected) == {0: ["duplicate_in_batch"]}
    assert "第 1 行" in rejected[0].errors[0]["message"]


@given(st.lists(st.one_of(st.none(), st.floats(-10, 3000)), min_size=1, max_size=30))
def test_every_row_is_either_accepted_or_rejected(values):
    rows = [
        row(observed_at=f"2026-12-0{1 + i // 24}T{i % 24:02d}:00:00+08:00", pm25=v)
        for i, v in enumerate(values)
    ]
    good, rejected = check_readings(rows, STATIONS, NOW)
    assert len(good) + len(rejected) == len(rows)
    assert all(g.values["pm25"] is None or 0 <= g.values["pm25"] <= 2000 for g in good)


_STAMPS = st.datetimes(
    min_value=dt.datetime(1, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=8))]),
).map(lambda at: at.replace(microsecond=0))
_HOURS = st.builds(
    lambda d, h: dt.datetime(d.year, d.month, d.day, h, tzinfo=dt.UTC),
    st.dates(dt.date(1960, 1, 1), dt.date(2027, 1, 1)),
    st.integers(0, 23),
)
_VALUES = st.one_of(
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([-50.0, 0.0, 1e300, 150.0, 2000.0, 2000.5]),
)


@settings(deadline=None, max_examples=300)
@given(
    at=st.one_of(_STAMPS, _HOURS),
    pm25=_VALUES,
    pm10=_VALUES,
    co=_VALUES,
)
def test_the_api_accepts_a_reading_exactly_when_the_consumer_would_store_it(at, pm25, pm10, co):
    """A 202 for a row means the consumer stores it; a row the API refuses for its values or
    time is refused by the consumer when produced straight to the topic."""
    from service.api.schemas.readings import CheckedReading
    from service.bus import Record
    from service.bus.records import decode_readings, encode_reading
    from service.services.reading_rules import check_columns

    tolerance = dt.timedelta(minutes=10)
    raw = {"station_id": "1502A01", "observed_at": at.isoformat(), "pm25": pm25, "pm10": pm10}
    raw["co"] = co
    good, _ = check_readings([raw], STATIONS, NOW, future_tolerance=tolerance)
    try:
        utc = at.astimezone(dt.UTC)
    except OverflowError:
        assert good == []  # no UTC time: the API refuses, nothing can travel
        return
    values = {"pm25": pm25, "pm10": pm10, "co": co}
    produced = CheckedReading(station_id="1502A01", observed_at=utc, values=values, flags=[])
    key, value = encode_reading(produced)
    batch, undecodable = decode_readings([Record("haze.readings", key, value)])
    consumer_ok = (
        not undecodable
        and not check_columns(batch.observed_at, batch.values, NOW, tolerance).bad().any()
    )
    assert consumer_ok == bool(good), (raw, good)


def test_a_year_before_1000_or_without_a_utc_time_is_refused_with_a_code():
    rows = [
        row(observed_at="0999-12-05T14:00:00Z"),
        row(observed_at="0001-01-01T00:00:00+08:00"),
        row(observed_at="9999-12-31T23:00:00-08:00"),
    ]
    good, rejected = check_readings(rows, STATIONS, NOW)
    assert good == []
    assert codes(rejected) == {
        0: ["observed_at.too_early"],
        1: ["observed_at.too_early"],
        2: ["observed_at.future"],
    }
