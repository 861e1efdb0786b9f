"""Alert states, events and forecasts on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.lifecycle import RegionAlertState, apply_forecast
from emission_list.samples import kundulun_episode, kundulun_regions
from emission_list.warnings import decide, national_rules
from service.storage.repositories import alerts, forecasts, regions


async def test_states_events_and_forecasts_round_trip_through_the_database(
    session: AsyncSession,
) -> None:
    await regions.put_many(session, kundulun_regions())
    episode = kundulun_episode()
    rules = national_rules()
    states: dict[str, RegionAlertState] = {}
    all_events = []
    for forecast in episode.forecasts:
        assert await forecasts.add(session, forecast) is True
        assert await forecasts.add(session, forecast) is False  # redelivery stores nothing
        stored = await alerts.load_states(session)
        state = stored.get(forecast.region, RegionAlertState(region=forecast.region))
        state, events = apply_forecast(state, decide(forecast, rules), forecast)
        await alerts.save_state(session, forecast.region, state)
        await alerts.record_events(session, events)
        states[forecast.region] = state
        all_events.extend(events)
    await session.commit()

    loaded = await alerts.load_states(session)
    assert {r: s.current for r, s in loaded.items()} == {r: s.current for r, s in states.items()}
    history = await alerts.history(session, region="150203")
    kinds = [e.kind for e in history]
    assert [k for k in kinds if k in ("issue", "upgrade", "downgrade", "lift")] == [
        "issue",
        "upgrade",
        "downgrade",
        "lift",
    ]
    expected = [(e.kind, e.alert) for e in all_events if e.region == "150203"]
    assert [(e.kind, e.alert) for e in history] == expected
    later = history[len(history) // 2].at
    assert all(e.at >= later for e in await alerts.history(session, since=later))
