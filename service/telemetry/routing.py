"""Where the gateway's accepted packets go: the sink of :class:`service.gateway.server.Gateway`.

- A **station's** hourly data (ST=22, CN=2061) becomes a reading: the period's start
  (DataTime) plus one hour, since a reading carries the hour it ends; each pollutant's
  ``-Avg`` in the unit the API takes (µg/m³, CO mg/m³); a value whose data flag is not valid
  (``service.hj212.codes``) is missing. Every flag other than N is kept in the reading's
  ``flags`` as ``<pollutant>.<flag>`` (``pm25.D``: the PM2.5 monitor was faulty). The row
  passes the API's own checks (:class:`service.services.readings_check.ReadingsCheck`) and
  goes to ``haze.readings``.
- An **enterprise's** meter or stack monitor (CN 2011, 2051, 2061, 2031) becomes a
  ``haze.telemetry`` record (:mod:`service.telemetry.records`) keyed by the enterprise.
- Anything else a registered logger sends (a station's real-time data, equipment status,
  running times) is acknowledged and counted, not routed.

A packet whose content cannot be used (a reading the checks refuse, telemetry stamped in the
future or too old, no DataTime) is acknowledged too, since sending it again would not make it
better, and goes to the dead-letter topic with the reason: nothing acknowledged is dropped
unseen. :meth:`BusSink.accept` returns once the bus made every record durable; a bus that
cannot take them raises :class:`service.bus.BusUnavailableError` and the gateway answers none.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo

from service.api.schemas.readings import POLLUTANT_FIELDS
from service.bus import EventBus, Record
from service.bus.records import encode_reading
from service.gateway.directory import Registration
from service.hj212 import codes
from service.hj212.packet import Packet
from service.services.readings_check import ReadingsCheck
from service.settings import Settings
from service.telemetry import records
from service.telemetry.units import factor, unit_of

#: Pollutant code (HJ 212-2017) → the reading's field, and the unit the API takes it in.
STATION_POLLUTANTS: dict[str, tuple[str, str]] = {
    code: (field, "mg/m³" if field == "co" else "µg/m³")
    for field, code in codes.LIST_CODES.items()
    if field in POLLUTANT_FIELDS
}
#: Stack concentrations are read in mg/m³ (the emission standards' unit).
CEMS_UNIT = "mg/m³"
#: Data uploads an enterprise's logger sends: CN → (period, value suffix).
TELEMETRY_COMMANDS: dict[str, tuple[str, str]] = {
    "2011": ("r", "Rtd"),
    "2051": ("m", "Avg"),
    "2061": ("h", "Avg"),
    "2031": ("d", "Avg"),
}
STATION_SYSTEM, HOURLY = "22", "2061"
#: A row's key for the HJ 212 flags other than N, taken out before the API's checks.
HJ212_FLAGS = "_hj212_flags"
GATEWAY_TOPIC = "haze.gateway"  # names the source of a dead letter
#: Periods (DataTime, zone) and registrations whose conversions are remembered, at most.
PERIODS_KEPT = 50_000

DeadLetter = Callable[[Sequence[tuple[Record, str]]], Awaitable[None]]


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def period_start(packet: Packet, registration: Registration) -> dt.datetime | None:
    """The packet's DataTime as an aware UTC time (None when it has none)."""
    if packet.data_time is None:
        return None
    local = packet.data_time.replace(tzinfo=_zone(registration.timezone or "Asia/Shanghai"))
    return local.astimezone(dt.UTC)


