"""``/warnings``: each region's warning, changes by hand (joint over several regions), the
queue of proposals waiting for sign-off with the per-region setting, and an alert's history.

A red warning and a lift are confirmed on a second page before they are made; a change's
problems are shown beside its fields (422)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.deps import RuntimeDep, SessionDep
from service.api.paging import decode_event_cursor, encode_cursor
from service.console.auth import OperatorViewDep
from service.console.formats import local_time
from service.console.templating import render
from service.console.warning_views import (
    FORM_LEVELS,
    RESPONSES,
    TIMELINE_PAGE,
    WarningForm,
    region_rows,
    timeline,
)
from service.errors import HazeError, not_found
from service.runtime import Runtime
from service.services.alert_changes import (
    change_by_hand,
    change_problems,
    set_signoff,
    sign_off,
)
from service.storage.repositories import alerts, regions, utcnow

router = APIRouter(include_in_schema=False)

Text200 = Annotated[str, Form(max_length=200)]
Text2000 = Annotated[str, Form(max_length=2000)]


async def _page(
    request: Request,
    runtime: Runtime,
    session: AsyncSession,
    form: WarningForm,
    *,
    status: int = 200,
    problem: Any = None,
) -> Response:
    now = utcnow()
    tree = runtime.state.tree
    names = {r.region_id: r for r in await regions.list_all(session)}
    states = await alerts.load_states(session)
    pending = runtime.state.warnings.pending(states, now)
    asked = request.query_params
    notice = {  # what the change before the redirect did, from its query
        "changed": [names[r] for r in asked.get("changed", "").split(",") if r in names],
        "level": asked.get("level") if asked.get("level") in FORM_LEVELS else None,
        "approved": names.get(asked.get("approved", "")),
        "signoff": names.get(asked.get("signoff", "")),
    }
    context = {
        "rows": region_rows(tree, names, states, pending, now),
        "pending": pending,
        "names": names,
        "form": form,
        "levels": FORM_LEVELS,
        "responses": RESPONSES,
        "notice": notice,
        "problem": problem,
        "when": local_time,
    }
    return render(request, "warnings/index.html", context, status=status)


@router.get("/warnings")
async def warnings_page(
    request: Request,
    viewer: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
    region: Annotated[list[str], Query(max_length=64)] = [],  # noqa: B006 (FastAPI copies it)
) -> Response:
    return await _page(request, runtime, session, WarningForm(regions=region))


@router.post("/warnings")
async def change_warning(
    request: Request,
    viewer: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
    region: Annotated[list[str], Form(max_length=1000)] = [],  # noqa: B006
    level: Text200 = "",
    response: Text200 = "full",
    reason_zh: Text2000 = "",
    reason_en: Text2000 = "",
    ends_at: Text200 = "",
    joint: Text200 = "",
    step: Text200 = "",
) -> Response:
    """Issue, change or lift by hand in every region chosen, in one request; red and lift
    ask for confirmation first (``step=confirm``; ``step=back`` returns to the form)."""
    form = WarningForm(
        regions=list(dict.fromkeys(r for r in region if r)),
        level=level,
        response=response,
        reason_zh=reason_zh.strip(),
        reason_en=reason_en.strip(),
        ends_at=ends_at.strip(),
        joint=bool(joint),
    )
    now = utcnow()
    change = form.change()
    for problem in change_problems(change, runtime.state.tree, now):
        form.add(problem)
    if form.problems:
        return await _page(request, runtime, session, form, status=422)
    if step == "back":
        return await _page(request, runtime, session, form)
    if form.needs_confirmation and step != "confirm":
        names = {r.region_id: r for r in await regions.list_all(session)}
        context = {"form": form, "change": change, "names": names, "when": local_time}
        return render(request, "warnings/confirm.html", context)
    await change_by_hand(runtime, viewer.principal.token_id, change, now)
    changed = ",".join(change.regions)
    return RedirectResponse(f"/warnings?changed={changed}&level={form.level}", status_code=303)


@router.post("/warnings/{region}/approve")
async def approve(
    request: Request,
    region: str,
    viewer: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    """Sign off the proposal waiting in ``region``."""
    _known(runtime, region)
    try:
        await sign_off(runtime, viewer.principal.token_id, region, utcnow())
    except HazeError as refused:
        if refused.code != "alert.no_proposal":
            raise
        return await _page(
            request, runtime, session, WarningForm(), status=409, problem=refused.message
        )
    return RedirectResponse(f"/warnings?approved={region}#queue", status_code=303)


@router.post("/warnings/{region}/signoff")
async def signoff_setting(
    region: str,
    viewer: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
    required: Text200 = "",
) -> Response:
    """Turn sign-off on (``required=true``) or off for ``region`` and the regions under it."""
    _known(runtime, region)
    await set_signoff(runtime, session, viewer.principal.token_id, region, required == "true")
    return RedirectResponse(f"/warnings?signoff={region}#regions", status_code=303)


@router.get("/warnings/{region}/history")
async def history(
    request: Request,
    region: str,
    viewer: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """A region's alert events in time order, a page at a time."""
    _known(runtime, region)
    after = None if cursor is None else decode_event_cursor(cursor)
    events = await alerts.history(session, region=region, after=after, limit=TIMELINE_PAGE + 1)
    more = len(events) > TIMELINE_PAGE
    events = events[:TIMELINE_PAGE]
    next_cursor = encode_cursor(events[-1].at.isoformat(), events[-1].id) if more else None
    context = {
        "region": await regions.get(session, region),
        "entries": timeline(events),
        "next_cursor": next_cursor,
        "first_page": cursor is None,
        "when": local_time,
    }
    return render(request, "warnings/history.html", context)


def _known(runtime: Runtime, region: str) -> None:
    if region not in runtime.state.tree:
        raise not_found("region.unknown", f"未知区域 {region}", f"Unknown region {region}")
