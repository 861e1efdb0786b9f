"""A station's page over ASGI on PostgreSQL: seven days of hourly AQI on the category
bands, the primary pollutant of each hour, and missing hours left as gaps."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from api_client import Api
from console_client import console_visitor

from emission_list.reference.aqi import category, iaqi

#: The pages' queries on PostgreSQL (the embedded SQLite default is what the browser tests
#: in tests/console/ run on); both databases would double this module's time for little.
pytestmark = pytest.mark.parametrize("seeded_database_url", ["postgresql"], indirect=True)


LOCAL = dt.timezone(dt.timedelta(hours=8))
STATION = "1502A03"


def _hour() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


async def test_hours_with_a_gap_are_drawn_as_two_runs_with_their_aqi_and_pollutant(
    api: Api,
) -> None:
    now = _hour()
    posted = {now - dt.timedelta(hours=h): 40.0 + 17 * h for h in range(10) if h != 5}
    rows = [
        {"station_id": STATION, "observed_at": at.isoformat(), "pm25": pm25}
        for at, pm25 in posted.items()
    ]
    answer = await api.client.post("/api/v1/readings", json=rows, headers=api.as_("operator"))
    assert answer.status_code == 202 and answer.json()["rejected"] == [], answer.text
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = (await visitor.get(f"/stations/{STATION}")).text
    assert "<h1>惠龙物流</h1>" in page
    # Hourly PM2.5 is scored against the 24-hour table (the national real-time release), with
    # the edition in force on the hour's date.
    edition = "2026" if now.astimezone(LOCAL).date() >= dt.date(2026, 3, 1) else "2012"
    expected = {at: int(iaqi(pm25, "pm25", "24h", edition)[0]) for at, pm25 in posted.items()}
    point = r'<circle class="hour aqi-dot-(\d)" cx="([^"]+)" cy="[^"]+" r="[^"]+">'
    points = re.findall(point + r"<title>([^<]+)</title>", page)
    assert len(points) == len(posted)
    for (shown_category, _, title), at in zip(points, sorted(posted), strict=True):
        stamp = at.astimezone(LOCAL).strftime("%m-%d %H:%M")
        aqi = expected[at]
        assert title.startswith(f"{stamp}：AQI {aqi}，"), title
        assert int(shown_category) == category(aqi)
        assert title.endswith("首要污染物 PM2.5" if aqi > 50 else "首要污染物 无（AQI ≤ 50）")
    xs = [float(x) for _, x, _ in points]
    assert xs == sorted(xs)
    runs = re.findall(r'<polyline class="aqi-line" points="([^"]+)"/>', page)
    assert [len(run.split()) for run in runs] == [4, 5]  # the missing hour breaks the line
    gaps = re.findall(r'<rect class="gap" x="([^"]+)" y="[^"]+" width="([^"]+)"', page)
    assert len(gaps) == 2  # the days before the readings, and the missing hour
    gap_x, gap_width = map(float, gaps[1])
    before, after = (
        float(runs[0].split()[-1].split(",")[0]),
        float(runs[1].split()[0].split(",")[0]),
    )
    assert before < gap_x and gap_x + gap_width < after
    missing = (now - dt.timedelta(hours=5)).astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
    assert re.search(rf'<tr class="missing"><th scope="row">{missing}</th>', page)
    assert "7 天共 " in page and "缺测" in page


async def test_the_week_before_is_a_link_away_and_unknown_stations_are_404(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        today = dt.datetime.now(LOCAL).date()
        page = (await visitor.get(f"/stations/{STATION}")).text
        earlier = (today - dt.timedelta(days=7)).isoformat()
        assert f'href="/stations/{STATION}?end={earlier}"' in page
        week = (await visitor.get(f"/stations/{STATION}?end={earlier}")).text
        first = (today - dt.timedelta(days=13)).isoformat()
        assert f"{first} 至 {earlier} 逐小时 AQI" in week
        assert week.count('<tr class="missing">') == 7 * 24  # nothing posted then
        unknown = await visitor.get("/stations/nowhere")
        assert unknown.status_code == 404 and "station.unknown" in unknown.text
    async with console_visitor(api, api.secrets["enterprise"]) as visitor:
        assert (await visitor.get(f"/stations/{STATION}")).status_code == 403
