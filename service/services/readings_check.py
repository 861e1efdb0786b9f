"""Checks of posted readings: each bad row is reported by index, the good rows are kept.

Rejected (the impossible): wrong types or unknown fields, an unknown station or one the caller
may not post for, a negative or non-finite value, a value above the instrument ceiling, PM2.5
far above PM10 (more than twice PM10 plus 20 µg/m³), a stamp more than the tolerance in the
future, before 1970 or not on the hour, and an earlier copy of the same station-hour in the same
batch. The value and time rules are :mod:`service.services.reading_rules`, which the readings
consumer applies too.
Kept with a flag (the merely suspicious): PM2.5 above PM10 within that margin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

import numpy as np
from pydantic import TypeAdapter, ValidationError

from emission_list.i18n import pick
from service.api.schemas.readings import POLLUTANT_FIELDS, CheckedReading, ReadingIn, RejectedRow
from service.services.reading_rules import (
    CEILINGS,
    EARLIEST_OBSERVED_AT,
    RuleHits,
    check_columns,
    utc_micros,
)

__all__ = ["CEILINGS", "MESSAGES", "check_readings"]

MESSAGES: dict[str, dict[str, str]] = {
    "type": {"zh-CN": "字段格式错误：{detail}", "en": "Invalid field: {detail}"},
    "station.unknown": {"zh-CN": "未知站点 {station}", "en": "Unknown station {station}"},
    "station.forbidden": {
        "zh-CN": "该令牌无权为站点 {station} 报送数据",
        "en": "This token may not post readings for station {station}",
    },
    "value.negative": {"zh-CN": "{field} 为负值", "en": "{field} is negative"},
    "value.not_finite": {"zh-CN": "{field} 不是有限数值", "en": "{field} is not a finite number"},
    "value.impossible": {
        "zh-CN": "{field} = {value} 超出仪器量程上限 {ceiling}",
        "en": "{field} = {value} is above the instrument ceiling {ceiling}",
    },
    "pm25.above_pm10": {
        "zh-CN": "PM2.5 ({pm25}) 远高于 PM10 ({pm10})，不可能",
        "en": "PM2.5 ({pm25}) is far above PM10 ({pm10}): impossible",
    },
    "observed_at.future": {
        "zh-CN": "观测时间 {at} 晚于当前时间超过 {minutes} 分钟",
        "en": "observed_at {at} is more than {minutes} minutes in the future",
    },
    "observed_at.not_on_hour": {
        "zh-CN": "观测时间 {at} 不是整点（小时值以整点结束）",
        "en": "observed_at {at} is not on the hour (hourly values end on the hour)",
    },
    "observed_at.too_early": {
        "zh-CN": "观测时间 {at} 早于 {earliest}",
        "en": "observed_at {at} is before {earliest}",
    },
    "duplicate_in_batch": {
        "zh-CN": "同一站点同一小时在本批中重复，以第 {later} 行为准",
        "en": "The same station-hour comes again at index {later}; that later row is kept",
    },
}

_ROW = TypeAdapter(ReadingIn)
#: Stand-ins for stamps that have no UTC time (they break a time rule).
_BEFORE = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
_AFTER = dt.datetime(9999, 12, 31, 23, tzinfo=dt.UTC)


def _error(where: str, code: str, language: str, **values: object) -> dict[str, str]:
    return {
        "field": where,
        "code": code,
        "message": pick(MESSAGES[code], language).format(**values),
    }


class ReadingsCheck:
    """The checks of one batch, fed a slice at a time (a caller may yield in between).

    Types are checked row by row; the value and time rules of every typed row of a slice at
    once by :func:`service.services.reading_rules.check_columns`, the rules the consumer
    applies."""

    def __init__(
        self,
        stations: Collection[str],
        now: dt.datetime,
        *,
        allowed_stations: Collection[str] | None = None,
        future_tolerance: dt.timedelta = dt.timedelta(minutes=10),
        language: str = "en",
    ) -> None:
        self.stations, self.now, self.allowed = stations, now, allowed_stations
        self.tolerance, self.language = future_tolerance, language
        self._good: dict[int, CheckedReading] = {}
        self._rejected: dict[int, list[dict[str, str]]] = {}
        self._last_index: dict[tuple[str, dt.datetime], int] = {}

    def feed(self, rows: Sequence[object], first_index: int = 0) -> None:
        """Check ``rows``, the batch's rows from index ``first_index`` on."""
        good, rejected, language = self._good, self._rejected, self.language
        typed: list[tuple[int, ReadingIn, dt.datetime]] = []
        for index, raw in enumerate(rows, first_index):
            try:
                row = _ROW.validate_python(raw)
            except ValidationError as exc:
                rejected[index] = [
                    _error(".".join(map(str, e["loc"])) or "row", "type", language, detail=e["msg"])
                    for e in exc.errors()
                ]
                continue
            try:
                observed = row.observed_at.astimezone(dt.UTC)
            except OverflowError:  # year 1 east of UTC, year 9999 west of it: out of range
                observed = _BEFORE if row.observed_at.year < 5000 else _AFTER
            typed.append((index, row, observed))
        values = np.array(
            [[np.nan if (v := getattr(row, p)) is None else v for p in POLLUTANT_FIELDS]
             for _, row, _ in typed],
            dtype=np.float64,
        ).reshape(len(typed), len(POLLUTANT_FIELDS))  # fmt: skip
        stamps = np.array([utc_micros(at) for _, _, at in typed], dtype="datetime64[us]")
        hits = check_columns(stamps, values, self.now, self.tolerance)
        for k, (index, row, observed) in enumerate(typed):
            errors = _station_errors(row, self.stations, self.allowed, language)
            errors += _rule_errors(hits, k, row, observed, self.tolerance, language)
            if errors:
                rejected[index] = errors
                continue
            good[index] = CheckedReading(
                station_id=row.station_id,
                observed_at=observed,
                values={p: getattr(row, p) for p in POLLUTANT_FIELDS},
                flags=["pm25_above_pm10"] if hits.pm25_above_pm10[k] else [],
            )
            key = (row.station_id, observed)
            if key in self._last_index:
                earlier = self._last_index[key]
                del good[earlier]
                rejected[earlier] = [
                    _error("observed_at", "duplicate_in_batch", language, later=index)
                ]
            self._last_index[key] = index

    def result(self) -> tuple[list[CheckedReading], list[RejectedRow]]:
        """The good rows (in order) and the rejected ones by index."""
        return (
            [self._good[i] for i in sorted(self._good)],
            [RejectedRow(index=i, errors=self._rejected[i]) for i in sorted(self._rejected)],
        )


