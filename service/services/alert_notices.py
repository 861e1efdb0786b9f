"""Notices of a region's warning events (``alert.issued``, ``alert.changed``, ``alert.ended``),
stored in the change's own transaction for the subscriptions that want them.

A region's subscription hears of the alerts of its region, of the regions under it and of
those above it (a city-wide warning concerns a district's bureau); an enterprise's
subscription, of the alerts over its region. A proposal waiting for sign-off is no warning
yet: it makes no notice (its approval does). One notice per event, delivered to each
subscription under the key ``<subscription>/<region>``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.alerts import AlertEvent
from emission_list.levels import Level
from service.services.board import ActionBoard
from service.services.notices import delivery_row, notice_row
from service.storage.alert_codec import alert_to_dict
from service.storage.models import Subscription
from service.storage.repositories import deliveries, notices, regions, subscriptions

#: The notice event of each alert event kind (absent: no notice).
EVENT_OF_KIND = {
    "issue": "alert.issued",
    "approve": "alert.issued",
    "upgrade": "alert.changed",
    "downgrade": "alert.changed",
    "hold": "alert.changed",
    "lift": "alert.ended",
    "expire": "alert.ended",
}


def notice_event(event: AlertEvent) -> str | None:
    kind = EVENT_OF_KIND.get(event.kind)
    if kind is None or event.alert is None:
        return None
    if event.kind == "expire" and event.alert.level != event.previous_level:
        return None  # a proposal ran out (a proposal's level is never the one in force)
    if event.kind == "approve" and event.previous_level is not Level.NONE:
        return "alert.changed"
    return kind


async def record_alert_events(
    session: AsyncSession, events: Sequence[AlertEvent], board: ActionBoard, now: dt.datetime
) -> int:
    """Store the notices of ``events`` for the subscriptions that want them; how many."""
    wanted = [(e, kind) for e in events if (kind := notice_event(e)) is not None]
    if not wanted:
        return 0
    tree = board.tree
    related: set[str] = set()
    for event, _ in wanted:
        if event.region in tree:
            related.update(
                [event.region, *tree.ancestors(event.region), *tree.subtree(event.region)]
            )
    statement = select(Subscription).where(
        Subscription.status == "active",
        Subscription.wants_alerts.is_(True),
        or_(Subscription.region.in_(sorted(related)), Subscription.enterprise_id.is_not(None)),
    )
    found = list((await session.execute(statement)).scalars())
    if not found:
        return 0
    names = await regions.names(session, {e.region for e, _ in wanted})
    rows = [_row(e, kind, names.get(e.region), now) for e, kind in wanted]
    ids = await notices.add_many(session, rows)
    queued, keys = [], set()
    for notice_id, (event, kind) in zip(ids, wanted, strict=True):
        for s in found:
            if kind in s.events and _concerns(s, event.region, board):
                key = subscriptions.scope_key(s, event.region)
                keys.add(key)
                queued.append(delivery_row(notice_id, s, key, s.target, 0, now))
    await notices.add_deliveries(session, queued)
    await deliveries.supersede_older(session, keys, now)
    return len(ids)


def _concerns(s: Subscription, region: str, board: ActionBoard) -> bool:
    tree = board.tree
    if s.region is not None:
        if s.region not in tree or region not in tree:
            return False
        return (
            s.region == region
            or s.region in tree.ancestors(region)
            or region in tree.ancestors(s.region)
        )
    home = board.region_of(s.enterprise_id or "")
    return home is not None and (home == region or region in tree.ancestors(home))


def _row(event: AlertEvent, kind: str, name: Any, now: dt.datetime) -> dict[str, Any]:
    alert = alert_to_dict(event.alert) if event.alert is not None else {}
    payload = {
        **alert,
        "kind": event.kind,
        "region": event.region,
        "region_name": name,
        "previous_level": event.previous_level.label,
        "event_reason": dict(event.reason),
        "at": event.at.isoformat(),
    }
    if kind == "alert.ended":
        payload["level"] = "none"
    return notice_row(None, event.region, kind, payload, event.at, now)
