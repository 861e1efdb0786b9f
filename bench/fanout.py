"""Alert fan-out benchmark: a forecast on the topic to 100,000 enterprises' new actions being
readable over the API; prints one JSON object.

    python -m bench.fanout [--enterprises 100000] [--runs 20] [--warmup 1]

Starts PostgreSQL 15 and the Tansu broker unless ``HAZE_BENCH_DATABASE_URL`` (a server whose
user may CREATE DATABASE) and ``HAZE_BENCH_KAFKA_BOOTSTRAP`` name existing ones
(``HAZE_BENCH_KAFKA_IDEMPOTENT=1`` for an idempotent producer on Apache Kafka). On that
server a fresh database is made (dropped at the end), migrated and seeded by
:func:`service.bootstrap.prepare` (the sample Kundulun list as revision 1 and an operator
token), and revision 2 is published with ``--enterprises`` synthetic enterprises on the
subdistricts of Kundulun (150203), so a warning over Kundulun reaches every one of them.
The topics get names of their own (``bench<tag>.*``).

Then, as in production, two processes with the settings in their environment (``HAZE_``):
the API (``haze serve --no-consumers``) and the forecasts consumer (``haze consume
forecasts``). Each run (after ``--warmup`` runs not counted):

1. ``t0``; one forecast record (key the region, value the JSON of ``ForecastIn`` as
   :func:`service.bus.records.encode_forecast` makes it, ``issued_at`` = now) for Kundulun
   is produced to the forecasts topic; its AQI calls for yellow, orange, red in turn
   (checked with :func:`emission_list.warnings.decide` on the national rules at start);
2. the consumer decides, stores and commits the alert, announces it on ``haze.alerts`` and
   then publishes every enterprise's new actions on ``haze.actions``; the API, which follows
   ``haze.alerts``, refreshes its action board from the database;
3. this process polls ``GET /api/v1/enterprises/{id}/actions`` (operator token) of a few
   enterprises, the first and the last of the list among them, until every one shows the
   new level: ``t1``; ``latency_s = t1 - t0``;
4. it waits until the run's ``haze.actions`` records are all on the topic (end offsets), then
   resets: an operator lifts the warning by hand (``POST /api/v1/alerts`` level ``none``),
   the API shows level none at once and announces the lift on ``haze.alerts``, which moves
   the consumer's board too; a lift leaves no alert, so the next forecast issues afresh
   (forecasts lower than a forecast alert would only downgrade it slowly, and a forecast
   does not lower a manual alert at all). Before the next run both processes must be idle
   (no CPU time used over 0.3 s), so a run never overlaps the previous one's work.

Reported: ``p50_s``, ``p99_s`` (nearest rank over the runs; with 20 runs p99 is the
slowest), ``max_s``, ``latencies_s``, ``enterprises``, ``goal_p99_s`` = 1.0 and
``goal_met``; ``actions_last_after_alert_max_s`` (the slowest run's last ``haze.actions``
record after its ``haze.alerts`` record) against ``goal_actions_last_s`` = 10 in
``actions_goal_met``; ``met``, both; ``all_runs_observed``: in every run every probe showed
the new level, every enterprise got one ``haze.actions`` record at that level and the alert
event was an issue, and the reset was seen the same way. Each run in ``per_run`` is broken
down on one clock (this machine's): ``decided_s`` (t0 to the ``updated_at`` the consumer
stored with the region's new alert state: fetch, load, decision), ``alert_published_s`` (t0
to the broker timestamp, the producer's create time, of the consumer's ``haze.alerts``
record), ``after_decision_s`` (between the two: board, commit, and whatever ``announce``
does before sending ``haze.alerts``), ``api_after_alert_s`` (from that record to the API
showing the level: its fetch of ``haze.alerts`` and its board refresh), ``actions_first_s``
/ ``actions_last_s`` (t0 to the first / last ``haze.actions`` record), ``lift_s`` (the
reset's request, which commits the change and its outbox row and answers; the records follow
from the outbox relay) and ``poll_stall_during_lift_s`` (the slowest of the polls of one
enterprise's actions sent one after another while the reset's request was in flight).
``breakdown_p50_s`` and ``parts_p50_s`` hold medians over the runs, ``dominant`` names the
largest of the three consecutive parts; ``profile`` times the in-memory pieces in this
process on the same list and tree (building the board, re-evaluating it for a new alert and
back, encoding every ``haze.actions`` record, reading the alert states).

Tansu answers ListOffsets "latest" with a count of record batches rather than the high
watermark, so the records are counted by reading them, after the service went idle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
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
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from tests.infra import pg_server, tansu_server
from tests.infra.servers import free_port, stop, wait_ready

GOAL_P99_S = 1.0
#: Every haze.actions record of a run on the topic within this of the alert [s].
GOAL_ACTIONS_LAST_S = 10.0
KUNDULUN = "150203"
ROOT = Path(__file__).resolve().parents[1]
LOCAL = ZoneInfo("Asia/Shanghai")
ACTIONS = "/api/v1/enterprises/{}/actions"
#: Daily AQI from today (local) whose national decision is the level; the runs cycle through.
FORECASTS = {
    "yellow": (160, 170, 120),  # 2 days > 150
    "orange": (210, 220, 120),  # 2 days > 200
    "red": (320, 330, 340, 120),  # 3 days > 200, a peak > 300
}
CYCLE = ("yellow", "orange", "red")
#: Bounds on waiting for the service: failure detectors, not performance limits.
RUN_LIMIT_S = 120.0
#: Starting a process builds its board: a million enterprises take minutes on a busy machine.
START_LIMIT_S_PER_ENTERPRISE = 0.0006
IDLE_WINDOW_S = 0.3
IDLE_CPU_S = 0.02
PROBES = 8
#: Enterprises whose records the profile also encodes one by one, the reference.
PER_OBJECT_SAMPLE = 50_000


def _percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered), max(1, math.ceil(len(ordered) * q / 100))) - 1]


# --- the servers and the database -----------------------------------------------------------


@contextlib.contextmanager
def _services():
    """(server URL, bootstrap, whether the broker is ours): configured, else started."""
    started: list = []
    try:
        url = os.environ.get("HAZE_BENCH_DATABASE_URL")
        if not url:
            started.append(pg_server.start())
            url = started[-1].url
        bootstrap = os.environ.get("HAZE_BENCH_KAFKA_BOOTSTRAP")
        ours = not bootstrap
        if ours:
            started.append(tansu_server.start())
            bootstrap = started[-1].bootstrap
        yield url, bootstrap, ours
    finally:
        for server in reversed(started):
            server.stop()


def _dsn(url: str, database: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_dsn(url).replace("+asyncpg", "", 1))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _settings(database_url: str, bootstrap: str, our_broker: bool):
    from service.settings import Settings

    tag = uuid.uuid4().hex[:8]
    values: dict[str, object] = {
        "database_url": database_url,
        "kafka_bootstrap": bootstrap,
        "kafka_idempotent": os.environ.get("HAZE_BENCH_KAFKA_IDEMPOTENT", "") == "1",
        # Tansu holds a group join for half the session; Apache Kafka refuses under 6 s.
        "kafka_session_timeout_ms": 2000 if our_broker else 6000,
        "kafka_heartbeat_ms": 500 if our_broker else 1000,
        "metrics_port": 0,
        # A missed haze.alerts record must show as a failure, not as the ticker's delay.
        "refresh_interval_s": 3600,
        "admin_token": None,
        # The benchmark's poller asks far more often than any enterprise would; what is
        # measured is the fan-out, not the rate limiter (bench.polling measures its cost).
        "rate_limit_operator": "0",
        "rate_limit_enterprise": "0",
    }
    values |= tansu_server.private_topics(f"bench{tag}")
    return Settings(**values)


def _environment(settings, root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZE_")}
    env |= {
        f"HAZE_{name.upper()}": str(value)
        for name, value in settings.model_dump().items()
        if value is not None and not isinstance(value, dict)
    }
    env["HAZE_DATA_DIR"] = str(root / "data")
    return env


def kundulun_subdistricts():
    """Kundulun and its subdistricts as a tree of their own (the synthetic list's leaves)."""
    from emission_list.regions import RegionTree
    from emission_list.samples import kundulun_region_tree

    tree = kundulun_region_tree()
    return RegionTree(
        (r, None if r == KUNDULUN else tree.ancestors(r)[0])
        for r in tree.ids
        if r == KUNDULUN or KUNDULUN in tree.ancestors(r)
    )


async def _seed(settings, n: int) -> tuple[str, list[str]]:
    """prepare(), then revision 2 of ``n`` synthetic enterprises under Kundulun; returns
    (operator token, enterprise ids in list order)."""
    from emission_list.revisions import Revision
    from emission_list.synthetic import synthetic_list
    from service.bootstrap import prepare
    from service.storage.engine import create_engine, make_session_maker
    from service.storage.repositories import lists

    operator = (await prepare(settings)).operator_token
    if operator is None:
        raise RuntimeError("the benchmark's database was not fresh")
    entries = synthetic_list(n, seed=7, regions=kundulun_subdistricts()).entries()
    ids = [e.enterprise_id for e in entries]
    if len(set(ids)) != n:
        raise RuntimeError(f"{n} enterprises expected, {len(set(ids))} distinct ids")
    engine = create_engine(settings)
    try:
        async with make_session_maker(engine)() as session:
            sample = await lists.published(session)
            assert sample is not None and sample.number == 1
            revision = Revision(2, 1, "published", sample.effective_from, "bench", "", entries)
            await lists.add(session, revision)
            await session.commit()
    finally:
        await engine.dispose()
    return operator, ids


# --- the service processes --------------------------------------------------------------------


@dataclass
class _Process:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def cpu_s(self) -> float | None:
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _spawn(name: str, args: list[str], env: dict[str, str], root: Path) -> _Process:
    log = root / f"{name}.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.commands.cli", *args],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return _Process(name, process, log)


