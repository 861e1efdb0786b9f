"""Warnings issued, changed or lifted by hand, alone or jointly over several regions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace

from emission_list.alert_transitions import (
    change_kind,
    expire,
    fmt_time,
    install,
    level_names,
    level_of,
    lift,
    new_event,
    with_events,
)
from emission_list.alerts import Alert, Events, LifecycleSettings, RegionAlertState, check_aware
from emission_list.i18n import LANGUAGES, Text, is_bilingual
from emission_list.levels import Level, Response
from emission_list.regions import RegionTree
from emission_list.signoff import withdraw
from emission_list.warning_texts import join_texts, local_midnight, local_zone, message


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
    check_aware(at, "at")
    check_aware(ends_at, "ends_at")
    if state.region is None:
        raise ValueError("the state names no region; build it as RegionAlertState(region=...)")
    if source not in ("manual", "joint"):
        raise ValueError(f"manual source must be 'manual' or 'joint', got {source!r}")
    if not is_bilingual(reason):
        raise ValueError(f"reason needs {LANGUAGES}")
    state, events = expire(state, at, settings)
    state, new_events = withdraw(state, at, settings)
    state = replace(state, lower_streak=0, downgrade_to=None)
    who = message(f"source.{source}")
    if level is Level.NONE:
        if state.current is not None:
            head = message("manual.lift", **level_names(state.current.level), source=who)
            state, event = lift(state, at, join_texts(head, reason, sep=" "))
            new_events.append(event)
        return with_events(state, new_events), events + new_events
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
        **level_names(level),
        source=who,
        starts=fmt_time(at, tz),
        ends=fmt_time(ends_at, tz),
    )
    alert = Alert(state.region, level, response, at, ends_at, source, "active", at, dict(reason))
    kind = change_kind(state, alert)
    previous = level_of(state.current)
    state, replaced = install(state, alert, at)
    kind = "issue" if kind == "hold" else kind
    event = new_event(
        state, kind, at, alert, previous, join_texts(head, reason, sep=" "), replaced=replaced
    )
    new_events.append(event)
    return with_events(state, new_events), events + new_events


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
