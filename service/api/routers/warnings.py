"""``/forecasts`` and ``/alerts``: warnings decided from forecasts or issued by hand."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel

from emission_list.i18n import text
from emission_list.levels import Level
from emission_list.levels import Response as AlertResponse
from emission_list.warnings import decide
from service.api import history_csv
from service.api.deps import LanguageDep, OperatorDep, PrincipalDep, RuntimeDep, SessionDep
from service.api.paging import decode_cursor, decode_event_cursor, encode_cursor
from service.api.schemas.alerts import (
    AlertOut,
    ChangeOut,
    DecisionOut,
    EventOut,
    ForecastIn,
    ManualAlertIn,
    ProposalOut,
)
from service.api.schemas.inputs import Instant, RangeBound
from service.api.schemas.paging import DEFAULT_LIMIT, Cursor, Limit, Page
from service.api.schemas.times import LocalInstant, local_iso
from service.api.text_guard import TextGuard
from service.api.time_range import aware, time_range
from service.bus.records import encode_forecast
from service.errors import BUS_RESPONSES, ERROR_RESPONSES, ErrorOut, HazeError, not_found
from service.services.alert_changes import (
    ManualChange,
    change_by_hand,
    change_problems,
    one_reason,
    sign_off,
)
from service.services.forecast_check import forecast_problems
from service.storage.repositories import alerts, audit, forecasts, utcnow

router = APIRouter(tags=["warnings"], responses=ERROR_RESPONSES, dependencies=[TextGuard])


class Queued(BaseModel):
    status: str = "queued"
    region: str
    issued_at: LocalInstant


def _check_region(runtime: RuntimeDep, region: str) -> None:
    if region not in runtime.state.tree:
        raise HazeError(
            422,
            "region.unknown",
            text(f"未知区域 {region}", f"Unknown region {region}"),
            [{"field": "region", "value": region}],
        )


@router.post(
    "/forecasts",
    response_model=DecisionOut | Queued,
    responses={
        202: {"model": Queued, "description": "Queued on Kafka; decided by a consumer."},
        **BUS_RESPONSES,
    },
)
async def post_forecast(
    body: ForecastIn,
    operator: OperatorDep,
    runtime: RuntimeDep,
    language: LanguageDep,
    response: Response,
) -> DecisionOut | Queued:
    """A region's daily AQI forecast: the warning level is decided and the alert lifecycle
    runs at once; the answer says what was decided, why, and how many enterprises it moved.

    The audit row (who posted it) is written before the publish, so it records the attempt:
    a post the bus then refuses (503 ``bus.unavailable``) leaves its audit row."""
    _check_region(runtime, body.region)
    tolerance = dt.timedelta(seconds=runtime.settings.readings_future_tolerance_s)
    problems = forecast_problems(body, utcnow(), tolerance)
    if problems:  # the code of the first problem; every problem in the details
        first = problems[0]
        raise HazeError(422, first.code, first.message, [p.detail() for p in problems])
    try:
        forecast = body.to_domain()
    except ValueError as exc:  # a rule of the domain the checks above do not know yet
        message = text("预报不符合规则：" + str(exc), "The forecast breaks a rule: " + str(exc))
        raise HazeError(422, "forecast.invalid", message, [{"field": "daily"}]) from exc
    # Who posted it is stored first, and the connection returned, before the publish: with
    # the database down nothing reaches the topic (503 database.unavailable, nothing taken);
    # once the publish returned nothing else can fail, so no answer contradicts the topic.
    async with runtime.session_maker() as session:
        if await forecasts.conflicts(session, forecast):
            issued = local_iso(body.issued_at)
            raise HazeError(
                409,
                "forecast.conflict",
                text(
                    f"{body.region} 在 {issued} 发布的预报已存在且内容不同",
                    f"A forecast for {body.region} issued at {issued} is already stored with "
                    "other days: give it a new issued_at",
                ),
                [{"field": "issued_at", "value": issued}],
            )
        details = {"issued_at": body.issued_at.isoformat()}
        target = f"region/{body.region}"
        await audit.record(session, operator.token_id, "forecast.post", target, details)
        await session.commit()
    await runtime.bus.publish(runtime.settings.kafka_topic_forecasts, [encode_forecast(body)])
    outcome = runtime.outcomes.get(body.region, body.issued_at)
    if outcome is None:
        response.status_code = status.HTTP_202_ACCEPTED
        return Queued(region=body.region, issued_at=body.issued_at)
    decision = outcome.decision
    if decision is None:  # the same forecast again: its decision (same body), changed nothing
        warnings = runtime.state.warnings
        rules = warnings.rules.for_region(body.region, warnings.tree.ancestors(body.region))
        decision = decide(body.to_domain(), rules)
    return DecisionOut.of(outcome, decision, language)


def _in_force_or_scheduled(alert, now: dt.datetime) -> bool:
    return (
        alert is not None
        and alert.level is not Level.NONE
        and alert.status == "active"
        and alert.ends_at > now
    )


@router.get("/alerts/active", response_model=Page[AlertOut])
async def get_active_alerts(
    _: PrincipalDep,
    session: SessionDep,
    language: LanguageDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[AlertOut]:
    """Each region's alert in force or scheduled (own alerts; a city's covers its regions),
    by region, a page at a time."""
    now = utcnow()
    after = None if cursor is None else decode_cursor(cursor, str, int)
    states = await alerts.load_states(session)
    found = [
        (region, slot, alert)
        for region, state in sorted(states.items())
        for slot, alert in enumerate((state.bridge, state.current))
        if _in_force_or_scheduled(alert, now) and (after is None or (region, slot) > after)
    ][: limit + 1]
    more = len(found) > limit
    found = found[:limit]
    return Page[AlertOut](
        items=[AlertOut.of(alert, language) for _, _, alert in found],
        next_cursor=encode_cursor(*found[-1][:2]) if more else None,
    )


@router.get(
    "/alerts",
    response_model=Page[EventOut],
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV (Accept)"}},
)
async def get_alert_history(
    request: Request,
    _: PrincipalDep,
    session: SessionDep,
    language: LanguageDep,
    region: str | None = None,
    since: Annotated[Instant | None, Query(description="ISO 8601 with offset (as `from`)")] = None,
    start: Annotated[
        RangeBound | None, Query(alias="from", description="ISO 8601 with offset; inclusive")
    ] = None,
    until: Annotated[
        RangeBound | None, Query(alias="to", description="ISO 8601 with offset; exclusive")
    ] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Every event (issue, upgrade, downgrade, lift, ...) in time order, of one region or
    all, in ``[from, to)``, a page at a time (CSV with ``Accept: text/csv``)."""
    lower = [t for t in (since, aware(start, "from")) if t is not None]
    upper = aware(until, "to")
    if lower and upper is not None:
        time_range(max(lower), upper)  # refuses from >= to
    after = None if cursor is None else decode_event_cursor(cursor)
    events = await alerts.history(
        session,
        region=region,
        since=max(lower) if lower else None,
        until=upper,
        after=after,
        limit=limit + 1,
    )
    more = len(events) > limit
    events = events[:limit]
    next_cursor = encode_cursor(events[-1].at.isoformat(), events[-1].id) if more else None
    items = [EventOut.of(e, language) for e in events]
    return history_csv.page_answer(request, EventOut, items, next_cursor)


