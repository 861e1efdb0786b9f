"""The Kafka event bus: the same interface as :class:`service.bus.InProcessBus`.

``publish`` returns once the broker acknowledged every record (``acks="all"``); a broker that
is down or slower than ``HAZE_KAFKA_REQUEST_TIMEOUT_S`` raises
:class:`~service.bus.BusUnavailableError` (the API answers 503 with ``Retry-After``), never a
silent drop. ``subscribe`` attaches a handler that a consumer loop made by ``consumer_loop``
(:class:`consumers.runner.ConsumerLoop`, handed in by the composition root) feeds with
batches, committing offsets only after the handler returned (its database work committed).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import numpy as np
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from service.bus import BusUnavailableError, Handler
from service.bus.partitions import partitions_of
from service.metrics import Metrics
from service.settings import Settings

log = logging.getLogger("haze.kafka")

RETRY_AFTER_S = 5


class ConsumerLoopLike(Protocol):
    topic: str

    @property
    def ready(self) -> bool:
        """Reached Kafka, holds partitions and is not retrying a failed batch."""
        ...

    def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def positioned(self) -> None:
        """Returns once the loop holds partitions and knows where it reads each of them: a
        record produced after this is handled."""
        ...


#: Does the database answer? (lets a loop resume as soon as it does after an outage)
Probe = Callable[[], Awaitable[bool]]
#: ``(settings, topic, group, handler, metrics, probe)`` -> a consumer loop feeding ``handler``.
LoopFactory = Callable[
    [Settings, str, "str | None", Handler, Metrics, "Probe | None"], ConsumerLoopLike
]


def producer_options(settings: Settings) -> dict[str, object]:
    return {
        "bootstrap_servers": settings.kafka_bootstrap,
        "acks": "all",
        "enable_idempotence": settings.kafka_idempotent,
        "request_timeout_ms": int(settings.kafka_request_timeout_s * 1000),
        "linger_ms": 5,
        "max_batch_size": 1 << 20,
        "max_request_size": 4 << 20,
    }


class KafkaBus:
    """Producer for every topic; one consumer loop per subscribed topic.

    ``groups`` maps a topic to its consumer group; a topic mapped to None is read by every
    process from the end (a broadcast, e.g. ``haze.alerts`` telling each API its board must
    follow).
    """

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        groups: dict[str, str | None] | None = None,
        consumer_loop: LoopFactory | None = None,
        probe: Probe | None = None,
    ) -> None:
        """``probe`` (does the database answer?) lets a loop resume as soon as it does."""
        self.probe = probe
        self.settings = settings
        self.metrics = metrics
        self.groups = groups or {}
        self._consumer_loop = consumer_loop
        self._producer: AIOKafkaProducer | None = None
        self._handlers: dict[str, Handler] = {}
        self.loops: list[ConsumerLoopLike] = []
        self._lock = asyncio.Lock()
        self._partitions = KeyedPartitions()

    def subscribe(self, topic: str, handler: Handler) -> None:
        if topic in self._handlers:
            raise ValueError(f"topic {topic!r} already has a handler")
        self._handlers[topic] = handler

    async def start(self) -> None:
        try:
            await self._ensure_producer()
        except BusUnavailableError:
            log.warning(
                "Kafka at %s not reachable yet; publishing retries", self.settings.kafka_bootstrap
            )
        make_loop = self._consumer_loop
        if make_loop is None:
            if self._handlers:
                raise RuntimeError("a Kafka bus with subscribers needs a consumer_loop factory")
            return
        for topic, handler in self._handlers.items():
            group = self.groups.get(topic, f"haze-{topic}")
            loop = make_loop(self.settings, topic, group, handler, self.metrics, self.probe)
            loop.start()
            self.loops.append(loop)

    async def stop(self) -> None:
        await asyncio.gather(*(loop.stop() for loop in self.loops))
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is not None:  # every publish passes here: no lock once started
            return self._producer
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(**producer_options(self.settings))
                try:
                    await asyncio.wait_for(producer.start(), self.settings.kafka_request_timeout_s)
                except (KafkaError, TimeoutError, OSError) as exc:
                    await producer.stop()
                    raise BusUnavailableError(f"Kafka unreachable: {exc!r}", RETRY_AFTER_S) from exc
                self._producer = producer
            return self._producer

    async def ready(self, timeout_s: float) -> bool:
        """True when the broker answers a metadata request within ``timeout_s`` (connecting
        the producer first if it is not yet: that is bounded by the request timeout)."""
        try:
            producer = await self._ensure_producer()
            await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout_s)
        except (BusUnavailableError, KafkaError, TimeoutError, OSError):
            return False
        return True

    async def publish(
        self,
        topic: str,
        items: Sequence[tuple[bytes | None, bytes | None]],
        headers: Sequence[Sequence[tuple[str, bytes]]] | None = None,
    ) -> None:
        """A value None is a tombstone (a dead-lettered tombstone goes on as one)."""
        if not items:
            return
        producer = await self._ensure_producer()
        try:
            await asyncio.wait_for(
                _send_all(producer, topic, items, headers, self._partitions),
                self.settings.kafka_request_timeout_s,
            )
        except (KafkaError, TimeoutError) as exc:
            raise BusUnavailableError(
                f"Kafka did not acknowledge within {self.settings.kafka_request_timeout_s} s",
                RETRY_AFTER_S,
                nothing_accepted=False,
            ) from exc


async def _send_all(
    producer: AIOKafkaProducer,
    topic: str,
    items: Sequence[tuple[bytes | None, bytes | None]],
    headers: Sequence[Sequence[tuple[str, bytes]]] | None,
    partitioner: KeyedPartitions,
) -> None:
    """Group the records by partition (as ``send`` would place them), fill one record batch
    per partition (``create_batch``/``send_batch``: the builder is aiokafka's C one, where
    ``send`` costs a Python coroutine, a murmur2 in Python and an accumulator step per
    record), then wait for every acknowledgement. Order within a partition is kept."""
    partitions = tuple(sorted(await producer.partitions_for(topic)))
    by_partition = _by_partition(topic, partitions, items, partitioner)
    futures = []
    for partition, rows in by_partition.items():
        batch = producer.create_batch()
        for i in rows:
            key, value = items[i]
            extra = list(headers[i]) if headers else []
            if batch.append(timestamp=None, key=key, value=value, headers=extra) is None:
                futures.append(await producer.send_batch(batch, topic, partition=partition))
                batch = producer.create_batch()  # the first record always fits
                batch.append(timestamp=None, key=key, value=value, headers=extra)
        futures.append(await producer.send_batch(batch, topic, partition=partition))
    await asyncio.gather(*futures)


#: From this many records on, their keys are hashed together (:mod:`service.bus.partitions`).
BULK_KEYS = 256


def _by_partition(
    topic: str,
    partitions: tuple[int, ...],
    items: Sequence[tuple[bytes | None, bytes | None]],
    partitioner: KeyedPartitions,
) -> dict[int, list[int]]:
    """The indices of the records of each partition, in order."""
    by_partition: dict[int, list[int]] = {}
    if len(items) >= BULK_KEYS and all(key is not None for key, _ in items):
        chosen = partitions_of([key for key, _ in items], partitions)  # type: ignore[misc]
        order = np.argsort(chosen, kind="stable")
        bounds = np.flatnonzero(np.diff(chosen[order])) + 1
        for rows in np.split(order, bounds):
            by_partition[int(chosen[rows[0]])] = rows.tolist()
        return by_partition
    place = partitioner.partition
    for i, (key, _) in enumerate(items):
        chosen_one = place(topic, partitions, key)
        rows_of = by_partition.get(chosen_one)
        if rows_of is None:
            by_partition[chosen_one] = [i]
        else:
            rows_of.append(i)
    return by_partition


class KeyedPartitions:
    """The partition of a record as aiokafka's default partitioner picks it (murmur2 of the
    key, as the Java client; no key: any partition), remembered per key: keys repeat (an
    enterprise, a station) and murmur2 is pure Python."""

    MAX_KEYS = 100_000  # beyond this many keys the memory starts over

    def __init__(self) -> None:
        self._choices: dict[tuple[str, tuple[int, ...]], dict[bytes, int]] = {}
        self._default = DefaultPartitioner()

    def partition(self, topic: str, partitions: tuple[int, ...], key: bytes | None) -> int:
        if key is None:
            return random.choice(partitions)
        known = self._choices.get((topic, partitions))
        if known is None:
            known = self._choices[(topic, partitions)] = {}
        chosen = known.get(key)
        if chosen is None:
            if len(known) >= self.MAX_KEYS:
                known.clear()
            chosen = known[key] = self._default(key, list(partitions), list(partitions))
        return chosen
