"""Benchmark of enterprises polling their actions; prints one JSON object.

    python -m bench.polling [--enterprises 5000] [--requests 20000] [--concurrency 32]
                            [--rounds 3]

Serves, each with uvicorn in its own process on 127.0.0.1 with the same options (one worker,
no access log, uvicorn's default loop and HTTP implementation):

- the real service on its embedded default (a fresh SQLite file), with the sample Kundulun
  list plus ``--enterprises`` more on the same regions as the published revision, one
  enterprise token per enterprise, and an orange warning in force over Kundulun;
- a bare FastAPI app with one GET endpoint answering a constant small JSON.

One load generator in this process (raw HTTP/1.1 over ``--concurrency`` keep-alive
connections, the same code for every measurement) sends ``--requests`` requests per
measurement and times each. Measurements, interleaved over ``--rounds`` rounds (the median
round is reported):

- ``bare``: ``GET /bare`` on the bare app;
- ``poll_304``: ``GET /api/v1/enterprises/{id}/actions`` over all enterprises, each with its
  own token and a valid ``If-None-Match``: every answer must be 304;
- ``poll_200``: the same without ``If-None-Match``: every answer must be 200 with a body.

- ``poll_304_uncached_token``: poll_304 against a second instance of the service with
  ``HAZE_TOKEN_CACHE_S=0``, where every request reads its token's row (the "at most one
  indexed read per request" path; enterprises polling less often than the cache lasts).

``ratio_304_to_bare`` = rps of poll_304 / rps of bare (goal >= 0.5), with the default token
cache (300 s): the steady state of enterprises polling every minute or so.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import httpx

RATIO_GOAL = 0.5
KUNDULUN = "150203"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the servers (run in subprocesses: python -m bench.polling --serve app|bare ...) -------


def _serve(kind: str, port: int, database_url: str) -> None:
    import uvicorn
    from fastapi import FastAPI

    if kind == "bare":
        app = FastAPI()

        @app.get("/bare")
        async def bare() -> dict[str, str]:
            return {"status": "ok"}

    else:
        from service.app import create_app
        from service.settings import Settings

        app = create_app(Settings(database_url=database_url))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _start_server(
    kind: str, database_url: str, log: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.polling", "--serve", kind, str(port), database_url],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=os.environ | (env or {}),
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    probe = "/bare" if kind == "bare" else "/readyz"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{kind} server exited:\n{log.read_text()}")
        try:
            if httpx.get(url + probe, timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{kind} server did not start:\n{log.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- the database: the sample, more enterprises, a token each, a warning ---------------------


async def _prepare(database_url: str, extra: int) -> dict[str, str]:
    """Seed the database; returns ``{enterprise_id: token secret}``."""
    from emission_list.revisions import Revision
    from emission_list.samples import kundulun_list, kundulun_region_tree
    from emission_list.synthetic import synthetic_list
    from service.bootstrap import prepare
    from service.db.engine import create_engine, make_session_maker
    from service.repositories import lists
    from service.security import create_token
    from service.settings import Settings

    settings = Settings(database_url=database_url)
    await prepare(settings)
    sample = kundulun_list()
    more = synthetic_list(extra, seed=7, regions=kundulun_region_tree()).entries() if extra else []
    entries = (*sample.entries, *more)
    engine = create_engine(settings)
    tokens = {}
    try:
        async with make_session_maker(engine)() as session:
            revision = Revision(2, 1, "published", sample.effective_from, "bench", "", entries)
            await lists.add(session, revision)
            for entry in entries:
                _, tokens[entry.enterprise_id] = await create_token(
                    session, "enterprise", enterprise_id=entry.enterprise_id
                )
            await session.commit()
    finally:
        await engine.dispose()
    return tokens


# --- the load generator ----------------------------------------------------------------------


async def _load(url: str, requests: Sequence[bytes], concurrency: int) -> dict[str, object]:
    """Send ``requests`` (raw HTTP/1.1) over ``concurrency`` keep-alive connections."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    empty_200 = 0
    cursor = 0

    async def connection() -> None:
        nonlocal cursor, empty_200
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while cursor < len(requests):
                request = requests[cursor]
                cursor += 1
                started = time.perf_counter()
                writer.write(request)
                status = int((await reader.readline()).split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                latencies.append(time.perf_counter() - started)
                statuses[status] += 1
                if status == 200 and not body:
                    empty_200 += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": round(seconds, 4),
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 3),
        "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 3),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "empty_200": empty_200,
    }


