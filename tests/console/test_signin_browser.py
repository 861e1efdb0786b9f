"""Signing in and out in a real browser, and what a session may not do."""

from __future__ import annotations

import re

from browser import ServedConsole, screenshot
from playwright.sync_api import Page, expect


def test_the_console_opens_at_the_root_on_the_sign_in_page(page: Page, axe_violations) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin$"))
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "signin-zh")


def test_an_operator_signs_in_and_out(page: Page, console: ServedConsole, sign_in) -> None:
    sign_in(page, console.operator_secret)
    assert page.url.endswith("/dashboard")
    cookie = next(c for c in page.context.cookies() if c["name"] == "haze_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("status")).to_have_text("您已退出登录。")
    page.goto("/dashboard")
    assert "/signin" in page.url


def test_a_wrong_token_is_refused_beside_the_field(page: Page) -> None:
    page.goto("/signin")
    page.get_by_label("令牌").fill("haze_not-a-token")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("令牌无效、已过期或已吊销。")
    expect(page.get_by_label("令牌")).to_have_attribute("aria-invalid", "true")


def test_the_language_switch_turns_the_page_into_english(page: Page) -> None:
    page.goto("/signin")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    screenshot(page, "signin-en")


def test_a_form_posted_without_its_csrf_token_is_refused(
    page: Page, console: ServedConsole, sign_in
) -> None:
    sign_in(page, console.operator_secret)
    answer = page.request.post(f"{console.base_url}/signout", form={"next": "/"})
    assert answer.status == 403
    assert answer.json()["error"]["code"] == "csrf.invalid"
    page.goto("/dashboard")  # still signed in: the forged sign-out did nothing
    assert page.url.endswith("/dashboard")
