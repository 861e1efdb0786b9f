"""Notices of compliance alarms (``alarm.raised``), stored in the check's own transaction for
the subscriptions that want them.

An enterprise's subscription hears of its own alarms; an operator's, of the alarms of the
enterprise it names or of the enterprises in its region and under it. A notice goes out when
an alarm is raised and again when a suspected one is confirmed: "confirmed" (K + M intervals
over the cut, or a stopped control line, a silent logger) is what the bureau sends inspectors
for, and an enterprise told "suspected" must learn that it stands. A recurrence, a clearing
or a person's step (explained, verified, closed) makes none: the alarm is followed up where
it is shown (console, API, ``haze.alarms``).

Each notice is delivered under the key ``<subscription>/alarm/<id>``: a confirmation
supersedes the suspicion of the same alarm not yet sent, and an alarm never holds up the
enterprise's orders (another key). The notice row has no ``enterprise_id`` (the enterprise is
in its payload) so that it stays out of the chain of the enterprise's orders: their latest
notice, their escalation and acknowledgement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.regions import RegionTree
from service.services.alarms import record_of
from service.services.notices import delivery_row, notice_row
from service.storage.models import Alarm
from service.storage.repositories import deliveries, lists, notices, regions, subscriptions
from service.storage.repositories.alarms import ACTIVE

EVENT = "alarm.raised"


def previous_grade(alarm: Alarm, now: dt.datetime) -> str | None:
    """``""`` for an alarm raised at ``now``, ``"suspected"`` for one confirmed at ``now``
    after it was raised as suspected; None when this change makes no notice."""
    if alarm.status not in ACTIVE:
        return None
    if alarm.raised_at == now:
        return ""
    if alarm.confirmed_at == now and alarm.grade == "confirmed":
        return "suspected"
    return None


def payload_of(
    alarm: Alarm, previous: str, name: tuple[str, str], region_name: Any
) -> dict[str, Any]:
    """What the webhooks carry as ``data`` (besides the notice id and event)."""
    record = record_of(alarm)
    evidence = record["evidence"] or {}
    line_name = evidence.get("line_name")
    return {
        "alarm_id": record.pop("id"),
        **record,
        "name": {"zh-CN": name[0] or alarm.enterprise_id, "en": name[1] or name[0]},
        "region_name": region_name,
        "subject_name": line_name if isinstance(line_name, str) and line_name else alarm.subject,
        "previous_grade": previous or None,
        "previous_level": "none",
        "alarm": f"/api/v1/alarms/{alarm.id}",
    }


async def record_alarm_notices(
    session: AsyncSession,
    changed_alarms: Sequence[Alarm],
    now: dt.datetime,
    *,
    tree: RegionTree | None = None,
) -> bool:
    """Store the notices of the alarms :func:`~service.services.alarms.record_findings`
    changed at ``now``, and their deliveries; True when it stored any (then kick the
    delivery workers). ``tree`` the regions (read from the database when not given)."""
    due = [(a, p) for a in changed_alarms if (p := previous_grade(a, now)) is not None]
    if not due:
        return False
    tree = tree if tree is not None else await regions.tree(session)
    lines = {
        a.region: [a.region, *tree.ancestors(a.region)] if a.region in tree else [a.region]
        for a, _ in due
    }
    enterprise_ids = {a.enterprise_id for a, _ in due}
    wanted = await subscriptions.for_enterprises(
        session, enterprise_ids, {r for line in lines.values() for r in line}, EVENT
    )
    chosen = {
        alarm.id: [
            s
            for s in wanted
            if s.enterprise_id == alarm.enterprise_id or s.region in lines[alarm.region]
        ]
        for alarm, _ in due
    }
    due = [(a, p) for a, p in due if chosen[a.id]]
    if not due:
        return False
    revision = await lists.published_number(session)
    names = await notices.names(session, revision, enterprise_ids) if revision else {}
    region_names = await regions.names(session, set(lines))
    rows = []
    for alarm, previous in due:
        name = names.get(alarm.enterprise_id, ("", "", ""))
        payload = payload_of(alarm, previous, name[:2], region_names.get(alarm.region))
        rows.append(notice_row(None, alarm.region, EVENT, payload, now, now))
    ids = await notices.add_many(session, rows)
    queued, keys = [], set()
    for notice_id, (alarm, _) in zip(ids, due, strict=True):
        for s in chosen[alarm.id]:
            key = subscriptions.scope_key(s, f"alarm/{alarm.id}")
            keys.add(key)
            queued.append(delivery_row(notice_id, s, key, s.target, 0, now))
    await notices.add_deliveries(session, queued)
    await deliveries.supersede_older(session, keys, now)
    return True
