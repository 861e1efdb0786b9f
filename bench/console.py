"""Benchmark of the console's pages with a large list on PostgreSQL; prints one JSON object.

    python -m bench.console [--enterprises 100000] [--requests 60] [--warmup 5]

Starts a PostgreSQL 15 (as ``tests.infra.pg_server`` does for the tests), migrates it, loads
the sample (regions, stations, list) and publishes a revision of the sample plus
``--enterprises`` synthetic enterprises spread over the sample's regions, issues an orange
warning for Kundulun (150203) so that most enterprises have orders, and signs in as an
operator. Then, in this process, the console's application answers over ASGI (httpx's
transport, no network), so the time of a request is the server's time plus a constant client
cost, which the reference measures:

- ``bare``: ``GET /healthz`` through the same application, middleware and client: the floor;
- ``dashboard``: ``GET /dashboard``;
- ``list_page``: ``GET /list`` (the first page of the published list);
- ``list_page_deep``: the page reached by following the "next" link five times;
- ``search``: ``GET /list`` filtered by a one-character name part that only a few sample
  enterprises have (钢) and a grade: the slowest kind, every row read to find them;
- ``search_common``: a name part most enterprises have (合成, the synthetic ones) and a grade:
  full pages found early;
- ``enterprise``: ``GET /enterprises/{id}`` of an enterprise under the warning.

Each page is asked ``--requests`` times after ``--warmup`` unmeasured requests, interleaved
round-robin so that a slow spell of the machine touches every page alike. Reported per page:
``p50_ms``, ``p95_ms``, ``max_ms``, ``p95_minus_bare_ms``, ``status`` (every answer must be 200),
``html_bytes`` (the page itself) and ``weight_bytes`` (the page plus the scripts and styles it
loads, without images: the console has none). Goals: ``p95_ms`` <= 100 and ``weight_bytes`` <=
200 KB for each page (``goal_met``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

GOAL_P95_MS = 100.0
GOAL_WEIGHT_BYTES = 200 * 1024
OPERATOR = "haze_bench-console-operator-" + "x" * 24
_ASSET = re.compile(r'(?:src|href)="(/assets/[^"]+\.(?:js|css))"')
_NEXT = re.compile(r'<a[^>]+rel="next"[^>]+href="([^"]+)"|<a[^>]+href="([^"]+)"[^>]+rel="next"')


async def _load(settings: Any, enterprises: int) -> str:
    """Migrate, seed, publish the large revision, issue the warning; returns an enterprise id
    under the warning."""
    from emission_list.revisions import Revision
    from emission_list.samples import kundulun_region_tree
    from emission_list.synthetic import synthetic_list
    from service.bootstrap import prepare
    from service.storage.engine import create_engine, make_session_maker
    from service.storage.repositories import lists

    await prepare(settings)
    engine = create_engine(settings)
    try:
        async with make_session_maker(engine)() as session:
            sample = await lists.published(session)
            assert sample is not None
            tree = kundulun_region_tree()
            more = synthetic_list(enterprises, seed=11, regions=tree).entries()
            revision = Revision(
                number=sample.number + 1,
                base=sample.number,
                status="published",
                effective_from=sample.effective_from,
                author="bench",
                note="bench.console",
                entries=(*sample.entries, *more),
            )
            await lists.add(session, revision)
            await session.commit()
    finally:
        await engine.dispose()
    under = next(e for e in more if "150203" in tree.ancestors(e.region))
    return under.enterprise_id


async def _sign_in(client: httpx.AsyncClient) -> None:
    page = await client.get("/signin", headers={"Accept": "text/html"})
    csrf = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert csrf, page.text[:500]
    answer = await client.post(
        "/signin",
        data={"csrftoken": csrf.group(1), "token": OPERATOR},
        headers={"Accept": "text/html"},
    )
    assert answer.status_code == 303, answer.text[:500]


async def _issue_orange(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/api/v1/alerts",
        headers={"Authorization": f"Bearer {OPERATOR}"},
        json={
            "region": "150203",
            "level": "orange",
            "response": "full",
            "reason": {"zh-CN": "基准测试", "en": "benchmark"},
        },
    )
    assert answer.status_code == 200, answer.text[:500]


def _next_link(html: str) -> str | None:
    found = _NEXT.search(html)
    if not found:
        return None
    return (found.group(1) or found.group(2)).replace("&amp;", "&")


async def _weight(client: httpx.AsyncClient, html: str, cache: dict[str, int]) -> int:
    total = len(html.encode("utf-8"))
    for asset in sorted(set(_ASSET.findall(html))):
        if asset not in cache:
            cache[asset] = len((await client.get(asset)).content)
        total += cache[asset]
    return total


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _measure(args: argparse.Namespace) -> dict[str, Any]:
    from service.commands.process import create_app
    from service.settings import Settings
    from tests.infra import pg_server

    server = pg_server.start()
    try:
        options = {f"rate_limit_{r}": "" for r in ("operator", "station", "enterprise")}
        settings = Settings(
            database_url=server.url,
            seed_sample=True,
            admin_token=OPERATOR,
            kafka_bootstrap="",
            rate_limit_anonymous="",
            **options,
        )
        load_start = time.perf_counter()
        enterprise_id = await _load(settings, args.enterprises)
        load_s = time.perf_counter() - load_start
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://haze") as client:
                await _issue_orange(client)
                await _sign_in(client)
                return await _pages(client, args, enterprise_id, load_s)
    finally:
        server.stop()


async def _pages(
    client: httpx.AsyncClient, args: argparse.Namespace, enterprise_id: str, load_s: float
) -> dict[str, Any]:
    html = {"Accept": "text/html"}
    deep = "/list"
    for _ in range(5):
        page = await client.get(deep, headers=html)
        link = _next_link(page.text)
        if link is None:
            break
        deep = link
    pages: dict[str, str] = {
        "bare": "/healthz",
        "dashboard": "/dashboard",
        "list_page": "/list",
        "list_page_deep": deep,
        "search": "/list?q=%E9%92%A2&grade=B",
        "search_common": "/list?q=%E5%90%88%E6%88%90&grade=C",
        "enterprise": f"/enterprises/{enterprise_id}",
    }
    times: dict[str, list[float]] = {name: [] for name in pages}
    statuses: dict[str, set[int]] = {name: set() for name in pages}
    bodies: dict[str, str] = {}

    async def ask(name: str, path: str, record: Callable[[float], None] | None) -> None:
        start = time.perf_counter()
        answer = await client.get(path, headers=html)
        elapsed = time.perf_counter() - start
        statuses[name].add(answer.status_code)
        bodies[name] = answer.text
        if record is not None:
            record(elapsed * 1000)

    for _ in range(args.warmup):
        for name, path in pages.items():
            await ask(name, path, None)
    for _ in range(args.requests):
        for name, path in pages.items():
            await ask(name, path, times[name].append)
    assets: dict[str, int] = {}
    bare_p95 = _percentile(times["bare"], 0.95)
    report: dict[str, Any] = {}
    for name, path in pages.items():
        p95 = _percentile(times[name], 0.95)
        entry: dict[str, Any] = {
            "path": path,
            "p50_ms": round(statistics.median(times[name]), 2),
            "p95_ms": round(p95, 2),
            "max_ms": round(max(times[name]), 2),
            "status": sorted(statuses[name]),
        }
        if name != "bare":
            weight = await _weight(client, bodies[name], assets)
            entry |= {
                "p95_minus_bare_ms": round(p95 - bare_p95, 2),
                "html_bytes": len(bodies[name].encode("utf-8")),
                "weight_bytes": weight,
                "goal_met": p95 <= GOAL_P95_MS
                and weight <= GOAL_WEIGHT_BYTES
                and statuses[name] == {200},
            }
        report[name] = entry
    measured = [v for k, v in report.items() if k != "bare"]
    return {
        "benchmark": "console",
        "enterprises": args.enterprises + 90,
        "database": "postgresql",
        "requests_per_page": args.requests,
        "load_s": round(load_s, 1),
        "pages": report,
        "goal_p95_ms": GOAL_P95_MS,
        "goal_weight_bytes": GOAL_WEIGHT_BYTES,
        "goal_met": all(p["goal_met"] for p in measured),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)
    result = asyncio.run(_measure(args))
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
