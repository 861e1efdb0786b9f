"""A data logger for tests: registered MNs, minute-data packets and a raw-socket client
reading the gateway's answers (the gateway tests and the stream test share it)."""

from __future__ import annotations

import asyncio
import socket

from service.gateway.directory import DictDirectory, Registration, password_hash
from service.hj212.build import build, build_cp
from service.hj212.packet import Packet, parse_frame

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
