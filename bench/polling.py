"""Benchmark of enterprises polling their actions; prints one JSON object.

    python -m bench.polling [--enterprises 5000] [--requests 20000] [--concurrency 32]
                            [--rounds 5] [--token-read-requests 5000]
                            [--loop auto|asyncio|uvloop] [--http auto|h11|httptools]

Serves, each in its own process on 127.0.0.1 at a free port, with uvicorn and the same options
as ``haze serve`` (one worker, no access log, ``--loop`` and ``--http``, by default uvloop and
httptools when installed):

- the real service on its embedded default: a fresh temporary ``HAZE_DATA_DIR`` (SQLite),
  migrated and seeded by :func:`service.bootstrap.prepare` (the sample Kundulun list, 90
  enterprises) plus a published revision of the sample and ``--enterprises`` synthetic
  enterprises spread over the sample's regions (about four in five under Kundulun, whose
  orange warning gives them actions; the rest answer "none"), one enterprise token per
  enterprise (made with :func:`service.security.create_token`), with the default token cache;
- the same service and database with ``HAZE_TOKEN_CACHE_S=0``, where every request reads its
  token's row: the "at most one indexed read per request" path;
- a bare FastAPI app with one ``GET /bare`` answering a constant small JSON;
- a fixed-answer asyncio server (no HTTP framework): the ceiling of the load generator.

One load generator in this process (raw HTTP/1.1 on asyncio streams, on uvloop when the
servers use it; ``--concurrency`` keep-alive connections, one request in flight on each; the
same code for every measurement) sends a bounded number of requests and times each one from
write to the last byte of the answer. Each answer is checked: its status, and its body (empty
for a 304; for a 200 of the service, the polled enterprise's id in it). After a warm-up of
each target, the measurements run interleaved for ``--rounds`` rounds:

- ``client_ceiling``: ``GET /bare`` on the fixed-answer server;
- ``bare``: ``GET /bare`` on the bare FastAPI app;
- ``poll_304``: ``GET /api/v1/enterprises/{id}/actions`` round-robin over all enterprises,
  each with its own token and its current ETag in ``If-None-Match``: each answer must be 304;
- ``poll_200``: the same without ``If-None-Match``: each answer must be 200 with the body;
- ``poll_304_token_read``: ``poll_304`` against the service without token cache
  (``--token-read-requests`` requests).

Each is reported by its median round (by rate): ``requests`` (answered), ``seconds``,
``rps``, ``p50_ms``, ``p99_ms``, ``statuses`` (counts by status), ``unexpected`` (answers
with another status or body), ``errors`` (connections broken) and ``server_cpu_us``, the CPU
time [µs] the server process spent per request (user + system, from /proc; null elsewhere):
the cost of an answer, unlike the rate hardly touched by the client sharing the machine.
``rps_all_rounds`` lists every round.

``poll_200`` is answered from bodies encoded once per ETag and language (every enterprise's
Chinese one was encoded when its ETag was fetched before the rounds); how much an answer
costs whose body is not encoded yet is ``poll_200_first_in_english``, measured once before
the warm-up: each enterprise's first answer in English (``Accept-Language: en``, at most
``--requests`` of them).

``ratio_304_to_bare`` is the median over rounds of poll_304's rate / bare's rate in the same
round (``ratio_304_to_bare_by_round``), so a slow spell of the machine touches both sides of
each ratio; goal >= 0.9 (``met_304``); ``ratio_200_to_bare``, the same for poll_200, goal
>= 0.6 (``met_200``); ``met`` needs both and every answer of every measurement as expected
(``all_answers_as_expected``). ``ratio_304_token_read_to_bare`` and
``bare_to_client_ceiling`` (how close the bare app comes to what the client can drive: near 1
would mean the client, not the server, limits the bare rate and flatters the ratios) are
medians the same way. Where the time goes: ``server_cpu_us`` (each measurement's median round)
and ``server_cpu_to_bare``, the server's CPU per answer against the bare app's; the rates
also hold the client's share of the two CPUs. ``machine`` says where it ran (the load average
at the start tells whether something else was using the CPUs: with few CPUs the rates move
by 10-20 % from run to run, and far more when other work shares them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.infra.servers import free_port, stop, wait_ready

GOAL_304 = 0.9  # poll_304's rate / bare's, at least
GOAL_200 = 0.6  # poll_200's rate / bare's, at least
KUNDULUN = "150203"
ACTIONS = "/api/v1/enterprises/{}/actions"
ROOT = Path(__file__).resolve().parents[1]
BARE_BODY = b'{"status":"ok"}'
FIXED_ANSWER = (
    b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\ncontent-type: application/json\r\n\r\n%s"
    % (len(BARE_BODY), BARE_BODY)
)


# --- the servers (each in a subprocess: python -m bench.polling --serve KIND --port N) -----


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _resolved(loop: str, http: str) -> tuple[str, str]:
    """What uvicorn's ``auto`` picks here."""
    if loop == "auto":
        loop = "uvloop" if _has("uvloop") else "asyncio"
    if http == "auto":
        http = "httptools" if _has("httptools") else "h11"
    return loop, http


