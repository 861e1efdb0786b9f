"""CAP messages of the stored alert events: which events are messages, their type, their
identifier (GB/T 35965.1) and the earlier messages of the same warning they reference.

A *warning* is a region's run of messages from an issue to its lift or expiry. Its first
message is an ``Alert``; every later change (upgrade, downgrade, hold: a new snapshot row
each) an ``Update`` referencing all earlier messages of the warning; the lift a ``Cancel``.
An expiry is no message: the last message's ``expires`` already says when it ends (and the
expiry event is recorded lazily, at the next forecast). Proposals waiting for sign-off are
not public.

Identifier: ``ZZZZZZDDDUUUXX_YYYYMMDDhhmmss_N`` (GB/T 35965.1-2018, annex A.1.1): the
issuing unit's code, the local (Beijing) time of the change to the second, and the sequence
of the unit's messages within that second (0-9). An 11th message in one second takes the
next second (N = rank mod 10, seconds + rank div 10): see docs/cap.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.alerts import Alert
from emission_list.warning_texts import local_zone
from service.storage.repositories import cap
from service.storage.repositories.cap import AlertEventRow

PUBLISHED_KINDS = frozenset(("issue", "upgrade", "downgrade", "hold", "lift"))
PUBLISHED_STATUSES = frozenset(("active", "lifted"))
FEED_DAYS = 7


@dataclass(frozen=True)
class Reference:
    identifier: str
    sent: dt.datetime


@dataclass(frozen=True)
class CapMessage:
    """One CAP document: an alert snapshot and its place in its warning."""

    alert_id: int
    kind: str
    region: str
    sent: dt.datetime  # to the second, local time
    alert: Alert
    msg_type: str  # Alert | Update | Cancel
    identifier: str
    references: tuple[Reference, ...]
    first_alert_id: int  # the warning's first message


@dataclass(frozen=True)
class WarningRun:
    """A region's warning: its messages, and when it ended (None while it runs)."""

    messages: tuple[CapMessage, ...]
    ended_at: dt.datetime | None

    @property
    def latest(self) -> CapMessage:
        return self.messages[-1]

    def end(self) -> dt.datetime:
        """When it ends or ended: the lift or expiry, else the latest message's ``expires``."""
        return self.ended_at or self.latest.alert.ends_at


def is_published(event: AlertEventRow) -> bool:
    return event.kind in PUBLISHED_KINDS and event.alert.status in PUBLISHED_STATUSES


def _ends_warning(event: AlertEventRow) -> bool:
    # The expiry of a proposal (never issued: no issued_at) leaves the warning running.
    return event.kind == "expire" and event.alert.issued_at is not None


def local_second(at: dt.datetime) -> dt.datetime:
    return at.astimezone(local_zone()).replace(microsecond=0)


def compose_identifier(sender_code: str, at: dt.datetime, rank: int) -> str:
    """GB/T 35965.1 identifier of the ``rank``-th message (from 0) of the unit at ``at``."""
    stamp = local_second(at) + dt.timedelta(seconds=rank // 10)
    return f"{sender_code}_{stamp:%Y%m%d%H%M%S}_{rank % 10}"


class Composer:
    """Builds the messages of stored events; remembers each second's ranks it looked up."""

    def __init__(self, session: AsyncSession, sender_code: str) -> None:
        self.session = session
        self.sender_code = sender_code
        self._seconds: dict[dt.datetime, list[int]] = {}

    async def identifier(self, event: AlertEventRow) -> str:
        second = local_second(event.at)
        ids = self._seconds.get(second)
        if ids is None:
            ids = await cap.alert_ids_between(
                self.session, second, second + dt.timedelta(seconds=1)
            )
            self._seconds[second] = ids
        return compose_identifier(self.sender_code, event.at, ids.index(event.alert_id))

    async def warnings(self, events: Sequence[AlertEventRow]) -> list[WarningRun]:
        """The warnings of one region's events (in time order)."""
        found: list[WarningRun] = []
        run: list[CapMessage] = []
        for event in events:
            if _ends_warning(event):
                if run:
                    found.append(WarningRun(tuple(run), event.alert.ends_at))
                run = []
                continue
            if not is_published(event):
                continue
            kind = "Cancel" if event.kind == "lift" else ("Update" if run else "Alert")
            message = CapMessage(
                alert_id=event.alert_id,
                kind=event.kind,
                region=event.region,
                sent=local_second(event.at),
                alert=event.alert,
                msg_type=kind,
                identifier=await self.identifier(event),
                references=tuple(Reference(m.identifier, m.sent) for m in run),
                first_alert_id=run[0].alert_id if run else event.alert_id,
            )
            run.append(message)
            if event.kind == "lift":
                found.append(WarningRun(tuple(run), event.at))
                run = []
        if run:
            found.append(WarningRun(tuple(run), None))
        return found


async def message_of(session: AsyncSession, alert_id: int, sender_code: str) -> CapMessage | None:
    """The CAP message of the alert snapshot ``alert_id`` (None: no such public message)."""
    event = await cap.of_alert(session, alert_id)
    if event is None or not is_published(event):
        return None
    events = await cap.of_regions(session, [event.region], until=event)
    for warning in await Composer(session, sender_code).warnings(events):
        for message in warning.messages:
            if message.alert_id == alert_id:
                return message
    return None


async def recent_warnings(
    session: AsyncSession, sender_code: str, now: dt.datetime, in_force: Sequence[str]
) -> list[WarningRun]:
    """Warnings running at ``now`` or ended within the last :data:`FEED_DAYS` days, latest
    change first. ``in_force``: regions whose warning runs now (their last event may be
    older than the window)."""
    since = now - dt.timedelta(days=FEED_DAYS)
    regions = await cap.regions_since(session, since) | set(in_force)
    events = await cap.of_regions(session, sorted(regions)) if regions else []
    composer = Composer(session, sender_code)
    found: list[WarningRun] = []
    for region in sorted(regions):
        mine = [e for e in events if e.region == region]
        found.extend(w for w in await composer.warnings(mine) if w.end() > since)
    found.sort(key=lambda w: (w.latest.sent, w.latest.alert_id), reverse=True)
    return found
