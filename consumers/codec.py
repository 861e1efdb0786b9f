"""Encoding of bus records, and fast batch decoding of readings into columns.

A reading travels as one record keyed by its station id; its value is compact JSON with the
hour in UTC: ``{"s": station_id, "t": "2026-12-05T06:00:00Z", "v": [pm25, pm10, so2, no2,
o3, co], "f": [flags]}`` (null = missing). Decoding a batch yields numpy columns for the
vectorised AQI kernel, and the records that could not be decoded with the reason, for the
dead-letter topic.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.bus import Record
from service.schemas.readings import POLLUTANT_FIELDS, CheckedReading


def encode_reading(reading: CheckedReading) -> tuple[bytes, bytes]:
    """The ``(key, value)`` of a checked reading."""
    stamp = reading.observed_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    values = [reading.values.get(p) for p in POLLUTANT_FIELDS]
    body = {"s": reading.station_id, "t": stamp, "v": values, "f": reading.flags}
    return reading.station_id.encode(), json.dumps(body, separators=(",", ":")).encode()


@dataclass(frozen=True)
class ReadingBatch:
    """Decoded readings as columns; ``values`` is ``(n, 6)`` in POLLUTANT_FIELDS order."""

    station_id: list[str]
    observed_at: np.ndarray  # (n,) datetime64[s], UTC
    values: np.ndarray  # (n, 6) float64, NaN = missing
    flags: list[list[str]]
    records: list[Record]  # the record of each row, for offsets

    def __len__(self) -> int:
        return len(self.station_id)

    def column(self, pollutant: str) -> np.ndarray:
        return self.values[:, POLLUTANT_FIELDS.index(pollutant)]


def decode_readings(records: Sequence[Record]) -> tuple[ReadingBatch, list[tuple[Record, str]]]:
    """Decode a batch; records that are not a valid reading come back with the reason."""
    stations: list[str] = []
    stamps: list[str] = []
    rows: list[list[float | None]] = []
    flags: list[list[str]] = []
    kept: list[Record] = []
    bad: list[tuple[Record, str]] = []
    for record in records:
        try:
            body = json.loads(record.value)
            station, stamp, values = body["s"], body["t"], body["v"]
            if not isinstance(station, str) or not isinstance(stamp, str):
                raise TypeError("station and time must be strings")
            if not isinstance(values, list) or len(values) != len(POLLUTANT_FIELDS):
                raise ValueError(f"expected {len(POLLUTANT_FIELDS)} values")
            if not stamp.endswith("Z"):
                raise ValueError("time must be UTC (ending in Z)")
            np.datetime64(stamp[:-1], "s")
            row = [None if v is None else float(v) for v in values]
        except (ValueError, TypeError, KeyError, json.JSONDecodeError) as exc:
            bad.append((record, f"undecodable reading: {type(exc).__name__}: {exc}"))
            continue
        stations.append(station)
        stamps.append(stamp[:-1])
        rows.append(row)
        flags.append([str(f) for f in body.get("f", [])])
        kept.append(record)
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(POLLUTANT_FIELDS))
    batch = ReadingBatch(
        station_id=stations,
        observed_at=np.array(stamps, dtype="datetime64[s]"),
        values=values,
        flags=flags,
        records=kept,
    )
    return batch, bad
