"""The operators' dashboard and a station's page in a real browser: the map with its outlines
and stations, a warning issued through the API colouring its region, axe-core clean, and
screenshots. This module changes the server's state (a warning, readings): its own server."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest
from browser import ServedConsole, screenshot, served_console
from playwright.sync_api import Page, expect

STATION = "1502A01"  # 昆区政府, in Aerding Dajie subdistrict of Kundulun


@pytest.fixture(scope="module")
def console():
    with served_console() as served:
        yield served


def _hour() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


def test_the_operator_sees_the_map_with_outlines_and_stations(
    page: Page, console: ServedConsole, sign_in, axe_violations
) -> None:
    sign_in(page, console.operator_secret)
    assert page.url.endswith("/dashboard")
    expect(page.get_by_role("heading", name="地图")).to_be_visible()
    maps = page.locator("svg.map")
    expect(maps).to_have_count(2)
    expect(maps.first.locator("path.map-region")).not_to_have_count(0)
    expect(page.locator("svg.map path.map-region.focus").first).to_be_visible()
    expect(page.locator("svg.map a circle.map-station").first).to_be_visible()
    expect(page.get_by_text("当前没有生效或已排定的预警。")).to_be_visible()
    expect(page.locator(".region-tree")).to_contain_text("卜尔汉图镇")
    assert axe_violations(page) == []


def test_a_warning_issued_through_the_api_colours_its_region_and_is_listed(
    page: Page, console: ServedConsole, sign_in, axe_violations
) -> None:
    now = _hour()
    with console.api() as api:
        alert = {
            "region": "150203",
            "level": "orange",
            "reason": {"zh-CN": "联防联控会商：发布橙色预警", "en": "Joint consultation: orange"},
        }
        assert api.post("/api/v1/alerts", json=alert).status_code == 200
        rows = [
            {
                "station_id": station,
                "observed_at": (now - dt.timedelta(hours=h)).isoformat(),
                "pm25": 90 + 60 * math.sin(h / 4) + 10 * k,
                "pm10": 160,
            }
            for k, station in enumerate(("1502A01", "1502A02", "1502A03", "1502A05"))
            for h in range(30)
            if (station, h) != (STATION, 6)  # one missing hour
        ]
        answer = api.post("/api/v1/readings", json=rows)
        assert answer.status_code == 202 and answer.json()["rejected"] == []
    sign_in(page, console.operator_secret)
    district = page.locator("svg.map path.map-region.focus").first
    expect(district).to_have_class(re.compile(r"\blvl-2\b"))
    alerts = page.locator("section", has=page.get_by_role("heading", name="生效中和已排定的预警"))
    expect(alerts.get_by_role("heading", name=re.compile("昆都仑区：橙色预警"))).to_be_visible()
    expect(alerts).to_contain_text("联防联控会商：发布橙色预警")
    expect(page.locator("table.reductions")).to_be_visible()
    expect(page.locator("svg.map circle.map-station.aqi-dot-0").first).to_be_attached()
    assert page.locator("svg.map circle.map-station:not(.aqi-dot-0)").count() >= 4
    assert axe_violations(page) == []
    screenshot(page, "dashboard-zh")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Alerts in force and scheduled")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    assert axe_violations(page) == []
    screenshot(page, "dashboard-en")


def test_a_station_page_opens_from_the_dashboard_with_its_hours(
    page: Page, console: ServedConsole, sign_in, axe_violations
) -> None:
    sign_in(page, console.operator_secret)
    page.locator("table").get_by_role("link", name="昆区政府").click()
    expect(page).to_have_url(re.compile(rf"/stations/{STATION}$"))
    expect(page.get_by_role("heading", level=1, name="昆区政府")).to_be_visible()
    chart = page.locator("svg.hourly-chart")
    expect(chart.locator("rect.band")).not_to_have_count(0)
    expect(chart.locator("polyline.aqi-line")).to_have_count(2)  # broken at the missing hour
    expect(chart.locator("circle.hour")).to_have_count(29)
    assert axe_violations(page) == []
    screenshot(page, "station-zh")
    page.get_by_text("逐小时数据表").click()
    expect(page.locator("table.hours")).to_contain_text("PM2.5")
    assert axe_violations(page) == []  # the table too
