"""An alarm in a real browser, on a server of this module's own: the enterprise explains it
from its page, the operators find it in the list and on the dashboard, read its evidence and
chart and verify it. Each page in zh-CN and en, checked by axe-core and saved as a screenshot.

The alarm is recorded as the compliance check records it (``record_findings``) in the
server's SQLite file, from a thread of its own (Playwright's sync API holds this thread's
event loop)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from browser import ServedConsole, screenshot, served_console
from playwright.sync_api import Page, expect

from emission_list.samples import kundulun_list
from service.services.alarms import Finding, record_findings
from service.settings import Settings
from service.storage.engine import create_engine, make_session_maker
from service.storage.repositories import telemetry, utcnow

MN = "MN0001"


@pytest.fixture(scope="module")
def console() -> Iterator[ServedConsole]:
    with served_console() as served:
        yield served


async def _store(console: ServedConsole) -> int:
    started = utcnow().replace(second=0, microsecond=0) - dt.timedelta(minutes=20)
    finding = Finding(
        enterprise_id=console.enterprise_id,
        region=kundulun_list().entry(console.enterprise_id).region,
        kind="production_over",
        subject="L1",
        grade="confirmed",
        level="orange",
        started_at=started,
        evidence={
            "mn": MN,
            "codes": ["e101"],
            "line_name": "1号烧结线",
            "power_kw": 950.0,
            "normal_kw": 1000.0,
            "cut": 0.3,
            "allowed_kw": 770.0,
            "run": 4,
        },
    )
    settings = Settings(data_dir=console.data_dir, database_url="", kafka_bootstrap="")
    engine = create_engine(settings)
    try:
        async with make_session_maker(engine)() as session:
            [alarm] = await record_findings(session, [finding], utcnow())
            rows = [
                {
                    "mn": MN,
                    "code": "e101",
                    "period": "m",
                    "at": started - dt.timedelta(minutes=10) + dt.timedelta(minutes=i),
                    "enterprise_id": console.enterprise_id,
                    "value": 600.0 + 25 * i if i < 25 else None,
                    "flag": "N" if i != 12 else "D",
                }
                for i in range(28)
            ]
            await telemetry.store_values(session, rows)
            await session.commit()
            return alarm.id
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def alarm_id(console: ServedConsole) -> int:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _store(console)).result()


def test_the_enterprise_explains_its_alarm(
    page: Page, console: ServedConsole, alarm_id: int, sign_in, axe_violations
) -> None:
    sign_in(page, console.enterprise_secret)
    page.goto(f"/enterprises/{console.enterprise_id}")
    card = page.locator(f'li.alarm-card[data-alarm="{alarm_id}"]')
    expect(card).to_contain_text("生产负荷超限")
    expect(card).to_contain_text("1号烧结线")
    assert axe_violations(page) == []
    screenshot(page, "alarms-enterprise-zh-CN")
    card.get_by_label("说明内容").fill("夜间检修后试车，已恢复限产")
    card.get_by_role("button", name="提交说明").click()
    expect(page.get_by_role("status").first).to_have_text("说明已提交。")
    expect(card).to_contain_text("夜间检修后试车，已恢复限产")
    page.goto(f"/alarms/{alarm_id}?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Alarm {alarm_id}: Production above its cut"
    )
    expect(page.get_by_role("button", name="Explain again")).to_be_visible()
    expect(page.get_by_role("button", name="Verify")).to_have_count(0)
    assert axe_violations(page) == []
    screenshot(page, "alarms-alarm-enterprise-en")


def test_the_operators_read_the_evidence_and_verify(
    page: Page, console: ServedConsole, alarm_id: int, sign_in, axe_violations
) -> None:
    sign_in(page, console.operator_secret)
    counts = page.locator("section.alarm-counts")
    expect(counts).to_contain_text("共 1 条待处理告警")
    page.get_by_role("link", name="告警", exact=True).click()
    row = page.locator(f'table.alarms tr[data-alarm="{alarm_id}"]')
    expect(row).to_contain_text("生产负荷超限")
    expect(row).to_contain_text("企业已说明")
    assert axe_violations(page) == []
    screenshot(page, "alarms-list-zh-CN")
    page.get_by_label("生产负荷超限").check()
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(f"{console.base_url}/alarms?region=&kind=production_over")
    row.get_by_role("link", name=f"打开告警 {alarm_id}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"告警 {alarm_id}：生产负荷超限")
    evidence = page.locator("table.evidence")
    expect(evidence.locator('tr[data-key="power_kw"] td')).to_have_text("950 kW")
    expect(evidence.locator('tr[data-key="cut"] td')).to_have_text("30%")
    chart = page.locator("svg.series-chart")
    expect(chart.locator("circle.dot")).to_have_count(25)  # 3 values missing: no dot
    expect(chart.locator("circle.dot.invalid")).to_have_count(1)
    expect(chart.locator("line.allowed")).to_have_count(1)
    expect(page.locator("table.trail")).to_contain_text("夜间检修后试车")
    assert axe_violations(page) == []
    screenshot(page, "alarms-alarm-zh-CN")
    page.get_by_label("核实说明（可选）").fill("现场检查属实")
    page.get_by_role("button", name="核实属实").click()
    expect(page.get_by_role("status")).to_have_text("告警已核实。")
    expect(page.locator(".alarm-facts")).to_contain_text("已核实")
    page.goto(f"/alarms/{alarm_id}?lang=en")
    expect(page.locator("table.trail")).to_contain_text("Verified")
    expect(page.locator("table.evidence")).to_contain_text("Measured power")
    assert axe_violations(page) == []
    screenshot(page, "alarms-alarm-en")
    with console.api() as api:
        stored = api.get(f"/api/v1/alarms/{alarm_id}").json()
    assert stored["status"] == "verified"
    assert [e["action"] for e in stored["events"]] == ["raised", "explained", "verified"]