def _wait_logged(proc: _Process, text: str, limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.process.poll() is not None:
            raise RuntimeError(f"the {proc.name} exited early:\n{proc.tail()}")
        if text in proc.log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the {proc.name} did not log {text!r} in {limit_s} s:\n{proc.tail()}")


async def _wait_idle(processes: Sequence[_Process], limit_s: float = RUN_LIMIT_S) -> None:
    """Until no process used more than IDLE_CPU_S of CPU over IDLE_WINDOW_S (Linux; elsewhere
    a fixed pause)."""
    if any(p.cpu_s() is None for p in processes):
        await asyncio.sleep(2.0)
        return
    deadline = time.monotonic() + limit_s
    before = [p.cpu_s() for p in processes]
    while time.monotonic() < deadline:
        await asyncio.sleep(IDLE_WINDOW_S)
        after = [p.cpu_s() for p in processes]
        if all(a - b <= IDLE_CPU_S for a, b in zip(after, before, strict=True)):  # type: ignore[operator]
            return
        before = after
    raise RuntimeError(f"the service processes were still busy after {limit_s} s")


# --- the runs ---------------------------------------------------------------------------------


def _forecast(level: str, issued_at: dt.datetime):
    from service.api.schemas.alerts import ForecastDayIn, ForecastIn

    today = issued_at.astimezone(LOCAL).date()
    days = [
        ForecastDayIn(date=today + dt.timedelta(days=i), aqi=aqi)
        for i, aqi in enumerate(FORECASTS[level])
    ]
    return ForecastIn(region=KUNDULUN, issued_at=issued_at, daily=days)


def _check_forecasts() -> None:
    """Each forecast of :data:`FORECASTS` decides its level under the national rules."""
    from emission_list.samples import kundulun_region_tree
    from emission_list.warning_rules import RuleBook, national_rules
    from emission_list.warnings import decide

    tree = kundulun_region_tree()
    rules = RuleBook(national_rules()).for_region(KUNDULUN, tree.ancestors(KUNDULUN))
    now = dt.datetime.now(dt.UTC)
    for level in FORECASTS:
        decided = decide(_forecast(level, now).to_domain(), rules).level.label
        if decided != level:
            raise RuntimeError(f"the {level} forecast decides {decided}")


class _Topics:
    """Reads the alerts and actions topics from their beginning, in step with the runs.

    (Tansu answers a ListOffsets "latest" with the number of record batches, not the high
    watermark, so end offsets cannot count records: they are read.)"""

    def __init__(self, settings) -> None:
        from aiokafka import AIOKafkaConsumer

        self.settings = settings
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self.partitions: dict[str, list] = {}

    async def start(self) -> None:
        from aiokafka import TopicPartition

        await self.consumer.start()
        for topic in (self.settings.kafka_topic_alerts, self.settings.kafka_topic_actions):
            numbers = await self._partitions(topic)
            self.partitions[topic] = [TopicPartition(topic, p) for p in sorted(numbers)]
        every = [tp for tps in self.partitions.values() for tp in tps]
        self.consumer.assign(every)
        await self.consumer.seek_to_beginning(*every)

    async def _partitions(self, topic: str) -> set[int]:
        for _ in range(100):
            numbers = self.consumer.partitions_for_topic(topic)
            if numbers:
                return numbers
            await self.consumer.topics()  # refreshes the metadata
            await asyncio.sleep(0.1)
        raise RuntimeError(f"no partitions of {topic}")

    async def stop(self) -> None:
        await self.consumer.stop()

    async def take(self, topic: str, count: int, limit_s: float = RUN_LIMIT_S) -> list:
        """The next ``count`` records of ``topic`` (raises if they do not come in time)."""
        records: list = []
        deadline = time.monotonic() + limit_s
        while len(records) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(records)} of {count} records on {topic} in {limit_s} s")
            batch = await self.consumer.getmany(
                *self.partitions[topic], timeout_ms=200, max_records=count - len(records)
            )
            records += [r for messages in batch.values() for r in messages]
        return records


