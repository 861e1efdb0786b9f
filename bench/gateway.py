"""HJ 212 gateway benchmark: packets per second onto the real broker; prints one JSON object.

    python -m bench.gateway [--packets 200000] [--connections 100] [--window 64] [--profile]

Starts the Tansu broker unless ``HAZE_BENCH_KAFKA_BOOTSTRAP`` names one, and measures in the
same run, with the same packets on the same number of connections:

- ``bare_rate``: a bare asyncio TCP server that only splits the bytes into lines and answers
  each line with a fixed 9014 (so the client's window moves exactly as with the gateway);
- ``rate``: the gateway as ``haze gateway`` builds it (``attach_gateway``): parse, CRC,
  directory, password, batching across connections, the real sink (``BusSink``: each minute
  packet becomes a ``haze.telemetry`` record, msgspec JSON keyed by enterprise) published on
  a ``KafkaBus`` with acks=all, then 9014 with the same QN.

The packets are realistic minute data (CN=2051, Flag=5: answer required) of registered
enterprise loggers, DataTime within the last hours (so none is stale): half the connections
are power meters (4 channels in kW: power, energy, flag), half CEMS (SO2, NOx, PM with
converted values, O2, flow with flags). The client runs in another process (not sharing the
measured server's core) and keeps ``--window`` packets in flight per connection, like a
logger replaying its backlog; each rate is packets / (first send -> last answer). The
broker's end offsets are checked to hold every packet.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import sys
import time
import uuid
from zoneinfo import ZoneInfo

from service.gateway.directory import DictDirectory, Registration, password_hash
from service.hj212.build import build, build_cp, qn_of
from service.metrics import Metrics
from service.settings import Settings

RATIO_GOAL = 0.5
RATE_GOAL = 20_000.0
PASSWORD = "bench-212"
BARE_ANSWER = build(qn="20240101000000000", st="91", cn="9014", pw=PASSWORD, mn="BARE", flag=4)


#: Minutes of DataTime a connection cycles through (well inside ``telemetry_max_age_h``).
SPAN_MINUTES = 1_440
METER_UNITS = {f"e10{c}": "kW" for c in range(1, 5)}
CEMS_UNITS = {"a21026": "mg/m³", "a21002": "mg/m³", "a34013": "mg/m³", "a19001": "%",
              "a00000": "m³/s"}  # fmt: skip


def mn_of(connection: int) -> str:
    return f"15020391BE0C{connection:012X}"


def enterprise_of(connection: int) -> str:
    return f"91150203BENCH{connection // 4:05d}"  # an enterprise has 2 meters and 2 CEMS


def registrations(connections: int) -> list[Registration]:
    return [
        Registration(
            mn_of(c),
            "meter" if c % 2 == 0 else "cems",
            enterprise_of(c),
            password_hash(PASSWORD),
            units=METER_UNITS if c % 2 == 0 else CEMS_UNITS,
        )
        for c in range(connections)
    ]


def first_minute() -> dt.datetime:
    """The earliest DataTime the packets carry: ``SPAN_MINUTES`` before now, Beijing time."""
    now = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, second=0, microsecond=0)
    return now - dt.timedelta(minutes=SPAN_MINUTES)


def packets_of(connection: int, count: int, start: dt.datetime) -> list[bytes]:
    """The packets one connection sends (deterministic: the client rebuilds the same)."""
    meter = connection % 2 == 0
    out = []
    for i in range(count):
        at = start + dt.timedelta(minutes=i % SPAN_MINUTES)
        if meter:
            values = {
                f"e10{c}": {
                    "Avg": f"{100 + (i * 7 + c) % 400}.{c}",
                    "Cou": f"{5000 + i}.25",
                    "Flag": "N",
                }
                for c in range(1, 5)
            }
        else:
            values = {
                "a21026": {"Avg": f"{20 + i % 30}.1", "ZsAvg": f"{22 + i % 30}.4", "Flag": "N"},
                "a21002": {"Avg": f"{45 + i % 40}.2", "ZsAvg": f"{49 + i % 40}.7", "Flag": "N"},
                "a34013": {"Avg": f"{4 + i % 6}.1", "ZsAvg": f"{4 + i % 6}.6", "Flag": "N"},
                "a19001": {"Avg": "9.5", "Flag": "N"},
                "a00000": {
                    "Avg": "52.3",
                    "Cou": f"{188280 + i}",
                    "Flag": "M" if i % 97 == 0 else "N",
                },
            }
        cp = build_cp({"DataTime": at.strftime("%Y%m%d%H%M%S")}, values)
        qn = qn_of(start + dt.timedelta(minutes=i, milliseconds=i % 1000))
        st = "31"
        out.append(build(qn=qn, st=st, cn="2051", pw=PASSWORD, mn=mn_of(connection), flag=5, cp=cp))
    return out


def split_counts(packets: int, connections: int) -> list[int]:
    base, extra = divmod(packets, connections)
    return [base + (1 if c < extra else 0) for c in range(connections)]


# The client (its own process) -------------------------------------------------------------


class _ClientConnection(asyncio.Protocol):
    def __init__(self, packets: list[bytes], window: int, done: asyncio.Future) -> None:
        self.packets = packets
        self.window = window
        self.done = done
        self.next = 0
        self.answered = 0
        self.tail = b""

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        self._send(self.window)

    def _send(self, n: int) -> None:
        chunk = self.packets[self.next : self.next + n]
        self.next += len(chunk)
        if chunk:
            self.transport.write(b"".join(chunk))

    def data_received(self, data: bytes) -> None:
        answers = data.count(b"\r\n") + (self.tail[-1:] == b"\r" and data[:1] == b"\n")
        self.tail = data[-1:]
        self.answered += answers
        self._send(answers)
        if self.answered >= len(self.packets) and not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc) -> None:  # type: ignore[override]
        if not self.done.done():
            self.done.set_exception(ConnectionError(f"closed after {self.answered} answers"))


async def _client(
    port: int, packets: int, connections: int, window: int, start: dt.datetime
) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    per = [packets_of(c, n, start) for c, n in enumerate(split_counts(packets, connections))]
    done = [loop.create_future() for _ in per]
    started = time.perf_counter()
    for c, mine in enumerate(per):
        await loop.create_connection(
            lambda mine=mine, c=c: _ClientConnection(mine, window, done[c]), "127.0.0.1", port
        )
    await asyncio.wait_for(asyncio.gather(*done), 600)
    return {"seconds": time.perf_counter() - started}


def _run_client(
    port: int, packets: int, connections: int, window: int, start: dt.datetime
) -> list[str]:
    command = [sys.executable, "-m", "bench.gateway", "--client-port", str(port)]
    command += ["--packets", str(packets), "--connections", str(connections)]
    command += ["--window", str(window), "--client-start", start.isoformat()]
    return command


async def _measure(
    port: int, packets: int, connections: int, window: int, start: dt.datetime
) -> float:
    process = await asyncio.create_subprocess_exec(
        *_run_client(port, packets, connections, window, start), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the client failed ({process.returncode})")
    return json.loads(out)["seconds"]


# The servers ------------------------------------------------------------------------------


async def _bare_server() -> asyncio.Server:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        rest = b""
        while data := await reader.read(1 << 16):
            lines = (rest + data).split(b"\r\n")
            rest = lines.pop()
            writer.write(BARE_ANSWER * len(lines))
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024)


async def _topic(bootstrap: str, name: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 4, 1)])
    finally:
        await admin.close()


async def _on_topic(bootstrap: str, topic: str, expected: int) -> int:
    """Records on the topic, read from the start (until ``expected`` or 10 s of nothing)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
        enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    seen, quiet_since = 0, time.monotonic()
    try:
        while seen < expected and time.monotonic() - quiet_since < 10:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            if batch:
                seen += sum(len(records) for records in batch.values())
                quiet_since = time.monotonic()
    finally:
        await consumer.stop()
    return seen


