"""Scale-out on one machine (issue 15): two API processes (``haze serve --no-consumers``), two
readings consumers in one group and one forecasts consumer, on PostgreSQL and the broker.

One fleet of real processes serves the module (starting five on two cores is the expensive
part): a forecast reaches both APIs; a reading posted to either, or to both, is one row; then
each of the five processes is stopped in turn (SIGKILL or SIGTERM) while a station keeps
posting, and every reading acknowledged is stored exactly once, every forecast is decided
once, the other API keeps answering and the restarted process catches up.

What is checked is what the API answers (an enterprise's actions, the alerts in force, the
alert history, a station's readings) and the stored readings themselves, not the derived
tables a consumer may write lazily."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import signal
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import asyncpg
import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from stream_helpers import eventually, haze_process, produce, stream_settings

from emission_list.samples import kundulun_list, kundulun_stations
from service.api.schemas.alerts import ForecastIn
from service.bootstrap import prepare
from service.bus.records import encode_forecast
from service.commands.stream import create_topics
from service.security import create_token
from service.settings import Settings
from service.storage.engine import create_engine, make_session_maker
from service.storage.models import Reading
from tests.infra.servers import free_port

LOCAL = dt.timezone(dt.timedelta(hours=8))
HOUR = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
STATIONS = [s.station_id for s in kundulun_stations()]
APIS = ("api-a", "api-b")
READINGS = ("readings-1", "readings-2")
#: Each subdistrict with its first enterprise: each forecast of the module goes to a
#: subdistrict of its own, so each decision shows on an enterprise of its own.
SUBDISTRICTS = dict(
    reversed([(e.region, e.enterprise_id) for e in kundulun_list().entries if len(e.region) == 9])
)
#: A station posts again a moment after a failed post, and paces its posts (it is a
#: station, not a load generator); neither stands in for waiting on a condition.
RETRY_S = 0.2
PACE_S = 0.05


def _at(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _rows(hour: dt.datetime) -> list[dict]:
    """One hour of every station (PM2.5 within 2 x PM10 + 20, so every row is accepted)."""
    return [
        {"station_id": s, "observed_at": hour.isoformat(), "pm25": 60.0 + i, "pm10": 110.0}
        for i, s in enumerate(STATIONS)
    ]


def _keys(rows: Iterable[dict]) -> set[tuple[str, dt.datetime]]:
    return {(r["station_id"], _at(dt.datetime.fromisoformat(r["observed_at"]))) for r in rows}


def _forecast(region: str) -> dict:
    """Orange for ``region``: a daily AQI over 200 for 48 hours or more."""
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    today = issued.astimezone(LOCAL).date()
    days = [
        {"date": (today + dt.timedelta(days=i)).isoformat(), "aqi": aqi}
        for i, aqi in enumerate([220, 260, 240])
    ]
    return {"region": region, "issued_at": issued.isoformat(), "daily": days}


@dataclass
class Member:
    """One process of the fleet: what it runs and where it answers ``/readyz``."""

    arguments: tuple[str, ...]
    port: int
    environment: dict[str, str]
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Fleet:
    settings: Settings
    engine: AsyncEngine
    client: httpx.AsyncClient
    operator: dict[str, str]
    station: dict[str, str]
    logs: Path
    members: dict[str, Member] = field(default_factory=dict)
    _hours_used: int = 0
    _regions: list[str] = field(default_factory=lambda: list(SUBDISTRICTS))

    def new_hours(self, count: int) -> list[dt.datetime]:
        """Hours no test of the module posted yet (going back from the current one)."""
        first = self._hours_used + 1
        self._hours_used += count
        return [HOUR - dt.timedelta(hours=h) for h in range(first, first + count)]

    def new_region(self) -> str:
        return self._regions.pop(0)

    def start(self, name: str) -> None:
        member = self.members[name]
        log: IO[bytes] = (self.logs / f"{name}.log").open("ab")
        with log:  # the child holds its own descriptor
            member.process = haze_process(
                self.settings, *member.arguments, output=log, **member.environment
            )

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    async def ready(self, name: str) -> None:
        member = self.members[name]

        async def answers() -> bool:
            assert member.process is not None
            if member.process.poll() is not None:
                tail = self.log(name)[-4000:]
                raise AssertionError(f"{name} exited ({member.process.returncode}):\n{tail}")
            answer = await self.get(f"{member.url}/readyz")
            return answer is not None and answer.status_code == 200

        await eventually(answers, f"{name} ready", 180)

    async def stop(self, name: str, signum: int) -> int:
        process = self.members[name].process
        assert process is not None and process.poll() is None, f"{name} is not running"
        process.send_signal(signum)
        return await asyncio.to_thread(process.wait, 60)

    async def get(self, url: str) -> httpx.Response | None:
        try:
            return await self.client.get(url, headers=self.operator)
        except httpx.HTTPError:
            return None

    async def level(self, api: str, enterprise: str) -> str | None:
        url = f"{self.members[api].url}/api/v1/enterprises/{enterprise}/actions"
        answer = await self.get(url)
        return answer.json()["level"] if answer is not None and answer.status_code == 200 else None

    async def post_forecast(self, api: str, region: str) -> None:
        answer = await self.client.post(
            f"{self.members[api].url}/api/v1/forecasts",
            json=_forecast(region),
            headers=self.operator,
        )
        assert answer.status_code == 202 and answer.json()["status"] == "queued", answer.text

    async def reaches(self, region: str, apis: Iterable[str]) -> None:
        """The orange decision for ``region`` answers on every API of ``apis``: the board of
        each process (the enterprise's actions) and the alerts in force."""
        enterprise = SUBDISTRICTS[region]
        for api in apis:

            async def moved(api: str = api) -> bool:
                return await self.level(api, enterprise) == "orange"

            await eventually(moved, f"{enterprise} of {region} at orange on {api}")
            active = await self.get(f"{self.members[api].url}/api/v1/alerts/active?limit=1000")
            assert active is not None and active.status_code == 200
            levels = {a["region"]: a["level"] for a in active.json()["items"]}
            assert levels.get(region) == "orange", levels

    async def decided_once(self, region: str) -> None:
        """The alert history of ``region`` holds one decision: issued once, never twice."""
        for api in APIS:
            answer = await self.get(f"{self.members[api].url}/api/v1/alerts?region={region}")
            assert answer is not None and answer.status_code == 200, api
            assert [e["kind"] for e in answer.json()["items"]] == ["issue"], answer.json()

    async def stored(self, keys: set[tuple[str, dt.datetime]]) -> Counter:
        """How many rows the readings table holds for each of ``keys``."""
        hours = {at for _, at in keys}
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(Reading.station_id, Reading.observed_at).where(
                    Reading.observed_at.in_(hours)
                )
            )
            found = Counter((station, _at(at)) for station, at in rows)
        return Counter({key: n for key, n in found.items() if key in keys})

    async def all_stored(self, keys: set[tuple[str, dt.datetime]]) -> bool:
        return set(await self.stored(keys)) == keys

    async def handled(self, name: str, topic: str) -> float:
        """Records of ``topic`` the consumer ``name`` handled since it started (/metrics)."""
        answer = await self.get(f"{self.members[name].url}/metrics")
        if answer is None or answer.status_code != 200:
            return 0.0
        sample = rf'haze_consumer_batch_records_sum\{{topic="{re.escape(topic)}"\}} (\S+)'
        found = re.search(sample, answer.text)
        return float(found.group(1)) if found else 0.0