async def _levels(client: httpx.AsyncClient, probes: Sequence[str]) -> list[str]:
    answers = await asyncio.gather(*(client.get(ACTIONS.format(e)) for e in probes))
    for answer in answers:
        answer.raise_for_status()
    return [a.json()["level"] for a in answers]


async def _until_level(client: httpx.AsyncClient, probes: Sequence[str], level: str) -> None:
    deadline = time.monotonic() + RUN_LIMIT_S
    while set(await _levels(client, probes)) != {level}:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the API did not show {level} within {RUN_LIMIT_S} s")
        await asyncio.sleep(0.002)


async def _while_polling(
    client: httpx.AsyncClient, request: Awaitable[httpx.Response], enterprise: str
) -> tuple[httpx.Response, float]:
    """``request``'s answer and the slowest of the polls (one enterprise's actions, one after
    another) sent while it was in flight: how long the API kept a polling enterprise waiting."""
    task = asyncio.ensure_future(request)
    slowest = 0.0
    while not task.done():
        started = time.perf_counter()
        (await client.get(ACTIONS.format(enterprise))).raise_for_status()
        slowest = max(slowest, time.perf_counter() - started)
        await asyncio.sleep(0.01)
    return await task, slowest


async def _runs(
    settings,
    port: int,
    operator: str,
    ids: Sequence[str],
    processes: Sequence[_Process],
    runs: int,
    warmup: int,
) -> list[dict[str, object]]:
    from aiokafka import AIOKafkaProducer
    from sqlalchemy import select

    from service.bus.records import encode_forecast
    from service.storage.engine import create_engine
    from service.storage.models import AlertState

    step = max(1, len(ids) // (PROBES - 1))
    probes = list(dict.fromkeys([*ids[::step][: PROBES - 1], ids[-1]]))
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=settings.kafka_idempotent,
        linger_ms=0,
    )
    topics = _Topics(settings)
    headers = {"Authorization": f"Bearer {operator}"}
    client = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60, trust_env=False
    )
    engine = create_engine(settings)
    decided_at = select(AlertState.updated_at).where(AlertState.region == KUNDULUN)
    results: list[dict[str, object]] = []
    await producer.start()
    try:
        await topics.start()
        alerts_topic, actions_topic = settings.kafka_topic_alerts, settings.kafka_topic_actions
        if set(await _levels(client, probes)) != {"none"}:
            raise RuntimeError("a warning is in force before the first run")
        for i in range(warmup + runs):
            level = CYCLE[i % len(CYCLE)]
            await _wait_idle(processes)
            issued_at = dt.datetime.now(dt.UTC)
            key, value = encode_forecast(_forecast(level, issued_at))
            wall0, t0 = time.time(), time.perf_counter()
            await producer.send_and_wait(settings.kafka_topic_forecasts, value, key=key)
            await _until_level(client, probes, level)
            latency = time.perf_counter() - t0
            # Read once the consumer is done (its publish returns after every ack), so that
            # reading does not compete with it.
            await _wait_idle(processes)
            async with engine.connect() as connection:
                decided = await connection.scalar(decided_at)
            events = await topics.take(alerts_topic, 1)
            actions = await topics.take(actions_topic, len(ids))
            stamps = [r.timestamp / 1000 - wall0 for r in actions]
            alert_s = events[0].timestamp / 1000 - wall0
            decided_s = decided.timestamp() - wall0
            kind = json.loads(events[0].value)["kind"]
            moved = {r.key for r in actions}
            levels = {json.loads(r.value)["level"] for r in actions}

            lift = {"region": KUNDULUN, "level": "none", "reason": {"en": "bench reset"}}
            started = time.perf_counter()
            answer, stall_s = await _while_polling(
                client, client.post("/api/v1/alerts", json=lift), probes[-1]
            )
            answer.raise_for_status()
            lift_s = time.perf_counter() - started
            await _until_level(client, probes, "none")
            lifted = await topics.take(alerts_topic, 1)
            lifted_actions = await topics.take(actions_topic, len(ids))
            if i < warmup:
                continue
            results.append(
                {
                    "level": level,
                    "latency_s": round(latency, 4),
                    "decided_s": round(decided_s, 4),
                    "alert_published_s": round(alert_s, 4),
                    "after_decision_s": round(alert_s - decided_s, 4),
                    "api_after_alert_s": round(latency - alert_s, 4),
                    "actions_first_s": round(min(stamps), 4),
                    "actions_last_s": round(max(stamps), 4),
                    "actions_enterprises": len(moved),
                    "alert_event": kind,
                    "lift_s": round(lift_s, 4),
                    "poll_stall_during_lift_s": round(stall_s, 4),
                    "lift_enterprises_changed": answer.json()["enterprises_changed"],
                    "observed": len(moved) == len(ids) and levels == {level} and kind == "issue",
                    "reset_observed": json.loads(lifted[0].value)["kind"] == "lift"
                    and {json.loads(r.value)["level"] for r in lifted_actions} == {"none"},
                }
            )
    finally:
        await client.aclose()
        await engine.dispose()
        await topics.stop()
        await producer.stop()
    return results


