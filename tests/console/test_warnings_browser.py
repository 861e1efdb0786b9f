"""Warnings and tokens in a real browser, on a server of this module's own (they change
what every page shows): an orange warning issued by hand reaches the district's enterprise,
a joint warning to two cities and its lift, a proposal signed off from the queue, a token
shown once and revoked."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from browser import ServedConsole, screenshot, served_console
from playwright.sync_api import Page, expect

LOCAL = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(scope="module")
def console() -> Iterator[ServedConsole]:
    with served_console() as served:
        yield served


def _enterprise_level(console: ServedConsole) -> str:
    """The level the enterprise's own token reads from the API."""
    with console.api() as api:
        answer = api.get(
            f"/api/v1/enterprises/{console.enterprise_id}/actions",
            headers={"Authorization": f"Bearer {console.enterprise_secret}"},
        )
    answer.raise_for_status()
    return answer.json()["level"]


def _row(page: Page, region_id: str):
    return page.locator(
        "table.regions tr", has=page.locator(f'a[href="/warnings/{region_id}/history"]')
    )


def test_an_orange_warning_by_hand_reaches_the_districts_enterprise(
    page: Page, console: ServedConsole, sign_in
) -> None:
    sign_in(page, console.operator_secret)
    page.goto("/warnings")
    assert _enterprise_level(console) == "none"
    form = page.locator("#change")
    form.get_by_label("昆都仑区").check()
    form.get_by_label("级别").select_option("orange")
    form.get_by_label("理由（中文）").fill("预报未来三天重污染，区政府决定发布橙色预警")
    form.get_by_label("理由（英文）").fill("Heavy pollution forecast for three days")
    form.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_have_text("已发布或变更为橙色预警：昆都仑区。")
    expect(_row(page, "150203").locator("td").nth(1)).to_contain_text("橙色预警")
    expect(_row(page, "150203001").locator("td").first).to_contain_text("橙色预警")  # under it
    assert _enterprise_level(console) == "orange"


def test_a_field_problem_is_shown_beside_the_field(
    page: Page, console: ServedConsole, sign_in
) -> None:
    sign_in(page, console.operator_secret)
    page.goto("/warnings")
    form = page.locator("#change")
    form.get_by_label("包头市").check()
    form.get_by_label("级别").select_option("yellow")
    form.get_by_role("button", name="提交").click()
    reason = page.get_by_label("理由（中文）")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#reason-problem")).to_have_text("需要说明理由")
    expect(page.locator("#change").get_by_label("包头市")).to_be_checked()  # kept as typed


def test_a_joint_warning_to_two_cities_and_its_lift_on_the_timeline(
    page: Page, console: ServedConsole, sign_in, axe_violations
) -> None:
    sign_in(page, console.operator_secret)
    page.goto("/warnings")
    form = page.locator("#change")
    form.get_by_label("呼和浩特市").check()
    form.get_by_label("鄂尔多斯市").check()
    form.get_by_label("级别").select_option("yellow")
    form.get_by_label("理由（中文）").fill("呼包鄂乌区域联合预警")
    form.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_have_text(
        "已发布或变更为黄色预警：呼和浩特市、鄂尔多斯市。"
    )
    for region in ("150100", "150600"):
        expect(_row(page, region).locator("td").nth(1)).to_contain_text("区域联合预警")

    form = page.locator("#change")
    form.get_by_label("呼和浩特市").check()
    form.get_by_label("级别").select_option("none")
    form.get_by_label("理由（中文）").fill("联合预警解除")
    form.get_by_role("button", name="提交").click()
    expect(page.get_by_role("heading", name="确认解除预警")).to_be_visible()
    page.get_by_role("button", name="确认解除").click()
    expect(page.get_by_role("status")).to_have_text("已解除预警：呼和浩特市。")
    expect(_row(page, "150100").locator("td").first).to_contain_text("无预警")
    expect(_row(page, "150600").locator("td").first).to_contain_text("黄色预警")

    page.get_by_role("link", name="呼和浩特市：预警时间线").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("呼和浩特市 预警时间线")
    events = page.locator("ol.timeline > li")
    expect(events).to_have_count(2)
    expect(events.nth(0)).to_contain_text("发布")
    expect(events.nth(0)).to_contain_text("区域联合预警")
    expect(events.nth(1)).to_contain_text("解除")
    expect(events.nth(1)).to_contain_text("联合预警解除")
    assert axe_violations(page) == []
    screenshot(page, "timeline-zh")


