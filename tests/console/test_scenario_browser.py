"""The issue's scenario end to end in one real browser, on a server of its own: an operator
signs in, imports a draft from an XLSX file, fixes the error the import reports, publishes,
issues an orange warning by hand and makes a token for an enterprise the import added; that
enterprise signs in and sees its new orders, in Chinese and in English."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from browser import ServedConsole, screenshot, served_console
from list_files import bad_row, list_rows, new_codes, xlsx_bytes
from playwright.sync_api import Browser, Page, expect

from emission_list.entries import Enterprise
from emission_list.samples import kundulun_list

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CODES = new_codes(2, (e.enterprise_id for e in kundulun_list().entries), seed=12)
SMELTER = Enterprise(
    enterprise_id=CODES[0],
    name="包头昆河稀土冶炼有限公司",
    name_en="Baotou Kunhe Rare Earth Smelting Co., Ltd.",
    region="150203014",
    industry="casting",
    grade="C",
    baseline=(35.0, 80.0, 40.0, 9.0),
    contact="0472-5550202",
)
KILN = dataclasses.replace(
    SMELTER,
    enterprise_id=CODES[1],
    name="包头昆北建材有限公司",
    name_en="Baotou Kunbei Building Materials Co., Ltd.",
    grade="B",
)


@pytest.fixture(scope="module")
def console() -> Iterator[ServedConsole]:  # publishes and warns: a server of its own
    with served_console() as served:
        yield served


def _publish_an_imported_draft(page: Page) -> int:
    page.goto("/revisions")
    page.get_by_role("button", name="新建草稿").click()
    number = int(re.search(r"/revisions/(\d+)", page.url).group(1))
    page.get_by_role("link", name="导入文件").first.click()
    workbook = xlsx_bytes([*list_rows([KILN]), bad_row(SMELTER, grade="Z")])
    page.locator("#f-file").set_input_files(
        files=[{"name": "调整.xlsx", "mimeType": XLSX_TYPE, "buffer": workbook}]
    )
    page.get_by_role("button", name="上传并导入").click()
    report = page.locator("#import-report")
    expect(report.get_by_role("status")).to_have_text(
        "共读取 2 行：1 行已存入草稿，1 行有错误未导入。"
    )
    report.get_by_role("link", name="修改 第 3 行").click()  # the smelter, by its row
    grade = page.get_by_label("绩效等级")
    expect(grade).to_have_attribute("aria-invalid", "true")
    grade.select_option("C")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status").first).to_have_text(
        f"已将企业 {SMELTER.enterprise_id} 加入草稿。"
    )
    page.goto(f"/revisions/{number}/publish")
    expect(page.get_by_text("与第 1 版相比：新增 2 家，删除 0 家，修改 0 家。")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"发布第 {number} 版清单").click()
    expect(page.get_by_role("status").first).to_contain_text(f"第 {number} 版清单已发布")
    return number


def _issue_orange_by_hand(page: Page) -> None:
    page.goto("/warnings")
    form = page.locator("#change")
    form.get_by_label("昆都仑区").check()
    form.get_by_label("级别").select_option("orange")
    form.get_by_label("理由（中文）").fill("预报未来三天重污染，发布橙色预警")
    form.get_by_label("理由（英文）").fill("Heavy pollution forecast for three days")
    form.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_have_text("已发布或变更为橙色预警：昆都仑区。")


def _token_for(page: Page, enterprise_id: str) -> str:
    page.goto("/tokens")
    form = page.locator("form", has=page.get_by_label("企业统一社会信用代码"))
    form.get_by_label("角色").select_option("enterprise")
    form.get_by_label("企业统一社会信用代码").fill(enterprise_id)
    form.get_by_role("button", name=re.compile("创建")).click()
    secret = page.locator("code").filter(has_text=re.compile(r"^haze_")).first
    expect(secret).to_be_visible()
    return secret.inner_text().strip()


def test_import_fix_publish_warn_and_the_new_enterprise_sees_its_orders(
    browser: Browser, page: Page, console: ServedConsole, sign_in, axe_violations
) -> None:
    sign_in(page, console.operator_secret)
    number = _publish_an_imported_draft(page)
    _issue_orange_by_hand(page)
    secret = _token_for(page, SMELTER.enterprise_id)

    with console.api() as api:  # what the API tells the enterprise, to compare with the page
        actions = api.get(f"/api/v1/enterprises/{SMELTER.enterprise_id}/actions").json()
        entry = api.get(f"/api/v1/list/enterprises/{SMELTER.enterprise_id}").json()
    assert entry["revision"] == number
    assert actions["level"] == "orange"

    officer = browser.new_context(base_url=console.base_url, locale="zh-CN")
    try:
        portal = officer.new_page()
        sign_in(portal, secret)
        assert portal.url.endswith(f"/enterprises/{SMELTER.enterprise_id}")
        now = portal.locator("section.now")
        expect(now.locator(".badge")).to_have_text("橙色预警")
        cut = f"{round(actions['production_cut'] * 100, 1):g}%"
        expect(now).to_contain_text(f"限产 {cut}")
        expect(now.locator("ol.actions li")).to_have_count(len(actions["actions"]))
        expect(portal.get_by_role("heading", level=1)).to_contain_text(SMELTER.name)
        assert axe_violations(portal) == []
        screenshot(portal, "scenario-enterprise-zh")

        portal.get_by_role("link", name="English").click()
        expect(now.locator(".badge")).to_have_text("Orange")
        expect(now).to_contain_text(f"Cut production by {cut}")
        expect(portal.get_by_role("heading", level=1)).to_contain_text(SMELTER.name_en)
        assert axe_violations(portal) == []
        screenshot(portal, "scenario-enterprise-en")

        other = portal.goto(f"/enterprises/{console.enterprise_id}")
        assert other is not None and other.status == 404
    finally:
        officer.close()