@dataclass
class Poster:
    """A station posting one hour of every station at a time, round robin over ``targets``,
    each post repeated until acknowledged (202), as a station's uploader does."""

    fleet: Fleet
    targets: list[str]
    posted: set[tuple[str, dt.datetime]] = field(default_factory=set)
    acknowledged: set[tuple[str, dt.datetime]] = field(default_factory=set)
    acks: int = 0
    failures: Counter = field(default_factory=Counter)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stopping.set()
        assert self._task is not None
        await self._task  # raises what the poster raised

    def cancel(self) -> None:
        """End it at once (the test failed)."""
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        sent = 0
        while not self._stopping.is_set():
            rows = _rows(self.fleet.new_hours(1)[0])
            self.posted |= _keys(rows)
            while True:
                target = self.targets[sent % len(self.targets)]
                sent += 1
                url = f"{self.fleet.members[target].url}/api/v1/readings"
                try:
                    answer = await self.fleet.client.post(
                        url, json=rows, headers=self.fleet.station
                    )
                except httpx.HTTPError:
                    self.failures["unreachable"] += 1
                else:
                    if answer.status_code == 202:
                        assert answer.json()["accepted"] == len(rows), answer.text
                        self.acknowledged |= _keys(rows)
                        self.acks += 1
                        break
                    self.failures[answer.status_code] += 1
                await asyncio.sleep(RETRY_S)
            await asyncio.sleep(PACE_S)