class _NullBus:
    """Takes every publish at once: the gateway and its routing, without the broker."""

    async def publish(self, topic, items, headers=None) -> None:
        return None


class _DeadLetters:
    """Counts what the sink dead-letters (the bench's packets are all usable: expect 0)."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, items) -> None:
        self.count += len(items)


async def _run(packets: int, connections: int, window: int, profile: bool) -> dict[str, object]:
    from service.bus.kafka import KafkaBus
    from service.gateway.server import Gateway
    from service.telemetry.routing import BusSink
    from tests.infra import tansu_server

    broker = None
    bootstrap = os.environ.get("HAZE_BENCH_KAFKA_BOOTSTRAP")
    if not bootstrap:
        broker = tansu_server.start()
        bootstrap = broker.bootstrap
    try:
        run = uuid.uuid4().hex[:8]
        settings = Settings(kafka_bootstrap=bootstrap, kafka_idempotent=False,
                            kafka_topic_telemetry=f"bench{run}.telemetry",
                            kafka_topic_readings=f"bench{run}.readings",
                            gateway_max_connections=max(connections, 1) + 10)  # fmt: skip
        topic = settings.kafka_topic_telemetry
        await _topic(bootstrap, topic)
        start = first_minute()

        bare = await _bare_server()
        bare_s = await _measure(
            bare.sockets[0].getsockname()[1], packets, connections, window, start
        )
        bare.close()

        directory = DictDirectory(registrations(connections))
        null_dead = _DeadLetters()
        null_sink = BusSink.from_settings(_NullBus(), settings, null_dead)  # type: ignore[arg-type]
        null = Gateway(directory, null_sink, settings, Metrics(), host="127.0.0.1", port=0)
        await null.start()
        null_s = await _measure(null.port, packets, connections, window, start)
        await null.stop()

        metrics = Metrics()
        bus = KafkaBus(settings, metrics)
        await bus.start()
        dead = _DeadLetters()
        sink = BusSink.from_settings(bus, settings, dead)
        gateway = Gateway(directory, sink, settings, metrics, host="127.0.0.1", port=0)
        await gateway.start()
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        gateway_s = await _measure(gateway.port, packets, connections, window, start)
        if profiler:
            profiler.disable()
        await gateway.stop()
        await bus.stop()
        accepted = metrics.registry.get_sample_value("haze_gateway_accepted_total")
        batches = metrics.registry.get_sample_value("haze_gateway_batch_packets_count")
        on_topic = await _on_topic(bootstrap, topic, packets)
    finally:
        if broker is not None:
            broker.stop()
    rate, bare_rate = packets / gateway_s, packets / bare_s
    result: dict[str, object] = {
        "packets": packets,
        "connections": connections,
        "window": window,
        "sink": "BusSink -> haze.telemetry",
        "seconds": round(gateway_s, 3),
        "rate": round(rate, 1),
        "bare_seconds": round(bare_s, 3),
        "bare_rate": round(bare_rate, 1),
        "ratio": round(rate / bare_rate, 3),
        "null_bus_rate": round(packets / null_s, 1),
        "accepted": accepted,
        "on_topic": on_topic,
        "dead_lettered": dead.count + null_dead.count,
        "mean_batch": round(accepted / batches, 1) if batches else None,
        "goal_ratio_to_bare": RATIO_GOAL,
        "goal_rate": RATE_GOAL,
        "met": {
            "ratio_to_bare": rate / bare_rate >= RATIO_GOAL,
            "rate": rate >= RATE_GOAL,
            "all_on_topic": on_topic == packets == accepted and dead.count == 0,
        },
        "broker": "tansu" if broker is not None else bootstrap,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
    }
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
        print(text.getvalue(), file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gateway",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--packets", type=int, default=200_000)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--window", type=int, default=64, help="packets in flight per connection")
    parser.add_argument("--profile", action="store_true", help="cProfile the gateway (stderr)")
    parser.add_argument("--client-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--client-start", type=dt.datetime.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.packets < 1 or args.connections < 1 or args.window < 1:
        parser.error("--packets, --connections and --window are at least 1")
    if args.client_port:
        client = _client(
            args.client_port, args.packets, args.connections, args.window, args.client_start
        )
        print(json.dumps(asyncio.run(client)))
        return
    result = asyncio.run(_run(args.packets, args.connections, args.window, args.profile))
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
