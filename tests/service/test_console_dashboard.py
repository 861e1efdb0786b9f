"""The operators' dashboard over ASGI on PostgreSQL: the map and its text alternative,
alerts in force and scheduled with their forecasts, missed forecasts, and the required
reductions against the minimum, checked against the scalar reference evaluator."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from api_client import Api
from console_client import console_visitor

from emission_list.catalog import default_catalog
from emission_list.i18n import pick
from emission_list.levels import LIST_POLLUTANTS, Level, Response
from emission_list.reference.evaluator import evaluate_list, region_totals
from emission_list.samples import kundulun_list, kundulun_regions, kundulun_stations

#: The pages' queries on PostgreSQL (the embedded SQLite default is what the browser tests
#: in tests/console/ run on); both databases would double this module's time for little.
pytestmark = pytest.mark.parametrize("seeded_database_url", ["postgresql"], indirect=True)


LOCAL = dt.timezone(dt.timedelta(hours=8))
REGIONS = {r.region_id: r for r in kundulun_regions()}
OUTLINED = ("150000", "150100", "150200", "150203", "150600", "150900")


def _close(shown: str, expected: float) -> None:
    """A number as the tables write it (kg/day, rounded to 1 or 0.1, "&lt;0.1") is
    ``expected`` to its precision."""
    if shown == "&lt;0.1":
        assert 0 < expected < 0.05
        return
    value = float(shown.replace(",", ""))
    assert abs(value - expected) <= (0.5 if abs(expected) >= 99.95 else 0.05) + 1e-9, (
        shown,
        expected,
    )


def _hour() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    end = page.find("<section", start)
    return page[start : end if end > 0 else len(page)]


def _region_shapes(page: str) -> dict[str, str]:
    """Region name -> class of its shape on the maps (the title names the region)."""
    found = re.findall(r'<path class="map-region ([^"]*)" d="[^"]*" [^>]*><title>([^：<]+)：', page)
    return {name: classes for classes, name in found}


async def _post_alert(api: Api, region: str, level: str, reason: str) -> None:
    body = {"region": region, "level": level, "reason": {"zh-CN": reason, "en": reason}}
    answer = await api.client.post("/api/v1/alerts", json=body, headers=api.as_("operator"))
    assert answer.status_code == 200, answer.text


async def _post_readings(api: Api, station: str, hours: list[dt.datetime], pm25: float) -> None:
    rows = [{"station_id": station, "observed_at": h.isoformat(), "pm25": pm25} for h in hours]
    answer = await api.client.post("/api/v1/readings", json=rows, headers=api.as_("operator"))
    assert answer.status_code == 202 and answer.json()["rejected"] == [], answer.text


async def test_a_quiet_day_shows_every_outline_every_station_and_the_subdistrict_tree(
    api: Api,
) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        answer = await visitor.get("/dashboard")
    assert answer.status_code == 200
    page = answer.text
    shapes = _region_shapes(page)
    assert {pick(REGIONS[r].name) for r in OUTLINED} <= set(shapes)
    assert all(classes.startswith("lvl-0") for classes in shapes.values())
    assert "map-ahead" not in page
    assert "当前没有生效或已排定的预警。" in page
    # The text alternative: every outlined region with its level, every station linked.
    regions_table = page[page.index("各区域预警级别") :]
    for region_id in OUTLINED:
        assert f'<th scope="row">{pick(REGIONS[region_id].name)}</th>' in regions_table
    for station in kundulun_stations():
        assert f'<a href="/stations/{station.station_id}">{pick(station.name)}</a>' in page
    assert page.count('class="map-station') >= len(kundulun_stations())
    tree = page[page.index('id="tree-heading"') : page.index("</aside>")]
    subdistricts = [r for r in REGIONS.values() if r.parent == "150203"]
    assert len(subdistricts) == 15
    for region in subdistricts:
        assert pick(region.name) in tree
    assert "当前没有区域处于预警中。" in page


async def test_an_orange_warning_colours_the_district_and_lists_reductions_as_the_reference_does(
    api: Api,
) -> None:
    await _post_alert(api, "150203", "orange", "人工发布橙色预警（测试）")
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = (await visitor.get("/dashboard")).text
    shapes = _region_shapes(page)
    assert shapes["昆都仑区"].startswith("lvl-2")
    assert shapes["包头市"].startswith("lvl-0") and shapes["呼和浩特市"].startswith("lvl-0")
    alerts = _section(page, "alerts-heading")
    assert "昆都仑区：橙色预警" in alerts and "生效中" in alerts
    assert "人工发布橙色预警（测试）" in alerts and "人工发布，没有预报依据。" in alerts

    entries = kundulun_list().entries
    parents = {r.region_id: r.parent for r in REGIONS.values()}
    own = {"150203": (Level.ORANGE, Response.FULL)}
    totals = region_totals(
        entries, evaluate_list(entries, default_catalog(), parents, own), parents, own
    )
    table = page[page.index('<table class="reductions">') :]
    table = table[: table.index("</table>")]
    rows = {
        re.search(r'<th scope="row">([^<]+?) <span', row).group(1): row
        for row in table.split("<tr")[2:]
    }
    listed = {r for r in REGIONS if r.startswith("150203") and any(e.region == r for e in entries)}
    assert set(rows) == {pick(REGIONS[r].name) for r in listed | {"150203"}}
    for region_id in listed | {"150203"}:
        row = rows[pick(REGIONS[region_id].name)]
        expected = totals[region_id]
        cells = re.findall(r'<td class="num[^"]*">(.*?)</td>', row)
        assert len(cells) == len(LIST_POLLUTANTS)
        for p, cell in enumerate(cells):
            required, minimum = re.match(
                r"([\d,.]+)<span class=\"min\">最低 ([\d,.]+)<", cell
            ).groups()
            _close(required, expected["required"][p])
            _close(minimum, expected["minimum"][p])
            short = re.search(r"差 ([^<]+)</strong>", cell)
            assert (short is not None) is (expected["shortfall"][p] > 1e-6)
            if short:
                _close(short.group(1), expected["shortfall"][p])
        assert row.startswith(' class="shortfall"') is any(s > 1e-6 for s in expected["shortfall"])
    district = rows["昆都仑区"]
    assert f"{len(entries)}/{len(entries)} 家企业预警中" in district


async def test_a_forecast_warning_scheduled_ahead_is_dashed_and_shows_its_forecast(
    api: Api,
) -> None:
    issued = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = issued.astimezone(LOCAL).date()
    aqis = [90, 230, 260, 240]
    days = [
        {"date": (today + dt.timedelta(days=i)).isoformat(), "aqi": aqi}
        for i, aqi in enumerate(aqis)
    ]
    body = {"region": "150203", "issued_at": issued.isoformat(), "daily": days}
    decided = await api.client.post("/api/v1/forecasts", json=body, headers=api.as_("operator"))
    assert decided.status_code == 200, decided.text
    alert = decided.json()["alert"]
    assert alert["level"] == "orange"
    starts = dt.datetime.fromisoformat(alert["starts_at"])
    assert starts > issued  # decided ahead of the episode
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = (await visitor.get("/dashboard?lang=en")).text
    assert re.search(r'<path class="map-ahead lvl-2" d="[^"]+" fill="none"', page)
    shapes = re.findall(
        r'<path class="map-region ([^"]*)" d="[^"]*" [^>]*><title>([^<]+)</title>', page
    )
    district = next(title for _, title in shapes if title.startswith("Kundulun District"))
    when = starts.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
    assert district == f"Kundulun District: No warning; Orange from {when}"
    alerts = _section(page, "alerts-heading")
    assert "Scheduled, not started" in alerts and alert["rule_id"] in alerts
    bar = r'<rect class="bar aqi-dot-(\d)( counted)?" x="[^"]+" y="([^"]+)" width="[^"]+" '
    bars = re.findall(bar + r'height="([^"]+)">', alerts)
    assert len(bars) == len(aqis)
    heights = [float(h) for *_, h in bars]
    ratios = [h / aqi for h, aqi in zip(heights, aqis, strict=True)]
    assert all(abs(r - ratios[0]) * aqi <= 0.1 for r, aqi in zip(ratios, aqis, strict=True))
    counted = {dt.date.fromisoformat(d) for d in alert["forecast_days"]}
    assert [bool(c) for _, c, *_ in bars] == [
        today + dt.timedelta(days=i) in counted for i in range(4)
    ]
    assert [int(c) for c, *_ in bars] == [2, 5, 5, 5]  # good, then heavily polluted
    lines = re.findall(r'<line class="criteria"[^>]*/>\s*<text[^>]*>(\d+)</text>', alerts)
    assert lines == ["150", "200", "300"]


async def test_a_missed_forecast_is_flagged_now_and_on_the_day_it_happened(api: Api) -> None:
    now = _hour()
    hours = [now - dt.timedelta(hours=h) for h in range(48)]
    await _post_readings(api, "1502A01", hours, pm25=200)  # 24-hour AQI 250, no warning
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = (await visitor.get("/dashboard")).text
    alarm = re.search(r'<p class="notice alarm" role="alert">([^<]+)</p>', page)
    assert alarm and alarm.group(1).startswith("漏报：昆都仑区近 24 小时 AQI 为 ")
    assert int(re.search(r"AQI 为 (\d+)", alarm.group(1)).group(1)) > 200
    checks = _section(page, "verify-heading")
    yesterday = (now.astimezone(LOCAL) - dt.timedelta(days=1)).strftime("%m-%d")
    row = re.search(
        rf'<tr class="shortfall">\s*<th scope="row"><time[^>]*>{yesterday}</time>(.*?)</tr>',
        checks,
        re.S,
    )
    assert row and "漏报：AQI 超过 200 而无预警" in row.group(1)


async def test_the_focus_moves_to_the_city_on_request(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = (await visitor.get("/dashboard?region=150200")).text
        fallback = (await visitor.get("/dashboard?region=nowhere")).text
    assert "包头市及周边" in page
    assert "昆都仑区及周边" in fallback


async def test_enterprises_may_not_open_the_dashboard(api: Api) -> None:
    async with console_visitor(api, api.secrets["enterprise"]) as visitor:
        answer = await visitor.get("/dashboard")
    assert answer.status_code == 403