# --- the in-process profile -------------------------------------------------------------------


async def _profile(settings, repeats: int = 3) -> dict[str, float]:
    """Median seconds of the in-memory pieces of a fan-out, in this process."""
    from emission_list.alerts import Alert, RegionAlertState
    from emission_list.catalog import default_catalog
    from emission_list.levels import Level, Response
    from service.bus.records import action_records, actions_value
    from service.services.board import ActionBoard
    from service.storage.engine import create_engine, make_session_maker
    from service.storage.repositories import alerts, lists, regions

    engine = create_engine(settings)
    try:
        async with make_session_maker(engine)() as session:
            tree = await regions.tree(session)
            revision = await lists.published(session)
            started = time.perf_counter()
            await alerts.load_states(session)
            load_states_s = time.perf_counter() - started
    finally:
        await engine.dispose()
    assert revision is not None
    now = dt.datetime.now(dt.UTC)
    alert = Alert(KUNDULUN, Level.ORANGE, Response.FULL, now, now + dt.timedelta(days=2))
    warned = {KUNDULUN: RegionAlertState(current=alert, region=KUNDULUN)}
    times: dict[str, list[float]] = {"board_build_s": [], "board_apply_s": []}
    times |= {"action_records_s": [], "board_apply_back_s": []}
    for _ in range(repeats):
        started = time.perf_counter()
        board = ActionBoard(revision, tree, default_catalog())
        board.apply_alerts({}, now)
        times["board_build_s"].append(time.perf_counter() - started)
        started = time.perf_counter()
        changed = board.apply_alerts(warned, now)
        times["board_apply_s"].append(time.perf_counter() - started)
        started = time.perf_counter()
        action_records(board, changed)
        times["action_records_s"].append(time.perf_counter() - started)
        started = time.perf_counter()
        board.apply_alerts({}, now)
        times["board_apply_back_s"].append(time.perf_counter() - started)
    out = {name: round(statistics.median(values), 4) for name, values in times.items()}
    # The per-object encoding (each record through actions_value and json.dumps) on a sample,
    # against the template encoding of the same sample.
    board.apply_alerts(warned, now)
    sample = list(changed[:PER_OBJECT_SAMPLE])
    started = time.perf_counter()
    per_object = [(e.encode(), json.dumps(actions_value(board, e)).encode()) for e in sample]
    per_object_s = time.perf_counter() - started
    started = time.perf_counter()
    templated = action_records(board, sample)
    templated_s = time.perf_counter() - started
    out["records_sample"] = len(sample)
    out["records_sample_per_object_s"] = round(per_object_s, 4)
    out["records_sample_templated_s"] = round(templated_s, 4)
    out["records_sample_equal"] = per_object == templated
    out["load_states_s"] = round(load_states_s, 4)
    out["enterprises_changed"] = len(changed)
    return out


