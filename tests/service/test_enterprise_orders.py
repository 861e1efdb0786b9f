"""The orders an enterprise had, rebuilt from the alert history as the lifecycle ran them,
and the revision in force at a time. The events come from the lifecycle itself (manual
changes and lifts), so the history is the one the service stores."""

from __future__ import annotations

import datetime as dt

from emission_list.alert_transitions import apply_change
from emission_list.alerts import Alert, AlertEvent, LifecycleSettings, RegionAlertState
from emission_list.levels import Level, Response
from emission_list.manual import apply_manual
from service.services.enterprise_orders import orders_from_events, revision_at
from service.storage.repositories.alerts import StoredEvent

T0 = dt.datetime(2026, 12, 2, 8, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
REASON = {"zh-CN": "测试", "en": "test"}


def _stored(events: list[AlertEvent], first_id: int = 1) -> list[StoredEvent]:
    return [
        StoredEvent(first_id + i, e.kind, e.region, e.at, e.previous_level.label, e.reason, e.alert)
        for i, e in enumerate(events)
    ]


def _manual(
    state: RegionAlertState, level: Level, at: dt.datetime, ends: dt.datetime | None = None
) -> tuple[RegionAlertState, list[AlertEvent]]:
    response = None if level is Level.NONE else Response.FULL
    return apply_manual(state, level, response, REASON, at, ends_at=ends)


def test_an_upgrade_ends_the_order_before_it_and_a_lift_ends_the_last() -> None:
    state = RegionAlertState(region="150203")
    state, first = _manual(state, Level.YELLOW, T0, T0 + 48 * HOUR)
    state, second = _manual(state, Level.ORANGE, T0 + 5 * HOUR, T0 + 48 * HOUR)
    state, third = _manual(state, Level.NONE, T0 + 9 * HOUR)
    orders = orders_from_events(_stored(first + second + third))
    assert [(o.level, o.starts_at, o.ends_at) for o in orders] == [
        (Level.ORANGE, T0 + 5 * HOUR, T0 + 9 * HOUR),  # newest first
        (Level.YELLOW, T0, T0 + 5 * HOUR),
    ]


def test_an_alert_scheduled_ahead_and_lifted_before_it_began_was_never_in_force() -> None:
    state = RegionAlertState(region="150203")
    state, first = _manual(state, Level.YELLOW, T0, T0 + 48 * HOUR)
    ahead = Alert("150203", Level.ORANGE, Response.FULL, T0 + 20 * HOUR, T0 + 60 * HOUR)
    state, upgrade = apply_change(state, ahead, T0 + 2 * HOUR, LifecycleSettings(), REASON)
    assert upgrade.kind == "upgrade" and state.bridge is not None
    state, lifted = _manual(state, Level.NONE, T0 + 10 * HOUR)
    orders = orders_from_events(_stored([*first, upgrade, *lifted]))
    assert [(o.level, o.starts_at, o.ends_at) for o in orders] == [
        (Level.YELLOW, T0, T0 + 10 * HOUR)
    ]


def test_a_hold_moves_the_end_of_the_order_in_force() -> None:
    state = RegionAlertState(region="150203")
    state, first = _manual(state, Level.ORANGE, T0, T0 + 24 * HOUR)
    longer = Alert("150203", Level.ORANGE, Response.FULL, T0 + 6 * HOUR, T0 + 72 * HOUR)
    state, hold = apply_change(state, longer, T0 + 6 * HOUR, LifecycleSettings(), REASON)
    assert hold.kind == "hold"
    orders = orders_from_events(_stored([*first, hold]))
    assert [(o.level, o.starts_at, o.ends_at) for o in orders] == [
        (Level.ORANGE, T0, T0 + 72 * HOUR)
    ]


def test_regions_keep_their_own_orders() -> None:
    city, district = RegionAlertState(region="150200"), RegionAlertState(region="150203")
    city, a = _manual(city, Level.ORANGE, T0, T0 + 24 * HOUR)
    district, b = _manual(district, Level.RED, T0 + HOUR, T0 + 10 * HOUR)
    orders = orders_from_events(_stored(a + b))
    assert {(o.region, o.level, o.ends_at) for o in orders} == {
        ("150200", Level.ORANGE, T0 + 24 * HOUR),
        ("150203", Level.RED, T0 + 10 * HOUR),
    }


def test_the_revision_in_force_is_the_last_published_before() -> None:
    published = [(1, T0), (2, T0 + 10 * HOUR)]
    assert revision_at(published, T0 - HOUR) is None
    assert revision_at(published, T0) == 1
    assert revision_at(published, T0 + 10 * HOUR - dt.timedelta(seconds=1)) == 1
    assert revision_at(published, T0 + 10 * HOUR) == 2
