"""Notices benchmark: one warning over 100,000 subscribed enterprises to the last webhook
delivered; prints one JSON object.

    python -m bench.notify [--enterprises 100000] [--fail 0.1] [--retry-base-s 2.0]

Starts PostgreSQL 15 (``tests.infra.pg_server``) unless ``HAZE_BENCH_DATABASE_URL`` names a
server whose user may CREATE DATABASE; a fresh database is made (dropped at the end),
migrated and seeded as :mod:`bench.fanout` does it (the sample list as revision 1, then
revision 2 of ``--enterprises`` synthetic enterprises on the subdistricts of Kundulun,
150203, so one warning over Kundulun reaches all of them).

The receiver is ``python -m tests.infra.receiver PORT FAIL`` in a process of its own: it
answers 503 (no ``Retry-After``, so the worker's own backoff applies) to the first attempt
of a ``--fail`` fraction of the webhook ids (chosen by a hash of the id) and 200 otherwise.
Each enterprise gets one webhook subscription to it, made by
:func:`service.services.subscriptions.create` (the API's service: the same checks, id,
defaults and signing secret) and inserted in bulk (executemany), which is not measured.

The service runs in this process as ``haze serve`` with ``HAZE_DATABASE_URL`` runs it:
:func:`service.commands.process.create_app` with its lifespan (the in-process bus, the outbox
relay, the notices consumer and the delivery worker), spoken to over ASGI. This process does
nothing else while it delivers but ask the receiver's ``/stats`` every 50 ms, so the figures
are the product's; the receiver and PostgreSQL are the other processes on the machine.

Measured, from ``t0`` (just before the operator's ``POST /api/v1/alerts`` of an orange
warning over Kundulun; the answer comes once the alert and its outbox row are committed):

- ``all_delivered_s``: until the receiver's ``/stats`` count of delivered ids reaches N;
  ``recorded_s``: until the deliveries table has all N delivered (the worker records results
  in batches, so a little later); ``notices_stored_s``: until the last notice was stored;
- ``latency_p50_s`` / ``latency_p99_s`` / ``latency_max_s``: each delivery's
  ``delivered_at`` (set when its result is recorded) minus ``t0``;
- ``attempts``: the deliveries' attempts (how many needed 1, 2, ...), and the receiver's count
  of requests;
- ``rate_per_s``: N / ``all_delivered_s``; ``first_pass_rate_per_s``: the notices delivered at
  the first try over the time to the last of them (the retries wait ``--retry-base-s`` · [0.5,
  1] s by design, which the reference does not);
- ``bare``: the reference, after the service stopped: a bare aiohttp client with the worker's
  concurrency (``HAZE_NOTIFY_CONCURRENCY``, one connection pool of that size) posts the same
  N bodies (the stored notices' webhook bodies, byte for byte) to the same receiver with
  Standard Webhooks headers signed beforehand (its time is HTTP only: the stricter
  reference), under fresh ids so the receiver fails the same fraction, and posts a refused
  one again at once until it is accepted. ``rate_per_s`` = N over its time.

Goals: ``all_delivered_s`` <= 60 and ``rate_per_s`` >= 0.5 of the bare client's. Once in
effect: every enterprise has one notice and one delivered delivery, and the receiver
accepted N distinct ids from the service (``once_in_effect``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime as dt
import json
import os
import platform
import pstats
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bench.fanout import _admin, _dsn, _percentile, _seed
from tests.infra import pg_server
from tests.infra.servers import free_port, stop

GOAL_ALL_DELIVERED_S = 60.0
GOAL_RATIO_TO_BARE = 0.5
KUNDULUN = "150203"
DEFAULT_RETRY_BASE_S = 2.0
#: How often the receiver's counts are read while the service delivers [s].
STATS_EVERY_S = 0.05
#: Bounds on waiting: failure detectors, not performance limits.
DELIVERY_LIMIT_S = 900.0
RECEIVER_START_S = 30.0
INSERT_CHUNK = 5_000


# --- the servers ------------------------------------------------------------------------------


@contextlib.contextmanager
def _database() -> Iterator[str]:
    """The URL of a fresh database on a configured or a started server; dropped after."""
    server = None
    url = os.environ.get("HAZE_BENCH_DATABASE_URL")
    if not url:
        server = pg_server.start()
        url = server.url
    name = f"haze_notify_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_admin(url, f'CREATE DATABASE "{name}"'))
        try:
            yield _dsn(url, name)
        finally:
            asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        if server is not None:
            server.stop()


@contextlib.contextmanager
def _receiver(fail: float) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``python -m tests.infra.receiver`` in its own process: (base URL, process)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.infra.receiver", str(port), str(fail)],
        stdout=subprocess.PIPE,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    try:
        deadline = time.monotonic() + RECEIVER_START_S
        assert process.stdout is not None
        while process.stdout.readline().strip() != b"ready":
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the receiver did not start")
        yield f"http://127.0.0.1:{port}", process
    finally:
        stop(process)


# --- the subscriptions, as the API makes them -------------------------------------------------


class _Collecting:
    """Stands in for the session :func:`service.services.subscriptions.create` stores with:
    keeps what it is given, so the rows can be inserted in bulk."""

    def __init__(self) -> None:
        self.added: list[Any] = []

    def add(self, row: Any) -> None:
        self.added.append(row)

    async def flush(self) -> None:
        return None


async def _subscribe(settings: Any, operator: str, ids: Sequence[str], url: str) -> str:
    """One webhook subscription per enterprise, made by the API's service and inserted with
    executemany; returns the operator's token id."""
    from sqlalchemy import insert

    from service.api.schemas.notices import SubscriptionIn
    from service.security import Principal, hash_secret
    from service.services import subscriptions as subscription_service
    from service.storage.engine import create_engine, make_session_maker
    from service.storage.models import Subscription
    from service.storage.repositories import regions, tokens

    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            row = await tokens.principal_row(connection, hash_secret(operator))
        assert row is not None
        principal = Principal.of(row)
        async with make_session_maker(engine)() as session:
            known = set((await regions.tree(session)).ids)
            collected = _Collecting()
            for enterprise_id in ids:
                body = SubscriptionIn(channel="webhook", target=url, enterprise_id=enterprise_id)
                await subscription_service.create(
                    collected,  # type: ignore[arg-type]
                    principal,
                    channel=body.channel,
                    target=body.target,
                    second_target=body.second_target,
                    enterprise_id=body.enterprise_id,
                    region=body.region,
                    language=body.language,
                    events=list(body.events),
                    known_regions=known,
                )
            columns = [c.key for c in Subscription.__table__.columns]
            rows = [{c: getattr(s, c) for c in columns} for s in collected.added]
            for start in range(0, len(rows), INSERT_CHUNK):
                await session.execute(insert(Subscription), rows[start : start + INSERT_CHUNK])
            await session.commit()
    finally:
        await engine.dispose()
    return principal.token_id


