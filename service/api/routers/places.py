"""``/regions`` and ``/stations``: where the list applies and where readings come from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from service.api.deps import LanguageDep, OperatorDep, PrincipalDep, RuntimeDep, SessionDep
from service.api.schemas.paging import DEFAULT_LIMIT, Cursor, Limit, Page
from service.api.schemas.places import (
    AqiOut,
    RegionAqiOut,
    RegionIn,
    RegionOut,
    RegionResultOut,
    StationAqiOut,
    StationIn,
    StationOut,
)
from service.api.text_guard import TextGuard
from service.errors import ERROR_RESPONSES, HazeError, not_found
from service.services.station_aqi import station_aqi
from service.storage.repositories import audit, regions, stations, windows

router = APIRouter(tags=["places"], responses=ERROR_RESPONSES, dependencies=[TextGuard])


def _unknown_region(region_id: str) -> HazeError:
    return HazeError(
        422,
        "region.unknown",
        {"zh-CN": f"未知区域 {region_id}", "en": f"Unknown region {region_id}"},
        [{"field": "region", "value": region_id}],
    )


@router.put(
    "/regions/{region_id}",
    response_model=RegionOut,
    responses={201: {"model": RegionOut, "description": "Created."}},
)
async def put_region(
    region_id: Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_.-]+$")],
    body: RegionIn,
    operator: OperatorDep,
    session: SessionDep,
    runtime: RuntimeDep,
    language: LanguageDep,
    response: Response,
) -> RegionOut:
    """Create or rename a region, move it under another parent, or set whether its warnings
    wait for sign-off (the board is rebuilt)."""
    if body.parent is not None:
        if await regions.get(session, body.parent) is None:
            raise _unknown_region(body.parent)
        if body.parent == region_id or region_id in runtime.state.tree.ancestors(body.parent):
            raise HazeError(
                409,
                "region.cycle",
                {
                    "zh-CN": f"{body.parent} 在 {region_id} 之下，不能作其上级",
                    "en": f"{body.parent} lies under {region_id} and cannot be its parent",
                },
            )
    region = body.to_domain(region_id)
    created = await regions.put(session, region)
    await audit.record(session, operator.token_id, "region.put", f"region/{region_id}")
    await session.commit()
    await runtime.rebuild()
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return RegionOut.of(region, language)


@router.get("/regions", response_model=Page[RegionOut])
async def get_regions(
    _: PrincipalDep,
    session: SessionDep,
    language: LanguageDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RegionOut]:
    """Regions by id, a page at a time."""
    found, next_cursor = await regions.page(session, limit=limit, after=cursor)
    items = [RegionOut.of(r, language) for r in found]
    return Page[RegionOut](items=items, next_cursor=next_cursor)


@router.put(
    "/stations/{station_id}",
    response_model=StationOut,
    responses={201: {"model": StationOut, "description": "Created."}},
)
async def put_station(
    station_id: Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_.-]+$")],
    body: StationIn,
    operator: OperatorDep,
    session: SessionDep,
    language: LanguageDep,
    response: Response,
) -> StationOut:
    if await regions.get(session, body.region) is None:
        raise _unknown_region(body.region)
    station = body.to_domain(station_id)
    created = await stations.put(session, station)
    await audit.record(session, operator.token_id, "station.put", f"station/{station_id}")
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return StationOut.of(station, language)


@router.get("/stations", response_model=Page[StationOut])
async def get_stations(
    _: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    language: LanguageDep,
    region: Annotated[
        str | None, Query(description="Only stations in this region or any region under it.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[StationOut]:
    """Stations (of one region and the regions under it, if given) by id, a page at a time."""
    tree = runtime.state.tree
    within = None if region is None else tree.subtree(region) if region in tree else [region]
    found, next_cursor = await stations.page(session, within, limit=limit, after=cursor)
    items = [StationOut.of(s, language) for s in found]
    return Page[StationOut](items=items, next_cursor=next_cursor)


@router.get("/regions/{region_id}/aqi", response_model=RegionAqiOut)
async def get_region_aqi(
    region_id: str,
    _: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    language: LanguageDep,
) -> RegionAqiOut:
    """A region's latest hourly AQI and 24-hour AQI, from the mean concentrations of the
    stations in it and under it, kept by the readings consumer."""
    if region_id not in runtime.state.tree:
        raise not_found("region.unknown", f"未知区域 {region_id}", f"Unknown region {region_id}")
    hourly = await windows.latest_region_aqi(session, region_id, "1h")
    daily = await windows.latest_region_aqi(session, region_id, "24h")
    return RegionAqiOut(
        region=region_id,
        hourly=None if hourly is None else RegionResultOut.of_row(hourly, language),
        daily=None if daily is None else RegionResultOut.of_row(daily, language),
    )


@router.get("/stations/{station_id}/aqi", response_model=StationAqiOut)
async def get_station_aqi(
    station_id: str, _: PrincipalDep, session: SessionDep, language: LanguageDep
) -> StationAqiOut:
    """The latest hourly AQI, and the 24-hour AQI ending then when it is valid."""
    if await stations.get(session, station_id) is None:
        raise not_found(
            "station.unknown", f"未知站点 {station_id}", f"Unknown station {station_id}"
        )
    found = await station_aqi(session, station_id)
    hourly = found.hourly
    return StationAqiOut(
        station_id=station_id,
        hourly=None
        if hourly is None
        else AqiOut.of(
            hourly.observed_at,
            hourly.aqi,
            hourly.category,
            hourly.primary,
            hourly.iaqi,
            hourly.edition,
            language,
        ),
        daily=None  # no reading at all; else the window, with aqi null while it is not valid
        if found.daily_window_end is None
        else AqiOut.of(
            found.daily_window_end,
            found.daily_aqi,
            found.daily_category,
            found.daily_primary,
            found.daily_iaqi,
            found.daily_edition,
            language,
        ),
        daily_missing=found.daily_missing,
    )
