"""The latency from a packet to its alarm on the API, through the whole service.

The Kundulun sample's loggers (its meters and stack monitors, three plants cheating) send
``minutes`` minutes of minute data over TCP to the gateway of a served app on PostgreSQL
(``HAZE_BENCH_DATABASE_URL`` or a server started here) with an orange warning in force; the
check's clock follows the simulated minutes as they are sent. A poller reads
``GET /api/v1/alarms`` every few milliseconds; each alarm's latency (and each suspected
alarm's confirmation's) is the time it was first seen there minus the time the last packet
of the minute that raised it was acknowledged by the gateway (its 9014 received).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time
from typing import Any

import httpx
import numpy as np

LATENCY_GOAL_S = 5.0
POLL_S = 0.005


def _raised_interval(alarm: dict[str, Any]) -> int:
    """The interval (minutes since the epoch) whose judgement raised or confirmed it."""
    evidence = alarm["evidence"]
    length = int(evidence.get("run") or evidence.get("silent_for") or 1)
    started = dt.datetime.fromisoformat(alarm["started_at"])
    return int(started.timestamp()) // 60 + length - 1


async def _measure(database_url: str, minutes: int) -> dict[str, Any]:
    from emission_list.telemetry_sim import sample_plant
    from service.bootstrap import prepare
    from service.commands.process import attach_gateway, create_app
    from service.settings import Settings
    from service.telemetry.sample_feed import cuts_for, episode, minute_packets, sample_passwords
    from tests.infra.loggers import Logger
    from tests.infra.sample_episode import compliance_worker, last_night

    settings = Settings(
        database_url=database_url,
        admin_token="admin-token-for-the-latency-bench-0123456789",
        compliance_grace_s=1.0,
        **{f"rate_limit_{r}": "" for r in ("operator", "station", "enterprise", "anonymous")},
    )
    await prepare(settings)
    app = create_app(settings)
    runtime = app.state.runtime
    attach_gateway(runtime, port=0)
    headers = {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}
    seen: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}
    acknowledged: dict[int, float] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://haze") as client:
            body = {"region": "150203", "level": "orange", "reason": {"zh-CN": "测", "en": "b"}}
            answer = await client.post("/api/v1/alerts", json=body, headers=headers)
            answer.raise_for_status()
            stop = asyncio.Event()

            async def poll() -> None:
                while not stop.is_set():
                    listed = await client.get(
                        "/api/v1/alarms", params={"limit": 500}, headers=headers
                    )
                    now = time.perf_counter()
                    for alarm in listed.json()["items"]:  # as first seen in each grade
                        seen.setdefault((alarm["id"], alarm["grade"]), (now, alarm))
                    await asyncio.sleep(POLL_S)

            poller = asyncio.create_task(poll())
            worker = compliance_worker(runtime)
            start = last_night()
            first = int(start.timestamp()) // 60
            evaluator = runtime.state.board.evaluator
            cut = cuts_for(
                sample_plant(), evaluator.compiled.row_of, evaluator.production_cut, evaluator.level
            )
            telemetry = episode(start, minutes, cut)
            passwords = sample_passwords()
            connections = [await Logger.connect(runtime.gateway.port) for _ in range(4)]
            sent = 0
            began = time.perf_counter()
            for minute in range(minutes):
                worker.clock = (start + dt.timedelta(minutes=minute + 1, seconds=1)).timestamp
                packets = list(minute_packets(telemetry, minute, passwords))
                for k, packet in enumerate(packets):
                    await connections[k % 4].send(packet)
                for k in range(len(packets)):
                    await connections[k % 4].answer()
                acknowledged[first + minute] = time.perf_counter()
                sent += len(packets)
            sending_s = time.perf_counter() - began
            worker.clock = (start + dt.timedelta(minutes=minutes + 1, seconds=5)).timestamp
            while not worker.judged_through(first + minutes - 1):
                worker.kick()
                await asyncio.sleep(0.05)
            await asyncio.sleep(10 * POLL_S)  # a last poll sees what the last minute stored
            stop.set()
            await poller
            for connection in connections:
                connection.close()
    latencies, each = [], []
    for (_alarm_id, grade), (at, alarm) in seen.items():
        interval = _raised_interval(alarm)
        if interval in acknowledged:
            latencies.append(at - acknowledged[interval])
            each.append(
                {
                    "kind": alarm["kind"],
                    "grade": grade,
                    "minute": interval - first,
                    "s": round(latencies[-1], 3),
                }
            )
    p99 = float(np.percentile(latencies, 99)) if latencies else None
    return {
        "scale": "the Kundulun sample: its metered enterprises, lines, meters and CEMS",
        "enterprises": len(sample_plant().enterprise_ids),
        "lines": len(sample_plant().line_ids),
        "minutes": minutes,
        "packets": sent,
        "packets_per_s_sent": round(sent / sending_s, 1),
        "database": "postgresql",
        "alarms": len({alarm_id for alarm_id, _ in seen}),
        "latencies": len(latencies),
        "latency_s": {
            "median": statistics.median(latencies) if latencies else None,
            "p99": p99,
            "max": max(latencies) if latencies else None,
        },
        "each": each,
        "latency_from": "the gateway's 9014 for the last packet of the raising minute",
        "latency_to": "the alarm (or its confirmation) first seen on GET /api/v1/alarms",
        "goal_p99_s": LATENCY_GOAL_S,
        "met": p99 is not None and p99 < LATENCY_GOAL_S,
    }


def run(minutes: int) -> dict[str, Any]:
    from bench.notify import _database

    with _database() as url:
        return asyncio.run(_measure(url, minutes))