@router.post("/alerts", response_model=ChangeOut)
async def post_alert(
    body: ManualAlertIn,
    operator: OperatorDep,
    runtime: RuntimeDep,
    language: LanguageDep,
) -> ChangeOut:
    """Issue, change or lift (level "none") a region's warning by hand, at once; a city's
    level applies to every region under it. A region whose warnings need sign-off is no
    exception: an operator's own change takes effect at once (it clears any proposal)."""
    now = utcnow()
    change = ManualChange(
        (body.region,),
        Level.parse(body.level),
        AlertResponse(body.response),
        one_reason(body.reason),
        source=body.source,
        ends_at=body.ends_at,
    )
    problems = change_problems(change, runtime.state.tree, now)
    if problems:
        raise problems[0].error()
    (outcome,) = await change_by_hand(runtime, operator.token_id, change, now)
    return ChangeOut.of(outcome, language)


@router.get("/alerts/proposals", response_model=Page[ProposalOut])
async def get_proposals(
    _: OperatorDep,
    session: SessionDep,
    runtime: RuntimeDep,
    language: LanguageDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ProposalOut]:
    """The queue of sign-off: each region's change proposed by a forecast and waiting for an
    operator (regions with ``requires_signoff``, and the regions under them), by region, with
    the wait so far; ``late`` once it has waited beyond the sign-off target."""
    after = None if cursor is None else decode_cursor(cursor, str)[0]
    states = await alerts.load_states(session)
    waiting = runtime.state.warnings.pending(states, utcnow())
    found = [p for p in waiting if after is None or p.region > after][: limit + 1]
    more = len(found) > limit
    found = found[:limit]
    return Page[ProposalOut](
        items=[ProposalOut.of(p, language) for p in found],
        next_cursor=encode_cursor(found[-1].region) if more else None,
    )


@router.post(
    "/alerts/{region}/approve",
    response_model=ChangeOut,
    responses={409: {"model": ErrorOut, "description": "No proposal waits (`alert.no_proposal`)."}},
)
async def approve_proposal(
    region: str,
    operator: OperatorDep,
    runtime: RuntimeDep,
    language: LanguageDep,
) -> ChangeOut:
    """Sign off the change waiting in ``region``: it is made at once (events ``approve``, with
    who signed it off and the wait, then the change) and its enterprises' actions follow."""
    if region not in runtime.state.tree:
        raise not_found("region.unknown", f"未知区域 {region}", f"Unknown region {region}")
    outcome = await sign_off(runtime, operator.token_id, region, utcnow())
    return ChangeOut.of(outcome, language)
