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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from emission_list.i18n import LANGUAGES, Text, is_bilingual
from emission_list.levels import Level, Response
from emission_list.regions import RegionTree, state_code
from emission_list.warnings import (
    Decision,
    Forecast,
    join_texts,
    level_name,
    lightly_polluted_or_better_hours,
    local_midnight,
    local_zone,
    message,
)

SOURCES = ("forecast", "manual", "joint")
STATUSES = ("proposed", "active", "lifted", "superseded", "expired")
EVENT_KINDS = ("issue", "upgrade", "downgrade", "lift", "hold", "propose", "approve", "expire")


def _aware(value: dt.datetime | None, name: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True)
class Alert:
    """A warning of one region, in force over ``[starts_at, ends_at)`` while ``active``.

    A proposal to lift is an alert of level NONE with status ``proposed``.
    """

    region: str
    level: Level
    response: Response | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    source: str = "forecast"
    status: str = "active"
    issued_at: dt.datetime | None = None
    reason: Text = field(default_factory=dict)
    rule_id: str | None = None
    forecast_days: tuple[dt.date, ...] = ()
    proposed_at: dt.datetime | None = None
    approved_by: str | None = None
    approved_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", Level(self.level))
        if self.response is not None:
            object.__setattr__(self, "response", Response(self.response))
        for name in ("starts_at", "ends_at", "issued_at", "proposed_at", "approved_at"):
            _aware(getattr(self, name), name)
        if self.source not in SOURCES or self.status not in STATUSES:
            raise ValueError(f"bad alert source {self.source!r} or status {self.status!r}")
        if (self.level is Level.NONE) != (self.response is None):
            raise ValueError("an alert has a response exactly when its level is not NONE")
        if self.level is Level.NONE and self.status != "proposed":
            raise ValueError("only a proposal (to lift) may have level NONE")
        if self.status in ("proposed", "active") and self.ends_at < self.starts_at:
            raise ValueError("ends_at before starts_at")

    @property
    def code(self) -> int:
        """State code (:func:`emission_list.regions.state_code`)."""
        return state_code(self.level, self.response)

    @property
    def signoff_wait(self) -> dt.timedelta | None:
        """Time from proposal to sign-off, when signed off."""
        if self.proposed_at is None or self.approved_at is None:
            return None
        return self.approved_at - self.proposed_at

    def in_force(self, at: dt.datetime) -> bool:
        return self.status == "active" and self.starts_at <= at < self.ends_at


@dataclass(frozen=True)
class AlertEvent:
    """Something that happened to a region's alert; ``alert`` is the alert after it."""

    kind: str
    region: str
    at: dt.datetime
    alert: Alert | None
    previous_level: Level
    reason: Text
    replaced: Alert | None = None  # the alert or proposal this event closed, as closed
    wait: dt.timedelta | None = None  # sign-off wait, on "approve"


