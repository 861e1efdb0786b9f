"""A logger client on a raw socket, a sink that records (and can hold or fail), a gateway."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from contextlib import asynccontextmanager

from service.bus import BusUnavailableError
from service.gateway.directory import DictDirectory, Registration, password_hash
from service.gateway.server import Gateway
from service.hj212.build import build, build_cp
from service.hj212.packet import Packet, parse_frame
from service.metrics import Metrics
from service.settings import Settings

MN, PW = "MN0001", "secret-1"
OTHER_MN, OTHER_PW = "MN0002", "secret-2"


def directory() -> DictDirectory:
    return DictDirectory(
        [
            Registration(MN, "cems", "E1", password_hash(PW)),
            Registration(OTHER_MN, "meter", "E2", password_hash(OTHER_PW)),
        ]
    )


def minute(n: int, mn: str = MN, pw: str = PW, flag: int | None = 5) -> bytes:
    """A CN=2051 minute-data packet whose QN ends with ``n``."""
    cp = build_cp(
        {"DataTime": "20240115101000"},
        {"a21026": {"Avg": f"{n}.5", "Flag": "N"}, "a19001": {"Avg": "8.2", "Flag": "N"}},
    )
    return build(qn=f"20240115101000{n:03d}", st="31", cn="2051", pw=pw, mn=mn, flag=flag, cp=cp)


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


class Logger:
    """A logger's connection: raw non-blocking socket, answers read line by line."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = b""
        self._loop = asyncio.get_running_loop()

    @classmethod
    async def connect(cls, port: int) -> Logger:
        sock = socket.socket()
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        return cls(sock)

    async def send(self, data: bytes) -> None:
        await self._loop.sock_sendall(self.sock, data)

    async def answer(self) -> Packet:
        """The next reply, parsed (raises EOFError when the gateway closed)."""
        while b"\r\n" not in self._buffer:
            chunk = await self._loop.sock_recv(self.sock, 65536)
            if not chunk:
                raise EOFError("the gateway closed the connection")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return parse_frame(line)

    async def closed_by_gateway(self) -> bool:
        """Waits for the gateway to close (True), skipping any replies before."""
        while True:
            try:
                chunk = await self._loop.sock_recv(self.sock, 65536)
            except ConnectionResetError:
                return True
            if not chunk:
                return True

    def nothing_received(self) -> bool:
        if self._buffer:
            return False
        try:
            self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return True
        return False

    def close(self) -> None:
        self.sock.close()


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
