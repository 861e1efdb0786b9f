"""The event bus between the API and the consumers.

Two transports share one interface, so the consumers' code is the same in both modes:

- :class:`InProcessBus` (the embedded default, ``HAZE_KAFKA_BOOTSTRAP`` empty): ``publish``
  hands the batch to the topic's handler in the same process and returns only once the handler
  has finished (its database transaction committed). An acknowledged record is therefore
  stored; a handler failure reaches the caller, who answers with an error instead of 202.
- The Kafka bus (:mod:`service.bus.kafka`): ``publish`` returns once the broker acknowledged
  (acks=all); consumer loops (:mod:`consumers.runner`) take batches with ``getmany`` and call
  the same handlers.

Records of one topic are handled one batch at a time, in publish order, like one partition.
On the in-process bus a large publish is handed over in chunks of :data:`CHUNK_RECORDS`, the
topic's lock released between them (it is first come, first served): one station's backfill
of 10,000 hours does not hold up another station's post, which is handled between two chunks;
the publish still returns only once every chunk was handled.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

#: Records the in-process bus hands to a handler at a time (other publishes interleave).
CHUNK_RECORDS = 500


@dataclass(frozen=True)
class Record:
    """One message on a topic: the unit both transports carry."""

    topic: str
    key: bytes | None
    value: bytes | None  # None: a tombstone (anyone can produce one)
    partition: int = 0
    offset: int = -1
    timestamp_ms: int = 0


Handler = Callable[[Sequence[Record]], Awaitable[None]]


class BusUnavailableError(RuntimeError):
    """The bus cannot take records now (no consumer, broker down or too slow): retry later.

    ``nothing_accepted`` is False when some records may have been taken (a broker that did
    not acknowledge in time may still have written them): the answer must not say none was.
    """

    def __init__(self, message: str, retry_after_s: int = 5, nothing_accepted: bool = True) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.nothing_accepted = nothing_accepted


class EventBus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, topic: str, items: Sequence[tuple[bytes | None, bytes]]) -> None:
        """Publish ``(key, value)`` pairs; returns once they are durable."""
        ...

    def subscribe(self, topic: str, handler: Handler) -> None: ...


class InProcessBus:
    """Synchronous hand-off to in-process handlers, one chunk at a time per topic."""

    def __init__(
        self, chunk_records: int = CHUNK_RECORDS, topic_chunks: dict[str, int] | None = None
    ) -> None:
        """``topic_chunks``: larger chunks for topics only one publisher writes (no one to
        interleave with), whose handler's per-call cost is what matters."""
        self.chunk_records = chunk_records
        self.topic_chunks = topic_chunks or {}
        self._handlers: dict[str, list[Handler]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._offsets: dict[str, int] = {}
        self._running = False

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Add a handler of ``topic``; each handler of a topic gets every record, in the
        order subscribed (like consumer groups of their own)."""
        self._handlers.setdefault(topic, []).append(handler)
        self._locks.setdefault(topic, asyncio.Lock())
        self._offsets.setdefault(topic, 0)

    def has_handler(self, topic: str) -> bool:
        return topic in self._handlers

    def offset(self, topic: str) -> int:
        """Number of records handled on ``topic`` so far."""
        return self._offsets.get(topic, 0)

    async def publish(self, topic: str, items: Sequence[tuple[bytes | None, bytes]]) -> None:
        if not self._running:
            raise BusUnavailableError("the event bus is not running")
        handlers = self._handlers.get(topic)
        if not handlers:
            raise BusUnavailableError(f"no consumer handles {topic!r} in this process")
        if not items:
            return
        size = self.topic_chunks.get(topic, self.chunk_records)
        for start in range(0, len(items), size):
            chunk = items[start : start + size]
            async with self._locks[topic]:  # released between chunks: others interleave
                first = self._offsets[topic]
                now_ms = int(time.time() * 1000)
                records = [
                    Record(topic, key, value, 0, first + i, now_ms)
                    for i, (key, value) in enumerate(chunk)
                ]
                for handler in handlers:
                    await handler(records)
                self._offsets[topic] = first + len(records)
