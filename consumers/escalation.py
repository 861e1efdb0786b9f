"""The escalation ticker of the notify consumer: every ``ESCALATE_EVERY_S`` (or sooner, a
quarter of the first escalation wait) it takes the escalation steps due
(:func:`service.services.escalation.escalate`) and wakes the delivery worker."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.services.escalation import escalate
from service.settings import Settings
from service.storage.repositories import utcnow

log = logging.getLogger("haze.escalation")

ESCALATE_EVERY_S = 60.0


class Escalator:
    def __init__(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        settings: Settings,
        queued: Callable[[], None],
    ) -> None:
        self._session_maker = session_maker
        self._after = dt.timedelta(minutes=settings.escalate_after_min)
        self._second_after = dt.timedelta(minutes=settings.escalate_second_after_min)
        self._every = min(ESCALATE_EVERY_S, self._after.total_seconds() / 4)
        self._queued = queued
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="haze-escalation")

    def kick(self) -> None:
        """Nothing to do at once: escalation waits for its time."""

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run_once(self, now: dt.datetime | None = None) -> int:
        async with self._session_maker() as session:
            queued = await escalate(session, now or utcnow(), self._after, self._second_after)
            await session.commit()
        if queued:
            self._queued()
        return queued

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.run_once()
            except Exception:  # the database: try again at the next tick
                log.exception("escalating unacknowledged notices failed")
