"""``/alarms``: what the compliance check found. Operators list the alarms (filters as a GET
form), open one (evidence, series, audit trail) and verify or close it; an enterprise opens
its own (another's answers 404, as the API does) and explains it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from emission_list.i18n import Text, text
from service.api.deps import RuntimeDep, SessionDep
from service.api.schemas.alarms import AlarmKind, AlarmStatus
from service.api.schemas.inputs import INT_MAX
from service.console import alarm_views
from service.console.auth import OperatorViewDep, Viewer, ViewerDep
from service.console.formats import local_time
from service.console.templating import render
from service.errors import HazeError
from service.runtime import Runtime
from service.security import Principal
from service.services import alarms as alarm_service
from service.services.list_search import region_names
from service.storage.models import Alarm
from service.storage.repositories import utcnow

router = APIRouter(include_in_schema=False)

AlarmId = Annotated[int, Path(ge=1, le=INT_MAX)]
Note = Annotated[str, Form(max_length=2000)]
LevelName = Literal["yellow", "orange", "red"]
MAX_TEXT = 2000
#: What a form did, said on the page it leads back to.
DONE = ("explained", "verified", "closed")


@router.get("/alarms")
async def alarms_page(
    request: Request,
    viewer: OperatorViewDep,
    session: SessionDep,
    runtime: RuntimeDep,
    region: Annotated[str | None, Query(max_length=32)] = None,
    level: Annotated[list[LevelName] | None, Query(max_length=3)] = None,
    status: Annotated[list[AlarmStatus] | None, Query(max_length=4)] = None,
    kind: Annotated[list[AlarmKind] | None, Query(max_length=4)] = None,
    cursor: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
) -> Response:
    """Alarms newest first, by region (and those under it), level, status and kind."""
    filters = alarm_views.AlarmFilters(
        region=region or None,
        levels=tuple(sorted(set(level or ()))),
        statuses=tuple(sorted(set(status or ()))),
        kinds=tuple(sorted(set(kind or ()))),
    )
    state = runtime.state
    rows, next_cursor = await alarm_views.page(
        session, state.board.revision, state.tree, filters, cursor
    )
    context = {
        "rows": rows,
        "next_cursor": next_cursor,
        "first_page": cursor is None,
        "filters": filters,
        "regions": [(r, int(state.tree.depth[state.tree.index[r]])) for r in state.tree.ids],
        "names": await region_names(session),
        "kinds": alarm_views.ALARM_KINDS,
        "statuses": alarm_views.ALARM_STATUSES,
        "levels": alarm_views.LEVELS,
        "when": local_time,
    }
    return render(request, "alarms/index.html", context)


async def _render_alarm(
    request: Request,
    viewer: Viewer,
    runtime: Runtime,
    session: SessionDep,
    alarm: Alarm,
    *,
    problem: Text | None = None,
    typed: str = "",
    status: int = 200,
) -> Response:
    found = await alarm_views.detail(session, runtime.state.board.revision, alarm)
    context = {
        "page": found,
        "names": await region_names(session),
        "done": done if (done := request.query_params.get("done")) in DONE else None,
        "actions": alarm_views.ACTIONS,
        "problem": problem,
        "typed": typed,
        "when": local_time,
    }
    return render(request, "alarms/alarm.html", context, status=status)


@router.get("/alarms/{alarm_id}")
async def alarm_page(
    alarm_id: AlarmId,
    request: Request,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    """One alarm: evidence, the values around it, the audit trail and what may be done."""
    alarm = await alarm_service.visible(session, viewer.principal, alarm_id)
    return await _render_alarm(request, viewer, runtime, session, alarm)


def _enterprise_only(viewer: Viewer) -> Principal:
    if viewer.role != "enterprise":
        raise HazeError(
            403,
            "console.enterprises_only",
            text("告警情况说明由企业填写", "The enterprise explains its alarms"),
        )
    return viewer.principal


@router.post("/alarms/{alarm_id}/explanation")
async def explain(
    alarm_id: AlarmId,
    request: Request,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    explanation: Annotated[str, Form()] = "",
    back: Annotated[Literal["alarm", "enterprise"], Form()] = "alarm",
) -> Response:
    """The enterprise explains one of its alarms (again, while it is open or explained)."""
    principal = _enterprise_only(viewer)
    said = explanation.strip()
    if not said or len(said) > MAX_TEXT:
        alarm = await alarm_service.visible(session, principal, alarm_id)
        problem = text(
            "请填写情况说明（不超过 2000 字）", "Write an explanation (2,000 characters at most)"
        )
        return await _render_alarm(
            request, viewer, runtime, session, alarm, problem=problem, typed=said, status=422
        )
    alarm = await alarm_service.explain(session, principal, alarm_id, said, utcnow())
    runtime.announce_alarms(session, [alarm])
    await session.commit()
    if back == "enterprise":
        return RedirectResponse(
            f"/enterprises/{alarm.enterprise_id}?explained={alarm.id}#alarms", status_code=303
        )
    return RedirectResponse(f"/alarms/{alarm.id}?done=explained", status_code=303)


async def _resolve(
    alarm_id: int, outcome: str, note: str, viewer: Viewer, runtime: Runtime, session: SessionDep
) -> Response:
    alarm = await alarm_service.resolve(
        session, viewer.principal, alarm_id, outcome, note.strip(), utcnow()
    )
    runtime.announce_alarms(session, [alarm])
    await session.commit()
    return RedirectResponse(f"/alarms/{alarm.id}?done={outcome}", status_code=303)


@router.post("/alarms/{alarm_id}/verify")
async def verify(
    alarm_id: AlarmId,
    viewer: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
    note: Note = "",
) -> Response:
    """An operator found the breach real (final)."""
    return await _resolve(alarm_id, "verified", note, viewer, runtime, session)


@router.post("/alarms/{alarm_id}/close")
async def close(
    alarm_id: AlarmId,
    viewer: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
    note: Note = "",
) -> Response:
    """An operator closes the alarm: no breach, or dealt with (final)."""
    return await _resolve(alarm_id, "closed", note, viewer, runtime, session)