def _number(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


class BusSink:
    """Routes accepted packets onto the bus (see the module's docstring)."""

    def __init__(
        self,
        bus: EventBus,
        *,
        readings_topic: str,
        telemetry_topic: str,
        dead_letter: DeadLetter,
        valid_flags: frozenset[str],
        future_tolerance: dt.timedelta,
        max_age: dt.timedelta,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.bus = bus
        self.readings_topic, self.telemetry_topic = readings_topic, telemetry_topic
        self.dead_letter = dead_letter
        self.valid_flags = valid_flags
        self.future_tolerance, self.max_age = future_tolerance, max_age
        self.clock = clock
        #: What became of the packets: readings, telemetry, ignored, dead-lettered by reason.
        self.counts: Counter[str] = Counter()
        self._periods: dict[tuple[dt.datetime, str], tuple[dt.datetime, str]] = {}
        self._scales: dict[str, tuple[Registration, dict[str, float]]] = {}

    @classmethod
    def from_settings(cls, bus: EventBus, settings: Settings, dead_letter: DeadLetter) -> BusSink:
        """The sink ``haze gateway`` and ``haze serve`` run (their topics and limits)."""
        return cls(
            bus,
            readings_topic=settings.kafka_topic_readings,
            telemetry_topic=settings.kafka_topic_telemetry,
            dead_letter=dead_letter,
            valid_flags=codes.VALID_FLAGS,
            future_tolerance=dt.timedelta(seconds=settings.telemetry_future_tolerance_s),
            max_age=dt.timedelta(hours=settings.telemetry_max_age_h),
        )

    async def accept(self, batch: Sequence[tuple[Registration, Packet]]) -> None:
        now = self.clock()
        rows: list[dict[str, object]] = []
        row_packets: list[tuple[Registration, Packet]] = []
        telemetry: list[tuple[bytes | None, bytes]] = []
        dead: list[tuple[Record, str]] = []
        for registration, packet in batch:
            if registration.kind == "station":
                if packet.cn != HOURLY or packet.st not in (STATION_SYSTEM, None):
                    self.counts["ignored"] += 1
                    continue
                row = self._reading_row(registration, packet)
                if isinstance(row, str):
                    dead.append((_letter(packet), row))
                else:
                    rows.append(row)
                    row_packets.append((registration, packet))
                continue
            item = self._telemetry(registration, packet, now)
            if item is None:
                self.counts["ignored"] += 1
            elif isinstance(item, str):
                dead.append((_letter(packet), item))
            else:
                telemetry.append(records.encode(item))
        readings = self._check(rows, row_packets, now, dead)
        if readings:
            await self.bus.publish(self.readings_topic, readings)
            self.counts["readings"] += len(readings)
        if telemetry:
            await self.bus.publish(self.telemetry_topic, telemetry)
            self.counts["telemetry"] += len(telemetry)
        if dead:
            await self.dead_letter(dead)
            self.counts.update(reason.split(":", 1)[0] for _, reason in dead)

    def _flag_ok(self, values: Mapping[str, str]) -> bool:
        return values.get("Flag", "N") in self.valid_flags

    def _reading_row(self, registration: Registration, packet: Packet) -> dict[str, object] | str:
        start = period_start(packet, registration)
        if start is None:
            return "reading.no_datatime: an hourly packet without DataTime"
        row: dict[str, object] = {
            "station_id": registration.owner,
            "observed_at": (start + dt.timedelta(hours=1)).isoformat(),
        }
        for code, (field, unit) in STATION_POLLUTANTS.items():
            values = packet.values.get(code)
            if values is None:
                continue
            if values.get("Flag", "N") != "N":
                row.setdefault(HJ212_FLAGS, []).append(f"{field}.{values['Flag']}")  # type: ignore[union-attr]
            if not self._flag_ok(values):
                continue
            value = _number(values.get("Avg"))
            scale = factor(unit_of(code, registration.units), unit)
            if value is not None and scale is not None:
                row[field] = value * scale
        return row

    def _check(
        self,
        rows: list[dict[str, object]],
        packets: list[tuple[Registration, Packet]],
        now: dt.datetime,
        dead: list[tuple[Record, str]],
    ) -> list[tuple[bytes | None, bytes]]:
        if not rows:
            return []
        known = {registration.owner for registration, _ in packets}
        check = ReadingsCheck(known, now, future_tolerance=self.future_tolerance)
        flags = [row.pop(HJ212_FLAGS, []) for row in rows]
        check.feed(rows)
        good, rejected = check.result()
        refused_rows = {refused.index for refused in rejected}
        kept = [i for i in range(len(rows)) if i not in refused_rows]
        for reading, index in zip(good, kept, strict=True):
            reading.flags = [*reading.flags, *flags[index]]  # type: ignore[misc]
        for refused in rejected:
            errors = json.dumps(refused.errors, ensure_ascii=False)
            dead.append((_letter(packets[refused.index][1]), f"reading.rejected: {errors}"))
        return [encode_reading(reading) for reading in good]

    def _telemetry(
        self, registration: Registration, packet: Packet, now: dt.datetime
    ) -> records.TelemetryRecord | str | None:
        command = TELEMETRY_COMMANDS.get(packet.cn)
        if command is None:
            return None
        period, suffix = command
        when = self._period(packet, registration)
        if when is None:
            return "telemetry.no_datatime: a data packet without DataTime"
        start, stamp = when
        if start > now + self.future_tolerance:
            return f"telemetry.future: DataTime {start.isoformat()} is ahead of the clock"
        if start < now - self.max_age:
            return f"telemetry.stale: DataTime {start.isoformat()} is too old"
        scales = self._scales_of(registration)
        items: list[tuple[str, float | None, str]] = []
        for code, raw, raw_converted, flag in packet.readings(suffix):
            if flag is None:
                flag = "N"
            scale = scales.get(code)
            if scale is None:
                scale = scales[code] = _cems_scale(code, registration)
            if raw is not None:
                try:
                    measured: float | None = float(raw) * scale
                except ValueError:
                    measured = None
                if measured is not None and (measured != measured or measured in _INFINITE):
                    measured = None  # NaN or infinity: no number
                items.append((code, measured, flag))
            if raw_converted is not None:
                converted = _number(raw_converted)
                if converted is not None:
                    items.append((_converted_code(code), converted * scale, flag))
        return records.TelemetryRecord(
            mn=registration.mn,
            e=registration.owner,
            k=registration.kind,
            p=period,
            t=stamp,
            v=items,
        )

    def _period(self, packet: Packet, registration: Registration) -> tuple[dt.datetime, str] | None:
        """The period's start in UTC and as the record's stamp (remembered: the loggers of a
        region send the same minutes)."""
        if packet.data_time is None:
            return None
        key = (packet.data_time, registration.timezone)
        known = self._periods.get(key)
        if known is None:
            start = period_start(packet, registration)
            assert start is not None
            if len(self._periods) >= PERIODS_KEPT:
                self._periods.clear()
            known = self._periods[key] = (start, records.stamp(start))
        return known

    def _scales_of(self, registration: Registration) -> dict[str, float]:
        """Code -> factor to the compliance check's unit, per registration (kept while the
        directory hands out the same registration object; a reload makes a new one)."""
        known = self._scales.get(registration.mn)
        if known is None or known[0] is not registration:
            if len(self._scales) >= PERIODS_KEPT:
                self._scales.clear()
            known = self._scales[registration.mn] = (registration, {})
        return known[1]


def _cems_scale(code: str, registration: Registration) -> float:
    """Stack concentrations go in mg/m³; anything else as sent."""
    unit = unit_of(code, registration.units)
    if unit is not None and unit.endswith("/m³"):
        return factor(unit, CEMS_UNIT) or 1.0
    return 1.0


_INFINITE = (float("inf"), float("-inf"))
_CONVERTED: dict[str, str] = {}


def _converted_code(code: str) -> str:
    name = _CONVERTED.get(code)
    if name is None:
        name = code + "-Zs"
        if len(_CONVERTED) < PERIODS_KEPT:
            _CONVERTED[code] = name
    return name


def _letter(packet: Packet) -> Record:
    return Record(topic=GATEWAY_TOPIC, key=packet.mn.encode(), value=packet.segment.encode())