def _loop_factory(loop: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None


class _FixedAnswer(asyncio.Protocol):
    """Answers every request (headers only, no body expected) with :data:`FIXED_ANSWER`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.pending = b""

    def data_received(self, data: bytes) -> None:
        self.pending += data
        complete = self.pending.count(b"\r\n\r\n")
        if complete:
            self.pending = self.pending[self.pending.rfind(b"\r\n\r\n") + 4 :]
            self.transport.write(FIXED_ANSWER * complete)  # type: ignore[attr-defined]


async def _serve_fixed(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(_FixedAnswer, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def _serve(kind: str, port: int, loop: str, http: str) -> None:
    """Run one server until terminated; the service reads its settings from the environment."""
    if kind == "fixed":
        with (
            contextlib.suppress(KeyboardInterrupt),
            asyncio.Runner(loop_factory=_loop_factory(_resolved(loop, http)[0])) as runner,
        ):
            runner.run(_serve_fixed(port))
        return
    import uvicorn
    from fastapi import FastAPI

    if kind == "bare":
        app = FastAPI()

        @app.get("/bare")
        async def bare() -> dict[str, str]:
            return {"status": "ok"}

    else:
        from service.commands.process import create_app
        from service.settings import Settings

        app = create_app(Settings())
    uvicorn.run(
        app, host="127.0.0.1", port=port, loop=loop, http=http, log_level="warning",
        access_log=False,
    )  # fmt: skip


@dataclass
class _Server:
    process: subprocess.Popen[bytes]
    port: int


def _start(kind: str, env: dict[str, str], log: Path, loop: str, http: str) -> _Server:
    port = free_port()
    command = [sys.executable, "-m", "bench.polling", "--serve", kind, "--port", str(port)]
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [*command, "--loop", loop, "--http", http],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    probe = f"http://127.0.0.1:{port}" + ("/readyz" if kind == "app" else "/bare")
    wait_ready(probe, process, log)
    return _Server(process, port)


def _stop(server: _Server) -> None:
    stop(server.process)


# --- the database: the sample, more enterprises, a token each -------------------------------


async def _seed(data_dir: Path, extra: int) -> tuple[str, dict[str, str]]:
    """Prepare the database as ``haze serve`` does, publish the sample plus ``extra``
    synthetic enterprises and make a token for each; returns (operator secret, {id: secret})."""
    from emission_list.revisions import Revision
    from emission_list.samples import kundulun_region_tree
    from emission_list.synthetic import synthetic_list
    from service.bootstrap import prepare
    from service.security import create_token
    from service.settings import Settings
    from service.storage.engine import create_engine, make_session_maker
    from service.storage.repositories import lists

    settings = Settings(data_dir=data_dir, database_url="", kafka_bootstrap="", admin_token=None)
    operator = (await prepare(settings)).operator_token
    if operator is None:
        raise RuntimeError(f"{data_dir} was not a fresh database")
    engine = create_engine(settings)
    tokens: dict[str, str] = {}
    try:
        async with make_session_maker(engine)() as session:
            sample = await lists.published(session)
            assert sample is not None
            entries = sample.entries
            if extra:
                tree = kundulun_region_tree()
                more = synthetic_list(extra, seed=7, regions=tree).entries()
                entries = (*entries, *more)
                revision = Revision(
                    number=sample.number + 1,
                    base=sample.number,
                    status="published",
                    effective_from=sample.effective_from,
                    author="bench",
                    note="bench.polling",
                    entries=entries,
                )
                await lists.add(session, revision)
            for entry in entries:
                _, tokens[entry.enterprise_id] = await create_token(
                    session, "enterprise", enterprise_id=entry.enterprise_id, label="bench"
                )
            await session.commit()
    finally:
        await engine.dispose()
    if len(tokens) != 90 + extra:
        raise RuntimeError(f"{90 + extra} enterprises expected, {len(tokens)} distinct ids")
    return operator, tokens


# --- the load generator ----------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One request and what must come back."""

    request: bytes
    status: int
    marker: bytes | None  # must be in the body; None: the body must be empty


def _request(
    path: str, token: str | None = None, etag: str | None = None, language: str | None = None
) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if etag:
        lines.append(f"If-None-Match: {etag}")
    if language:
        lines.append(f"Accept-Language: {language}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes, bytes]:
    """Send one request; return (status, head, body)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at < 0:
        if b"\r\ntransfer-encoding:" in lower:
            raise ValueError("a chunked answer (not expected from these servers)")
        body = b""
    else:
        length = int(head[at + 17 : head.index(b"\r\n", at + 2)])
        body = await reader.readexactly(length) if length else b""
    return int(head[9:12]), head, body


def _percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted values [s]."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered), max(1, math.ceil(len(ordered) * q / 100))) - 1]


async def _load(port: int, probes: Sequence[Probe], concurrency: int) -> dict[str, object]:
    """Send ``probes`` over ``concurrency`` keep-alive connections, one in flight on each."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    unexpected = errors = cursor = 0
    clock = time.perf_counter

    async def connection() -> None:
        nonlocal cursor, unexpected, errors
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            errors += 1
            return
        try:
            while cursor < len(probes):
                probe = probes[cursor]
                cursor += 1
                started = clock()
                status, _, body = await _exchange(reader, writer, probe.request)
                latencies.append(clock() - started)
                statuses[status] += 1
                if status != probe.status or (
                    body if probe.marker is None else probe.marker not in body
                ):
                    unexpected += 1
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            errors += 1
        finally:
            writer.close()

    started = clock()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    seconds = clock() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": round(seconds, 4),
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(1000 * _percentile(latencies, 50), 3),
        "p99_ms": round(1000 * _percentile(latencies, 99), 3),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "unexpected": unexpected,
        "errors": errors,
    }


async def _issue_warning(port: int, operator: str) -> None:
    warning = {"region": KUNDULUN, "level": "orange", "reason": {"zh-CN": "基准", "en": "bench"}}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=60, trust_env=False
    ) as client:
        answer = await client.post(
            "/api/v1/alerts", json=warning, headers={"Authorization": f"Bearer {operator}"}
        )
        answer.raise_for_status()