async def _database(admin: asyncpg.Connection, template: str, server_url: str) -> str:
    name = f"haze_scale_{os.getpid()}"
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest_asyncio.fixture(scope="module")
async def fleet(
    _pg_admin: asyncpg.Connection,
    _pg_template: str,
    postgres_url: str,
    kafka_bootstrap: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Fleet]:
    url = await _database(_pg_admin, _pg_template, postgres_url)
    # No rate limits: the test's one station token posts faster than a station does.
    settings = stream_settings(
        url, kafka_bootstrap, kafka_max_batch=200, rate_limit_station="", rate_limit_operator=""
    )
    await create_topics(settings)
    prepared = await prepare(settings)  # the sample list, as the first `haze serve` would
    engine = create_engine(settings)
    async with make_session_maker(engine)() as session:
        _, secret = await create_token(session, "station", station_ids=STATIONS, label="scale")
        await session.commit()
    ports = {name: free_port() for name in (*APIS, *READINGS, "forecasts")}
    members = {
        name: Member(
            ("serve", "--no-consumers", "--log-level", "info"),  # says it shut down
            ports[name],
            {"HAZE_HOST": "127.0.0.1", "HAZE_PORT": str(ports[name])},
        )
        for name in APIS
    } | {
        name: Member(
            ("consume", "readings" if name in READINGS else "forecasts"),
            ports[name],
            {"HAZE_METRICS_PORT": str(ports[name])},
        )
        for name in (*READINGS, "forecasts")
    }
    client = httpx.AsyncClient(timeout=60, trust_env=False)
    fleet = Fleet(
        settings,
        engine,
        client,
        {"Authorization": f"Bearer {prepared.operator_token}"},
        {"Authorization": f"Bearer {secret}"},
        tmp_path_factory.mktemp("scale-out"),
        members,
    )
    try:
        for name in members:
            fleet.start(name)
        for name in members:
            await fleet.ready(name)
        yield fleet
    finally:
        for member in members.values():
            if member.process is not None and member.process.poll() is None:
                member.process.terminate()
        for member in members.values():
            if member.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    await asyncio.to_thread(member.process.wait, 60)
                if member.process.poll() is None:
                    member.process.kill()
        await client.aclose()
        await engine.dispose()
        name = make_url(url).database
        await _pg_admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_a_forecast_reaches_both_api_processes(fleet: Fleet) -> None:
    posted, produced = fleet.new_region(), fleet.new_region()
    for region in (posted, produced):
        for api in APIS:
            assert await fleet.level(api, SUBDISTRICTS[region]) not in ("orange", None)
    await fleet.post_forecast("api-b", posted)
    record = encode_forecast(ForecastIn.model_validate(_forecast(produced)))
    topic = fleet.settings.kafka_topic_forecasts
    await produce(fleet.settings, topic, [record, record])  # the second as a producer's retry
    for region in (posted, produced):
        await fleet.reaches(region, APIS)

    async def all_handled() -> bool:
        return await fleet.handled("forecasts", topic) >= 3

    await eventually(all_handled, "the forecasts consumer through the three records")
    for region in (posted, produced):
        await fleet.decided_once(region)


async def test_a_reading_posted_to_either_api_is_stored_once(fleet: Fleet) -> None:
    to_a, to_b, to_both = (_rows(hour) for hour in fleet.new_hours(3))
    for api, rows in (("api-a", to_a), ("api-b", to_b), ("api-a", to_both), ("api-b", to_both)):
        url = f"{fleet.members[api].url}/api/v1/readings"
        answer = await fleet.client.post(url, json=rows, headers=fleet.station)
        assert answer.status_code == 202 and answer.json()["accepted"] == len(rows), answer.text
    keys = _keys([*to_a, *to_b, *to_both])

    async def all_stored() -> bool:
        return await fleet.all_stored(keys)

    await eventually(all_stored, "the readings posted to either API stored")
    assert await fleet.stored(keys) == Counter(dict.fromkeys(keys, 1))
    # ... and the history either API gives shows each hour once, with the values posted
    station = STATIONS[0]
    hours = sorted(_at(dt.datetime.fromisoformat(r["observed_at"])) for r in to_a + to_b + to_both)
    hours = sorted(set(hours))
    window = {"from": hours[0].isoformat(), "to": (hours[-1] + dt.timedelta(hours=1)).isoformat()}
    for api in APIS:
        answer = await fleet.client.get(
            f"{fleet.members[api].url}/api/v1/stations/{station}/readings",
            params=window,
            headers=fleet.operator,
        )
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
        assert sorted(_at(dt.datetime.fromisoformat(i["observed_at"])) for i in items) == hours
        assert {i["pm25"] for i in items} == {60.0}


