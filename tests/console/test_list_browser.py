"""The list in a real browser: an operator searches as they type and opens an enterprise."""

from __future__ import annotations

import re

from browser import ServedConsole, screenshot
from playwright.sync_api import Page, expect


def test_an_operator_searches_the_list_and_opens_an_enterprise(
    page: Page, console: ServedConsole, sign_in, axe_violations
) -> None:
    sign_in(page, console.operator_secret)
    page.get_by_role("link", name="减排清单").click()
    expect(page.get_by_role("heading", name="减排清单", level=1)).to_be_visible()
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(50)
    assert axe_violations(page) == []
    screenshot(page, "list-zh")

    page.get_by_label("企业名称").fill("稀土")  # htmx swaps the results as one types
    expect(page).to_have_url(re.compile(r"name=%E7%A8%80%E5%9C%9F"))
    expect(rows.first).to_contain_text("稀土")
    count = rows.count()
    assert 0 < count < 50
    assert all("稀土" in rows.nth(i).inner_text() for i in range(count))
    page.get_by_label("行业").select_option("rare_earth")
    expect(rows).to_have_count(count)  # every rare-earth name is of that industry

    name = rows.first.locator("th a").inner_text()
    rows.first.locator("th a").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="现在须做什么")).to_be_visible()


def test_a_credit_code_no_enterprise_can_have_is_marked_beside_its_field(
    page: Page, console: ServedConsole, sign_in
) -> None:
    sign_in(page, console.operator_secret)
    page.goto("/list")
    page.get_by_label("统一社会信用代码").fill("9115O")
    expect(page.locator("#credit_code-error")).to_have_text(re.compile("不含 I、O、S、V、Z"))
    expect(page.get_by_role("alert")).to_be_visible()
