"""Outage and fair-sharing figures of the API; prints one JSON object.

    python -m bench.outages [--posts 30] [--hours 10000]

- ``broker_down`` (PostgreSQL 15 and Tansu started for the run): the API on Kafka posts one
  reading, the broker is stopped, then ``--posts`` concurrent POST /readings and, a moment
  later, one GET: each post's time to its answer, the GET's, and the most pool connections
  checked out in the first 2 s (the posts' station look-ups, connections being opened) and
  after them, while the posts wait for the broker (a post must not hold one then).
- ``backfill_sqlite``, ``backfill_postgresql`` (embedded bus): one station posts
  ``--hours`` past hours while another station posts one reading and an enterprise polls its
  actions every 20 ms: how long the other post waited, and each poll from when it was due to
  its answer (so a blocked event loop counts, as it would for a client elsewhere).

In-process over ASGI (client and app share one event loop), on whatever the machine is
doing: figures to compare before/after, not limits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from emission_list.samples import kundulun_list
from service.bootstrap import prepare
from service.commands.process import create_app
from service.commands.stream import create_topics
from service.settings import Settings
from tests.infra import pg_server, tansu_server

HOUR = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
SHUTDOWN_LIMIT_S = 15.0
POLL_EVERY_S = 0.02
ADMIN = "admin-token-for-the-outage-bench-0123456789"


def _say(what: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


def _rows(station: str, hours: int) -> list[dict[str, object]]:
    return [
        {
            "station_id": station,
            "observed_at": (HOUR - dt.timedelta(hours=h)).isoformat(),
            "pm25": 40 + h % 40,
            "pm10": 120,
        }
        for h in range(hours)
    ]


async def _timed(coro) -> tuple[float, httpx.Response]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    answer = await coro
    return time.perf_counter() - start, answer


async def broker_down(posts: int) -> dict[str, object]:
    pg, broker = pg_server.start(), tansu_server.start()
    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        database_url=pg.url,
        kafka_bootstrap=broker.bootstrap,
        kafka_idempotent=False,
        kafka_request_timeout_s=5,
        admin_token=ADMIN,
        metrics_port=0,
        **tansu_server.private_topics(f"b{tag}"),
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_ms=500,
    )
    try:
        await create_topics(settings)
        await prepare(settings)
        app = create_app(settings, consumers=False)
        headers = {"Authorization": f"Bearer {ADMIN}"}
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(app.router.lifespan_context(app))
            pool = app.state.runtime.engine.pool
            transport = httpx.ASGITransport(app=app)
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://haze", timeout=120)
            )
            first = await client.post("/api/v1/readings", json=_rows("1502A01", 1), headers=headers)
            assert first.status_code == 202, first.text
            _say("first post answered; stopping the broker")
            broker.stop()
            _say("broker stopped")
            most = {"lookups": 0, "waiting": 0}

            async def watch() -> None:  # the lookups' burst first, then while posts wait
                while True:
                    phase = "lookups" if time.perf_counter() - started < 2 else "waiting"
                    most[phase] = max(most[phase], pool.checkedout())
                    await asyncio.sleep(0.01)

            started = time.perf_counter()
            watcher = asyncio.create_task(watch())
            tasks = [
                asyncio.create_task(
                    _timed(
                        client.post("/api/v1/readings", json=_rows("1502A01", 1), headers=headers)
                    )
                )
                for _ in range(posts)
            ]
            await asyncio.sleep(0.5)
            get_s, got = await _timed(client.get("/api/v1/alerts/active", headers=headers))
            _say(f"GET answered {got.status_code}")
            done = await asyncio.gather(*tasks)
            _say("posts answered")
            total = time.perf_counter() - started
            watcher.cancel()
            later = stack.pop_all()  # the shutdown is bounded: with the broker down it may hang
            closing = asyncio.create_task(later.aclose())
        try:
            await asyncio.wait_for(asyncio.shield(closing), SHUTDOWN_LIMIT_S)
            shutdown = "ended"
        except TimeoutError:
            shutdown = f"not ended within {SHUTDOWN_LIMIT_S} s"
        _say(f"shutdown {shutdown}")
        statuses = sorted({a.status_code for _, a in done})
        return {
            "posts": posts,
            "request_timeout_s": settings.kafka_request_timeout_s,
            "slowest_post_s": round(max(s for s, _ in done), 2),
            "all_posts_s": round(total, 2),
            "statuses": statuses,
            "retry_after": sorted({a.headers.get("retry-after") or "" for _, a in done}),
            "get_during_s": round(get_s, 2),
            "get_status": got.status_code,
            "most_checked_out_first_2_s": most["lookups"],
            "most_checked_out_while_waiting": most["waiting"],
            "shutdown_with_broker_down": shutdown,
        }
    finally:
        broker.stop()
        pg.stop()


async def backfill(hours: int, database: str) -> dict[str, object]:
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="haze-bench-"))
        url = ""
        if database == "postgresql":
            server = pg_server.start()
            stack.callback(server.stop)
            url = server.url
        settings = Settings(
            data_dir=Path(folder),
            database_url=url,
            admin_token=ADMIN,
            metrics_port=0,
            max_body_bytes=64 << 20,
        )
        await prepare(settings)
        app = create_app(settings)
        headers = {"Authorization": f"Bearer {ADMIN}"}
        enterprise = kundulun_list().entries[0].enterprise_id
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://haze", timeout=300
            ) as client:
                polls: list[float] = []
                stop = asyncio.Event()

                async def poll() -> None:
                    path = f"/api/v1/enterprises/{enterprise}/actions"
                    due = time.perf_counter()
                    while not stop.is_set():  # timed from when the poll was due: a blocked
                        answer = await client.get(path, headers=headers)  # loop counts
                        assert answer.status_code == 200, answer.text
                        polls.append(time.perf_counter() - due)
                        due = time.perf_counter() + POLL_EVERY_S
                        await asyncio.sleep(POLL_EVERY_S)

                # the client's own work (building, encoding the body) done before the clock
                body = json.dumps(_rows("1502A01", hours)).encode()
                json_headers = {**headers, "Content-Type": "application/json"}
                poller = asyncio.create_task(poll())
                await asyncio.sleep(0.2)
                big = asyncio.create_task(
                    _timed(client.post("/api/v1/readings", content=body, headers=json_headers))
                )
                await asyncio.sleep(0.3)
                other_s, other = await _timed(
                    client.post("/api/v1/readings", json=_rows("1502A03", 1), headers=headers)
                )
                other_done = time.perf_counter()
                big_s, answer = await big
                big_done = time.perf_counter()
                stop.set()
                await poller
        assert answer.status_code == 202 and answer.json()["accepted"] == hours, answer.text[:300]
        ordered = sorted(polls)
        return {
            "hours": hours,
            "backfill_s": round(big_s, 2),
            "other_post_s": round(other_s, 3),
            "other_status": other.status_code,
            "other_finished_first": other_done < big_done,
            "poll_max_s": round(ordered[-1], 3),
            "poll_p50_s": round(ordered[len(ordered) // 2], 3),
            "polls": len(polls),
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=30)
    parser.add_argument("--hours", type=int, default=10_000)
    parser.add_argument("--only", choices=("broker_down", "backfill"))
    args = parser.parse_args(argv)
    found: dict[str, object] = {}
    if args.only in (None, "broker_down"):
        found["broker_down"] = asyncio.run(broker_down(args.posts))
    if args.only in (None, "backfill"):
        for database in ("sqlite", "postgresql"):
            found[f"backfill_{database}"] = asyncio.run(backfill(args.hours, database))
    print(json.dumps(found, indent=2))


if __name__ == "__main__":
    main()
