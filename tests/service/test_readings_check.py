import datetime as dt

from hypothesis import given
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
