"""The ``haze.telemetry`` record: one packet of an enterprise's logger, keyed by enterprise.

Its value is compact JSON: ``{"mn": logger, "e": enterprise id, "k": "meter" | "cems",
"p": period, "t": "2026-12-05T14:37:00Z", "v": [[code, value, flag], ...]}`` where the period
is ``r`` (real-time, CN 2011), ``m`` (minute, 2051), ``h`` (hourly, 2061) or ``d`` (daily,
2031), ``t`` the period's start in UTC (HJ 212's DataTime), and each value is in the unit the
compliance check works in (kW for a power channel, mg/m³ for a stack concentration, % for
O2); ``null`` where the packet had no number. A converted (reference-oxygen) concentration
travels as its own code with the suffix ``-Zs`` (``a21026-Zs``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import msgspec

from service.bus import Record

PERIODS = ("r", "m", "h", "d")
_UTC_STAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"


class TelemetryRecord(msgspec.Struct, frozen=True):
    mn: str
    e: str
    k: str
    p: str
    t: Annotated[str, msgspec.Meta(pattern=_UTC_STAMP)]
    v: list[tuple[str, float | None, str]]


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(TelemetryRecord)


def stamp(at: dt.datetime) -> str:
    at = at.astimezone(dt.UTC)
    return f"{at.year:04d}-{at:%m-%dT%H:%M:%S}Z"


def encode(record: TelemetryRecord) -> tuple[bytes, bytes]:
    """The ``(key, value)`` of a telemetry record (keyed by enterprise)."""
    return record.e.encode(), _encoder.encode(record)


@dataclass(frozen=True)
class Decoded:
    record: Record
    telemetry: TelemetryRecord
    at: dt.datetime


def decode(records: Sequence[Record]) -> tuple[list[Decoded], list[tuple[Record, str]]]:
    """Decode a batch; records that are not telemetry come back with the reason."""
    good: list[Decoded] = []
    bad: list[tuple[Record, str]] = []
    for record in records:
        if record.value is None:
            bad.append((record, "tombstone: a record without a value"))
            continue
        try:
            item = _decoder.decode(record.value)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            bad.append((record, f"undecodable telemetry: {exc}"))
            continue
        if item.p not in PERIODS:
            bad.append((record, f"undecodable telemetry: unknown period {item.p!r}"))
            continue
        try:
            at = dt.datetime.fromisoformat(item.t)
        except ValueError as exc:
            bad.append((record, f"undecodable telemetry: bad time: {exc}"))
            continue
        good.append(Decoded(record, item, at))
    return good, bad
