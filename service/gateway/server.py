"""The HJ 212 gateway: an asyncio TCP server for data loggers (docs/hj212.md).

Loggers are clients that keep their connection and send any number of packets, split or
joined across reads. Each connection cuts its bytes into frames and parses them; refused
packets (framing, length, CRC, encoding, syntax, unknown MN, wrong password, unknown CN) are
counted by reason, logged in one line and never reach the sink. Data packets of every
connection go to one collector, which hands them to ``sink.accept`` in batches (at most
``gateway_batch`` packets, at most ``gateway_flush_ms`` after the first waited) one batch at a
time; only once ``accept`` returned (the packets are durable) is each answered with 9014 if
its Flag asks. A failing sink leaves its batch unanswered (the loggers retry) and the
connections open. Every reply of a connection (9014, 9011 refusals, command answers) passes
through the collector in arrival order, so a connection's answers keep its packets' order.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import zoneinfo
from collections.abc import Sequence
from typing import Protocol

from service.bus import EventBus
from service.gateway.directory import LoggerDirectory, Registration
from service.hj212 import build, codes
from service.hj212.packet import FrameSplitter, Packet, PacketError, parse_frame, parse_segment
from service.metrics import Metrics
from service.settings import Settings

log = logging.getLogger("haze.gateway")

DEFAULT_PORT = 9212
READ_SIZE = 1 << 16
#: A logger that does not read its answers: closed once this much waits to be written.
WRITE_BUFFER_LIMIT = 1 << 20
#: Connections stop reading while the collector holds this many batches (a slow sink).
HELD_BATCHES = 4
#: Loggers whose last right password is remembered, at most.
MAX_REMEMBERED = 100_000
_COMMAND_KINDS = dict(codes.COMMAND_KINDS)  # a plain dict: read per packet


class PacketSink(Protocol):
    async def accept(self, batch: Sequence[tuple[Registration, Packet]]) -> None:
        """Make the packets durable (or raise); returning means each may be acknowledged."""
        ...


class RawSink:
    """Publishes each packet's data segment keyed by MN (tests and the benchmark)."""

    def __init__(self, bus: EventBus, topic: str) -> None:
        self.bus = bus
        self.topic = topic

    async def accept(self, batch: Sequence[tuple[Registration, Packet]]) -> None:
        await self.bus.publish(self.topic, [(r.mn.encode(), p.segment.encode()) for r, p in batch])