def test_a_proposal_is_signed_off_from_the_queue(
    page: Page, console: ServedConsole, sign_in, axe_violations
) -> None:
    sign_in(page, console.operator_secret)
    page.goto("/warnings")
    _row(page, "150600").get_by_role("button", name="开启 鄂尔多斯市 的签发要求").click()
    expect(page.get_by_role("status")).to_contain_text(
        "鄂尔多斯市 及其下属区域的预警今后需签发后发布"
    )
    issued = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = issued.astimezone(LOCAL).date()
    days = [
        {"date": (today + dt.timedelta(days=i)).isoformat(), "aqi": aqi}
        for i, aqi in enumerate([250, 320, 260, 230])
    ]
    with console.api() as api:
        body = {"region": "150600", "issued_at": issued.isoformat(), "daily": days}
        decided = api.post("/api/v1/forecasts", json=body).json()
    assert [e["kind"] for e in decided["events"]] == ["propose"]
    page.reload()
    queue = page.locator("#queue")
    expect(queue.locator("tbody tr")).to_have_count(1)
    expect(queue).to_contain_text("鄂尔多斯市")
    expect(queue).to_contain_text("升级为红色预警")  # over the joint yellow
    assert axe_violations(page) == []
    screenshot(page, "warnings-zh")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Proposals waiting for sign-off")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    assert axe_violations(page) == []
    screenshot(page, "warnings-en")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Sign off the proposal for Ordos").click()
    expect(page.get_by_role("status")).to_have_text(
        re.compile("The proposal for Ordos is signed off")
    )
    expect(page.locator("#queue")).to_contain_text("No proposal is waiting for sign-off.")
    expect(_row(page, "150600").locator("td").first).to_contain_text("Red")


def test_a_token_is_shown_once_and_revoked(
    page: Page, console: ServedConsole, sign_in, axe_violations
) -> None:
    sign_in(page, console.operator_secret)
    page.goto("/tokens")
    form = page.locator("#create")
    form.get_by_label("角色").select_option("enterprise")
    form.get_by_label("企业统一社会信用代码").fill(console.other_enterprise_id)
    form.get_by_label("备注", exact=True).fill("浏览器测试专员")
    form.get_by_role("button", name="创建令牌").click()
    expect(page.get_by_role("heading", name="令牌已创建")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("离开本页后将无法再次查看此令牌")
    secret = page.locator("#secret").inner_text().strip()
    assert secret.startswith("haze_")
    with console.api() as api:
        url = f"/api/v1/enterprises/{console.other_enterprise_id}/actions"
        mine = {"Authorization": f"Bearer {secret}"}
        assert api.get(url, headers=mine).status_code == 200

        page.get_by_role("link", name="返回令牌列表").click()
        assert secret not in page.content()
        row = page.locator("tbody tr", has=page.get_by_text("浏览器测试专员"))
        expect(row).to_contain_text("有效")
        assert axe_violations(page) == []
        screenshot(page, "tokens-zh")
        page.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name="吊销令牌 浏览器测试专员").click()
        expect(page.get_by_role("status")).to_contain_text("令牌已吊销")
        expect(page.locator("tbody tr", has=page.get_by_text("浏览器测试专员"))).to_contain_text(
            "已于"
        )
        assert api.get(url, headers=mine).status_code == 401
