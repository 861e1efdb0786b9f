"""The enterprise portal in a real browser: an enterprise's own page, never another's, and
its orders once an orange warning is issued (on a server of this module: the warning changes
what every page shows)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import ServedConsole, screenshot, served_console
from playwright.sync_api import Page, expect


@pytest.fixture(scope="module")
def console() -> Iterator[ServedConsole]:
    with served_console() as served:
        yield served


def test_an_enterprise_lands_on_its_page_and_cannot_open_anothers(
    page: Page, console: ServedConsole, sign_in
) -> None:
    sign_in(page, console.enterprise_secret)
    assert page.url.endswith(f"/enterprises/{console.enterprise_id}")
    expect(page.get_by_role("heading", name="现在须做什么")).to_be_visible()
    answer = page.goto(f"/enterprises/{console.other_enterprise_id}")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("alert")).to_contain_text(console.other_enterprise_id)
    for suffix in ("/notice", "/orders"):
        answer = page.goto(f"/enterprises/{console.other_enterprise_id}{suffix}")
        assert answer is not None and answer.status == 404


def test_with_an_orange_warning_the_enterprise_sees_its_orders_in_both_languages(
    page: Page, console: ServedConsole, sign_in, axe_violations
) -> None:
    with console.api() as api:
        issued = api.post(
            "/api/v1/alerts",
            json={
                "region": "150203",
                "level": "orange",
                "reason": {"zh-CN": "区政府发布橙色预警", "en": "The district issued orange"},
            },
        )
        issued.raise_for_status()
        actions = api.get(f"/api/v1/enterprises/{console.enterprise_id}/actions").json()
    sign_in(page, console.enterprise_secret)
    now = page.locator("section.now")
    expect(now.locator(".badge")).to_have_text("橙色预警")
    cut = f"{round(actions['production_cut'] * 100, 1):g}%"
    expect(now).to_contain_text(f"限产 {cut}")
    expect(now.locator("ol.actions li")).to_have_count(len(actions["actions"]))
    assert axe_violations(page) == []
    screenshot(page, "enterprise-zh")

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="What to do now")).to_be_visible()
    expect(now.locator(".badge")).to_have_text("Orange")
    expect(now).to_contain_text(f"Cut production by {cut}")
    assert axe_violations(page) == []
    screenshot(page, "enterprise-en")

    page.get_by_role("link", name="Past orders").click()
    expect(page.locator("table.orders tbody tr")).to_have_count(1)
    expect(page.locator("table.orders tbody tr")).to_contain_text("In force")
    assert axe_violations(page) == []

    page.get_by_role("link", name="中文").click()
    expect(page.locator("table.orders tbody tr")).to_contain_text("执行中")
    page.get_by_role("link", name="预警通知书").click()
    expect(page.get_by_role("heading", name="重污染天气应急减排通知书")).to_be_visible()
    expect(page.locator("article.notice-doc")).to_contain_text("根据昆都仑区发布的橙色预警")
    expect(page.get_by_role("button", name="打印通知书")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "notice-zh")
