"""An enterprise's pages: what it must do now and next, its printable notice, its past orders.

Operators open any enterprise's; an enterprise's session only its own: another's answers the
same 404 as an id not on the list (as the API does), so a session cannot probe ids.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from emission_list.warning_texts import local_midnight
from service.api.deps import RuntimeDep, SessionDep
from service.api.schemas.inputs import Day
from service.console import (
    alarm_views,
    formats,  # noqa: F401  (the templates' filters)
    notice_views,
)
from service.console.auth import Viewer, ViewerDep, may_see_enterprise
from service.console.templating import render
from service.errors import HazeError, not_found
from service.runtime import Runtime
from service.services import enterprise_orders
from service.services.list_search import region_names
from service.storage.repositories import utcnow

router = APIRouter(include_in_schema=False)


def unknown_enterprise(enterprise_id: str) -> HazeError:
    return not_found(
        "enterprise.unknown",
        f"现行清单中没有企业 {enterprise_id}",
        f"No enterprise {enterprise_id} on the published list",
    )


async def _view(
    viewer: Viewer, runtime: Runtime, session: SessionDep, enterprise_id: str
) -> enterprise_orders.EnterpriseView:
    if not may_see_enterprise(viewer, enterprise_id):
        raise unknown_enterprise(enterprise_id)
    state = runtime.state
    found = await enterprise_orders.view(
        session,
        enterprise_id,
        board=state.board,
        tree=state.tree,
        catalog=runtime.catalog,
        now=utcnow(),
    )
    if found is None:
        raise unknown_enterprise(enterprise_id)
    return found


@router.get("/enterprises/{enterprise_id}")
@router.get("/enterprises/{enterprise_id}/notice")
async def enterprise_page(
    enterprise_id: str,
    request: Request,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    """What it must do now and next, its notices and subscriptions (or the printable
    notice of its orders)."""
    if request.url.path.endswith("/notice"):
        found = await _view(viewer, runtime, session, enterprise_id)
        return render(request, "enterprise/notice.html", await _context(session, runtime, found))
    return await render_enterprise_page(request, viewer, runtime, session, enterprise_id)


async def _context(
    session: SessionDep, runtime: Runtime, found: enterprise_orders.EnterpriseView
) -> dict[str, Any]:
    return {
        "view": found,
        "names": await region_names(session),
        "catalog": runtime.catalog,
        "today": utcnow(),
    }


async def render_enterprise_page(
    request: Request,
    viewer: Viewer,
    runtime: Runtime,
    session: SessionDep,
    enterprise_id: str,
    *,
    form: notice_views.SubscriptionForm | None = None,
    status: int = 200,
) -> Response:
    """The enterprise's page (``form``: the subscription form as typed, with its problems)."""
    found = await _view(viewer, runtime, session, enterprise_id)
    context = await _context(session, runtime, found)
    context["notices"] = await notice_views.of_enterprise(session, enterprise_id, form)
    context["alarms"] = await alarm_views.of_enterprise(session, enterprise_id)
    context["notice_query"] = request.query_params
    return render(request, "enterprise/page.html", context, status=status)


@router.get("/enterprises/{enterprise_id}/orders")
async def orders_page(
    enterprise_id: str,
    request: Request,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    before: Annotated[Day | None, Query(description="orders started before this local day")] = None,
) -> Response:
    """The orders of a year (366 days) up to now, or up to the local day ``before``."""
    if not may_see_enterprise(viewer, enterprise_id):
        raise unknown_enterprise(enterprise_id)
    end = None if before is None else local_midnight(before)
    page = await enterprise_orders.past_orders(
        session, enterprise_id, tree=runtime.state.tree, catalog=runtime.catalog, until=end
    )
    if page is None:
        raise unknown_enterprise(enterprise_id)
    context = {"page": page, "names": await region_names(session), "now": utcnow()}
    return render(request, "enterprise/orders.html", context)
