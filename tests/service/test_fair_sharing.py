"""Fair sharing on the embedded bus: one station's backfill of 10,000 past hours is handled
chunk by chunk, and another station's post and an enterprise's poll are answered in between,
long before the backfill is done (asserted on the order of events, not on times)."""

from __future__ import annotations

import asyncio
import datetime as dt

from api_client import Api

from service.bus import CHUNK_RECORDS, InProcessBus

BACKFILL_HOURS = 10_000
HOUR = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
#: Bounds on waiting for a condition: failure detectors, not performance limits.
WAIT_LIMIT_S = 300.0


def _hours(station: str, count: int) -> list[dict]:
    return [
        {
            "station_id": station,
            "observed_at": (HOUR - dt.timedelta(hours=h)).isoformat(),
            "pm25": 40 + h % 40,
        }
        for h in range(count)
    ]


async def _until(check, what: str) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(WAIT_LIMIT_S):
        while not check():
            await asyncio.sleep(0.01)


async def test_a_backfill_does_not_hold_up_other_posts_or_polls(api: Api) -> None:
    bus, topic = api.runtime.bus, api.runtime.settings.kafka_topic_readings
    assert isinstance(bus, InProcessBus)
    operator, enterprise = api.as_("operator"), api.as_("enterprise")
    poll_path = f"/api/v1/enterprises/{api.enterprise_id}/actions"
    assert (await api.client.get(poll_path, headers=enterprise)).status_code == 200
    done: list[str] = []

    async def post(name: str, rows: list[dict]):  # type: ignore[no-untyped-def]
        answer = await api.client.post("/api/v1/readings", json=rows, headers=operator)
        done.append(name)
        return answer

    backfill = asyncio.create_task(post("backfill", _hours("1502A01", BACKFILL_HOURS)))
    await _until(lambda: bus.offset(topic) > 0 or backfill.done(), "the first chunk handled")
    assert not backfill.done(), "the backfill was handled in one go"
    polled_at = bus.offset(topic)
    poll = await api.client.get(poll_path, headers=enterprise)
    answered_at = bus.offset(topic)
    other = await post("other station", _hours("1502A03", 1))
    backfilled = await backfill

    assert poll.status_code == 200
    assert answered_at - polled_at <= 2 * CHUNK_RECORDS, "the poll waited for the backfill"
    assert other.status_code == 202 and other.json()["accepted"] == 1
    assert done == ["other station", "backfill"]
    assert backfilled.status_code == 202 and backfilled.json()["accepted"] == BACKFILL_HOURS
    assert bus.offset(topic) == BACKFILL_HOURS + 1  # every row acknowledged was handled