@dataclass(frozen=True)
class LifecycleSettings:
    """Per-region lifecycle settings (data).

    ``lift_below_aqi`` is inclusive: AQI ≤ 150 is lightly polluted or better (HJ 633).
    """

    downgrade_confirmations: int = 2
    lift_below_aqi: int = 150
    lift_min_hours: float = 36.0
    requires_signoff: bool = False
    timezone: str = "Asia/Shanghai"
    forecasts_override_manual: bool = False
    manual_default_hours: float = 24.0
    signoff_target_hours: float = 2.0

    def __post_init__(self) -> None:
        if self.downgrade_confirmations < 1 or self.lift_min_hours < 0:
            raise ValueError("downgrade_confirmations >= 1 and lift_min_hours >= 0")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LifecycleSettings:
        names = set(cls.__dataclass_fields__)
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown lifecycle settings {sorted(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class RegionAlertState:
    """A region's alerts: the latest decided alert, a pending proposal, and the history.

    ``bridge`` is the alert still in force until ``current`` starts, when an upgrade was
    scheduled ahead; ``downgrade_to`` is the target of a streak of lower forecasts.
    """

    current: Alert | None = None
    proposal: Alert | None = None
    lower_streak: int = 0
    history: tuple[AlertEvent, ...] = ()
    region: str | None = None
    bridge: Alert | None = None
    downgrade_to: Alert | None = None
    last_forecast_at: dt.datetime | None = None


Events = list[AlertEvent]


# --------------------------------------------------------------------------- helpers


def _fmt_time(value: dt.datetime, tz: str) -> str:
    return value.astimezone(local_zone(tz)).strftime("%Y-%m-%d %H:%M")


def _names(level: Level) -> dict[str, Text]:
    return {"level": level_name(level), "Level": level_name(level, capital=True)}


def in_force(state: RegionAlertState, at: dt.datetime) -> Alert | None:
    """The alert in force at ``at`` (the current one, else the bridge), if any."""
    for alert in (state.current, state.bridge):
        if alert is not None and alert.in_force(at):
            return alert
    return None


def _level_of(alert: Alert | None) -> Level:
    return Level.NONE if alert is None else alert.level


def _event(state: RegionAlertState, kind: str, at: dt.datetime, alert, previous, reason, **kw):
    return AlertEvent(kind, state.region or "", at, alert, previous, reason, **kw)


def _with(state: RegionAlertState, events: Events, **changes: Any) -> RegionAlertState:
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
            **_names(current.level),
            ends=_fmt_time(current.ends_at, settings.timezone),
        )
        events.append(_event(state, "expire", at, ended, current.level, reason))
        current, bridge, streak, target = None, None, 0, None
    stale = proposal is not None and (
        proposal.ends_at <= at if proposal.level is not Level.NONE else current is None
    )
    if stale:
        reason = message(
            "event.expire_proposal",
            **_names(proposal.level),
            ends=_fmt_time(proposal.ends_at, settings.timezone),
        )
        closed = replace(proposal, status="expired")
        events.append(_event(state, "expire", at, closed, _level_of(current), reason))
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
    return _with(new, events), events


def _install(
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


def _lift(
    state: RegionAlertState, at: dt.datetime, reason: Text
) -> tuple[RegionAlertState, AlertEvent]:
    cur = state.current
    now = in_force(state, at) or cur
    lifted = replace(now, status="lifted", ends_at=max(now.starts_at, min(now.ends_at, at)))
    cancelled = None
    if cur is not None and cur is not now:
        cancelled = replace(cur, status="lifted", ends_at=max(cur.starts_at, min(cur.ends_at, at)))
    event = _event(state, "lift", at, lifted, cur.level, reason, replaced=cancelled)
    new = replace(state, current=None, bridge=None, lower_streak=0, downgrade_to=None)
    return new, event


def _change_kind(state: RegionAlertState, target: Alert) -> str:
    cur = state.current
    if target.level is Level.NONE:
        return "lift"
    if cur is None:
        return "issue"
    if target.code > cur.code:
        return "upgrade"
    return "downgrade" if target.code < cur.code else "hold"


def _apply_change(
    state: RegionAlertState,
    target: Alert,
    at: dt.datetime,
    settings: LifecycleSettings,
    extra_reason: Text,
) -> tuple[RegionAlertState, AlertEvent]:
    """Carry out ``target`` (an alert to put in force, or a lift) at ``at``."""
    kind = _change_kind(state, target)
    cur, tz = state.current, settings.timezone
    previous = _level_of(cur)
    if kind == "lift":
        return _lift(state, at, extra_reason)
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
    names = _names(new.level)
    times = {"starts": _fmt_time(new.starts_at, tz), "ends": _fmt_time(new.ends_at, tz)}
    if kind == "issue":
        lead = max(0.0, (new.starts_at - at).total_seconds() / 3600)
        head = message("event.issue", **names, **times, lead=f"{lead:.0f}")
    elif kind == "hold":
        head = message("event.refresh", **names, **times)
    else:
        prev = {"previous": level_name(previous), "n": state.lower_streak}
        head = message(f"event.{kind}", **names, **times, **prev)
    new_state, replaced = _install(state, new, at)
    if kind == "hold":
        replaced = None
    reason = join_texts(head, extra_reason, sep=" ")
    return new_state, _event(state, kind, at, new, previous, reason, replaced=replaced)


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


# --------------------------------------------------------------------------- forecasts


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
    names = _names(_level_of(cur))
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

    if target is not None and settings.requires_signoff and _change_kind(state, target) != "hold":
        state, new_events = _propose(state, target, t, settings)
    elif target is not None:
        state, new_events = _withdraw(state, t, settings)
        streak = state.lower_streak if _change_kind(state, target) == "downgrade" else 0
        state = replace(state, lower_streak=streak)
        state, event = _apply_change(state, target, t, settings, target.reason)
        new_events.append(event)
    else:
        state, new_events = _withdraw(state, t, settings)
        if hold is not None and cur is not None:
            reason = join_texts(hold, decision.reason, sep=" ")
            new_events.append(_event(state, "hold", t, state.current, cur.level, reason))
    return _with(state, new_events), events + new_events


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


def _withdraw(
    state: RegionAlertState, t: dt.datetime, settings: LifecycleSettings
) -> tuple[RegionAlertState, Events]:
    if state.proposal is None:
        return state, []
    old = state.proposal
    reason = message(
        "event.withdraw",
        at=_fmt_time(t, settings.timezone),
        proposed_at=_fmt_time(old.proposed_at, settings.timezone),
    )
    closed = replace(old, status="superseded")
    event = _event(
        state, "hold", t, state.current, _level_of(state.current), reason, replaced=closed
    )
    return replace(state, proposal=None), [event]


def _propose(
    state: RegionAlertState, target: Alert, t: dt.datetime, settings: LifecycleSettings
) -> tuple[RegionAlertState, Events]:
    kind = _change_kind(state, target)
    proposal = replace(target, status="proposed", proposed_at=t, issued_at=None)
    change = message(f"change.{kind}", **_names(target.level))
    reason = message("event.propose", change=change, proposal=target.reason)
    replaced = None
    if state.proposal is not None:
        replaced = replace(state.proposal, status="superseded")
        again = message(
            "event.replaces", at=_fmt_time(state.proposal.proposed_at, settings.timezone)
        )
        reason = join_texts(reason, again)
    event = _event(
        state, "propose", t, proposal, _level_of(state.current), reason, replaced=replaced
    )
    return replace(state, proposal=proposal), [event]


def approve(
    state: RegionAlertState,
    approver: str,
    at: dt.datetime,
    settings: LifecycleSettings | None = None,
) -> tuple[RegionAlertState, Events]:
    """Sign off the pending proposal at ``at``: event ``approve`` (with the wait), then the change.

    Raises
    ------
    ValueError
        When nothing is proposed, or ``at`` precedes the proposal.
    """
    settings = settings or LifecycleSettings()
    _aware(at, "at")
    if state.proposal is None:
        raise ValueError(f"region {state.region!r} has no proposal to approve")
    if at < state.proposal.proposed_at:
        raise ValueError("approval before the proposal")
    state, events = expire(state, at, settings)
    if state.proposal is None:  # its episode ended before sign-off
        return state, events
    proposal, tz = state.proposal, settings.timezone
    wait = at - proposal.proposed_at
    late: Text = {lang: "" for lang in LANGUAGES}
    if wait > dt.timedelta(hours=settings.signoff_target_hours):
        late = message("event.approve_late", target=f"{settings.signoff_target_hours:g}")
    signed = replace(proposal, approved_by=approver, approved_at=at)
    reason = message(
        "event.approve",
        approver=approver,
        at=_fmt_time(at, tz),
        wait=f"{wait.total_seconds() / 60:.0f}",
        late=late,
    )
    approved = _event(state, "approve", at, signed, _level_of(state.current), reason, wait=wait)
    state = replace(state, proposal=None)
    if signed.level is not Level.NONE or state.current is not None:
        if _change_kind(state, signed) != "downgrade":
            state = replace(state, lower_streak=0, downgrade_to=None)
        state, change = _apply_change(state, signed, at, settings, signed.reason)
        new_events = [approved, change]
    else:
        new_events = [approved]
    return _with(state, new_events), events + new_events


# --------------------------------------------------------------------------- by hand


def apply_manual(
    state: RegionAlertState,
    level: Level | int | str,
    response: Response | str | None,
    reason: Text,
    at: dt.datetime,
    source: str = "manual",
    ends_at: dt.datetime | None = None,
    *,
    settings: LifecycleSettings | None = None,
) -> tuple[RegionAlertState, Events]:
    """An operator issues, changes or lifts (``Level.NONE``) a warning; it takes effect at once.

    Without ``ends_at`` the alert runs ``manual_default_hours`` from ``at`` rounded up to the
    next local midnight. A manual action clears any proposal and downgrade streak.
    """
    settings = settings or LifecycleSettings()
    level = Level.parse(level)
    _aware(at, "at")
    _aware(ends_at, "ends_at")
    if state.region is None:
        raise ValueError("the state names no region; build it as RegionAlertState(region=...)")
    if source not in ("manual", "joint"):
        raise ValueError(f"manual source must be 'manual' or 'joint', got {source!r}")
    if not is_bilingual(reason):
        raise ValueError(f"reason needs {LANGUAGES}")
    state, events = expire(state, at, settings)
    state, new_events = _withdraw(state, at, settings)
    state = replace(state, lower_streak=0, downgrade_to=None)
    who = message(f"source.{source}")
    if level is Level.NONE:
        if state.current is not None:
            head = message("manual.lift", **_names(state.current.level), source=who)
            state, event = _lift(state, at, join_texts(head, reason, sep=" "))
            new_events.append(event)
        return _with(state, new_events), events + new_events
    if ends_at is None:
        later = at + dt.timedelta(hours=settings.manual_default_hours)
        day = later.astimezone(local_zone(settings.timezone)).date()
        ends_at = local_midnight(day, settings.timezone)
        if ends_at < later:
            ends_at = local_midnight(day + dt.timedelta(days=1), settings.timezone)
    if ends_at <= at:
        raise ValueError("ends_at must be after at")
    response = Response(response or Response.FULL)
    tz = settings.timezone
    head = message(
        "manual.issue",
        **_names(level),
        source=who,
        starts=_fmt_time(at, tz),
        ends=_fmt_time(ends_at, tz),
    )
    alert = Alert(state.region, level, response, at, ends_at, source, "active", at, dict(reason))
    kind = _change_kind(state, alert)
    previous = _level_of(state.current)
    state, replaced = _install(state, alert, at)
    kind = "issue" if kind == "hold" else kind
    event = _event(
        state, kind, at, alert, previous, join_texts(head, reason, sep=" "), replaced=replaced
    )
    new_events.append(event)
    return _with(state, new_events), events + new_events


def apply_joint(
    states: Mapping[str, RegionAlertState],
    region_ids: Iterable[str],
    level: Level | int | str,
    response: Response | str | None,
    reason: Text,
    at: dt.datetime,
    ends_at: dt.datetime | None = None,
    *,
    tree: RegionTree | None = None,
    settings: LifecycleSettings | None = None,
) -> tuple[dict[str, RegionAlertState], Events]:
    """A joint regional warning (``source="joint"``) to each region, or with ``tree`` to their
    common ancestor (which reaches every region under it)."""
    region_ids = list(region_ids)
    if tree is not None:
        common = tree.common_ancestor(region_ids)
        if common is None:
            raise ValueError(f"regions {region_ids} have no common ancestor")
        region_ids = [common]
    out, events = dict(states), []
    for region in region_ids:
        state = replace(out.get(region) or RegionAlertState(), region=region)
        out[region], new = apply_manual(
            state, level, response, reason, at, "joint", ends_at, settings=settings
        )
        events.extend(new)
    return out, events


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
