"""``/alarms``: what the compliance check found, and its follow-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from service.api.deps import EnterpriseDep, NoticesDep, OperatorDep, RuntimeDep, SessionDep
from service.api.schemas.alarms import (
    AlarmDetail,
    AlarmEventOut,
    AlarmKind,
    AlarmOut,
    AlarmStatus,
    ExplanationIn,
    ResolutionIn,
    SeriesPoint,
)
from service.api.schemas.inputs import INT_MAX
from service.api.schemas.notices import Level
from service.api.schemas.paging import DEFAULT_LIMIT, Limit, Page
from service.api.text_guard import TextGuard
from service.errors import ERROR_RESPONSES, not_found
from service.security import Principal
from service.services import alarms as alarm_service
from service.storage.models import Alarm
from service.storage.repositories import alarms, utcnow
from service.storage.repositories.alarms import AlarmFilter

router = APIRouter(tags=["alarms"], responses=ERROR_RESPONSES, dependencies=[TextGuard])

AlarmId = Annotated[int, Path(ge=1, le=INT_MAX)]
IdCursor = Annotated[
    int | None, Query(ge=1, le=INT_MAX, description="`next_cursor` of the page before.")
]


async def _page(
    session: SessionDep, where: AlarmFilter, limit: int, cursor: int | None
) -> Page[AlarmOut]:
    found, next_cursor = await alarms.page(session, where, limit=limit, before=cursor)
    return Page[AlarmOut](items=[AlarmOut.of(a) for a in found], next_cursor=next_cursor)


@router.get("/alarms", response_model=Page[AlarmOut])
async def get_alarms(
    principal: NoticesDep,
    session: SessionDep,
    runtime: RuntimeDep,
    region: Annotated[
        str | None, Query(max_length=32, description="This region and the regions under it.")
    ] = None,
    level: Annotated[list[Level] | None, Query()] = None,
    status: Annotated[list[AlarmStatus] | None, Query()] = None,
    kind: Annotated[list[AlarmKind] | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: IdCursor = None,
) -> Page[AlarmOut]:
    """Alarms, newest first: operators see all (of a region, level, status, kind, if
    given), an enterprise its own."""
    tree = runtime.state.tree
    regions = None if region is None else tree.subtree(region) if region in tree else [region]
    where = AlarmFilter(
        regions=regions,
        enterprise_id=principal.enterprise_id if principal.role == "enterprise" else None,
        statuses=status,
        levels=level,
        kinds=kind,
    )
    return await _page(session, where, limit, cursor)


@router.get("/enterprises/{enterprise_id}/alarms", response_model=Page[AlarmOut])
async def get_enterprise_alarms(
    enterprise_id: Annotated[str, Path(max_length=32)],
    principal: NoticesDep,
    session: SessionDep,
    status: Annotated[list[AlarmStatus] | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: IdCursor = None,
) -> Page[AlarmOut]:
    """One enterprise's alarms, newest first (an enterprise: only its own)."""
    if principal.role == "enterprise" and principal.enterprise_id != enterprise_id:
        raise not_found(
            "enterprise.unknown", f"没有企业 {enterprise_id}", f"No enterprise {enterprise_id}"
        )
    where = AlarmFilter(enterprise_id=enterprise_id, statuses=status)
    return await _page(session, where, limit, cursor)


async def _detail(session: SessionDep, alarm: Alarm) -> AlarmDetail:
    series = [SeriesPoint.of(row) for row in await alarm_service.series(session, alarm)]
    trail = [AlarmEventOut.of(e) for e in await alarms.events(session, alarm.id)]
    return AlarmDetail(**AlarmOut.of(alarm).model_dump(), events=trail, series=series)


@router.get("/alarms/{alarm_id}", response_model=AlarmDetail)
async def get_alarm(alarm_id: AlarmId, principal: NoticesDep, session: SessionDep) -> AlarmDetail:
    """An alarm with its audit trail and the values around it (an enterprise: its own)."""
    return await _detail(session, await alarm_service.visible(session, principal, alarm_id))


@router.post("/alarms/{alarm_id}/explanation", response_model=AlarmDetail)
async def post_explanation(
    alarm_id: AlarmId,
    body: ExplanationIn,
    principal: EnterpriseDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> AlarmDetail:
    """The enterprise explains one of its alarms (status ``explained``)."""
    alarm = await alarm_service.explain(session, principal, alarm_id, body.text, utcnow())
    runtime.announce_alarms(session, [alarm])
    return await _detail(session, alarm)


async def _resolve(
    alarm_id: int,
    outcome: str,
    body: ResolutionIn,
    principal: Principal,
    session: SessionDep,
    runtime: RuntimeDep,
) -> AlarmDetail:
    alarm = await alarm_service.resolve(session, principal, alarm_id, outcome, body.note, utcnow())
    runtime.announce_alarms(session, [alarm])
    return await _detail(session, alarm)


@router.post("/alarms/{alarm_id}/verify", response_model=AlarmDetail)
async def post_verify(
    alarm_id: AlarmId,
    body: ResolutionIn,
    operator: OperatorDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> AlarmDetail:
    """An operator found the breach real (status ``verified``, final)."""
    return await _resolve(alarm_id, "verified", body, operator, session, runtime)


@router.post("/alarms/{alarm_id}/close", response_model=AlarmDetail)
async def post_close(
    alarm_id: AlarmId,
    body: ResolutionIn,
    operator: OperatorDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> AlarmDetail:
    """An operator closes the alarm: no breach, or dealt with (status ``closed``, final)."""
    return await _resolve(alarm_id, "closed", body, operator, session, runtime)