def _request(path: str, token: str | None = None, etag: str | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if etag:
        lines.append(f"If-None-Match: {etag}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _etags(url: str, tokens: dict[str, str], operator: str) -> dict[str, str]:
    """Issue the warning, then read every enterprise's current ETag (also warms the caches)."""
    warning = {"region": KUNDULUN, "level": "orange", "reason": {"zh-CN": "基准", "en": "bench"}}
    with httpx.Client(base_url=url, timeout=60) as client:
        answer = client.post(
            "/api/v1/alerts", json=warning, headers={"Authorization": f"Bearer {operator}"}
        )
        answer.raise_for_status()
        etags = {}
        for enterprise_id, token in tokens.items():
            reply = client.get(
                f"/api/v1/enterprises/{enterprise_id}/actions",
                headers={"Authorization": f"Bearer {token}"},
            )
            reply.raise_for_status()
            etags[enterprise_id] = reply.headers["etag"]
    return etags


def _repeat(requests: list[bytes], total: int) -> list[bytes]:
    return [requests[i % len(requests)] for i in range(total)]


def run(enterprises: int, total: int, concurrency: int, rounds: int) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="haze-bench-"))
    database_url = f"sqlite+aiosqlite:///{root / 'haze.db'}"
    processes = []
    try:
        from service.bootstrap import prepare
        from service.settings import Settings

        operator = asyncio.run(prepare(Settings(database_url=database_url))).operator_token
        tokens = asyncio.run(_prepare(database_url, enterprises))
        app, app_url = _start_server("app", database_url, root / "app.log")
        processes.append(app)
        bare, bare_url = _start_server("bare", database_url, root / "bare.log")
        processes.append(bare)
        etags = _etags(app_url, tokens, operator or "")
        # Started after the warning, so it builds the same board; no token cache at all.
        uncached, uncached_url = _start_server(
            "app", database_url, root / "uncached.log", {"HAZE_TOKEN_CACHE_S": "0"}
        )
        processes.append(uncached)
        ids = list(tokens)
        path = "/api/v1/enterprises/{}/actions"
        poll_304 = _repeat([_request(path.format(e), tokens[e], etags[e]) for e in ids], total)
        poll_200 = _repeat([_request(path.format(e), tokens[e]) for e in ids], total)
        plans = {
            "bare": (bare_url, _repeat([_request("/bare")], total)),
            "poll_304": (app_url, poll_304),
            "poll_200": (app_url, poll_200),
            "poll_304_uncached_token": (uncached_url, poll_304),
        }
        for url, requests in plans.values():  # warm-up
            asyncio.run(_load(url, requests[: min(2000, total)], concurrency))
        measured: dict[str, list[dict[str, object]]] = {name: [] for name in plans}
        for _ in range(rounds):
            for name, (url, requests) in plans.items():
                measured[name].append(asyncio.run(_load(url, requests, concurrency)))
        results = {
            name: sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
            for name, runs in measured.items()
        }
        checks = {
            "all_304": results["poll_304"]["statuses"] == {"304": total}
            and results["poll_304_uncached_token"]["statuses"] == {"304": total},
            "all_200_with_body": results["poll_200"]["statuses"] == {"200": total}
            and results["poll_200"]["empty_200"] == 0,
        }
        ratio = results["poll_304"]["rps"] / results["bare"]["rps"]
        return {
            "enterprises": len(ids),
            "requests_per_measurement": total,
            "concurrency": concurrency,
            "rounds": rounds,
            **results,
            "rps_all_rounds": {n: [r["rps"] for r in runs] for n, runs in measured.items()},
            "ratio_304_to_bare": round(ratio, 3),
            "ratio_200_to_bare": round(results["poll_200"]["rps"] / results["bare"]["rps"], 3),
            "ratio_304_uncached_token_to_bare": round(
                results["poll_304_uncached_token"]["rps"] / results["bare"]["rps"], 3
            ),
            "goal_ratio_304_to_bare": RATIO_GOAL,
            "goal_met": ratio >= RATIO_GOAL and all(checks.values()),
            "checks": checks,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
        }
    finally:
        for process in processes:
            _stop(process)
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        _serve(argv[1], int(argv[2]), argv[3])
        return
    parser = argparse.ArgumentParser(prog="python -m bench.polling", description=__doc__)
    parser.add_argument("--enterprises", type=int, default=5000, help="beyond the 90 of the sample")
    parser.add_argument("--requests", type=int, default=20000, help="per measurement and round")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.enterprises, args.requests, args.concurrency, args.rounds), indent=2))


if __name__ == "__main__":
    main()
