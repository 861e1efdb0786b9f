"""The sample's winter episode through the gateway: the Kundulun list's meters and stack
monitors send their minute data over real TCP sockets while an orange warning is in force;
the three cheating plants of the sample raise the right alarms and every other plant none.

The episode is simulated on a night of the past (the night producer cheats from 20:00 to
06:00), so the check's clock is set to the simulated minutes as they are sent."""

from __future__ import annotations

from api_client import served_api
from notify_helpers import warn

from tests.infra.sample_episode import check_sample_alarms, last_night, send_episode

MINUTES = 100


async def test_the_three_cheaters_raise_their_alarms_and_the_others_none(
    seeded_database_url: str,
) -> None:
    async with served_api(seeded_database_url, gateway=True, compliance_grace_s=1.0) as api:
        await warn(api, "orange")
        await send_episode(api.runtime, last_night(), MINUTES)
        answer = await api.client.get(
            "/api/v1/alarms", params={"limit": 500}, headers=api.as_("operator")
        )
    check_sample_alarms(answer.json()["items"])
