"""What one service process holds in memory, built once by the app's lifespan.

The engine and session maker, the event bus with this process's consumers on it, the token
authenticator, and the *board*: the published list compiled and evaluated against the
alerts in force, with the region tree and warning service it belongs to. The board is
rebuilt when the published revision, the region tree or a region's sign-off setting changes;
in between, forecasts and manual warnings update it incrementally and a ticker applies
alerts that start or end with time. What a change tells Kafka is queued with it in the
outbox (:mod:`service.bus.outbox`) and published by the relay once it committed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast

from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from emission_list.alerts import LifecycleSettings, RegionAlertState
from emission_list.catalog import Catalog, default_catalog
from emission_list.regions import RegionTree
from emission_list.revisions import Revision
from emission_list.warning_rules import RuleBook, national_rules
from service.bus import EventBus, InProcessBus, Record, outbox
from service.bus.records import (
    action_records,
    action_records_of_rows,
    alert_records,
    dead_letter_headers,
)
from service.gateway.server import Gateway
from service.metrics import Metrics
from service.notify.ack_links import AckLinks
from service.offloop import drop, off_loop
from service.rate_limit import ANONYMOUS, PUBLIC, RateLimits
from service.security import Authenticator
from service.services.ack_keys import load_ack_links
from service.services.alarms import record_of
from service.services.alert_notices import record_alert_events
from service.services.board import ActionBoard
from service.services.outcomes import RecentOutcomes
from service.services.warnings import Outcome, WarningService
from service.settings import Settings
from service.storage.engine import create_engine, make_session_maker
from service.storage.models import Alarm, Outbox
from service.storage.repositories import alerts, audit, lists, regions, utcnow
from service.telemetry.directory import DatabaseDirectory

if TYPE_CHECKING:
    from service.bus.kafka import KafkaBus, LoopFactory

log = logging.getLogger("haze.runtime")

#: Actions records encoded and published at a time (each publish waits for its acks).
ACTIONS_CHUNK = 5_000
#: Chunks on their way to Kafka at once (encoding the next while these are acknowledged).
ACTIONS_IN_FLIGHT = 2
#: The outbox row's region for enterprises moved by alerts starting or ending with time.
BY_TIME = "(by time)"
#: The consumers a process can run (``haze consume``); ``haze serve`` runs all by default.
#: ``notify`` turns ``haze.actions`` into notices and runs the delivery worker; ``telemetry``
#: stores ``haze.telemetry`` and runs the compliance check (one process of it per deployment).
CONSUMERS = ("readings", "forecasts", "notify", "telemetry")
#: ``session.info`` key: the change stored notices (the delivery workers look at once).
NOTICES_ADDED = "haze.notices.added"
#: A readiness or resume probe of the database gives up after this [s].
PROBE_TIMEOUT_S = 2.0


class Worker(Protocol):
    """A background task a process runs beside its consumers."""

    def start(self) -> None: ...

    def kick(self) -> None:
        """Something new was stored for it."""
        ...

    async def stop(self) -> None: ...


@dataclass
class Board:
    """The published list on the alerts in force, with the tree and rules it was built on."""

    board: ActionBoard
    tree: RegionTree
    warnings: WarningService


def _empty_revision() -> Revision:
    return Revision(0, None, "published", dt.date(2000, 1, 1), "", "", ())


def signoff_settings(region_ids: Collection[str]) -> dict[str, LifecycleSettings]:
    """The lifecycle settings of the regions whose warnings wait for sign-off
    (``regions.requires_signoff``); :meth:`WarningService.settings_for` applies a region's
    to the regions under it, and every other region takes the defaults."""
    return {region: LifecycleSettings(requires_signoff=True) for region in sorted(region_ids)}


def build_board(
    revision: Revision,
    tree: RegionTree,
    catalog: Catalog,
    states: Mapping[str, RegionAlertState],
) -> ActionBoard:
    """A board of ``revision`` on the alerts in force now, with its id index made (a
    million-entry dict built on the first poll would hold that poll up)."""
    board = ActionBoard(revision, tree, catalog)
    board.apply_alerts(states, utcnow())
    board.evaluator.compiled.row_of  # noqa: B018 (built here, in the builder's thread)
    return board


class Runtime:
    """A process's state. It knows the consumers only by name (``consumers``: which topics'
    handlers this process runs, attached by the composition root,
    :func:`service.commands.process.build_runtime`); ``consumer_loop`` makes the Kafka
    consumer loops (:class:`consumers.runner.ConsumerLoop`)."""

    def __init__(
        self,
        settings: Settings,
        *,
        consumers: bool | Collection[str] = True,
        consumer_loop: LoopFactory | None = None,
    ) -> None:
        self.settings = settings
        self.consumers = set(CONSUMERS if consumers is True else consumers or ())
        self.engine: AsyncEngine = create_engine(settings)
        self.session_maker: async_sessionmaker[AsyncSession] = make_session_maker(self.engine)
        admin = settings.admin_token.get_secret_value() if settings.admin_token else None
        self.auth = Authenticator(self.engine, admin, settings.token_cache_s)
        self.rate_limits = RateLimits(
            {
                "operator": settings.rate_limit_operator,
                "station": settings.rate_limit_station,
                "enterprise": settings.rate_limit_enterprise,
                ANONYMOUS: settings.rate_limit_anonymous,
                PUBLIC: settings.rate_limit_public,
            }
        )
        self.catalog: Catalog = default_catalog()
        self.rules = RuleBook(national_rules())
        self.future_tolerance = dt.timedelta(seconds=settings.readings_future_tolerance_s)
        self.metrics = Metrics()
        self.metrics.follow(
            revision=lambda: 0 if self.current is None else self.current.board.revision,
            enterprises=lambda: (
                0 if self.current is None else len(self.current.board.evaluator.compiled)
            ),
            dead_letters=lambda: self.dead_lettered,
        )
        self.bus: EventBus = self._make_bus(consumer_loop)
        self.current: Board | None = None
        #: Names this process on the outbox rows it writes (rows of others need a refresh).
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.relay = outbox.Relay(self.session_maker, self.publish_row, self.metrics)
        #: What the forecasts handler decided lately, for ``POST /forecasts`` to answer.
        self.outcomes = RecentOutcomes()
        self.dead_lettered = 0
        #: Signs and checks the notices' acknowledgement links (loaded at start).
        self.ack_links: AckLinks | None = None
        #: Background workers the composition root attached (the delivery worker).
        self.workers: list[Worker] = []
        #: The registered HJ 212 loggers, for the gateway (loaded at start).
        self.loggers = DatabaseDirectory(settings.gateway_timezone)
        #: The HJ 212 gateway this process runs, if any (attached by the composition root).
        self.gateway: Gateway | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._caught_up: asyncio.Task[None] | None = None

    def _make_bus(self, consumer_loop: LoopFactory | None) -> EventBus:
        settings = self.settings
        if not settings.kafka_bootstrap:
            return InProcessBus(topic_chunks={settings.kafka_topic_actions: ACTIONS_CHUNK})
        from service.bus.kafka import KafkaBus  # aiokafka: loaded only by a process on Kafka

        return KafkaBus(
            settings,
            self.metrics,
            {
                settings.kafka_topic_readings: settings.kafka_group_readings,
                settings.kafka_topic_forecasts: settings.kafka_group_forecasts,
                settings.kafka_topic_actions: settings.kafka_group_notify,
                settings.kafka_topic_telemetry: settings.kafka_group_telemetry,
                settings.kafka_topic_alerts: None,  # every process follows every alert
            },
            consumer_loop,
            probe=self.database_answers,
        )

    @property
    def kafka(self) -> KafkaBus | None:
        """The bus when it is Kafka's (None on the embedded bus)."""
        return None if isinstance(self.bus, InProcessBus) else cast("KafkaBus", self.bus)

    @property
    def state(self) -> Board:
        if self.current is None:
            raise RuntimeError("the runtime has not started")
        return self.current

    async def start(self) -> None:
        await self.rebuild()
        async with self.session_maker() as session:
            self.ack_links = await load_ack_links(session, self.settings)
            await self.loggers.reload(session)
            await session.commit()
        if self.kafka is not None:  # alerts decided in other processes move this board
            self.kafka.subscribe(self.settings.kafka_topic_alerts, self._on_alerts)
        await self.bus.start()
        for worker in self.workers:
            worker.start()
        if self.gateway is not None:
            await self.gateway.start()
        self._ticker = asyncio.create_task(self._tick(), name="haze-alert-ticker")
        if self.kafka is not None:
            self._caught_up = asyncio.create_task(self._refresh_once_following())
        self.relay.kick()  # what a crash or an outage left in the outbox

    async def loggers_changed(self) -> None:
        """A registration changed in this process: the gateway sees it at once."""
        async with self.session_maker() as session:
            await self.loggers.reload(session)

    def kick_workers(self) -> None:
        """Something was stored for this process's workers (notices to deliver)."""
        for worker in self.workers:
            worker.kick()

    async def database_answers(self) -> bool:
        """``SELECT 1`` answered within :data:`PROBE_TIMEOUT_S`."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S), self.engine.connect() as connection:
                await connection.execute(sql("SELECT 1"))
        except Exception:  # any failure means no
            return False
        return True

    async def readiness(self) -> dict[str, bool]:
        """What ``/readyz`` checks: the board built, the database answering and, on Kafka,
        every consumer loop of this process ready (reached Kafka, joined, not retrying)."""
        checks = {"board": self.current is not None, "database": await self.database_answers()}
        if (kafka := self.kafka) is not None:
            checks["kafka"] = bool(kafka.loops) and all(loop.ready for loop in kafka.loops)
        return checks

    async def stop(self) -> None:
        if self.gateway is not None:  # answers what it holds while the bus still runs
            await self.gateway.stop()
        for task in (self._caught_up, self._ticker):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.relay.close()
        await self.bus.stop()
        for worker in self.workers:
            await worker.stop()
        await self.engine.dispose()

    async def rebuild(self) -> None:
        """Compile the published revision on the stored tree and the alerts in force now,
        with each region's sign-off setting. The new board is built off the event loop (the
        revision read in chunks, compiled in a thread) and replaces the old one at once;
        polls are answered from the old one meanwhile."""
        lock = self.current.warnings.lock if self.current else asyncio.Lock()
        async with lock, self.session_maker() as session:
            tree = await regions.tree(session)
            revision = await lists.published(session) or _empty_revision()
            states = await alerts.load_states(session)
            board = await off_loop(build_board, revision, tree, self.catalog, states)
            signoff = await regions.signoff_regions(session)
            warnings = WarningService(self.rules, tree, signoff_settings(signoff))
            garbage = [self.current, revision]  # freed in a thread, not on the loop
            number, size = revision.number, len(revision)
            del revision
            self.current = Board(board, tree, warnings)
        log.info("board built: revision %s, %s enterprises", number, size)
        await drop(garbage)

    async def reload_signoff(self) -> None:
        """Read the regions' sign-off settings again, after one changed (the board stays)."""
        warnings = self.state.warnings
        async with warnings.lock, self.session_maker() as session:
            warnings.lifecycle = signoff_settings(await regions.signoff_regions(session))

    @contextlib.asynccontextmanager
    async def board_change(self) -> AsyncIterator[AsyncSession]:
        """A session for a change that moves the board: committed at the end; if anything
        fails, rolled back and the board rebuilt from the database, so the two never differ.
        Once committed, what it queued in the outbox (:meth:`announce`) is published in the
        background."""
        async with self.session_maker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                await self.rebuild()
                raise
            if session.info.pop(outbox.ADDED, False):
                self.relay.kick()
            if session.info.pop(NOTICES_ADDED, False):
                self.kick_workers()

    async def refresh(self, at: dt.datetime | None = None) -> Sequence[str]:
        """Bring the board to ``at`` (now): the alerts it holds that started or ended with
        time, then the alert states stored by other processes; ids whose answer changed.

        The enterprises moved by time alone are announced on ``haze.actions`` (through the
        outbox) by the processes that decide alerts (running the forecasts consumer), as a
        forecast's change is: nobody else would tell the topic that a warning ended at its
        time. Changes stored by other processes are theirs to announce."""
        state, at = self.state, at or utcnow()
        async with state.warnings.lock:
            by_time = state.board.apply_time(at)
            async with self.session_maker() as session:
                if by_time and "forecasts" in self.consumers:
                    self._queue(session, BY_TIME, [], by_time)
                    if session.info.pop(outbox.ADDED, False):
                        await session.commit()
                        self.relay.kick()
                stored = await state.warnings.refresh(session, state.board, at)
        if not by_time or not stored:  # mostly; a million ids are not sorted for nothing
            return stored or by_time
        return sorted({*by_time, *stored})

    async def _refresh_once_following(self) -> None:
        """The board was built before this process followed ``haze.alerts`` (read from its
        end): a decision committed in between would wait for the next periodic refresh. Once
        the reader's positions are fixed, one refresh takes in whatever was decided before."""
        following = [
            loop for loop in self.bus.loops if loop.topic == self.settings.kafka_topic_alerts
        ]
        for loop in following:
            await loop.positioned()
        try:
            await self.refresh()
        except Exception:  # the periodic refresh retries
            log.exception("refreshing the alerts in force after joining haze.alerts failed")

    async def _on_alerts(self, records: Sequence[Record]) -> None:
        await self.refresh()

    async def announce(self, session: AsyncSession, outcome: Outcome) -> None:
        """Queue a change's alert events (``haze.alerts``) and the enterprises it moved
        (``haze.actions``) in the outbox, in the change's own transaction: call it inside
        :meth:`board_change` before the block ends. Once the change commits the relay
        publishes them (:meth:`publish_row`), so a crash or a broker outage after the commit
        loses nothing. On the embedded bus only topics somebody subscribed to are kept, and
        a change with nothing to publish writes no row."""
        self._queue(session, outcome.region, alert_records(outcome), outcome.changed_enterprises)
        if await record_alert_events(session, outcome.events, self.state.board, utcnow()):
            session.info[NOTICES_ADDED] = True

    def announce_alarms(self, session: AsyncSession, changed: Sequence[Alarm]) -> None:
        """Queue the ``haze.alarms`` records of alarms that changed, in the change's own
        transaction (published by the relay once it commits)."""
        if not changed or not self._publishes(self.settings.kafka_topic_alarms):
            return
        items = [
            (str(alarm.id).encode(), json.dumps(record_of(alarm)).encode()) for alarm in changed
        ]
        outbox.add(
            session, origin=self.origin, region="(alarms)", alerts=[], enterprises=[], alarms=items
        )

    def _queue(
        self,
        session: AsyncSession,
        region: str,
        alerts: Sequence[tuple[bytes, bytes]],
        enterprises: Sequence[str],
    ) -> None:
        settings = self.settings
        outbox.add(
            session,
            origin=self.origin,
            region=region,
            alerts=alerts if self._publishes(settings.kafka_topic_alerts) else [],
            enterprises=enterprises if self._publishes(settings.kafka_topic_actions) else [],
        )

    async def publish_row(self, row: Outbox) -> None:
        """Publish an outbox row: the alert events first (every API process moves its board
        on them), then the *current* actions of the enterprises the change moved, keyed by
        enterprise id, chunk by chunk (a large list takes seconds to encode; the event loop
        runs in between, and on Kafka a few chunks are acknowledged while the next ones are
        encoded). A row another process wrote is published after this board was brought to
        the alerts stored (it may not have seen that change yet)."""
        settings = self.settings
        if row.alarms and self._publishes(settings.kafka_topic_alarms):
            await self.bus.publish(settings.kafka_topic_alarms, outbox.alarm_items(row))
        if row.alerts and self._publishes(settings.kafka_topic_alerts):
            await self.bus.publish(settings.kafka_topic_alerts, outbox.alert_items(row))
        if not self._publishes(settings.kafka_topic_actions) or not row.enterprises:
            return
        if row.origin != self.origin:
            await self.refresh()
        board, regions = self.state.board, outbox.changed_regions(row)
        ids: Sequence[str] = () if regions is not None else row.enterprises  # type: ignore[assignment]
        rows = board.rows_in(regions) if regions is not None else None
        count = len(rows) if rows is not None else len(ids)
        window = ACTIONS_IN_FLIGHT if self.kafka is not None else 1
        in_flight: list[asyncio.Task[None]] = []
        try:
            for start in range(0, count, ACTIONS_CHUNK):
                if rows is not None:
                    chunk = action_records_of_rows(board, rows[start : start + ACTIONS_CHUNK])
                else:
                    chunk = action_records(board, ids[start : start + ACTIONS_CHUNK])
                in_flight.append(
                    asyncio.create_task(self.bus.publish(settings.kafka_topic_actions, chunk))
                )
                if len(in_flight) >= window:
                    await in_flight.pop(0)
                await asyncio.sleep(0)  # polls between chunks
            while in_flight:
                await in_flight.pop(0)
        finally:
            for task in in_flight:  # a failed chunk: the rest are not waited for
                task.cancel()

    def _publishes(self, topic: str) -> bool:
        return not isinstance(self.bus, InProcessBus) or self.bus.has_handler(topic)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.settings.refresh_interval_s)
            try:
                await self.refresh()
                async with self.session_maker() as session:
                    await self.loggers.reload(session, if_changed=True)
            except Exception:  # keep ticking through a database outage
                log.exception("refreshing the alerts in force failed")
            self.relay.kick()  # rows whose publish failed (broker down)

    async def dead_letter(self, items: Sequence[tuple[Record, str]]) -> None:
        """Dead letters go to ``haze.dlq`` (Kafka) or the audit log (embedded bus), with the
        reason and the original bytes."""
        if self.kafka is not None:
            await self.kafka.publish(
                self.settings.kafka_topic_dlq,
                [(record.key, record.value) for record, _ in items],
                [dead_letter_headers(record, reason) for record, reason in items],
            )
            self._count_dead_letters(items)
            return
        async with self.session_maker() as session:
            for record, reason in items:
                details = {
                    "reason": reason,
                    "key": None if record.key is None else base64.b64encode(record.key).decode(),
                    "value": None
                    if record.value is None
                    else base64.b64encode(record.value).decode(),
                }
                await audit.record(session, audit.SYSTEM, "dlq", record.topic, details)
            await session.commit()
        self._count_dead_letters(items)

    def _count_dead_letters(self, items: Sequence[tuple[Record, str]]) -> None:
        self.dead_lettered += len(items)
        for record, _ in items:
            self.metrics.topic_dead_letters.labels(record.topic).inc()
        log.warning("%d records dead-lettered: %s", len(items), items[0][1])
