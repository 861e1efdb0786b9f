"""A monitoring station's page (operators): its hourly AQI over seven days."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from emission_list.aqi_categories import CATEGORIES
from service.api.deps import SessionDep
from service.console import station_model
from service.console.auth import OperatorViewDep
from service.console.formats import category_namer, local_time
from service.console.templating import page_language, render
from service.console.texts import texts
from service.errors import not_found
from service.storage.repositories import utcnow

router = APIRouter(include_in_schema=False)


@router.get("/stations/{station_id}")
async def station_page(
    request: Request,
    viewer: OperatorViewDep,
    session: SessionDep,
    station_id: Annotated[str, Path(max_length=32)],
    end: Annotated[dt.date | None, Query(description="The last local day shown.")] = None,
) -> Response:
    now = utcnow()
    last_day = station_model.last_day_shown(end, now)
    week = await station_model.station_week(session, station_id, last_day, now)
    if week is None:
        raise not_found(
            "station.unknown", f"未知站点 {station_id}", f"Unknown station {station_id}"
        )
    kind_key = f"stations.kind.{week.station.kind}"
    today = now.astimezone(station_model.LOCAL).date()
    step = dt.timedelta(days=station_model.DAYS)
    context = {
        "week": week,
        "kind": (
            texts().say(kind_key, page_language(request))
            if kind_key in texts()
            else week.station.kind
        ),
        "categories": CATEGORIES,
        "category_name": category_namer(page_language(request)),
        "when": local_time,
        "earlier": (last_day - step).isoformat(),
        "later": (last_day + step).isoformat() if last_day + step <= today else None,
        "is_latest": last_day >= today,
    }
    return render(request, "stations/station.html", context)