async def _etags(port: int, tokens: dict[str, str], concurrency: int) -> dict[str, str]:
    """Every enterprise's current ETag (also fills the service's token cache)."""
    pending = list(tokens.items())
    etags: dict[str, str] = {}

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while pending:
                enterprise_id, token = pending.pop()
                request = _request(ACTIONS.format(enterprise_id), token)
                status, head, body = await _exchange(reader, writer, request)
                if status != 200 or enterprise_id.encode() not in body:
                    raise RuntimeError(f"{enterprise_id}: {status} {body[:300]!r}")
                at = head.lower().index(b"\r\netag:") + 7
                etags[enterprise_id] = head[at : head.index(b"\r\n", at)].strip().decode()
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return etags


def _cpu_s(server: _Server) -> float | None:
    """CPU time [s] the server process has used (user + system), where /proc tells it."""
    try:
        fields = Path(f"/proc/{server.process.pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(
    runner: asyncio.Runner, server: _Server, probes: Sequence[Probe], concurrency: int
) -> dict[str, object]:
    """One measurement: :func:`_load` and the server's CPU time per answered request."""
    before = _cpu_s(server)
    result = runner.run(_load(server.port, probes, concurrency))
    after = _cpu_s(server)
    answered = result["requests"]
    result["server_cpu_us"] = (
        round((after - before) / answered * 1e6, 1)
        if before is not None and after is not None and answered
        else None
    )
    return result


