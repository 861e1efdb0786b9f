"""Sending the sample's simulated episode to a gateway, minute by minute, with the
compliance check's clock following the simulated minutes (tests of the sample's cheaters)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import defaultdict

from consumers.compliance import ComplianceWorker
from emission_list.samples import kundulun_cheaters, kundulun_loggers
from emission_list.telemetry_sim import sample_plant
from service.runtime import Runtime
from service.telemetry.sample_feed import (
    BEIJING,
    cuts_for,
    episode,
    minute_packets,
    sample_passwords,
)
from tests.infra.loggers import Logger

CONNECTIONS = 4
WAIT_S = 120.0


def last_night(at: dt.time = dt.time(21, 0)) -> dt.datetime:
    """Yesterday at ``at``, Beijing time (the night producer cheats from 20:00 to 06:00)."""
    yesterday = dt.datetime.now(BEIJING).date() - dt.timedelta(days=1)
    return dt.datetime.combine(yesterday, at, BEIJING)


def compliance_worker(runtime: Runtime) -> ComplianceWorker:
    return next(w for w in runtime.workers if isinstance(w, ComplianceWorker))


async def send_episode(runtime: Runtime, start: dt.datetime, minutes: int) -> None:
    """The sample's ``minutes`` from ``start`` under the orders in force on the board, sent
    to ``runtime``'s gateway; returns once every minute was judged and stored."""
    worker = compliance_worker(runtime)
    evaluator = runtime.state.board.evaluator
    cut = cuts_for(
        sample_plant(), evaluator.compiled.row_of, evaluator.production_cut, evaluator.level
    )
    telemetry = episode(start, minutes, cut)
    passwords = sample_passwords()
    assert runtime.gateway is not None
    connections = [await Logger.connect(runtime.gateway.port) for _ in range(CONNECTIONS)]
    try:
        for minute in range(minutes):
            # the minute has just ended on the check's clock when its packets arrive
            worker.clock = (start + dt.timedelta(minutes=minute + 1, seconds=1)).timestamp
            packets = list(minute_packets(telemetry, minute, passwords))
            for k, packet in enumerate(packets):
                await connections[k % CONNECTIONS].send(packet)
            for k in range(len(packets)):
                answer = await asyncio.wait_for(connections[k % CONNECTIONS].answer(), WAIT_S)
                assert answer.cn == "9014"
    finally:
        for connection in connections:
            connection.close()
    worker.clock = (start + dt.timedelta(minutes=minutes + 1, seconds=5)).timestamp
    last = int(start.timestamp()) // worker.interval_s + minutes - 1
    deadline = time.monotonic() + WAIT_S
    while not worker.judged_through(last):
        if time.monotonic() > deadline:
            raise AssertionError(f"the simulated minutes were not judged within {WAIT_S} s")
        worker.kick()
        await asyncio.sleep(0.05)


def check_sample_alarms(alarms: list[dict]) -> None:
    """The alarms of the sample's episode (as the API lists them): the three cheaters' and
    nobody else's."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for alarm in alarms:
        found[alarm["enterprise_id"]].add((alarm["kind"], alarm["grade"]))
    cheaters = kundulun_cheaters()
    assert set(found) == set(cheaters), "only the three cheating plants raise alarms"
    by_behaviour = {behaviour: eid for eid, behaviour in cheaters.items()}
    assert found[by_behaviour["night"]] == {("production_over", "confirmed")}
    stopper = found[by_behaviour["control_stopped"]]
    assert ("control_stopped", "confirmed") in stopper
    assert stopper <= {("control_stopped", "confirmed"), ("cems_over_limit", "confirmed")}
    silent = by_behaviour["silent"]
    assert found[silent] == {("logger_silent", "confirmed")}
    loggers = {item["mn"] for item in kundulun_loggers() if item["enterprise_id"] == silent}
    assert {a["subject"] for a in alarms if a["enterprise_id"] == silent} == loggers