# --- the whole benchmark ----------------------------------------------------------------------


def run(enterprises: int = 100_000, runs: int = 20, warmup: int = 1) -> dict[str, object]:
    """Set up, measure, stop everything; returns what ``main`` prints."""
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    load_at_start = os.getloadavg()
    _check_forecasts()
    root = Path(tempfile.mkdtemp(prefix="haze-fanout-"))
    processes: list[_Process] = []
    started = time.perf_counter()
    try:
        with _services() as (server_url, bootstrap, our_broker):
            name = f"haze_fanout_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
            try:
                settings = _settings(_dsn(server_url, name), bootstrap, our_broker)
                from service.commands.stream import create_topics

                made = asyncio.run(create_topics(settings))
                if not set(made.values()) <= {"created", "exists"}:
                    raise RuntimeError(f"topics not created: {made}")
                operator, ids = asyncio.run(_seed(settings, enterprises))
                seed_s = time.perf_counter() - started
                port = free_port()
                env = _environment(settings, root) | {"HAZE_PORT": str(port)}
                command = ["serve", "--no-consumers", "--port", str(port)]
                processes.append(_spawn("api", [*command, "--log-level", "warning"], env, root))
                start_limit = 120 + START_LIMIT_S_PER_ENTERPRISE * enterprises
                wait_ready(f"http://127.0.0.1:{port}/readyz", processes[0].process,
                           processes[0].log, start_limit)  # fmt: skip
                processes.append(_spawn("consumer", ["consume", "forecasts"], env, root))
                _wait_logged(processes[1], "consuming forecasts", start_limit)
                setup_s = time.perf_counter() - started
                results = asyncio.run(_runs(settings, port, operator, ids, processes, runs, warmup))
                profile = asyncio.run(_profile(settings))
            finally:
                for proc in reversed(processes):
                    stop(proc.process)
                asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except RuntimeError as exc:
        logs = "\n".join(f"--- {p.name} ---\n{p.tail()}" for p in processes)
        raise RuntimeError(f"{exc}\n{logs}") from exc
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return _report(results, enterprises, profile, seed_s, setup_s, our_broker, at, load_at_start)


