"""A consumer loop: batches from Kafka into a handler, offsets committed only after it.

At-least-once: the handler's database work commits before the offsets do, and the writes are
idempotent, so a record delivered twice counts once. The handler the runtime gives is wrapped
by :class:`consumers.isolation.Isolating`: records that make it raise are dead-lettered and the
rest handled, so what reaches this loop is an infrastructure failure (database or broker
down). That pauses the loop with exponential backoff and retries the same batch: nothing is
skipped. While a database error backs off, the database is probed every second (``probe``),
and the batch is retried as soon as it answers. ``stop()`` (SIGTERM) lets the batch in hand
finish and commit, then leaves the group. ``ready`` says whether the loop reached Kafka, holds
partitions and is not retrying a failed batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from consumers.isolation import is_database_error, is_infrastructure
from service.bus import Handler, Record
from service.bus.kafka import Probe

if TYPE_CHECKING:
    from service.metrics import Metrics
    from service.settings import Settings

log = logging.getLogger("haze.consumer")

#: The first wait after a failed batch, doubled on each failure up to MAX_BACKOFF_S [s].
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
#: While a database error backs off, the database is probed this often [s].
PROBE_INTERVAL_S = 1.0


class ConsumerLoop:
    def __init__(
        self,
        settings: Settings,
        topic: str,
        group: str | None,
        handler: Handler,
        metrics: Metrics,
        probe: Probe | None = None,
    ) -> None:
        """``probe()`` answers whether the database answers (cheaply: ``SELECT 1``)."""
        self.settings = settings
        self.probe = probe
        self.topic = topic
        self.group = group
        self.handler = handler
        self.metrics = metrics
        self.handled = 0
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._failing = False
        metrics.consumer_up.labels(topic).set_function(lambda: float(self.ready))

    @property
    def ready(self) -> bool:
        """Reached Kafka, holds partitions (joined its group), not retrying a failed batch."""
        consumer = self._consumer
        return consumer is not None and bool(consumer.assignment()) and not self._failing

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"consume-{self.topic}")

    async def positioned(self) -> None:
        """Returns once the loop holds partitions and each one's position is resolved (for a
        broadcast reader: the end it starts from), or when the loop stops."""
        while not self._stopping.is_set():
            consumer = self._consumer
            assigned = consumer.assignment() if consumer is not None else set()
            if consumer is not None and assigned:
                for partition in assigned:
                    await consumer.position(partition)
                return
            await self._sleep(0.05)  # the group join happens inside getmany

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _new_consumer(self) -> AIOKafkaConsumer:
        broadcast = self.group is None
        return AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.settings.kafka_bootstrap,
            # A broadcast reader gets a group of its own, read from the end.
            group_id=f"haze-broadcast-{uuid.uuid4().hex}" if broadcast else self.group,
            enable_auto_commit=False,
            auto_offset_reset="latest" if broadcast else "earliest",
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=self.settings.kafka_heartbeat_ms,
            max_poll_records=self.settings.kafka_max_batch,
            request_timeout_ms=max(40_000, self.settings.kafka_session_timeout_ms + 5_000),
        )

    async def _connect(self) -> AIOKafkaConsumer:
        delay = 0.5
        while not self._stopping.is_set():
            consumer = self._new_consumer()
            try:
                await consumer.start()
                return consumer
            except (KafkaError, OSError) as exc:
                await consumer.stop()
                log.warning("consumer of %s cannot reach Kafka (%r); retry in %.1f s",
                            self.topic, exc, delay)  # fmt: skip
                await self._sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)
        raise asyncio.CancelledError

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def run(self) -> None:
        try:
            self._consumer = await self._connect()
        except asyncio.CancelledError:
            return
        consumer = self._consumer
        try:
            while not self._stopping.is_set():
                batch = await consumer.getmany(
                    timeout_ms=200, max_records=self.settings.kafka_max_batch
                )
                if batch:
                    await self._handle(consumer, batch)
        finally:
            await consumer.stop()

    async def _handle(self, consumer: AIOKafkaConsumer, batch: dict) -> None:
        records = [
            Record(r.topic, r.key, r.value, r.partition, r.offset, r.timestamp)
            for messages in batch.values()
            for r in messages
        ]
        next_offsets = {tp: messages[-1].offset + 1 for tp, messages in batch.items()}
        first_offsets = {tp: messages[0].offset for tp, messages in batch.items()}
        delay = FIRST_BACKOFF_S
        while True:
            started = time.perf_counter()
            try:
                await self.handler(records)
                if self.group is not None:
                    await consumer.commit(next_offsets)
                break
            except CommitFailedError:
                # The group rebalanced: another member owns these partitions now and will get
                # the batch again; the writes are idempotent.
                log.warning("commit of %s failed after a rebalance", self.topic)
                break
            except Exception as exc:
                self._failing = True
                self.metrics.consumer_errors.labels(self.topic).inc()
                self._record_lag(consumer, first_offsets)
                kind = "infrastructure" if is_infrastructure(exc) else "unexpected"
                log.exception("batch of %d %s records failed (%s); retry within %.1f s",
                              len(records), self.topic, kind, delay)  # fmt: skip
                if self._stopping.is_set():
                    return  # not committed: delivered again after the restart
                await self._back_off(delay, probing=is_database_error(exc))
                delay = min(delay * 2, MAX_BACKOFF_S)
        self._failing = False
        self.handled += len(records)
        self.metrics.batch_size.labels(self.topic).observe(len(records))
        self.metrics.batch_seconds.labels(self.topic).observe(time.perf_counter() - started)
        self._record_lag(consumer, next_offsets)

    async def _back_off(self, delay: float, *, probing: bool) -> None:
        """Wait ``delay``; after a database error, end the wait once a probe succeeds."""
        if not probing or self.probe is None:
            await self._sleep(delay)
            return
        deadline = time.monotonic() + delay
        while not self._stopping.is_set() and (left := deadline - time.monotonic()) > 0:
            await self._sleep(min(PROBE_INTERVAL_S, left))
            if await self.probe():
                log.info("the database answers again: retrying the %s batch", self.topic)
                return

    def _record_lag(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        for tp, offset in offsets.items():
            highwater = consumer.highwater(tp)
            if highwater is not None:
                self.metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(
                    max(0, highwater - offset)
                )