#: Each process stopped in turn: both signals for the readings consumers and the APIs, the
#: cheaper SIGKILL for the forecasts consumer (the harder case: nothing finishes).
STOPS = [
    ("readings-1", signal.SIGKILL),
    ("readings-2", signal.SIGTERM),
    ("forecasts", signal.SIGKILL),
    ("api-a", signal.SIGKILL),
    ("api-b", signal.SIGTERM),
]


@pytest.mark.parametrize(
    ("name", "signum"), STOPS, ids=[f"{n}-{signal.Signals(s).name}" for n, s in STOPS]
)
async def test_stopping_one_process_loses_nothing(fleet: Fleet, name: str, signum: int) -> None:
    # The API that stops is the one being posted to; with a consumer stopping, both are.
    poster = Poster(fleet, [name] if name in APIS else list(APIS))
    poster.start()
    try:
        await _stop_and_restart(fleet, poster, name, signum)
    finally:
        poster.cancel()  # ended already, unless the test failed


async def _stop_and_restart(fleet: Fleet, poster: Poster, name: str, signum: int) -> None:
    others = [api for api in APIS if api != name]

    async def posting() -> bool:
        return poster.acks >= 3

    await eventually(posting, "the station's first posts acknowledged")
    if name in READINGS:  # a backlog, so that the consumer dies with batches in hand
        burst = [row for hour in fleet.new_hours(150) for row in _rows(hour)]
        url = f"{fleet.members[others[0]].url}/api/v1/readings"
        answer = await fleet.client.post(url, json=burst, headers=fleet.station)
        assert answer.status_code == 202 and answer.json()["accepted"] == len(burst)

        async def storing() -> bool:
            return bool(await fleet.stored(_keys(burst)))

        await eventually(storing, "the consumers storing the burst")
        poster.acknowledged |= _keys(burst)
        poster.posted |= _keys(burst)
    raced = None
    if name == "forecasts":  # posted just before the kill: decided before it, or after
        raced = fleet.new_region()
        await fleet.post_forecast(others[0], raced)

    code = await fleet.stop(name, signum)
    if signum == signal.SIGKILL:
        assert code == -signal.SIGKILL, code
    elif name in APIS:  # uvicorn shuts down, then raises the signal again for its parent
        assert code == -signal.SIGTERM, code
        assert "Application shutdown complete" in fleet.log(name)
    else:
        assert code == 0, code
    poster.targets[:] = others
    acks_at_stop = poster.acks
    region = fleet.new_region()  # decided while the process is down, or once it is back
    await fleet.post_forecast(others[0], region)
    if name != "forecasts":
        await fleet.reaches(region, others)

    async def still_answering() -> bool:
        return poster.acks >= acks_at_stop + 3

    await eventually(still_answering, f"the other API acknowledging readings without {name}")
    up_to_now = set(poster.acknowledged)

    async def taken_over() -> bool:
        return await fleet.all_stored(up_to_now)

    await eventually(taken_over, f"every acknowledged reading stored without {name}")

    fleet.start(name)
    await fleet.ready(name)
    poster.targets[:] = list(APIS)
    if name in APIS:  # its board, built afresh, holds what was decided while it was down
        await fleet.reaches(region, [name])
    if name == "forecasts":  # it decides what waited on the topic
        await fleet.reaches(raced, APIS)
        await fleet.reaches(region, APIS)
    if name in READINGS:  # it holds partitions again and stores its share of new posts

        async def consuming() -> bool:
            return await fleet.handled(name, fleet.settings.kafka_topic_readings) > 0

        await eventually(consuming, f"the restarted {name} storing readings")
    await poster.stop()

    async def everything() -> bool:
        return await fleet.all_stored(poster.acknowledged)

    await eventually(everything, "every acknowledged reading stored")
    assert poster.acknowledged == poster.posted  # every post was repeated until acknowledged
    stored = await fleet.stored(poster.posted)
    assert stored == Counter(dict.fromkeys(poster.posted, 1))  # each exactly once
    if name not in APIS:
        assert not poster.failures, poster.failures  # both APIs answered throughout
    else:
        assert set(poster.failures) <= {"unreachable"}, poster.failures
    for decided in (region, raced):
        if decided is not None:
            await fleet.decided_once(decided)
