"""``/forecasts`` and ``/alerts``: warnings decided from forecasts or issued by hand."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from consumers.forecasts import encode_forecast
from emission_list.i18n import text
from emission_list.levels import Level
from emission_list.levels import Response as AlertResponse
from emission_list.warnings import decide
from service.deps import LanguageDep, OperatorDep, PrincipalDep, RuntimeDep, SessionDep
from service.errors import ERROR_RESPONSES, HazeError
from service.repositories import alerts, audit, forecasts, utcnow
from service.schemas.alerts import (
    AlertOut,
    ChangeOut,
    DecisionOut,
    EventOut,
    ForecastIn,
    ManualAlertIn,
)
from service.schemas.times import Instant, local_iso

router = APIRouter(tags=["warnings"], responses=ERROR_RESPONSES)


class Queued(BaseModel):
    status: str = "queued"
    region: str
    issued_at: Instant


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
    responses={202: {"model": Queued, "description": "Queued on Kafka; decided by a consumer."}},
)
async def post_forecast(
    body: ForecastIn,
    operator: OperatorDep,
    runtime: RuntimeDep,
    language: LanguageDep,
    response: Response,
) -> DecisionOut | Queued:
    """A region's daily AQI forecast: the warning level is decided and the alert lifecycle
    runs at once; the answer says what was decided, why, and how many enterprises it moved."""
    _check_region(runtime, body.region)
    tolerance = dt.timedelta(seconds=runtime.settings.readings_future_tolerance_s)
    if body.issued_at > utcnow() + tolerance:
        raise HazeError(
            422,
            "forecast.future",
            text("发布时间晚于当前时间", "issued_at is in the future"),
            [{"field": "issued_at"}],
        )
    async with runtime.session_maker() as session:
        if await forecasts.conflicts(session, body.to_domain()):
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
    await runtime.bus.publish(runtime.settings.kafka_topic_forecasts, [encode_forecast(body)])
    async with runtime.session_maker() as session:  # who posted it, once the bus has it
        details = {"issued_at": body.issued_at.isoformat()}
        target = f"region/{body.region}"
        await audit.record(session, operator.token_id, "forecast.post", target, details)
        await session.commit()
    outcome = runtime.forecasts.outcome(body.region, body.issued_at)
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


@router.get("/alerts/active", response_model=list[AlertOut])
async def get_active_alerts(
    _: PrincipalDep, session: SessionDep, language: LanguageDep
) -> list[AlertOut]:
    """Each region's alert in force or scheduled (own alerts; a city's covers its regions)."""
    now = utcnow()
    states = await alerts.load_states(session)
    return [
        AlertOut.of(alert, language)
        for _, state in sorted(states.items())
        for alert in (state.bridge, state.current)
        if _in_force_or_scheduled(alert, now)
    ]


@router.get("/alerts", response_model=list[EventOut])
async def get_alert_history(
    _: PrincipalDep,
    session: SessionDep,
    language: LanguageDep,
    region: str | None = None,
    since: Annotated[dt.datetime | None, Query(description="ISO 8601 with offset")] = None,
) -> list[EventOut]:
    """Every event (issue, upgrade, downgrade, lift, ...) in time order."""
    if since is not None and since.tzinfo is None:
        raise HazeError(
            422,
            "request.invalid",
            text("since 需要带时区偏移", "since needs a UTC offset"),
            [{"loc": ["query", "since"], "type": "timezone_aware", "message": "needs an offset"}],
        )
    events = await alerts.history(session, region=region, since=since)
    return [EventOut.of(e, language) for e in events]


@router.post("/alerts", response_model=ChangeOut)
async def post_alert(
    body: ManualAlertIn,
    operator: OperatorDep,
    runtime: RuntimeDep,
    language: LanguageDep,
) -> ChangeOut:
    """Issue, change or lift (level "none") a region's warning by hand, at once; a city's
    level applies to every region under it."""
    _check_region(runtime, body.region)
    reason = dict(body.reason)
    if not reason.get("zh-CN") and not reason.get("en"):
        raise HazeError(
            422,
            "alert.reason",
            text("需要说明理由", "A reason is required"),
            [{"field": "reason"}],
        )
    reason = text(reason.get("zh-CN") or reason["en"], reason.get("en") or reason["zh-CN"])
    now = utcnow()
    if body.ends_at is not None and body.ends_at <= now:
        raise HazeError(
            422,
            "alert.ends_at",
            text("结束时间已过", "ends_at is in the past"),
            [{"field": "ends_at"}],
        )
    state = runtime.state
    async with runtime.board_change() as session:
        outcome = await state.warnings.on_manual(
            session,
            body.region,
            Level.parse(body.level),
            AlertResponse(body.response),
            reason,
            state.board,
            now,
            source=body.source,
            ends_at=body.ends_at,
        )
        details = {"level": body.level, "source": body.source, "reason": reason}
        target = f"region/{body.region}"
        await audit.record(session, operator.token_id, "alert.manual", target, details)
        await runtime.announce(session, outcome)  # published once committed, in the background
    return ChangeOut.of(outcome, language)
