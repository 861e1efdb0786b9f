"""The public warnings page in a real browser: Chinese first, then English by its switch."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def test_the_public_page_opens_without_a_session_in_both_languages(
    page: Page, axe_violations
) -> None:
    page.goto("/public")
    expect(page.get_by_role("heading", name="重污染天气预警公开信息")).to_be_visible()
    expect(page.get_by_role("link", name="预警订阅（Atom）")).to_have_attribute(
        "href", "/cap/alerts.atom"
    )
    assert axe_violations(page) == []
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Heavy air pollution warnings")).to_be_visible()
    assert page.url.endswith("/public")
    assert axe_violations(page) == []
