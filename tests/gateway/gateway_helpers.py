"""A sink that records (and can hold or fail), a running gateway, its counters."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import asynccontextmanager

from service.bus import BusUnavailableError
from service.gateway.directory import Registration
from service.gateway.server import Gateway
from service.hj212.packet import Packet
from service.metrics import Metrics
from service.settings import Settings
from tests.infra.loggers import directory


class ListSink:
    """Records every batch; ``hold`` blocks ``accept`` until released; ``fail`` raises."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[Registration, Packet]]] = []
        self.entered = asyncio.Event()
        self.hold: asyncio.Event | None = None
        self.fail = 0  # raise on this many calls

    @property
    def packets(self) -> list[Packet]:
        return [packet for batch in self.batches for _, packet in batch]

    async def accept(self, batch: Sequence[tuple[Registration, Packet]]) -> None:
        self.entered.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.fail:
            self.fail -= 1
            raise BusUnavailableError("the broker is down")
        self.batches.append(list(batch))


def settings(**overrides: object) -> Settings:
    return Settings(**({"gateway_flush_ms": 2.0, "gateway_batch": 100} | overrides))


@asynccontextmanager
async def running(sink, **overrides: object):
    metrics = Metrics()
    gateway = Gateway(directory(), sink, settings(**overrides), metrics, host="127.0.0.1", port=0)
    await gateway.start()
    try:
        yield gateway, metrics
    finally:
        await gateway.stop()


def counted(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(f"haze_gateway_{name}_total", labels) or 0.0


async def until(check, what: str, limit_s: float = 30.0) -> None:
    """Wait for a condition of the gateway (a failure detector, not a timing)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"not reached within {limit_s} s: {what}")
        await asyncio.sleep(0.005)