def _report(
    results: list[dict[str, object]],
    enterprises: int,
    profile: dict[str, float],
    seed_s: float,
    setup_s: float,
    our_broker: bool,
    at: str,
    load_at_start: tuple[float, float, float],
) -> dict[str, object]:
    latencies = sorted(float(r["latency_s"]) for r in results)  # type: ignore[arg-type]
    p99 = _percentile(latencies, 99)

    def median(name: str) -> float:
        return round(statistics.median(float(r[name]) for r in results), 4)  # type: ignore[arg-type]

    names = ("decided_s", "alert_published_s", "api_after_alert_s", "actions_first_s")
    more = ("actions_last_s", "lift_s", "poll_stall_during_lift_s")
    breakdown = {name: median(name) for name in (*names, *more)}
    # The three consecutive parts of each run's latency, medians over the runs.
    shares = {
        "consumer until the decision is stored (fetch, load, decide)": breakdown["decided_s"],
        "consumer from the decision to the haze.alerts record (board, commit, and the "
        "haze.actions records, encoded before haze.alerts is sent)": median("after_decision_s"),
        "API from the haze.alerts record (fetch, board refresh)": breakdown["api_after_alert_s"],
    }
    observed = all(r["observed"] and r["reset_observed"] for r in results)
    # The alert's record to the last actions record, the slowest run.
    actions_after_alert = max(
        float(r["actions_last_s"]) - float(r["alert_published_s"])  # type: ignore[arg-type]
        for r in results
    )
    actions_met = actions_after_alert < GOAL_ACTIONS_LAST_S and observed
    return {
        "benchmark": "fanout",
        "enterprises": enterprises,
        "runs": len(results),
        "p50_s": round(_percentile(latencies, 50), 4),
        "p99_s": round(p99, 4),
        "max_s": round(latencies[-1], 4),
        "latencies_s": [r["latency_s"] for r in results],
        "goal_p99_s": GOAL_P99_S,
        "goal_met": p99 < GOAL_P99_S and observed,
        "goal_actions_last_s": GOAL_ACTIONS_LAST_S,
        "actions_last_after_alert_max_s": round(actions_after_alert, 4),
        "actions_goal_met": actions_met,
        "met": p99 < GOAL_P99_S and observed and actions_met,
        "all_runs_observed": observed,
        "dominant": max(shares, key=shares.__getitem__),
        "breakdown_p50_s": breakdown,
        "parts_p50_s": shares,
        "profile": profile,
        "per_run": results,
        "seed_s": round(seed_s, 2),
        "setup_s": round(setup_s, 2),
        "broker": "tansu (started)" if our_broker else "configured",
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in load_at_start],
            "python": platform.python_version(),
            "platform": platform.platform(),
            "at": at,
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20, help="measured runs")
    parser.add_argument("--warmup", type=int, default=1, help="runs before, not counted")
    args = parser.parse_args(argv)
    if args.enterprises < 1 or args.runs < 1 or args.warmup < 0:
        parser.error("--enterprises and --runs must be >= 1, --warmup >= 0")
    print(json.dumps(run(args.enterprises, args.runs, args.warmup), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
