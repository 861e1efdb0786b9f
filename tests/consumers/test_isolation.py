"""Poison records isolated by bisection; infrastructure errors retried, never dead-lettered."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg.exceptions
import pytest
import sqlalchemy.exc
from aiokafka.errors import KafkaConnectionError

from consumers.isolation import Isolating, is_database_error, is_infrastructure
from service.bus import BusUnavailableError, InProcessBus, Record
from service.metrics import Metrics

TOPIC = "haze.readings"


def _records(values: list[bytes]) -> list[Record]:
    return [Record(TOPIC, None, v, offset=i) for i, v in enumerate(values)]


def _wrapped(error: BaseException):
    """asyncpg's error as SQLAlchemy raises it: a DBAPIError whose ``orig`` wraps it."""
    try:
        raise error
    except BaseException as inner:
        return sqlalchemy.exc.DBAPIError("SELECT 1", None, inner)


@pytest.mark.parametrize(
    "error",
    [
        sqlalchemy.exc.OperationalError("SELECT 1", None, Exception("connection refused")),
        sqlalchemy.exc.InterfaceError("SELECT 1", None, Exception("connection is closed")),
        _wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("gone")),
        _wrapped(asyncpg.exceptions.CannotConnectNowError("starting up")),
        ConnectionRefusedError(111, "refused"),
        TimeoutError(),
    ],
)
def test_database_errors_are_infrastructure(error: BaseException) -> None:
    assert is_database_error(error) and is_infrastructure(error)


@pytest.mark.parametrize("error", [BusUnavailableError("down"), KafkaConnectionError("down")])
def test_broker_errors_are_infrastructure_but_not_database(error: BaseException) -> None:
    assert is_infrastructure(error) and not is_database_error(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad"),
        TypeError("None"),
        OverflowError("date value out of range"),
        KeyError("x"),
        sqlalchemy.exc.DataError("INSERT", None, Exception("value out of range")),
        sqlalchemy.exc.IntegrityError("INSERT", None, Exception("duplicate key")),
    ],
)
def test_anything_else_is_data(error: BaseException) -> None:
    assert not is_infrastructure(error)


class Handler:
    """Refuses (raises) any batch holding a record whose value starts with b"poison"."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.handled: list[bytes] = []
        self.calls = 0
        self.error = error

    async def __call__(self, records: Sequence[Record]) -> None:
        self.calls += 1
        if self.error is not None:
            raise self.error
        if any(r.value.startswith(b"poison") for r in records):
            raise ValueError("cannot handle poison")
        self.handled += [r.value for r in records]


async def test_only_the_records_that_raise_are_dead_lettered_and_the_rest_handled() -> None:
    values = [f"good {i}".encode() for i in range(64)]
    values[5], values[40] = b"poison a", b"poison b"
    handler, dead, metrics = Handler(), [], Metrics()

    async def dead_letter(items):
        dead.extend(items)

    await Isolating(handler, dead_letter, metrics, TOPIC)(_records(values))
    assert [record.value for record, _ in dead] == [b"poison a", b"poison b"]
    assert all("ValueError: cannot handle poison" in reason for _, reason in dead)
    assert handler.handled == [v for v in values if not v.startswith(b"poison")]
    assert handler.calls < 30  # bisection, not one call per record (64)
    assert metrics.poison_records.labels(TOPIC)._value.get() == 2
    assert metrics.batch_splits.labels(TOPIC)._value.get() > 0


async def test_an_infrastructure_error_reaches_the_caller_and_nothing_is_dead_lettered() -> None:
    error = sqlalchemy.exc.OperationalError("SELECT 1", None, Exception("connection refused"))
    dead: list = []

    async def dead_letter(items):
        dead.extend(items)

    isolating = Isolating(Handler(error), dead_letter, Metrics(), TOPIC)
    with pytest.raises(sqlalchemy.exc.OperationalError):
        await isolating(_records([b"good", b"good"]))
    assert dead == []


async def test_the_in_process_bus_isolates_the_same_way() -> None:
    handler, dead = Handler(), []

    async def dead_letter(items):
        dead.extend(items)

    bus = InProcessBus()
    bus.subscribe(TOPIC, Isolating(handler, dead_letter, Metrics(), TOPIC))
    await bus.start()
    await bus.publish(TOPIC, [(None, b"good 1"), (None, b"poison"), (None, b"good 2")])
    assert handler.handled == [b"good 1", b"good 2"]
    assert [record.value for record, _ in dead] == [b"poison"]
