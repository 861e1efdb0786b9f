"""Building blocks of the alert lifecycle shared by forecasts, sign-off and manual actions.

:func:`expire` ends what is over; :func:`apply_change` carries out an issue, upgrade,
downgrade, hold or lift at a given time, with its bilingual event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from emission_list.alerts import (
    Alert,
    AlertEvent,
    Events,
    LifecycleSettings,
    RegionAlertState,
    in_force,
)
from emission_list.i18n import Text
from emission_list.levels import Level
from emission_list.warning_texts import join_texts, level_name, local_zone, message


def fmt_time(value: dt.datetime, tz: str) -> str:
    """``value`` as local time in ``tz``, to the minute."""
    return value.astimezone(local_zone(tz)).strftime("%Y-%m-%d %H:%M")


def level_names(level: Level) -> dict[str, Text]:
    """Text values ``level`` and ``Level`` (capitalised) naming ``level``."""
    return {"level": level_name(level), "Level": level_name(level, capital=True)}


def level_of(alert: Alert | None) -> Level:
    """Level of ``alert``, NONE without one."""
    return Level.NONE if alert is None else alert.level


def new_event(
    state: RegionAlertState,
    kind: str,
    at: dt.datetime,
    alert: Alert | None,
    previous: Level,
    reason: Text,
    **kw: Any,
) -> AlertEvent:
    """An event of ``kind`` for the state's region."""
    return AlertEvent(kind, state.region or "", at, alert, previous, reason, **kw)


def with_events(state: RegionAlertState, events: Events, **changes: Any) -> RegionAlertState:
    """``state`` with ``changes`` and ``events`` appended to its history."""
    return replace(state, history=state.history + tuple(events), **changes)


def expire(
    state: RegionAlertState, at: dt.datetime, settings: LifecycleSettings | None = None
) -> tuple[RegionAlertState, Events]:
    """End the current alert if its ``ends_at`` ≤ ``at``, and proposals whose episode is over."""
    settings = settings or LifecycleSettings()
    events: Events = []
    current, bridge, proposal = state.current, state.bridge, state.proposal
    streak, target = state.lower_streak, state.downgrade_to
    if bridge is not None and bridge.ends_at <= at:
        bridge = None
    if current is not None and current.ends_at <= at:
        ended = replace(current, status="expired")
        reason = message(
            "event.expire",
            **level_names(current.level),
            ends=fmt_time(current.ends_at, settings.timezone),
        )
        events.append(new_event(state, "expire", at, ended, current.level, reason))
        current, bridge, streak, target = None, None, 0, None
    stale = proposal is not None and (
        proposal.ends_at <= at if proposal.level is not Level.NONE else current is None
    )
    if stale:
        reason = message(
            "event.expire_proposal",
            **level_names(proposal.level),
            ends=fmt_time(proposal.ends_at, settings.timezone),
        )
        closed = replace(proposal, status="expired")
        events.append(new_event(state, "expire", at, closed, level_of(current), reason))
        proposal = None
    if target is not None and target.ends_at <= at:
        target = None
    new = replace(
        state,
        current=current,
        bridge=bridge,
        proposal=proposal,
        lower_streak=streak,
        downgrade_to=target,
    )
    return with_events(new, events), events


def install(
    state: RegionAlertState, new: Alert, at: dt.datetime
) -> tuple[RegionAlertState, Alert | None]:
    """Make ``new`` the current alert; what is in force now stays in force until it starts."""
    now = in_force(state, at)
    bridge = None
    if now is not None and new.starts_at > at:
        bridge = replace(now, ends_at=min(now.ends_at, new.starts_at))
    replaced = None
    if state.current is not None:
        cur = state.current
        cut = max(cur.starts_at, min(cur.ends_at, new.starts_at))
        replaced = replace(cur, status="superseded", ends_at=cut)
    return replace(state, current=new, bridge=bridge, lower_streak=0, downgrade_to=None), replaced


def lift(
    state: RegionAlertState, at: dt.datetime, reason: Text
) -> tuple[RegionAlertState, AlertEvent]:
    cur = state.current
    now = in_force(state, at) or cur
    lifted = replace(now, status="lifted", ends_at=max(now.starts_at, min(now.ends_at, at)))
    cancelled = None
    if cur is not None and cur is not now:
        cancelled = replace(cur, status="lifted", ends_at=max(cur.starts_at, min(cur.ends_at, at)))
    event = new_event(state, "lift", at, lifted, cur.level, reason, replaced=cancelled)
    new = replace(state, current=None, bridge=None, lower_streak=0, downgrade_to=None)
    return new, event


def change_kind(state: RegionAlertState, target: Alert) -> str:
    cur = state.current
    if target.level is Level.NONE:
        return "lift"
    if cur is None:
        return "issue"
    if target.code > cur.code:
        return "upgrade"
    return "downgrade" if target.code < cur.code else "hold"


def apply_change(
    state: RegionAlertState,
    target: Alert,
    at: dt.datetime,
    settings: LifecycleSettings,
    extra_reason: Text,
) -> tuple[RegionAlertState, AlertEvent]:
    """Carry out ``target`` (an alert to put in force, or a lift) at ``at``."""
    kind = change_kind(state, target)
    cur, tz = state.current, settings.timezone
    previous = level_of(cur)
    if kind == "lift":
        return lift(state, at, extra_reason)
    starts = at if kind == "downgrade" else max(at, target.starts_at)
    if kind == "hold" and cur is not None:
        starts = min(cur.starts_at, target.starts_at)
    new = replace(
        target,
        status="active",
        starts_at=starts,
        issued_at=cur.issued_at if kind == "hold" and cur is not None else at,
    )
    if kind == "hold" and cur is not None and cur.source != "forecast":
        # A forecast at the level of a manual or joint alert keeps it, and may only extend it.
        new = replace(cur, ends_at=max(cur.ends_at, target.ends_at))
    names = level_names(new.level)
    times = {"starts": fmt_time(new.starts_at, tz), "ends": fmt_time(new.ends_at, tz)}
    if kind == "issue":
        lead = max(0.0, (new.starts_at - at).total_seconds() / 3600)
        head = message("event.issue", **names, **times, lead=f"{lead:.0f}")
    elif kind == "hold":
        head = message("event.refresh", **names, **times)
    else:
        prev = {"previous": level_name(previous), "n": state.lower_streak}
        head = message(f"event.{kind}", **names, **times, **prev)
    new_state, replaced = install(state, new, at)
    if kind == "hold":
        replaced = None
    reason = join_texts(head, extra_reason, sep=" ")
    return new_state, new_event(state, kind, at, new, previous, reason, replaced=replaced)
