"""Checks of posted readings: each bad row is reported by index, the good rows are kept.

Rejected (the impossible): wrong types or unknown fields, an unknown station or one the caller
may not post for, a negative or non-finite value, a value above the instrument ceiling, PM2.5
far above PM10 (more than twice PM10 plus 20 µg/m³), a stamp more than the tolerance in the
future or not on the hour, and an earlier copy of the same station-hour in the same batch.
Kept with a flag (the merely suspicious): PM2.5 above PM10 within that margin.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Sequence

from pydantic import TypeAdapter, ValidationError

from emission_list.i18n import pick
from service.schemas.readings import POLLUTANT_FIELDS, CheckedReading, ReadingIn, RejectedRow

#: Above these a value cannot come from a working analyser [µg/m³; mg/m³ for CO]. PM10 in a
#: Baotou dust storm reaches several thousand µg/m³, so its ceiling is high.
CEILINGS: dict[str, float] = {
    "pm25": 2000.0,
    "pm10": 10000.0,
    "so2": 10000.0,
    "no2": 4000.0,
    "o3": 2000.0,
    "co": 150.0,
}

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
    "duplicate_in_batch": {
        "zh-CN": "同一站点同一小时在本批中重复，以第 {later} 行为准",
        "en": "The same station-hour comes again at index {later}; that later row is kept",
    },
}

_ROW = TypeAdapter(ReadingIn)


def _error(where: str, code: str, language: str, **values: object) -> dict[str, str]:
    return {
        "field": where,
        "code": code,
        "message": pick(MESSAGES[code], language).format(**values),
    }


class ReadingsCheck:
    """The checks of one batch, fed a slice at a time (a caller may yield in between)."""

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
        for index, raw in enumerate(rows, first_index):
            try:
                row = _ROW.validate_python(raw)
            except ValidationError as exc:
                rejected[index] = [
                    _error(".".join(map(str, e["loc"])) or "row", "type", language, detail=e["msg"])
                    for e in exc.errors()
                ]
                continue
            errors, flags = _check_row(
                row, self.stations, self.allowed, self.now, self.tolerance, language
            )
            if errors:
                rejected[index] = errors
                continue
            observed = row.observed_at.astimezone(dt.UTC)
            values = {p: getattr(row, p) for p in POLLUTANT_FIELDS}
            good[index] = CheckedReading(
                station_id=row.station_id, observed_at=observed, values=values, flags=flags
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


def _check_row(
    row: ReadingIn,
    stations: Collection[str],
    allowed: Collection[str] | None,
    now: dt.datetime,
    tolerance: dt.timedelta,
    language: str,
) -> tuple[list[dict[str, str]], list[str]]:
    errors: list[dict[str, str]] = []
    flags: list[str] = []
    if row.station_id not in stations:
        errors.append(_error("station_id", "station.unknown", language, station=row.station_id))
    elif allowed is not None and row.station_id not in allowed:
        errors.append(_error("station_id", "station.forbidden", language, station=row.station_id))
    at = row.observed_at.astimezone(dt.UTC)  # "on the hour" in UTC: +05:30 stamps exist
    if at > now + tolerance:
        minutes = int(tolerance.total_seconds() // 60)
        errors.append(
            _error(
                "observed_at", "observed_at.future", language, at=at.isoformat(), minutes=minutes
            )
        )
    if (at.minute, at.second, at.microsecond) != (0, 0, 0):
        errors.append(_error("observed_at", "observed_at.not_on_hour", language, at=at.isoformat()))
    for field in POLLUTANT_FIELDS:
        value = getattr(row, field)
        if value is None:
            continue
        if not math.isfinite(value):
            errors.append(_error(field, "value.not_finite", language, field=field))
        elif value < 0:
            errors.append(_error(field, "value.negative", language, field=field))
        elif value > CEILINGS[field]:
            errors.append(
                _error(
                    field, "value.impossible", language, field=field, value=value,
                    ceiling=CEILINGS[field],
                )
            )  # fmt: skip
    if row.pm25 is not None and row.pm10 is not None and row.pm25 > row.pm10 >= 0:
        if row.pm25 > 2 * row.pm10 + 20:
            errors.append(_error("pm25", "pm25.above_pm10", language, pm25=row.pm25, pm10=row.pm10))
        else:
            flags.append("pm25_above_pm10")
    return errors, flags
