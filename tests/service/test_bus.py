import asyncio

import pytest

from service.bus import BusUnavailableError, InProcessBus, Record


async def test_publish_returns_after_the_handler_and_numbers_records_in_order():
    bus = InProcessBus()
    seen: list[Record] = []

    async def handler(records):
        await asyncio.sleep(0)
        seen.extend(records)

    bus.subscribe("haze.readings", handler)
    await bus.start()
    await bus.publish("haze.readings", [(b"s1", b"a"), (b"s2", b"b")])
    await bus.publish("haze.readings", [(None, b"c")])
    assert [(r.key, r.value, r.offset) for r in seen] == [
        (b"s1", b"a", 0),
        (b"s2", b"b", 1),
        (None, b"c", 2),
    ]
    assert bus.offset("haze.readings") == 3


async def test_concurrent_publishes_are_handled_one_batch_at_a_time():
    bus = InProcessBus()
    active, peak = 0, 0

    async def handler(records):
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.001)
        active -= 1

    bus.subscribe("t", handler)
    await bus.start()
    await asyncio.gather(*(bus.publish("t", [(None, b"x")]) for _ in range(20)))
    assert peak == 1 and bus.offset("t") == 20


async def test_a_failing_handler_fails_the_publish_and_acknowledges_nothing():
    bus = InProcessBus()

    async def handler(records):
        raise RuntimeError("database down")

    bus.subscribe("t", handler)
    await bus.start()
    with pytest.raises(RuntimeError, match="database down"):
        await bus.publish("t", [(None, b"x")])
    assert bus.offset("t") == 0


async def test_no_consumer_or_stopped_bus_is_unavailable_not_a_silent_drop():
    bus = InProcessBus()
    await bus.start()
    with pytest.raises(BusUnavailableError, match="no consumer"):
        await bus.publish("haze.readings", [(None, b"x")])
    bus.subscribe("haze.readings", lambda records: asyncio.sleep(0))
    await bus.stop()
    with pytest.raises(BusUnavailableError, match="not running"):
        await bus.publish("haze.readings", [(None, b"x")])
