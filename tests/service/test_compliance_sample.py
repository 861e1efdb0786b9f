"""The sample's winter episode through the gateway: the Kundulun list's meters and stack
monitors send their minute data over real TCP sockets while an orange warning is in force;
the three cheating plants of the sample raise the right alarms and every other plant none.

The episode is simulated on a night of the past (the night producer cheats from 20:00 to
06:00), so the check's clock is set to the simulated minutes as they are sent."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from api_client import Api, served_api
from notify_helpers import eventually, warn

from consumers.compliance import ComplianceWorker
from emission_list.samples import _load
from emission_list.telemetry_sim import sample_plant
from service.telemetry.sample_feed import (
    BEIJING,
    cuts_for,
    episode,
    minute_packets,
    sample_passwords,
)
from tests.infra.loggers import Logger

MINUTES = 100
CONNECTIONS = 4


def _cheaters() -> dict[str, str]:
    return {c["enterprise_id"]: c["behaviour"] for c in _load("kundulun_loggers.json")["cheaters"]}


def _loggers_of(enterprise_id: str) -> set[str]:
    loggers = _load("kundulun_loggers.json")["loggers"]
    return {item["mn"] for item in loggers if item["enterprise_id"] == enterprise_id}


def _worker(api: Api) -> ComplianceWorker:
    return next(w for w in api.runtime.workers if isinstance(w, ComplianceWorker))


async def _send_episode(api: Api, start: dt.datetime) -> None:
    worker = _worker(api)
    evaluator = api.runtime.state.board.evaluator
    plant_cuts = cuts_for(
        sample_plant(),
        evaluator.compiled.row_of,
        evaluator.production_cut,
        evaluator.level,
    )
    telemetry = episode(start, MINUTES, plant_cuts)
    passwords = sample_passwords()
    port = api.runtime.gateway.port
    connections = [await Logger.connect(port) for _ in range(CONNECTIONS)]
    try:
        for minute in range(MINUTES):
            # the minute has just ended on the check's clock when its packets arrive
            worker.clock = (start + dt.timedelta(minutes=minute + 1, seconds=1)).timestamp
            packets = list(minute_packets(telemetry, minute, passwords))
            for k, packet in enumerate(packets):
                await connections[k % CONNECTIONS].send(packet)
            for k in range(len(packets)):
                answer = await connections[k % CONNECTIONS].answer()
                assert answer.cn == "9014"
    finally:
        for connection in connections:
            connection.close()
    end = start + dt.timedelta(minutes=MINUTES + 1, seconds=5)
    worker.clock = end.timestamp
    last = int(start.timestamp()) // 60 + MINUTES - 1

    async def judged() -> bool:
        worker.kick()
        return worker._cursor is not None and worker._cursor >= last and not worker._pending

    await eventually(judged, "every simulated minute judged")


async def test_the_three_cheaters_raise_their_alarms_and_the_others_none(
    seeded_database_url: str,
) -> None:
    async with served_api(seeded_database_url, gateway=True, compliance_grace_s=1.0) as api:
        await warn(api, "orange")
        yesterday = dt.datetime.now(BEIJING).date() - dt.timedelta(days=1)
        start = dt.datetime.combine(yesterday, dt.time(21, 0), BEIJING)
        await _send_episode(api, start)
        answer = await api.client.get(
            "/api/v1/alarms", params={"limit": 500}, headers=api.as_("operator")
        )
        alarms = answer.json()["items"]

    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for alarm in alarms:
        found[alarm["enterprise_id"]].add((alarm["kind"], alarm["grade"]))
    cheaters = _cheaters()
    assert set(found) == set(cheaters), "only the three cheating plants raise alarms"
    by_behaviour = {behaviour: eid for eid, behaviour in cheaters.items()}
    assert found[by_behaviour["night"]] == {("production_over", "confirmed")}
    stopper = found[by_behaviour["control_stopped"]]
    assert ("control_stopped", "confirmed") in stopper
    assert stopper <= {("control_stopped", "confirmed"), ("cems_over_limit", "confirmed")}
    silent = by_behaviour["silent"]
    assert found[silent] == {("logger_silent", "confirmed")}
    silent_subjects = {a["subject"] for a in alarms if a["enterprise_id"] == silent}
    assert silent_subjects == _loggers_of(silent)