def _cycle(probes: Sequence[Probe], total: int) -> list[Probe]:
    return [probes[i % len(probes)] for i in range(total)]


# --- the run ---------------------------------------------------------------------------------


def run(
    enterprises: int = 5000,
    requests: int = 20000,
    concurrency: int = 32,
    rounds: int = 5,
    token_read_requests: int = 5000,
    loop: str = "auto",
    http: str = "auto",
) -> dict[str, object]:
    """Set up, measure and stop everything; returns what ``main`` prints."""
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    load_at_start = os.getloadavg()
    server_loop, server_http = _resolved(loop, http)
    root = Path(tempfile.mkdtemp(prefix="haze-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZE_")}
    env["HAZE_DATA_DIR"] = str(root / "data")
    # Rate limits stay on (their cost is measured) but far above what one token sends here.
    env["HAZE_RATE_LIMIT_ENTERPRISE"] = "1000000/minute"
    servers: list[_Server] = []

    def start(kind: str, log: str, **extra_env: str) -> _Server:
        servers.append(_start(kind, env | extra_env, root / log, loop, http))
        return servers[-1]

    try:
        with asyncio.Runner(loop_factory=_loop_factory(server_loop)) as runner:
            started = time.perf_counter()
            operator, tokens = runner.run(_seed(root / "data", enterprises))
            seeded_s = time.perf_counter() - started
            app = start("app", "app.log")
            runner.run(_issue_warning(app.port, operator))
            etags = runner.run(_etags(app.port, tokens, concurrency))
            # Started after the warning, it builds the same board from the database.
            token_read = start("app", "token-read.log", HAZE_TOKEN_CACHE_S="0")
            bare = start("bare", "bare.log")
            fixed = start("fixed", "fixed.log")
            setup_s = time.perf_counter() - started

            ids = list(tokens)
            polls_304 = [
                Probe(_request(ACTIONS.format(e), tokens[e], etags[e]), 304, None) for e in ids
            ]
            polls_200 = [
                Probe(_request(ACTIONS.format(e), tokens[e]), 200, e.encode()) for e in ids
            ]
            bare_probe = [Probe(_request("/bare"), 200, b'"ok"')]
            # Each enterprise's first answer in English: its body encoded on the spot.
            firsts_en = [
                Probe(_request(ACTIONS.format(e), tokens[e], language="en"), 200, e.encode())
                for e in ids[:requests]
            ]
            cold = _measure(runner, app, firsts_en, concurrency)
            plans = {
                "client_ceiling": (fixed, _cycle(bare_probe, requests)),
                "bare": (bare, _cycle(bare_probe, requests)),
                "poll_304": (app, _cycle(polls_304, requests)),
                "poll_200": (app, _cycle(polls_200, requests)),
                "poll_304_token_read": (token_read, _cycle(polls_304, token_read_requests)),
            }
            for server, probes in plans.values():  # warm-up
                _measure(runner, server, probes[: min(2000, len(probes))], concurrency)
            measured: dict[str, list[dict[str, object]]] = {name: [] for name in plans}
            for _ in range(rounds):
                for name, (server, probes) in plans.items():
                    measured[name].append(_measure(runner, server, probes, concurrency))
    finally:
        for server in reversed(servers):
            _stop(server)
        shutil.rmtree(root, ignore_errors=True)

    results = {
        name: sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]  # type: ignore[arg-type,return-value]
        for name, runs in measured.items()
    }
    expected = {name: len(probes) for name, (_, probes) in plans.items()}
    all_as_expected = all(
        r["requests"] == expected[name] and r["unexpected"] == 0 and r["errors"] == 0
        for name, runs in measured.items()
        for r in runs
    ) and (cold["requests"], cold["unexpected"], cold["errors"]) == (len(firsts_en), 0, 0)

    def ratios(name: str, to: str) -> list[float]:
        """The rate of ``name`` over that of ``to``, round by round (measured minutes apart at
        most, so a slow spell of the machine touches both)."""
        pairs = zip(measured[name], measured[to], strict=True)
        return [a["rps"] / b["rps"] for a, b in pairs]  # type: ignore[operator]

    ratio_304 = ratios("poll_304", "bare")
    ratio = statistics.median(ratio_304)
    ratio_200 = statistics.median(ratios("poll_200", "bare"))
    met_304, met_200 = ratio >= GOAL_304, ratio_200 >= GOAL_200
    bare_cpu = results["bare"]["server_cpu_us"]
    import fastapi
    import starlette
    import uvicorn

    return {
        "benchmark": "polling",
        "enterprises": len(ids),
        "requests_per_measurement": requests,
        "token_read_requests": token_read_requests,
        "concurrency": concurrency,
        "rounds": rounds,
        "seed_s": round(seeded_s, 2),
        "setup_s": round(setup_s, 2),
        **results,
        "rps_all_rounds": {n: [r["rps"] for r in runs] for n, runs in measured.items()},
        "ratio_304_to_bare": round(ratio, 3),
        "ratio_304_to_bare_by_round": [round(r, 3) for r in ratio_304],
        "ratio_200_to_bare": round(ratio_200, 3),
        "ratio_304_token_read_to_bare": round(
            statistics.median(ratios("poll_304_token_read", "bare")), 3
        ),
        "bare_to_client_ceiling": round(statistics.median(ratios("bare", "client_ceiling")), 3),
        "poll_200_first_in_english": cold,
        "server_cpu_us": {
            name: results[name]["server_cpu_us"] for name in ("bare", "poll_304", "poll_200")
        }
        | {"poll_200_first_in_english": cold["server_cpu_us"]},
        "server_cpu_to_bare": {
            name: round(results[name]["server_cpu_us"] / bare_cpu, 3)  # type: ignore[operator]
            if bare_cpu and results[name]["server_cpu_us"]
            else None
            for name in ("poll_304", "poll_200")
        },
        "goals": {"ratio_304_to_bare_min": GOAL_304, "ratio_200_to_bare_min": GOAL_200},
        "all_answers_as_expected": all_as_expected,
        "met_304": met_304,
        "met_200": met_200,
        "met": met_304 and met_200 and all_as_expected,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in load_at_start],
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loop": server_loop,
            "http": server_http,
            "uvicorn": uvicorn.__version__,
            "fastapi": fastapi.__version__,
            "starlette": starlette.__version__,
            "at": at,
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.polling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--enterprises", type=int, default=5000, help="synthetic ones beyond the sample's 90"
    )
    parser.add_argument("--requests", type=int, default=20000, help="per measurement and round")
    parser.add_argument("--concurrency", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--token-read-requests", type=int, default=5000, help="per round of poll_304_token_read"
    )
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto")
    parser.add_argument("--http", choices=["auto", "h11", "httptools"], default="auto")
    parser.add_argument("--serve", choices=["app", "bare", "fixed"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve, args.port, args.loop, args.http)
        return
    if min(args.requests, args.concurrency, args.rounds, args.token_read_requests) < 1:
        parser.error("--requests, --concurrency, --rounds and --token-read-requests must be >= 1")
    if args.enterprises < 0:
        parser.error("--enterprises must be >= 0")
    result = run(
        args.enterprises,
        args.requests,
        args.concurrency,
        args.rounds,
        args.token_read_requests,
        args.loop,
        args.http,
    )
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
