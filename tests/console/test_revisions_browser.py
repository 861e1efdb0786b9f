"""An operator revises the list in a real browser: opens a draft, imports a workbook with one
bad row, reads the report, fixes the row in the form, checks the diff and the preview, and
publishes after confirming; the published list then holds the new enterprises."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from browser import ServedConsole, screenshot, served_console
from list_files import bad_row, list_rows, new_codes, xlsx_bytes
from playwright.sync_api import Page, expect

from emission_list.entries import Enterprise
from emission_list.samples import kundulun_list

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CODES = new_codes(2, (e.enterprise_id for e in kundulun_list().entries), seed=7)
FOUNDRY = Enterprise(
    enterprise_id=CODES[0],
    name="包头北辰风电铸件有限公司",
    name_en="Baotou Beichen Wind Castings Co., Ltd.",
    region="150203014",
    industry="casting",
    grade="B",
    baseline=(20.0, 48.0, 66.0, 12.0),
    contact="0472-5550101",
)
COATER = dataclasses.replace(
    FOUNDRY,
    enterprise_id=CODES[1],
    name="包头青山涂装有限公司",
    name_en="Baotou Qingshan Coating Co., Ltd.",
    industry="coating",
    grade="C",
)


def _import(page: Page, button: str, name: str, workbook: bytes) -> None:
    """Choose ``workbook`` in the import form and send it."""
    page.locator("#f-file").set_input_files(
        files=[{"name": name, "mimeType": XLSX_TYPE, "buffer": workbook}]
    )
    page.get_by_role("button", name=button).click()


@pytest.fixture(scope="module")
def console() -> Iterator[ServedConsole]:  # publishes: a server of its own
    with served_console() as served:
        yield served


def test_an_operator_imports_fixes_and_publishes_a_draft(
    page: Page, console: ServedConsole, sign_in, axe_violations
) -> None:
    sign_in(page, console.operator_secret)
    page.goto("/revisions")
    expect(page.get_by_role("heading", name="清单修订", exact=True)).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "revisions-zh")
    page.get_by_role("button", name="新建草稿").click()
    expect(page.get_by_role("status").first).to_contain_text("新建第")
    number = int(re.search(r"/revisions/(\d+)", page.url).group(1))
    assert axe_violations(page) == []
    screenshot(page, "revision-draft-zh")

    page.get_by_role("link", name="导入文件").first.click()
    workbook = xlsx_bytes([*list_rows([FOUNDRY]), bad_row(COATER, baseline_pm=-66)])
    expect(page.get_by_label("清单文件", exact=True)).to_be_visible()
    _import(page, "上传并导入", "2026年调整.xlsx", workbook)
    report = page.locator("#import-report")
    expect(report.get_by_role("status")).to_have_text(
        "共读取 2 行：1 行已存入草稿，1 行有错误未导入。"
    )
    expect(report.get_by_role("rowheader", name="第 3 行")).to_be_visible()
    expect(report).to_contain_text("PM 基准排放量不能为负：-66.0 kg/d")
    assert axe_violations(page) == []
    screenshot(page, "import-report-zh")

    report.get_by_role("link", name="修改 第 3 行").click()
    pm = page.get_by_label("颗粒物（千克/天）")
    expect(pm).to_have_attribute("aria-invalid", "true")
    expect(pm).to_have_value("-66")
    expect(page.locator("#f-baseline_pm-error")).to_have_text("PM 基准排放量不能为负：-66.0 kg/d")
    expect(page.get_by_label("企业名称")).to_have_value(COATER.name)
    assert axe_violations(page) == []
    screenshot(page, "entry-edit-zh")
    pm.fill("66")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status").first).to_have_text(
        f"已将企业 {COATER.enterprise_id} 加入草稿。"
    )

    page.get_by_role("link", name="变更对比").click()
    expect(page.get_by_role("heading", name="新增企业（2）")).to_be_visible()
    expect(page.get_by_role("rowheader", name=f"新增 {FOUNDRY.name}")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "diff-zh")

    page.get_by_role("link", name="减排预览").click()
    page.get_by_label("预警级别").select_option("red")
    page.get_by_role("button", name="计算").click()
    expect(page.get_by_role("table")).to_contain_text("昆河镇")
    assert axe_violations(page) == []
    screenshot(page, "preview-zh")

    page.get_by_role("link", name="发布", exact=True).click()
    expect(page.get_by_text("与第 1 版相比：新增 2 家，删除 0 家，修改 0 家。")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "publish-zh")
    page.get_by_label("生效日期").fill("2026-10-01")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"发布第 {number} 版清单").click()
    expect(page.get_by_role("status").first).to_contain_text(f"第 {number} 版清单已发布并立即生效")

    with console.api() as api:
        for entry in (FOUNDRY, COATER):
            published = api.get(f"/api/v1/list/enterprises/{entry.enterprise_id}")
            assert published.status_code == 200
            assert published.json()["revision"] == number
        assert published.json()["entry"]["baseline"]["pm"] == 66.0


def test_the_revision_pages_read_in_english(
    page: Page, console: ServedConsole, sign_in, axe_violations
) -> None:
    sign_in(page, console.operator_secret)
    page.goto("/revisions")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="List revisions")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    screenshot(page, "revisions-en")
    page.get_by_role("button", name="Open a draft").click()
    page.get_by_role("link", name="Import a file").first.click()
    workbook = xlsx_bytes([bad_row(FOUNDRY, grade="Z", region="150203")])
    _import(page, "Upload and import", "adjust.xlsx", workbook)
    report = page.locator("#import-report")
    expect(report.get_by_role("status")).to_have_text(
        "Rows read: 1; stored in the draft: 0; with problems, not imported: 1."
    )
    expect(report).to_contain_text("Unknown performance grade Z")
    expect(report).to_contain_text("Region 150203 is not a leaf region")
    assert axe_violations(page) == []
    screenshot(page, "import-report-en")
    report.get_by_role("link", name="Fix Row 2").click()
    expect(page.get_by_label("Grade", exact=True)).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []
    screenshot(page, "entry-edit-en")
