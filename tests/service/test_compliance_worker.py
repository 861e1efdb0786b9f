"""The compliance worker between the check and the database: an hour's closing writes each
line's hourly mean load (the normal loads' history) and drops telemetry past its keeping."""

from __future__ import annotations

import datetime as dt

from api_client import Api
from sqlalchemy import select

from emission_list.samples import kundulun_list, kundulun_loggers
from service.storage.models import LineHour, TelemetryValue
from service.storage.repositories import telemetry as telemetry_rows
from service.telemetry import records
from tests.infra.sample_episode import compliance_worker

#: Half past an hour two days ago (well within the telemetry's keeping).
START = dt.datetime.now(dt.UTC).replace(minute=30, second=0, microsecond=0) - dt.timedelta(days=2)


async def test_an_hours_closing_stores_the_lines_mean_loads_and_forgets_old_values(
    api: Api,
) -> None:
    runtime = api.runtime
    worker = compliance_worker(runtime)
    entry = next(e for e in kundulun_list().entries if e.lines)
    line = entry.lines[0]
    meter = next(logger for logger in kundulun_loggers() if logger["mn"] == line.logger)
    async with runtime.session_maker() as session:
        old = START - dt.timedelta(days=runtime.settings.telemetry_keep_days + 1)
        row = {"mn": line.logger, "code": line.channel, "period": "m", "at": old}
        await telemetry_rows.store_values(
            session, [row | {"enterprise_id": entry.enterprise_id, "value": 1.0, "flag": "N"}]
        )
        await session.commit()

    loads = [100.0 + minute for minute in range(31)]  # 13:30 .. 14:00 UTC
    for minute, load in enumerate(loads):
        at = START + dt.timedelta(minutes=minute)
        worker.clock = (at + dt.timedelta(minutes=1, seconds=1)).timestamp
        record = records.TelemetryRecord(
            mn=meter["mn"],
            e=entry.enterprise_id,
            k="meter",
            p="m",
            t=records.stamp(at),
            v=[(line.channel, load, "N")],
        )
        await runtime.bus.publish(runtime.settings.kafka_topic_telemetry, [records.encode(record)])
        await worker.run_once()

    async with runtime.session_maker() as session:
        since = START.replace(minute=0)
        hours = (await session.execute(select(LineHour).where(LineHour.hour >= since))).scalars()
        closed = {(h.enterprise_id, h.line_id, h.hour): h for h in hours}
        kept = (await session.execute(select(TelemetryValue.at))).scalars().all()
    hour = START.replace(minute=0)
    mean = closed[(entry.enterprise_id, line.line_id, hour)]
    assert mean.minutes == 30 and mean.mean_kw == sum(loads[:30]) / 30 and not mean.warned
    assert old not in kept and min(kept) == START  # the old value went at the hour's closing
    metrics = (await api.client.get("/metrics")).text
    assert f'haze_compliance_counts{{what="intervals"}} {float(len(loads))}' in metrics
