"""The delivery worker: sends the stored notices' deliveries through their channels.

It keeps up to ``HAZE_NOTIFY_CONCURRENCY`` attempts in flight, started from deliveries it
claimed ahead under a lease (:func:`service.storage.repositories.deliveries.claim`, up to
``HAZE_NOTIFY_CLAIM_BATCH`` at a time, in the background whenever fewer than that are ready),
and records the results in batches in the background (every :data:`FLUSH_ROWS` results or
:data:`FLUSH_S` seconds): claims and records never hold up the attempts. With nothing to do
it waits for a kick (a handler stored new notices), the next retry's time, or
``HAZE_NOTIFY_POLL_S`` (notices other processes stored); a stop finishes the attempts in
flight, records them and hands back the leases of what it had not started. A database
outage pauses it; the leases of what it held run out and the deliveries are taken again: a
notice is delivered at least once, with the same message id
on every try.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.metrics import Metrics
from service.notify.ack_links import AckLinks
from service.notify.message import Attempt, Channel
from service.services.delivery_policy import RetryPolicy, outcome_row
from service.services.notice_messages import ack_url, message_id, notice_of, target_of
from service.settings import Settings
from service.storage.repositories import deliveries, subscriptions, utcnow
from service.storage.repositories.deliveries import Claimed

log = logging.getLogger("haze.delivery")

FLUSH_ROWS = 500
FLUSH_S = 0.25
#: After a database error the worker waits this long before it claims again [s].
OUTAGE_PAUSE_S = 2.0


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        settings.notify_retry_base_s,
        settings.notify_retry_cap_s,
        dt.timedelta(hours=settings.notify_give_up_hours),
    )


class DeliveryWorker:
    def __init__(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        settings: Settings,
        metrics: Metrics,
        ack_links: Callable[[], AckLinks | None] = lambda: None,
    ) -> None:
        """``ack_links`` gives the process's acknowledgement links (loaded at its start)."""
        self._session_maker = session_maker
        self._channels = dict(channels)
        self._settings = settings
        self._metrics = metrics
        self._ack_links = ack_links
        self._policy = retry_policy(settings)
        self._rng = random.Random()
        self._wake = asyncio.Event()  # a kick: new deliveries stored
        self._tick = asyncio.Event()  # an attempt, a claim or a flush ended
        self._ready: collections.deque[Claimed] = collections.deque()
        self._claiming: asyncio.Task[None] | None = None
        self._flushing: asyncio.Task[None] | None = None
        self._want_claim = True  # a claim may find something (false after one found nothing)
        self._claimed_at = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._results: list[tuple[Claimed, Attempt]] = []
        self._flushed_at = time.monotonic()
        self._stopping = False
        self._runner: asyncio.Task[None] | None = None
        self.delivered = 0  # this process's count, for benchmarks and tests

    def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name="haze-delivery-worker")

    def kick(self) -> None:
        """New deliveries were stored: look now."""
        self._want_claim = True
        self._wake.set()
        self._tick.set()

    async def stop(self) -> None:
        """Finish the attempts in flight, record them, hand back the leases of deliveries
        taken but not yet tried, and close the channels."""
        self._stopping = True
        self._wake.set()
        self._tick.set()
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        for channel in self._channels.values():
            await channel.close()

    async def _run(self) -> None:
        """Start attempts from the deliveries taken (``_ready``) while fewer than
        ``HAZE_NOTIFY_CONCURRENCY`` are in flight; take more in the background when fewer
        than a claim's worth are ready; record results in the background. Claims and flushes
        never hold up the attempts."""
        concurrency = self._settings.notify_concurrency
        batch = self._settings.notify_claim_batch
        while True:
            while self._ready and len(self._tasks) < concurrency and not self._stopping:
                task = asyncio.create_task(self._attempt(self._ready.popleft()))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            stale = time.monotonic() - self._claimed_at > self._settings.notify_poll_s
            wanted = (self._want_claim or stale) and len(self._ready) < batch
            if wanted and not self._stopping and self._claiming is None:
                self._claiming = asyncio.create_task(self._claim(batch))
            due = len(self._results) >= FLUSH_ROWS or (
                self._results and time.monotonic() - self._flushed_at > FLUSH_S
            )
            if due and self._flushing is None:
                self._flushing = asyncio.create_task(self._flush())
            busy = self._tasks or self._claiming or self._flushing or self._results
            if self._stopping and not busy:
                break
            if not busy and not self._ready:
                await self._idle()
                self._want_claim = True
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tick.wait(), FLUSH_S)
            self._tick.clear()
        await self._release(list(self._ready))

    async def _claim(self, limit: int) -> None:
        """Take up to ``limit`` due deliveries into ``_ready`` (after a database error: pause;
        the leases, if any were taken, run out)."""
        claimed: list[Claimed] = []
        try:
            async with self._session_maker() as session:
                claimed = await deliveries.claim(
                    session, limit, utcnow(), self._settings.notify_lease_s
                )
                await session.commit()
        except Exception:
            log.exception("claiming deliveries failed")
            await self._sleep(OUTAGE_PAUSE_S)
        self._ready.extend(claimed)
        self._want_claim = bool(claimed)
        self._claimed_at = time.monotonic()
        self._claiming = None
        self._tick.set()

    async def _release(self, unstarted: list[Claimed]) -> None:
        """Hand back the leases of deliveries taken but not tried (a stop), so that another
        worker takes them at once instead of after the lease."""
        if not unstarted:
            return
        try:
            async with self._session_maker() as session:
                await deliveries.release(session, [c.delivery.id for c in unstarted], utcnow())
                await session.commit()
        except Exception:  # the leases run out instead
            log.exception("handing back %d deliveries failed", len(unstarted))

    async def _attempt(self, claimed: Claimed) -> None:
        channel = self._channels.get(claimed.subscription.channel)
        try:
            if channel is None:
                attempt = Attempt("retry", None, f"channel {claimed.subscription.channel} is off")
            else:
                links = self._ack_links()
                notice = notice_of(claimed.notice, ack_url(links, claimed.notice, claimed.delivery))
                target = target_of(claimed.delivery, claimed.subscription)
                attempt = await channel.deliver(notice, target, message_id(claimed.delivery))
        except Exception as exc:  # a channel's bug must not lose the notice: retried
            log.exception("delivery %s raised", claimed.delivery.id)
            attempt = Attempt("retry", None, f"{type(exc).__name__}: {exc}"[:300])
        self._metrics.notice_attempts.labels(claimed.subscription.channel, attempt.outcome).inc()
        self._results.append((claimed, attempt))
        self._tick.set()

    async def _flush(self) -> None:
        """Record the results so far (one flush at a time; retried while the database is
        down, unless stopping: then the leases run out and the notices are sent again)."""
        self._flushed_at = time.monotonic()
        results, self._results = self._results, []
        try:
            await self._record(results)
        finally:
            self._flushing = None
            self._tick.set()

    async def _record(self, results: list[tuple[Claimed, Attempt]]) -> None:
        if not results:
            return
        now = utcnow()
        rows: list[dict[str, Any]] = []
        gone: dict[str, str] = {}
        retried: set[str] = set()
        for claimed, attempt in results:
            d = claimed.delivery
            row = outcome_row(d.id, d.attempts, d.created_at, attempt, now, self._policy, self._rng)
            rows.append(row)
            if attempt.outcome == "gone":
                gone[claimed.subscription.id] = attempt.detail or "HTTP 410 Gone"
            elif row["status"] == "pending":
                retried.add(d.key)
            elif row["status"] == "dead":
                self._metrics.notices_dead.labels(claimed.subscription.channel).inc()
        while True:
            try:
                async with self._session_maker() as session:
                    await deliveries.record(session, rows)
                    for subscription_id, reason in gone.items():
                        await subscriptions.disable(session, subscription_id, reason)
                    await deliveries.supersede_older(session, retried, now)
                    await session.commit()
                break
            except Exception:  # the database: keep the results, try again
                log.exception("recording %d delivery results failed", len(rows))
                if self._stopping:
                    return  # the leases run out; the notices are sent again
                await self._sleep(OUTAGE_PAUSE_S)
        self.delivered += sum(1 for r in rows if r["status"] == "delivered")

    async def _idle(self) -> None:
        wait = self._settings.notify_poll_s
        try:
            async with self._session_maker() as session:
                due = await deliveries.next_due(session)
        except Exception:
            due = None
        ahead = None if due is None else (due - utcnow()).total_seconds()
        if ahead is not None and ahead > 0:  # due but not taken: another worker holds it
            wait = min(wait, ahead)
        await self._sleep(wait)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, woken early by a kick or a stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()