def check_readings(
    rows: Sequence[object],
    stations: Collection[str],
    now: dt.datetime,
    *,
    allowed_stations: Collection[str] | None = None,
    future_tolerance: dt.timedelta = dt.timedelta(minutes=10),
    language: str = "en",
) -> tuple[list[CheckedReading], list[RejectedRow]]:
    """Check a batch; return the good rows (in order) and the rejected ones by index."""
    check = ReadingsCheck(
        stations,
        now,
        allowed_stations=allowed_stations,
        future_tolerance=future_tolerance,
        language=language,
    )
    check.feed(rows)
    return check.result()


def _station_errors(
    row: ReadingIn, stations: Collection[str], allowed: Collection[str] | None, language: str
) -> list[dict[str, str]]:
    if row.station_id not in stations:
        return [_error("station_id", "station.unknown", language, station=row.station_id)]
    if allowed is not None and row.station_id not in allowed:
        return [_error("station_id", "station.forbidden", language, station=row.station_id)]
    return []


def _rule_errors(
    hits: RuleHits,
    k: int,
    row: ReadingIn,
    at: dt.datetime,
    tolerance: dt.timedelta,
    language: str,
) -> list[dict[str, str]]:
    """The messages of the rules row ``k`` breaks, in the order of the fields."""
    errors: list[dict[str, str]] = []
    shown = row.observed_at.isoformat()
    if hits.future[k]:
        minutes = int(tolerance.total_seconds() // 60)
        errors.append(
            _error(
                "observed_at", "observed_at.future", language, at=at.isoformat(), minutes=minutes
            )
        )
    if hits.too_early[k]:
        earliest = EARLIEST_OBSERVED_AT.isoformat()
        errors.append(
            _error("observed_at", "observed_at.too_early", language, at=shown, earliest=earliest)
        )
    if hits.not_on_hour[k]:
        errors.append(_error("observed_at", "observed_at.not_on_hour", language, at=at.isoformat()))
    for j, field in enumerate(POLLUTANT_FIELDS):
        if hits.not_finite[k, j]:
            errors.append(_error(field, "value.not_finite", language, field=field))
        elif hits.negative[k, j]:
            errors.append(_error(field, "value.negative", language, field=field))
        elif hits.impossible[k, j]:
            value, ceiling = getattr(row, field), CEILINGS[field]
            errors.append(
                _error(
                    field, "value.impossible", language, field=field, value=value, ceiling=ceiling
                )
            )
    if hits.pm25_impossible[k]:
        errors.append(_error("pm25", "pm25.above_pm10", language, pm25=row.pm25, pm10=row.pm10))
    return errors
