"""The alert lifecycle of a region over successive forecasts: pure, functional, immutable.

Each function takes a :class:`RegionAlertState` and returns a new one with the events that
happened. The rules, in the order they are applied to a forecast issued at ``t``:

1. A forecast not newer than the last one applied is ignored (redelivery is harmless).
2. An alert whose ``ends_at`` ≤ ``t`` has expired (event ``expire``); so has a pending
   proposal whose episode is over.
3. The decision is compared with the current alert by state code (level, then at equal level
   full > o3 > advisory, :func:`emission_list.regions.state_code`):

   - no alert, decision ≥ yellow: ``issue``, in force from max(t, local midnight starting the
     run) to the local midnight ending the run (so a warning goes out ahead of its episode);
   - higher: ``upgrade`` at once, from max(t, run start); an alert in force now stays in
     force until then;
   - equal: ``hold`` with ``ends_at`` refreshed to the new run's end;
   - lower or none: counts as a lower forecast. A decision ≥ yellow becomes the downgrade
     target (the highest such decision of the streak). After ``downgrade_confirmations``
     successive lower forecasts the alert is downgraded to the target, in force from ``t``
     (``downgrade``); before, it holds (``hold``: while forecasts fluctuate, the higher
     level holds). A none decision lifts instead when the forecast shows AQI ≤
     ``lift_below_aqi`` for ≥ ``lift_min_hours`` from ``t`` (``lift``); without a target or
     enough clean hours it holds, and the alert ends at its ``ends_at`` (``expire``).
   - Alerts issued by hand or jointly are not downgraded or lifted by forecasts (unless
     ``forecasts_override_manual``), but a forecast may upgrade them.

4. With ``requires_signoff`` every issue, upgrade, downgrade and lift waits as a proposal
   (``propose``) until :func:`approve`; a newer forecast replaces or withdraws it.

The types live in :mod:`emission_list.alerts`, the shared steps (:func:`expire`) in
:mod:`emission_list.alert_transitions`, sign-off in :mod:`emission_list.signoff` and actions
by hand (:func:`apply_manual`, :func:`apply_joint`) in :mod:`emission_list.manual`; all are
re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from emission_list.alert_transitions import (
    apply_change,
    change_kind,
    expire,
    level_names,
    level_of,
    new_event,
    with_events,
)
from emission_list.alerts import (
    EVENT_KINDS,
    SOURCES,
    STATUSES,
    Alert,
    AlertEvent,
    Events,
    LifecycleSettings,
    RegionAlertState,
    in_force,
)
from emission_list.i18n import LANGUAGES, Text
from emission_list.levels import Level, Response
from emission_list.manual import apply_joint, apply_manual
from emission_list.regions import RegionTree, state_code
from emission_list.signoff import approve, propose, withdraw
from emission_list.warning_texts import join_texts, level_name, local_midnight, message
from emission_list.warnings import (
    Decision,
    Forecast,
    lightly_polluted_or_better_hours,
)

__all__ = [
    "EVENT_KINDS",
    "SOURCES",
    "STATUSES",
    "Alert",
    "AlertEvent",
    "Events",
    "LifecycleSettings",
    "RegionAlertState",
    "active_at",
    "apply_forecast",
    "apply_joint",
    "apply_manual",
    "approve",
    "effective_levels",
    "expire",
    "in_force",
    "own_levels",
    "scheduled",
]


# --------------------------------------------------------------------------- forecasts


def _forecast_alert(decision: Decision, forecast: Forecast, settings: LifecycleSettings) -> Alert:
    t = forecast.issued_at
    return Alert(
        region=forecast.region,
        level=decision.level,
        response=decision.response,
        starts_at=max(t, local_midnight(decision.run_start, settings.timezone)),
        ends_at=local_midnight(decision.run_end + dt.timedelta(days=1), settings.timezone),
        source="forecast",
        status="active",
        issued_at=t,
        reason=decision.reason,
        rule_id=decision.rule_id,
        forecast_days=decision.days,
    )


def apply_forecast(
    state: RegionAlertState,
    decision: Decision,
    forecast: Forecast,
    settings: LifecycleSettings | None = None,
) -> tuple[RegionAlertState, Events]:
    """Apply a new forecast's decision to a region's alert state.

    Parameters
    ----------
    state
        The region's state before the forecast.
    decision
        ``decide(forecast, rules)``.
    forecast
        The forecast; its ``issued_at`` is the time of every event.
    settings
        The region's lifecycle settings.

    Returns
    -------
    tuple
        The new state and the events, in order (also appended to ``state.history``).

    References
    ----------
    环大气〔2024〕6号: issue ahead, upgrade at once, the higher level holds while forecasts
    fluctuate, lift after 36 h or more of lightly polluted or better.
    """
    settings = settings or LifecycleSettings()
    t, region = forecast.issued_at, forecast.region
    if decision.region != region or (state.region is not None and state.region != region):
        raise ValueError(f"forecast for {region!r} applied to state of {state.region!r}")
    if state.last_forecast_at is not None and t <= state.last_forecast_at:
        return state, []
    state, events = expire(replace(state, region=region, last_forecast_at=t), t, settings)
    cur, tz = state.current, settings.timezone
    names = level_names(level_of(cur))
    by_hand = (
        cur is not None and cur.source != "forecast" and not settings.forecasts_override_manual
    )

    target: Alert | None = None  # the change this forecast calls for
    hold: Text | None = None
    if decision.level is Level.NONE:
        if cur is not None:
            hours = lightly_polluted_or_better_hours(
                forecast, t, max_aqi=settings.lift_below_aqi, timezone=tz
            )
            clean = {"max_aqi": settings.lift_below_aqi, "hours": f"{hours:g}"}
            clean["needed"] = f"{settings.lift_min_hours:g}"
            if by_hand:
                hold = message("event.hold_source", **names, source=message(f"source.{cur.source}"))
            elif hours >= settings.lift_min_hours:
                lift_reason = join_texts(
                    message("event.lift", **names, **clean), decision.reason, sep=" "
                )
                target = Alert(
                    region, Level.NONE, None, t, t + dt.timedelta(hours=hours),
                    status="proposed", reason=lift_reason, proposed_at=t,
                )  # fmt: skip
            else:
                state, target, hold = _lower(state, None, t, settings)
                hold = hold and join_texts(
                    message("event.hold_none", **names, **clean), hold, sep=" "
                )
    else:
        candidate = _forecast_alert(decision, forecast, settings)
        if cur is None or candidate.code >= cur.code:
            target = candidate
        elif by_hand:
            hold = message("event.hold_source", **names, source=message(f"source.{cur.source}"))
        else:
            state, target, hold = _lower(state, candidate, t, settings)
            if hold is not None:
                decided = level_name(decision.level)
                n, needed = state.lower_streak, settings.downgrade_confirmations
                hold = message("event.hold_lower", **names, decided=decided, n=n, needed=needed)

    if target is not None and settings.requires_signoff and change_kind(state, target) != "hold":
        state, new_events = propose(state, target, t, settings)
    elif target is not None:
        state, new_events = withdraw(state, t, settings)
        streak = state.lower_streak if change_kind(state, target) == "downgrade" else 0
        state = replace(state, lower_streak=streak)
        state, event = apply_change(state, target, t, settings, target.reason)
        new_events.append(event)
    else:
        state, new_events = withdraw(state, t, settings)
        if hold is not None and cur is not None:
            reason = join_texts(hold, decision.reason, sep=" ")
            new_events.append(new_event(state, "hold", t, state.current, cur.level, reason))
    return with_events(state, new_events), events + new_events


def _lower(
    state: RegionAlertState, candidate: Alert | None, t: dt.datetime, settings: LifecycleSettings
) -> tuple[RegionAlertState, Alert | None, Text | None]:
    """Count a lower forecast; return the downgrade target once confirmed, else a hold text."""
    target = state.downgrade_to
    if candidate is not None and (target is None or candidate.code >= target.code):
        target = candidate
    streak = state.lower_streak + 1
    state = replace(state, lower_streak=streak, downgrade_to=target)
    if streak >= settings.downgrade_confirmations and target is not None:
        return state, target, None
    return state, None, {lang: "" for lang in LANGUAGES}


# --------------------------------------------------------------------------- queries


def active_at(
    state: RegionAlertState, at: dt.datetime
) -> tuple[Level, Response | None, Alert | None]:
    """Level, response and alert in force at ``at`` (active, starts_at ≤ at < ends_at).

    The state describes now and what is scheduled: ask it about times at or after its last
    event; the past is in ``state.history``.
    """
    alert = in_force(state, at)
    if alert is None:
        return Level.NONE, None, None
    return alert.level, alert.response, alert


def scheduled(state: RegionAlertState, at: dt.datetime) -> Alert | None:
    """The issued alert that starts after ``at`` (a warning issued ahead of its episode)."""
    cur = state.current
    if cur is not None and cur.status == "active" and cur.starts_at > at:
        return cur
    return None


def own_levels(
    tree: RegionTree, states: Mapping[str, RegionAlertState], at: dt.datetime
) -> np.ndarray:
    """State code of each region's own alert in force at ``at``, in tree preorder (int8)."""
    own = np.zeros(len(tree), dtype=np.int8)
    for region, state in states.items():
        if region not in tree:
            raise ValueError(f"alert state for region {region!r} outside the tree")
        level, response, _ = active_at(state, at)
        own[tree.index[region]] = state_code(level, response)
    return own


def effective_levels(
    tree: RegionTree, states: Mapping[str, RegionAlertState], at: dt.datetime
) -> np.ndarray:
    """State code in force in each region at ``at``: the highest of its own and its ancestors'.

    A city or joint warning reaches every district under it; a district's own higher level
    beats a lower city level. Preorder of ``tree``, int8.
    """
    return tree.effective_states(own_levels(tree, states, at))