class _Connection:
    __slots__ = ("closed", "peer", "reader", "task", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.peer = writer.get_extra_info("peername")
        self.task: asyncio.Task | None = None
        self.closed = False

    def send(self, data: bytes) -> bool:
        """Write ``data``; False (and closed) when the logger stopped reading its answers."""
        if self.closed:
            return True
        self.writer.write(data)
        return self.writer.transport.get_write_buffer_size() <= WRITE_BUFFER_LIMIT

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.writer.close()


#: (connection, registration, packet, reply): a packet to store and answer with 9014, or
#: (packet None) a reply to write in its turn.
_Item = tuple[_Connection, "Registration | None", "Packet | None", "bytes | None"]


class _Collector:
    """Gathers the packets of every connection and hands them to the sink in batches."""

    def __init__(
        self, sink: PacketSink, batch_size: int, flush_s: float, metrics: Metrics, closer
    ) -> None:
        self.sink = sink
        self.batch_size = batch_size
        self.flush_s = flush_s
        self.metrics = metrics
        self._closer = closer  # (connection, reason) -> None
        self._items: list[_Item] = []
        self._first = 0.0
        self._loop = asyncio.get_running_loop()
        self._arrived = asyncio.Event()
        self._full = asyncio.Event()
        self.room = asyncio.Event()
        self.room.set()
        self._hold_limit = batch_size * HELD_BATCHES
        self._stopping = False

    @property
    def held(self) -> int:
        return len(self._items)

    def put(self, item: _Item) -> None:
        items = self._items
        if not items:
            self._first = self._loop.time()
            self._arrived.set()
        items.append(item)
        if len(items) >= self.batch_size:
            self._full.set()
            if len(items) >= self._hold_limit:
                self.room.clear()

    async def run(self) -> None:
        """Flush until stopped and empty (``stop`` lets a batch in flight finish)."""
        while True:
            await self._arrived.wait()
            if not self._items:
                if self._stopping:
                    return
                self._arrived.clear()
                continue
            delay = self._first + self.flush_s - self._loop.time()
            if delay > 0 and len(self._items) < self.batch_size and not self._stopping:
                try:
                    async with asyncio.timeout(delay):
                        await self._full.wait()
                except TimeoutError:
                    pass
            await self._flush_once()

    def stop(self) -> None:
        self._stopping = True
        self._arrived.set()
        self._full.set()

    async def _flush_once(self) -> None:
        take = self._items[: self.batch_size]
        self._items = rest = self._items[self.batch_size :]
        if not rest and not self._stopping:
            self._arrived.clear()
        if len(rest) < self.batch_size and not self._stopping:
            self._full.clear()
        if len(rest) < self._hold_limit:
            self.room.set()
        await self._deliver(take)

    async def _deliver(self, take: list[_Item]) -> None:
        batch = [(registration, packet) for _, registration, packet, _ in take if packet]
        stored = True
        if batch:
            try:
                await self.sink.accept(batch)  # type: ignore[arg-type]
            except Exception as exc:  # BusUnavailableError or any: unanswered, loggers retry
                stored = False
                self.metrics.gateway_sink_failures.inc()
                self.metrics.gateway_unanswered.inc(len(batch))
                log.warning("hj212 sink failed, %d packets unanswered: %r", len(batch), exc)
            else:
                self.metrics.gateway_accepted.inc(len(batch))
                self.metrics.gateway_batch.observe(len(batch))
        outgoing: dict[_Connection, list[bytes]] = {}
        for connection, _, packet, reply in take:
            if packet is None:
                data = reply
            elif stored and packet.answer_required:
                data = build.data_answer(packet)
            else:
                continue
            chunks = outgoing.get(connection)
            if chunks is None:
                outgoing[connection] = [data]  # type: ignore[list-item]
            else:
                chunks.append(data)  # type: ignore[arg-type]
        for connection, chunks in outgoing.items():
            if not connection.send(b"".join(chunks)):
                self._closer(connection, "slow_reader")


class Gateway:
    """``start()`` listens (``port`` then says where), ``stop()`` stops accepting, flushes
    what the collector holds (answering it) and closes the connections."""

    def __init__(
        self,
        directory: LoggerDirectory,
        sink: PacketSink,
        settings: Settings,
        metrics: Metrics,
        *,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        """``host``/``port`` override the settings' (``port=0``: an ephemeral port)."""
        self.directory = directory
        self.sink = sink
        self.settings = settings
        self.metrics = metrics
        self._host = host if host is not None else settings.gateway_host
        self._port = port if port is not None else (settings.gateway_port or DEFAULT_PORT)
        self._server: asyncio.Server | None = None
        self._collector: _Collector | None = None
        self._collector_task: asyncio.Task | None = None
        self._connections: set[_Connection] = set()
        self._stopping = False
        self._timezone = zoneinfo.ZoneInfo(settings.gateway_timezone)
        #: MN -> (registration, the password last found right for it)
        self._passwords: dict[str, tuple[Registration, bytes]] = {}

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the gateway is not started")
        return self._server.sockets[0].getsockname()[1]

    @property
    def connections(self) -> int:
        """Logger connections open now."""
        return len(self._connections)

    @property
    def held(self) -> int:
        """Packets and replies waiting in the collector for the next batch."""
        return self._collector.held if self._collector is not None else 0

    async def start(self) -> None:
        self._collector = _Collector(
            self.sink,
            self.settings.gateway_batch,
            self.settings.gateway_flush_ms / 1000,
            self.metrics,
            self._close,
        )
        self._collector_task = asyncio.create_task(self._collector.run(), name="hj212-collector")
        self._server = await asyncio.start_server(self._serve, self._host, self._port, backlog=1024)
        log.info("hj212 gateway listening on %s:%d", self._host, self.port)

    async def stop(self) -> None:
        if self._server is None or self._stopping:
            return
        self._stopping = True
        self._server.close()  # no new connections
        assert self._collector is not None and self._collector_task is not None
        for connection in self._connections:  # stop reading; stay open for the answers
            if not connection.closed:
                connection.writer.transport.pause_reading()
                connection.reader.feed_eof()
        self._collector.room.set()
        tasks = [c.task for c in self._connections if c.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        self._collector.stop()
        await self._collector_task
        for connection in list(self._connections):
            self._close(connection, "stop")
        self._connections.clear()
        await self._server.wait_closed()

    def _close(self, connection: _Connection, reason: str) -> None:
        if not connection.closed:
            connection.close()
            self.metrics.gateway_closed.labels(reason).inc()
            if reason != "stop":
                log.info("hj212 connection %s closed: %s", connection.peer, reason)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._stopping or len(self._connections) >= self.settings.gateway_max_connections:
            self.metrics.gateway_closed.labels("limit" if not self._stopping else "stop").inc()
            log.warning(
                "hj212 connection from %s refused: limit", writer.get_extra_info("peername")
            )
            writer.close()
            return
        connection = _Connection(reader, writer)
        connection.task = asyncio.current_task()
        self._connections.add(connection)
        self.metrics.gateway_connections.inc()
        try:
            await self._read(connection, reader)
        except (ConnectionError, OSError):
            pass
        finally:
            self.metrics.gateway_connections.dec()
            if not self._stopping:  # on stop the connection waits for its answers
                self._connections.discard(connection)
                connection.close()

    async def _read(self, connection: _Connection, reader: asyncio.StreamReader) -> None:
        collector = self._collector
        assert collector is not None
        splitter = FrameSplitter()
        idle_s = self.settings.gateway_idle_s
        handle = self._frame
        while not connection.closed and not self._stopping:
            if not collector.room.is_set():
                await collector.room.wait()
                if self._stopping:
                    return
            try:
                async with asyncio.timeout(idle_s):
                    data = await reader.read(READ_SIZE)
            except TimeoutError:
                self._close(connection, "idle")
                return
            if not data:
                return
            for frame in splitter.feed(data):
                if frame.__class__ is bytes:
                    handle(connection, frame)  # type: ignore[arg-type]
                else:
                    self._refuse_error(connection, frame)  # type: ignore[arg-type]
                if connection.closed:
                    return

    def _frame(self, connection: _Connection, frame: bytes) -> None:
        try:
            packet = parse_frame(frame)
        except PacketError as exc:
            self._refuse_error(connection, exc)
            return
        registration = self.directory.lookup(packet.mn)
        if registration is None:
            self._refuse(connection, packet, "unknown_mn", codes.QN_WRONG_MN)
            return
        if not self._password_ok(registration, packet.pw):
            self._refuse(connection, packet, "password", codes.QN_WRONG_PW)
            return
        kind = _COMMAND_KINDS.get(packet.cn)
        if kind == "data":
            self._collector.put((connection, registration, packet, None))  # type: ignore[union-attr]
        elif kind == "answer":
            return  # answers (9011-9014) are never answered
        elif kind == "heartbeat":
            if packet.answer_required:
                self._reply(connection, build.data_answer(packet))
        elif kind == "command":
            self._command(connection, packet, registration)
        else:
            self._refuse(connection, packet, "cn", codes.QN_WRONG_CN)

    def _password_ok(self, registration: Registration, pw: str | None) -> bool:
        """The registration's check, skipped when the logger sends again the password last
        found right for this very registration (a SHA-256 per packet otherwise; the process
        holds in memory what every packet brings in clear anyway, the database only hashes)."""
        if pw is None:
            return False
        sent = pw.encode("utf-8")
        known = self._passwords.get(registration.mn)
        if known is not None and known[0] is registration:
            return hmac.compare_digest(sent, known[1])  # one password matches one hash
        if not registration.password_matches(pw):
            return False
        if len(self._passwords) >= MAX_REMEMBERED:
            self._passwords.clear()
        self._passwords[registration.mn] = (registration, sent)
        return True

    def _command(self, connection: _Connection, packet: Packet, registration: Registration) -> None:
        """A logger's request: 1013 (calibrate my clock) is answered and followed by 1012 with
        the time; the centre's own commands sent by a logger are refused (QnRtn 2)."""
        if packet.cn != "1013":
            if packet.answer_required:
                self._reply(connection, build.request_answer(packet, codes.QN_REFUSED))
            return
        if packet.answer_required:
            self._reply(connection, build.request_answer(packet, codes.QN_READY))
        zone = self._timezone
        if registration.timezone:
            with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = zoneinfo.ZoneInfo(registration.timezone)
        now = dt.datetime.now(zone)
        self._reply(connection, build.set_time(packet, now.replace(tzinfo=None)))

    def _reply(self, connection: _Connection, data: bytes) -> None:
        self._collector.put((connection, None, None, data))  # type: ignore[union-attr]

    def _refuse(self, connection: _Connection, packet: Packet, reason: str, qn_rtn: int) -> None:
        self.metrics.gateway_refused.labels(reason).inc()
        log.warning("hj212 refused: mn=%s reason=%s cn=%s", packet.mn, reason, packet.cn)
        if packet.answer_required:
            self._reply(connection, build.request_answer(packet, qn_rtn))

    def _refuse_error(self, connection: _Connection, error: PacketError) -> None:
        """A packet that did not parse; a wrong CRC over a readable segment asking for an
        answer gets 9011 QnRtn=9 (the logger learns to resend)."""
        self.metrics.gateway_refused.labels(error.reason).inc()
        packet = None
        if error.segment is not None:
            with contextlib.suppress(PacketError):
                packet = parse_segment(error.segment)
        mn = packet.mn if packet is not None else "-"
        log.warning("hj212 refused: mn=%s reason=%s detail=%s", mn, error.reason, error.detail)
        if error.reason == "oversized":
            self._close(connection, "oversized")
        elif error.reason == "crc" and packet is not None and packet.answer_required:
            self._reply(connection, build.request_answer(packet, codes.QN_WRONG_CRC))