# --- the measured delivery --------------------------------------------------------------------


async def _stats(client: aiohttp.ClientSession, base: str) -> dict[str, int]:
    async with client.get(f"{base}/stats") as answer:
        return await answer.json()


@contextlib.asynccontextmanager
async def _served(settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    from service.commands.process import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://haze") as client:
            yield client


async def _deliver(
    settings: Any, operator: str, base: str, n: int, profiler: cProfile.Profile | None = None
) -> dict[str, Any]:
    """Issue the warning and wait for every notice; the receiver's view and the times."""
    async with _served(settings) as api, aiohttp.ClientSession() as client:
        before = await _stats(client, base)
        if profiler is not None:
            profiler.enable()
        warning = {
            "region": KUNDULUN,
            "level": "orange",
            "response": "full",
            "reason": {"zh-CN": "基准测试", "en": "benchmark"},
        }
        wall0, t0 = dt.datetime.now(dt.UTC), time.perf_counter()
        answer = await api.post(
            "/api/v1/alerts", json=warning, headers={"Authorization": f"Bearer {operator}"}
        )
        commit_s = time.perf_counter() - t0
        answer.raise_for_status()
        seen = before
        while seen["delivered"] - before["delivered"] < n:
            if time.perf_counter() - t0 > DELIVERY_LIMIT_S:
                raise RuntimeError(f"{seen} of {n} delivered in {DELIVERY_LIMIT_S} s")
            await asyncio.sleep(STATS_EVERY_S)
            seen = await _stats(client, base)
        all_delivered_s = time.perf_counter() - t0
        recorded_s = await _until_recorded(settings, n, t0)
        if profiler is not None:
            profiler.disable()
    return {
        "wall0": wall0,
        "commit_s": commit_s,
        "all_delivered_s": all_delivered_s,
        "recorded_s": recorded_s,
        "receiver_requests": seen["requests"] - before["requests"],
        "receiver_delivered": seen["delivered"] - before["delivered"],
    }


async def _until_recorded(settings: Any, n: int, t0: float) -> float:
    """Seconds from ``t0`` until the deliveries table holds ``n`` delivered."""
    from sqlalchemy import func, select

    from service.storage.engine import create_engine
    from service.storage.models import Delivery

    engine = create_engine(settings)
    count = select(func.count()).where(Delivery.status == "delivered")
    try:
        async with engine.connect() as connection:
            while (await connection.scalar(count) or 0) < n:
                if time.perf_counter() - t0 > DELIVERY_LIMIT_S:
                    raise RuntimeError("the deliveries were not all recorded")
                await asyncio.sleep(STATS_EVERY_S)
                await connection.rollback()  # a fresh snapshot
    finally:
        await engine.dispose()
    return time.perf_counter() - t0


async def _stored(settings: Any) -> dict[str, Any]:
    """What the database holds after the run: per delivery (status, attempts, delivered_at,
    its notice's enterprise and creation) and, for the reference, the webhook bodies."""
    from sqlalchemy import select

    from service.notify.webhook import body_bytes
    from service.services.notice_messages import notice_of
    from service.storage.engine import create_engine, make_session_maker
    from service.storage.models import Delivery, Notice, Subscription

    engine = create_engine(settings)
    try:
        async with make_session_maker(engine)() as session:
            rows = await session.execute(
                select(Delivery, Notice, Subscription.secret)
                .join(Notice, Notice.id == Delivery.notice_id)
                .join(Subscription, Subscription.id == Delivery.subscription_id)
                .order_by(Delivery.id)
            )
            found: dict[str, list[Any]] = {
                "status": [],
                "attempts": [],
                "delivered_at": [],
                "enterprise": [],
                "notice_created_at": [],
                "notice_id": [],
                "bodies": [],
            }
            for delivery, notice, secret in rows:
                found["status"].append(delivery.status)
                found["attempts"].append(delivery.attempts)
                found["delivered_at"].append(delivery.delivered_at)
                found["enterprise"].append(notice.enterprise_id)
                found["notice_created_at"].append(notice.created_at)
                found["notice_id"].append(notice.id)
                found["bodies"].append(
                    (f"bare_{delivery.id}", secret, body_bytes(notice_of(notice)))
                )
            return found
    finally:
        await engine.dispose()


# --- the reference ----------------------------------------------------------------------------


async def _bare(base: str, bodies: Sequence[tuple[str, str, bytes]], concurrency: int) -> dict:
    """A bare aiohttp client posting every body, signed beforehand, with ``concurrency``
    requests in flight; a refused one is posted again at once."""
    from service.notify.webhook import signed_headers

    signed = [(signed_headers(secret, mid, body), body) for mid, secret, body in bodies]
    url = f"{base}/hook"
    requests = 0
    pending = iter(signed)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=30)

    async def post_all(client: aiohttp.ClientSession) -> None:
        nonlocal requests
        for headers, body in pending:
            while True:
                requests += 1
                async with client.post(url, data=body, headers=headers) as answer:
                    await answer.read()
                    if 200 <= answer.status < 300:
                        break

    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(post_all(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return {
        "notices": len(signed),
        "requests": requests,
        "seconds": round(seconds, 3),
        "rate_per_s": round(len(signed) / seconds, 1),
        "signing": "precomputed (not timed)",
    }


# --- the whole benchmark ----------------------------------------------------------------------


def _settings(database_url: str, retry_base_s: float) -> Any:
    from service.settings import Settings

    return Settings(
        database_url=database_url,
        kafka_bootstrap="",
        admin_token=None,
        metrics_port=0,
        notify_retry_base_s=retry_base_s,
        **{f"rate_limit_{r}": "" for r in ("operator", "station", "enterprise", "anonymous")},
    )


def _top(profiler: cProfile.Profile) -> list[dict[str, Any]]:
    """The functions this process spent most time in while delivering: their own time, or
    with ``HAZE_BENCH_PROFILE_BY=cumulative`` their cumulative time; the first
    ``HAZE_BENCH_PROFILE_TOP`` (30)."""
    count = int(os.environ.get("HAZE_BENCH_PROFILE_TOP", "30"))
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    by = 3 if os.environ.get("HAZE_BENCH_PROFILE_BY") == "cumulative" else 2
    rows = sorted(stats.items(), key=lambda item: item[1][by], reverse=True)[:count]
    return [
        {
            "function": f"{Path(file).name}:{line}:{name}",
            "calls": calls,
            "own_s": round(own, 3),
            "cumulative_s": round(cumulative, 3),
        }
        for (file, line, name), (_, calls, own, cumulative, _) in rows
    ]


def run(
    enterprises: int = 100_000, fail: float = 0.1, retry_base_s: float = 2.0, profile: bool = False
) -> dict:
    """Set up, measure, stop everything; returns what ``main`` prints."""
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    load_at_start = os.getloadavg()
    started = time.perf_counter()
    with _database() as url, _receiver(fail) as (base, _):
        settings = _settings(url, retry_base_s)
        operator, ids = asyncio.run(_seed(settings, enterprises))
        seed_s = time.perf_counter() - started
        begun = time.perf_counter()
        asyncio.run(_subscribe(settings, operator, ids, f"{base}/hook"))
        subscribe_s = time.perf_counter() - begun
        profiler = cProfile.Profile() if profile else None
        measured = asyncio.run(_deliver(settings, operator, base, enterprises, profiler))
        stored = asyncio.run(_stored(settings))
        bare = asyncio.run(_bare(base, stored.pop("bodies"), settings.notify_concurrency))
    report = _report(
        measured,
        stored,
        bare,
        enterprises=enterprises,
        fail=fail,
        settings=settings,
        setup={"seed_s": round(seed_s, 1), "subscriptions_insert_s": round(subscribe_s, 1)},
        machine={
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in load_at_start],
            "python": platform.python_version(),
            "platform": platform.platform(),
            "at": at,
        },
    )
    if profiler is not None:
        report["profile_top_own_time"] = _top(profiler)
    return report


def _report(
    measured: dict[str, Any],
    stored: dict[str, Any],
    bare: dict[str, Any],
    *,
    enterprises: int,
    fail: float,
    settings: Any,
    setup: dict[str, float],
    machine: dict[str, Any],
) -> dict[str, Any]:
    wall0 = measured["wall0"]
    latencies = sorted((d - wall0).total_seconds() for d in stored["delivered_at"] if d is not None)
    first_try = sorted(
        (d - wall0).total_seconds()
        for d, a in zip(stored["delivered_at"], stored["attempts"], strict=True)
        if d is not None and a == 1
    )
    attempts: dict[str, int] = {}
    for a in stored["attempts"]:
        attempts[str(a)] = attempts.get(str(a), 0) + 1
    per_enterprise: dict[str, int] = {}
    for eid, status in zip(stored["enterprise"], stored["status"], strict=True):
        if status == "delivered":
            per_enterprise[eid] = per_enterprise.get(eid, 0) + 1
    notices = len(set(stored["notice_id"]))
    once = (
        notices == enterprises
        and len(per_enterprise) == enterprises
        and set(per_enterprise.values()) == {1}
        and measured["receiver_delivered"] == enterprises
    )
    all_delivered_s = measured["all_delivered_s"]
    rate = enterprises / all_delivered_s
    ratio = rate / bare["rate_per_s"]
    stored_s = max((c - wall0).total_seconds() for c in stored["notice_created_at"])
    return {
        "benchmark": "notify",
        "enterprises": enterprises,
        "receiver": {
            "process": "python -m tests.infra.receiver (its own)",
            "fail_first_attempt_fraction": fail,
            "fail_status": 503,
            "retry_after": None,
        },
        "service": "in this process: create_app's lifespan on the in-process bus (haze serve)",
        "database": "postgresql",
        "retry_base_s": settings.notify_retry_base_s,
        "retry_base_is_default": settings.notify_retry_base_s == DEFAULT_RETRY_BASE_S,
        "concurrency": settings.notify_concurrency,
        "claim_batch": settings.notify_claim_batch,
        "alert_commit_s": round(measured["commit_s"], 3),
        "notices_stored_s": round(stored_s, 3),
        "all_delivered_s": round(all_delivered_s, 3),
        "all_delivered_by": "the receiver's /stats delivered count reaching N",
        "recorded_s": round(measured["recorded_s"], 3),
        "latency_from": "t0, just before POST /api/v1/alerts; to each delivered_at",
        "latency_first_s": round(latencies[0], 3),
        "latency_p50_s": round(_percentile(latencies, 50), 3),
        "latency_p99_s": round(_percentile(latencies, 99), 3),
        "latency_max_s": round(latencies[-1], 3),
        "first_try_last_s": round(first_try[-1], 3) if first_try else None,
        "attempts": attempts,
        "attempts_total": sum(stored["attempts"]),
        "receiver_requests": measured["receiver_requests"],
        "notices": notices,
        "deliveries": len(stored["status"]),
        "delivered": sum(1 for s in stored["status"] if s == "delivered"),
        "once_in_effect": once,
        "rate_per_s": round(rate, 1),
        "first_pass_rate_per_s": round(len(first_try) / first_try[-1], 1) if first_try else None,
        "bare": bare,
        "ratio_to_bare": round(ratio, 3),
        "goal_all_delivered_s": GOAL_ALL_DELIVERED_S,
        "goal_ratio_to_bare": GOAL_RATIO_TO_BARE,
        "met": {
            "all_delivered_within_goal": once and all_delivered_s <= GOAL_ALL_DELIVERED_S,
            "ratio_to_bare": once and ratio >= GOAL_RATIO_TO_BARE,
        },
        "setup": setup,
        "machine": machine,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.notify",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--fail", type=float, default=0.1, help="first attempts refused")
    parser.add_argument(
        "--retry-base-s",
        type=float,
        default=DEFAULT_RETRY_BASE_S,
        help="HAZE_NOTIFY_RETRY_BASE_S (the default: 2 s)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile this process while it delivers"
    )
    args = parser.parse_args(argv)
    if args.enterprises < 1 or not 0 <= args.fail < 1 or not args.retry_base_s > 0:
        parser.error("--enterprises >= 1, 0 <= --fail < 1, --retry-base-s > 0")
    result = run(args.enterprises, args.fail, args.retry_base_s, args.profile)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
