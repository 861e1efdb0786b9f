"""The transactional outbox: what a warning change must still tell Kafka, stored with it.

A change that moves the board (a forecast decided, a warning issued by hand) adds one
``outbox`` row in its own transaction (:func:`add`): the encoded ``haze.alerts`` records
and the enterprises whose actions changed: their ids, or, for a warning's change (which moves
whole regions), ``{"regions": [...]}``, every enterprise on the list directly in those
regions, a few region ids where the ids of a national list would be a million. Once it
committed, the :class:`Relay` hands each pending row to ``send``
(:meth:`service.runtime.Runtime.publish_row`: the alerts records first, then the
enterprises' *current* actions in chunks, since ``haze.actions`` is a compacted
current-state topic) and deletes the row only after ``send`` returned, that is
after the bus acknowledged every record. A row whose publish fails stays, with its attempts
and last error, for the next run: right after a change (in the background), at start (rows
a crash left) and on the runtime's ticker (rows a broker outage left).

At least once: a process that dies between the acknowledgements and the delete leaves the
row, and the next run publishes it again. Every record is keyed (region, enterprise id), so
consumers are idempotent and compaction keeps the last.

Within a process one run at a time (an asyncio lock) publishes rows in id order and stops
at the first failure, so a later change never overtakes an earlier one. Across processes, on
PostgreSQL, a row is taken with ``SELECT ... FOR UPDATE SKIP LOCKED`` and stays locked while
it is published, so no two processes publish it at once (rows taken by different processes
may then go out in either order); SQLite serves one process and ignores ``FOR UPDATE``.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.metrics import Metrics
from service.services.board import Changed
from service.storage.models import Outbox

log = logging.getLogger("haze.outbox")

#: ``session.info`` key set by :func:`add`: the session wrote a row, relay once it commits.
ADDED = "haze.outbox.added"

Items = list[tuple[bytes | None, bytes]]


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def add(
    session: AsyncSession,
    *,
    origin: str,
    region: str,
    alerts: Sequence[tuple[bytes | None, bytes]],
    enterprises: Sequence[str],
    alarms: Sequence[tuple[bytes | None, bytes]] = (),
) -> Outbox | None:
    """Queue a change's records in its session (committed with the change); nothing to
    publish adds nothing."""
    if not alerts and not enterprises and not alarms:
        return None
    row = Outbox(
        created_at=dt.datetime.now(dt.UTC),
        origin=origin,
        region=region,
        alerts=[{"key": _b64(key), "value": _b64(value)} for key, value in alerts],
        enterprises=(
            {"regions": list(enterprises.regions)}
            if isinstance(enterprises, Changed)
            else list(enterprises)
        ),
        alarms=[{"key": _b64(key), "value": _b64(value)} for key, value in alarms],
        attempts=0,
    )
    session.add(row)
    session.info[ADDED] = True
    return row


def alert_items(row: Outbox) -> Items:
    """The row's ``haze.alerts`` records, as the change encoded them."""
    return [(_unb64(item["key"]), _unb64(item["value"]) or b"") for item in row.alerts]


def changed_regions(row: Outbox) -> list[str] | None:
    """The regions whose enterprises the row's change moved (None: the row lists ids)."""
    if isinstance(row.enterprises, dict):
        return list(row.enterprises["regions"])
    return None


def alarm_items(row: Outbox) -> Items:
    """The row's ``haze.alarms`` records."""
    return [(_unb64(item["key"]), _unb64(item["value"]) or b"") for item in row.alarms or ()]


async def pending(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Outbox)) or 0


class Relay:
    """Publishes pending outbox rows through ``send`` and deletes them once it returned."""

    def __init__(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        send: Callable[[Outbox], Awaitable[None]],
        metrics: Metrics,
    ) -> None:
        self._session_maker = session_maker
        self._send = send
        self._metrics = metrics
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._closed = False

    async def run(self) -> int:
        """Publish every pending row, oldest first, and return how many were published. At
        the first publish that fails the run stops: the row stays, its attempts counted and
        its error kept, for the next run. Database errors are raised."""
        published = 0
        async with self._lock:
            while True:
                async with self._session_maker() as session:
                    taken = select(Outbox).order_by(Outbox.id).limit(1)
                    row = await session.scalar(taken.with_for_update(skip_locked=True))
                    if row is None:
                        self._metrics.outbox_pending.set(0)
                        return published
                    try:
                        await self._send(row)
                    except Exception as exc:
                        log.warning("outbox row %s (%s) not published: %r", row.id, row.region, exc)
                        row.attempts += 1
                        row.last_error = repr(exc)[:500]
                        await session.commit()
                        self._metrics.outbox_failures.inc()
                        self._metrics.outbox_pending.set(await pending(session))
                        return published
                    await session.delete(row)
                    await session.commit()
                    published += 1

    def kick(self) -> None:
        """Run in the background; a run already under way runs once more when it ends."""
        if self._closed:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._background(), name="haze-outbox-relay")
        else:
            self._again = True

    async def close(self) -> None:
        """Let the run under way finish; later kicks do nothing (rows wait for a start)."""
        self._closed = True
        await self.settle()

    async def settle(self) -> None:
        """Wait for the background run, if any (its failures are logged, not raised)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def _background(self) -> None:
        while True:
            self._again = False
            try:
                await self.run()
            except Exception:  # the database: the rows stay, the ticker runs again
                log.exception("the outbox relay failed")
                return
            if not self._again:
                return
