"""``haze hj212 send --sample``: the sample's meters and stack monitors, sent by the real
command to the gateway of a served app, are all acknowledged and stored."""

from __future__ import annotations

import asyncio
import json
import sys

from api_client import Api, served_api
from sqlalchemy import func, select

from service.storage.models import TelemetryValue
from service.telemetry.sample_feed import sample_frames


async def test_the_sample_loggers_minutes_are_acknowledged_and_stored(
    seeded_database_url: str,
) -> None:
    async with served_api(seeded_database_url, gateway=True) as api:
        await _send(api)


async def _send(api: Api) -> None:
    port = api.runtime.gateway.port
    command = [sys.executable, "-m", "service.commands.cli", "hj212", "send"]
    process = await asyncio.create_subprocess_exec(
        *command, "--to", f"127.0.0.1:{port}", "--sample", "3", "--level", "none",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    assert process.returncode == 0
    summary = json.loads(out)
    expected = list(sample_frames(3, "none"))
    assert summary["sent"] == summary["answered"] == len(expected) > 100
    async with api.runtime.session_maker() as session:
        stored = await session.scalar(select(func.count()).select_from(TelemetryValue))
    carried = sum(frame.count(b"-Avg=") for frame in expected)
    assert stored == carried
