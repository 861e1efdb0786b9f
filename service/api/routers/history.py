"""The history a bureau reads back: a station's or region's AQI hour by hour and day by
day, a station's readings, and a region's days against their forecasts.

Every listing takes ``from`` (inclusive) and ``to`` (exclusive) as ISO 8601 with an offset,
answers a page (``items``, ``next_cursor``; pass it back as ``?cursor=``), and answers CSV
instead of JSON with ``Accept: text/csv`` (the next page in ``Link``). Hours are listed where
a result is stored; days are the local calendar days (Asia/Shanghai) starting in the range,
every one listed (``aqi`` null without valid data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from service.api import history_csv
from service.api.deps import LanguageDep, PrincipalDep, RuntimeDep, SessionDep
from service.api.paging import decode_cursor, encode_cursor, invalid_cursor
from service.api.schemas.history import (
    HourlyAqiOut,
    ReadingOut,
    RegionDailyOut,
    RegionHourlyOut,
    StationDailyOut,
    VerifiedDayOut,
)
from service.api.schemas.inputs import RangeBound
from service.api.schemas.paging import Page
from service.api.text_guard import TextGuard
from service.api.time_range import TimeRange, time_range
from service.errors import ERROR_RESPONSES, not_found
from service.services import daily_aqi, verification
from service.storage.repositories import readings, stations, windows

router = APIRouter(tags=["history"], responses=ERROR_RESPONSES, dependencies=[TextGuard])

_CSV = {200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with Accept: text/csv"}}
From = Annotated[RangeBound, Query(alias="from", description="ISO 8601 with offset; inclusive")]
To = Annotated[RangeBound, Query(alias="to", description="ISO 8601 with offset; exclusive")]
HourLimit = Annotated[int, Query(ge=1, le=1000, description="Hours per page.")]
DayLimit = Annotated[int, Query(ge=1, le=366, description="Days per page.")]


async def _station(session: SessionDep, station_id: str) -> None:
    if await stations.get(session, station_id) is None:
        raise not_found(
            "station.unknown", f"未知站点 {station_id}", f"Unknown station {station_id}"
        )


def _region(runtime: RuntimeDep, region_id: str) -> None:
    if region_id not in runtime.state.tree:
        raise not_found("region.unknown", f"未知区域 {region_id}", f"Unknown region {region_id}")


def _after_hour(cursor: str | None) -> dt.datetime | None:
    if cursor is None:
        return None
    (stamp,) = decode_cursor(cursor, str)
    try:
        at = dt.datetime.fromisoformat(stamp)
    except ValueError as exc:
        raise invalid_cursor() from exc
    if at.tzinfo is None:
        raise invalid_cursor()
    return at


async def _hours(
    read: Callable[..., Awaitable[Sequence[Any]]],
    window: TimeRange,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[Any], str | None]:
    rows = await read(window.since, window.until, after=_after_hour(cursor), limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].observed_at.isoformat()) if more else None)


def _days(window: TimeRange, cursor: str | None, limit: int) -> tuple[dt.date, int, dt.date]:
    """The page's first day, how many days it may hold, and the first day after the range."""
    first = daily_aqi.first_day_from(window.since)
    if cursor is not None:
        (day,) = decode_cursor(cursor, str)
        try:
            first = max(first, dt.date.fromisoformat(day))
        except ValueError as exc:
            raise invalid_cursor() from exc
    end = daily_aqi.first_day_from(window.until)
    return first, max(0, min(limit, (end - first).days)), end


def _after_days(first: dt.date, listed: int, end: dt.date) -> str | None:
    """The cursor after ``listed`` days from ``first`` (None when the range is done)."""
    after = first + dt.timedelta(days=listed)
    return encode_cursor(after.isoformat()) if after < end else None


@router.get(
    "/stations/{station_id}/aqi/hourly",
    response_model=Page[HourlyAqiOut],
    responses=_CSV,
)
async def get_station_hourly(
    station_id: str,
    since: From,
    until: To,
    request: Request,
    _: PrincipalDep,
    session: SessionDep,
    language: LanguageDep,
    cursor: str | None = None,
    limit: HourLimit = 168,
) -> Any:
    """A station's hourly AQI (category, primary pollutants, IAQI, edition) per stored hour."""
    window = time_range(since, until)
    await _station(session, station_id)

    async def read(*args: Any, **kwargs: Any) -> Sequence[Any]:
        return await readings.aqi_page(session, station_id, *args, **kwargs)

    rows, next_cursor = await _hours(read, window, cursor, limit)
    items = [HourlyAqiOut.of_row(r, language) for r in rows]
    return history_csv.page_answer(request, HourlyAqiOut, items, next_cursor)


