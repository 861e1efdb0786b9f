"""Notices in a real browser, on a server of this module's own (a warning and subscriptions
change what every page shows): the enterprise adds a webhook (its secret shown once) and
acknowledges its orange notice; the operators see who has not, and send a dead delivery again.
Each page in zh-CN and en, checked by axe-core and saved as a screenshot."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from browser import ServedConsole, screenshot, served_console
from playwright.sync_api import Page, expect

#: Nothing listens on port 9: every try is refused, and the delivery is dead after 1.8 s.
REFUSED_HOOK = "http://127.0.0.1:9/hook"
WAIT_S = 60.0


@pytest.fixture(scope="module")
def console() -> Iterator[ServedConsole]:
    with served_console(
        HAZE_NOTIFY_GIVE_UP_HOURS="0.0005",
        HAZE_NOTIFY_RETRY_BASE_S="0.05",
        HAZE_NOTIFY_RETRY_CAP_S="0.2",
        HAZE_NOTIFY_POLL_S="0.1",
    ) as served:
        yield served


def _operator_get(console: ServedConsole, path: str) -> dict:
    with console.api() as api:
        answer = api.get(path)
    answer.raise_for_status()
    return answer.json()


def _eventually(check: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"not reached within {WAIT_S} s: {what}"
        time.sleep(0.1)


def test_the_enterprise_subscribes_and_acknowledges_its_orange_notice(
    page: Page, console: ServedConsole, sign_in, axe_violations
) -> None:
    sign_in(page, console.enterprise_secret)
    page.goto(f"/enterprises/{console.enterprise_id}")
    form = page.locator("form.subscribe-form")
    form.get_by_label("渠道").select_option("webhook")
    form.get_by_label("发往").fill(REFUSED_HOOK)
    form.get_by_role("button", name="添加").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("已添加 Webhook 订阅")
    expect(page.locator("#secret")).to_contain_text("whsec_")
    assert axe_violations(page) == []
    screenshot(page, "notices-subscribed-zh-CN")
    with console.api() as api:
        body = {"region": "150203", "level": "orange", "reason": {"zh-CN": "测试", "en": "test"}}
        api.post("/api/v1/alerts", json=body).raise_for_status()
    path = f"/api/v1/enterprises/{console.enterprise_id}/notices"
    _eventually(lambda: _operator_get(console, path)["items"], "the orange notice stored")
    page.get_by_role("link", name="返回企业页面").click()
    latest = page.locator(".latest-notice")
    expect(latest).to_contain_text("橙色预警")
    expect(latest).to_contain_text("尚未确认")
    expect(page.locator("table.subscription-list")).to_contain_text(REFUSED_HOOK)
    assert axe_violations(page) == []
    screenshot(page, "notices-enterprise-zh-CN")
    page.once("dialog", lambda dialog: dialog.accept())
    latest.get_by_role("button", name="确认收到").click()
    expect(page.get_by_role("status").first).to_have_text("通知已确认。")
    expect(page.locator("#latest-ack")).to_contain_text("已于")
    assert _operator_get(console, path)["items"][0]["acknowledged_at"] is not None
    page.goto(f"/enterprises/{console.enterprise_id}?lang=en")
    expect(page.locator("#latest-ack")).to_contain_text("Acknowledged at")
    assert axe_violations(page) == []
    screenshot(page, "notices-enterprise-en")


def test_the_operators_see_who_waits_and_send_a_dead_delivery_again(
    page: Page, console: ServedConsole, sign_in, axe_violations
) -> None:
    with console.api() as api:
        body = {"region": "150203", "level": "red", "reason": {"zh-CN": "测试", "en": "test"}}
        api.post("/api/v1/alerts", json=body).raise_for_status()
    unacknowledged = "/api/v1/notices?status=unacknowledged&current=true&level=red&limit=1000"
    _eventually(lambda: _operator_get(console, unacknowledged)["items"], "the red notices")
    waiting = {n["enterprise_id"] for n in _operator_get(console, unacknowledged)["items"]}
    sign_in(page, console.operator_secret)
    page.get_by_role("link", name="通知").click()
    page.get_by_label("等待超过（分钟）").fill("0")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("table.waiting tbody tr")
    expect(rows.first).to_contain_text("红色预警")
    shown = set(rows.evaluate_all("rows => rows.map(r => r.dataset.enterprise)"))
    assert shown <= waiting and len(shown) == min(len(waiting), 50)
    assert axe_violations(page) == []
    screenshot(page, "notices-waiting-zh-CN")
    page.goto("/notices?waiting=0&lang=en")
    expect(page.locator("table.waiting caption")).to_contain_text("waiting longer than 0 min")
    assert axe_violations(page) == []
    screenshot(page, "notices-waiting-en")
    dead = "/api/v1/deliveries?status=dead"
    _eventually(lambda: _operator_get(console, dead)["items"], "a dead delivery")
    page.goto("/notices/dead")
    row = page.locator("table.dead tbody tr").first
    expect(row).to_contain_text(REFUSED_HOOK)
    assert axe_violations(page) == []
    screenshot(page, "notices-dead-zh-CN")
    delivery_id = row.get_attribute("data-delivery")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button").click()
    expect(page.get_by_role("status")).to_have_text(f"投递 {delivery_id} 已重新排队发送。")
    page.goto(f"/notices/dead?lang=en&resent={delivery_id}")
    assert axe_violations(page) == []
    screenshot(page, "notices-dead-en")
