"""The operators' dashboard: the map, the alerts with their forecasts, forecast checks and
the required reductions of the regions under warning (see service.console.dashboard_model)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from emission_list.aqi_categories import CATEGORIES
from emission_list.levels import LIST_POLLUTANTS, Level
from service.api.deps import RuntimeDep, SessionDep
from service.console import alarm_views, dashboard_map, dashboard_model
from service.console.auth import OperatorViewDep
from service.console.charts import BarChart, forecast_bars
from service.console.formats import category_namer, kg_per_day, local_time
from service.console.templating import page_language, render
from service.storage.repositories import utcnow

router = APIRouter(include_in_schema=False)


def _bars(view: dashboard_model.AlertView) -> BarChart:
    days = [(d.date, d.aqi, str(d.driver)) for d in view.forecast.days]  # type: ignore[union-attr]
    return forecast_bars(days, view.alert.forecast_days)


@router.get("/dashboard")
async def dashboard(
    request: Request,
    viewer: OperatorViewDep,
    session: SessionDep,
    runtime: RuntimeDep,
    region: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    found = await dashboard_model.build(session, runtime.state, region, utcnow())
    maps = []
    mapped: list[dashboard_model.RegionStatus] = []
    if found is not None:
        digests: dict[str, str] = {}
        drawn = (
            dashboard_map.overview_map(found, digests),
            dashboard_map.closeup_map(found, digests),
        )
        maps = [m for m in drawn if m is not None]
        seen = dict.fromkeys(s.status.region_id for m in maps for s in m.shapes)
        mapped = [found.statuses[r] for r in seen]
    context = {
        "dash": found,
        "maps": maps,
        "mapped": mapped,
        "levels": list(Level),
        "pollutants": LIST_POLLUTANTS,
        "categories": CATEGORIES,
        "category_name": category_namer(page_language(request)),
        "forecast_bars": _bars,
        "when": local_time,
        "kg": kg_per_day,
        "alarm_counts": await alarm_views.open_counts(session),
    }
    return render(request, "dashboard/index.html", context)