@router.get("/stations/{station_id}/readings", response_model=Page[ReadingOut], responses=_CSV)
async def get_station_readings(
    station_id: str,
    since: From,
    until: To,
    request: Request,
    _: PrincipalDep,
    session: SessionDep,
    cursor: str | None = None,
    limit: HourLimit = 168,
) -> Any:
    """A station's stored readings (the latest correction of each hour) in time order."""
    window = time_range(since, until)
    await _station(session, station_id)

    async def read(*args: Any, **kwargs: Any) -> Sequence[Any]:
        return await readings.page(session, station_id, *args, **kwargs)

    rows, next_cursor = await _hours(read, window, cursor, limit)
    return history_csv.page_answer(
        request, ReadingOut, [ReadingOut.of_row(r) for r in rows], next_cursor
    )


@router.get(
    "/stations/{station_id}/aqi/daily", response_model=Page[StationDailyOut], responses=_CSV
)
async def get_station_daily(
    station_id: str,
    since: From,
    until: To,
    request: Request,
    _: PrincipalDep,
    session: SessionDep,
    language: LanguageDep,
    cursor: str | None = None,
    limit: DayLimit = 31,
) -> Any:
    """A station's daily AQI per local calendar day starting in the range."""
    window = time_range(since, until)
    await _station(session, station_id)
    first, days, end = _days(window, cursor, limit)
    found = await daily_aqi.station_days(session, station_id, first, days) if days else []
    next_cursor = _after_days(first, len(found), end)
    items = [StationDailyOut.of(d, daily_aqi.day_start(d.date), language) for d in found]
    return history_csv.page_answer(request, StationDailyOut, items, next_cursor)


@router.get("/regions/{region_id}/aqi/hourly", response_model=Page[RegionHourlyOut], responses=_CSV)
async def get_region_hourly(
    region_id: str,
    since: From,
    until: To,
    request: Request,
    _: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    language: LanguageDep,
    cursor: str | None = None,
    limit: HourLimit = 168,
) -> Any:
    """A region's hourly AQI from its stations' mean concentrations, per stored hour."""
    window = time_range(since, until)
    _region(runtime, region_id)

    async def read(*args: Any, **kwargs: Any) -> Sequence[Any]:
        return await windows.region_aqi_page(session, region_id, *args, **kwargs)

    rows, next_cursor = await _hours(read, window, cursor, limit)
    items = [RegionHourlyOut.of_region_row(r, language) for r in rows]
    return history_csv.page_answer(request, RegionHourlyOut, items, next_cursor)


@router.get("/regions/{region_id}/aqi/daily", response_model=Page[RegionDailyOut], responses=_CSV)
async def get_region_daily(
    region_id: str,
    since: From,
    until: To,
    request: Request,
    _: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    language: LanguageDep,
    cursor: str | None = None,
    limit: DayLimit = 31,
) -> Any:
    """A region's daily AQI per local calendar day, from its stations' daily statistics."""
    window = time_range(since, until)
    _region(runtime, region_id)
    first, days, end = _days(window, cursor, limit)
    subtree = runtime.state.tree.subtree(region_id)
    found = await daily_aqi.region_days(session, subtree, first, days) if days else []
    next_cursor = _after_days(first, len(found), end)
    items = [RegionDailyOut.of(d, daily_aqi.day_start(d.date), language) for d in found]
    return history_csv.page_answer(request, RegionDailyOut, items, next_cursor)


@router.get(
    "/regions/{region_id}/aqi/forecasts", response_model=Page[VerifiedDayOut], responses=_CSV
)
async def get_region_forecast_check(
    region_id: str,
    since: From,
    until: To,
    request: Request,
    _: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    language: LanguageDep,
    cursor: str | None = None,
    limit: DayLimit = 31,
) -> Any:
    """Each local day's observed daily AQI beside the forecasts made for it, whether a
    warning was in force, and the missed-forecast flag (AQI above 200 with none)."""
    window = time_range(since, until)
    _region(runtime, region_id)
    first, days, end = _days(window, cursor, limit)
    tree = runtime.state.tree
    found = await verification.verify(session, tree, region_id, first, days) if days else []
    next_cursor = _after_days(first, len(found), end)
    items = [VerifiedDayOut.of(v, daily_aqi.day_start(v.observed.date), language) for v in found]
    return history_csv.page_answer(request, VerifiedDayOut, items, next_cursor)
