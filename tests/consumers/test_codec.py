import datetime as dt
import json

import numpy as np

from service.api.schemas.readings import CheckedReading
from service.bus import Record
from service.bus.records import decode_readings, encode_reading


def reading(station="1502A01", hour=6, **values):
    at = dt.datetime(2026, 12, 5, hour, tzinfo=dt.UTC)
    full = dict.fromkeys(("pm25", "pm10", "so2", "no2", "o3", "co")) | values
    return CheckedReading(station_id=station, observed_at=at, values=full, flags=[])


def test_round_trip_into_columns_with_missing_as_nan():
    items = [encode_reading(reading(pm25=80.0, co=1.2)), encode_reading(reading("X", 7, o3=20))]
    records = [Record("haze.readings", k, v, offset=i) for i, (k, v) in enumerate(items)]
    batch, bad = decode_readings(records)
    assert bad == [] and len(batch) == 2 and items[0][0] == b"1502A01"
    assert batch.station_id == ["1502A01", "X"]
    assert batch.observed_at.tolist() == [dt.datetime(2026, 12, 5, 6), dt.datetime(2026, 12, 5, 7)]
    assert batch.column("pm25")[0] == 80.0 and np.isnan(batch.column("pm25")[1])
    assert batch.column("co")[0] == 1.2 and batch.column("o3")[1] == 20.0
    assert [r.offset for r in batch.records] == [0, 1]


def test_poison_records_are_returned_with_a_reason_and_the_rest_decoded():
    good = encode_reading(reading(pm25=1.0))[1]
    values = [
        b"not json",
        json.dumps({"s": "A", "t": "2026-12-05T06:00:00+08:00", "v": [1] * 6}).encode(),
        json.dumps({"s": "A", "t": "2026-12-05T06:00:00Z", "v": [1, 2]}).encode(),
        json.dumps({"s": "A", "t": "yesterday Z", "v": [1] * 6}).encode(),
        good,
    ]
    records = [Record("haze.readings", None, v, offset=i) for i, v in enumerate(values)]
    batch, bad = decode_readings(records)
    assert [r.offset for r, _ in bad] == [0, 1, 2, 3]
    assert all(reason.startswith("undecodable reading") for _, reason in bad)
    assert len(batch) == 1 and batch.records[0].offset == 4


def test_a_time_that_matches_the_pattern_but_is_no_date_is_set_aside_alone():
    good = [encode_reading(reading(hour=h, pm25=float(h)))[1] for h in (1, 2)]
    month13 = json.dumps({"s": "A", "t": "2026-13-05T06:00:00Z", "v": [1] * 6}).encode()
    strings = json.dumps({"s": "A", "t": "2026-12-05T06:00:00Z", "v": ["1"] * 6}).encode()
    records = [
        Record("haze.readings", None, v, offset=i)
        for i, v in enumerate([good[0], month13, strings, good[1]])
    ]
    batch, bad = decode_readings(records)
    assert sorted(r.offset for r, _ in bad) == [1, 2]
    assert [r.offset for r in batch.records] == [0, 3]
    assert batch.column("pm25").tolist() == [1.0, 2.0]
    assert batch.observed_at.tolist() == [dt.datetime(2026, 12, 5, 1), dt.datetime(2026, 12, 5, 2)]


def test_a_tombstone_is_set_aside_with_a_reason():
    good = encode_reading(reading(pm25=1.0))[1]
    records = [
        Record("haze.readings", b"1502A01", None, offset=0),
        Record("haze.readings", None, good),
    ]
    batch, bad = decode_readings(records)
    assert [(r.offset, reason) for r, reason in bad] == [(0, "tombstone: a record without a value")]
    assert len(batch) == 1


def test_a_year_before_1000_is_written_with_four_digits():
    old = reading(pm25=1.0).model_copy(
        update={"observed_at": dt.datetime(999, 1, 1, tzinfo=dt.UTC)}
    )
    body = json.loads(encode_reading(old)[1])
    assert body["t"] == "0999-01-01T00:00:00Z"
