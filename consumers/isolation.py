"""Infrastructure errors apart from data errors, and poison records isolated by bisection.

A handler fails either because something it depends on is down (the database, the broker:
:func:`is_infrastructure`, decided by the exception's type and its causes, never its text)
or because of what a record holds. The first is retried as it is: the batch waits for the
outage to end. Anything else is taken as data: :class:`Isolating` splits the batch in halves
until the records that make the handler raise are alone, sends each of those to the
dead-letter sink with the exception as the reason, and handles the rest. One poison record in
a batch of n costs about 2·log2(n) extra handler calls; no batch is retried forever.

Both buses use it (the runtime wraps every handler it subscribes), so the embedded bus and
Kafka isolate the same records.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import sqlalchemy.exc

from service.bus import BusUnavailableError, Handler, Record
from service.loaded import loaded_classes

if TYPE_CHECKING:
    from service.metrics import Metrics

log = logging.getLogger("haze.consumer")

DeadLetter = Callable[[Sequence[tuple[Record, str]]], Awaitable[None]]

#: A database that is down, restarting, out of connections or unreachable.
_DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection in time
)
#: asyncpg's (looked up only when it is loaded: see :mod:`service.loaded`).
_ASYNCPG_ERRORS = (
    "PostgresConnectionError",
    "OperatorInterventionError",  # shutting down, cannot connect now
    "InsufficientResourcesError",  # disk full, too many connections
    "InterfaceError",  # connection closed under a query
)
#: The network under the database or the broker.
_NETWORK_ERRORS: tuple[type[BaseException], ...] = (OSError, TimeoutError)


def _database_errors() -> tuple[type[BaseException], ...]:
    return _DATABASE_ERRORS + loaded_classes("asyncpg.exceptions", *_ASYNCPG_ERRORS)


def _broker_errors() -> tuple[type[BaseException], ...]:
    """A broker that is down or slow (aiokafka's only when it is loaded)."""
    return (BusUnavailableError, *loaded_classes("aiokafka.errors", "KafkaError"))


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: explicit causes and SQLAlchemy's original DBAPI error."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return chain


def is_database_error(exc: BaseException) -> bool:
    """The database (or the network to it) failed, not the record. A database that refuses
    connections raises the bare ``ConnectionRefusedError`` (asyncpg connects before
    SQLAlchemy can wrap anything), so network errors count unless the broker's are in the
    chain."""
    causes, broker = _causes(exc), _broker_errors()
    if any(isinstance(c, broker) for c in causes):
        return False
    database = _database_errors() + _NETWORK_ERRORS
    for cause in causes:
        if isinstance(cause, sqlalchemy.exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, database):
            return True
    return False


def is_infrastructure(exc: BaseException) -> bool:
    """Retry the batch as it is (the database, the broker or the network failed)."""
    if is_database_error(exc):
        return True
    broker = _broker_errors() + _NETWORK_ERRORS
    return any(isinstance(c, broker) for c in _causes(exc))


def poison_reason(exc: BaseException) -> str:
    return f"handler raised {type(exc).__name__}: {exc}"[:1000]


class Isolating:
    """A handler that dead-letters the records it raises on (by bisection) and handles the
    rest; infrastructure errors go through unchanged (the caller retries the batch)."""

    def __init__(
        self, handler: Handler, dead_letter: DeadLetter, metrics: Metrics, topic: str
    ) -> None:
        self._handler = handler
        self._dead_letter = dead_letter
        self._poison = metrics.poison_records.labels(topic)
        self._splits = metrics.batch_splits.labels(topic)

    async def __call__(self, records: Sequence[Record]) -> None:
        await self._run(list(records))

    async def _run(self, records: list[Record]) -> None:
        if not records:
            return
        try:
            await self._handler(records)
            return
        except Exception as exc:
            if is_infrastructure(exc):
                raise
            if len(records) == 1:
                record = records[0]
                where = (record.topic, record.partition, record.offset)
                log.exception("record %s/%s@%s dead-lettered: the handler raised", *where)
                await self._dead_letter([(record, poison_reason(exc))])
                self._poison.inc()
                return
        self._splits.inc()
        middle = len(records) // 2
        await self._run(records[:middle])
        await self._run(records[middle:])
