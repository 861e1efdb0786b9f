"""The revision pages on PostgreSQL: one open draft at a time, the entry form with its
problems beside the fields, importing CSV and XLSX files row by row, a file too large, the
diff, the preview against an independent computation, and publishing after a confirmation."""

from __future__ import annotations

import dataclasses
import re
from html import unescape

import httpx
import pytest
from api_client import Api, served_api
from console_client import HTML, Visitor, console_visitor

from emission_list.catalog import default_catalog
from emission_list.entries import Enterprise
from emission_list.levels import Level, Response
from emission_list.reference.evaluator import evaluate_list, region_totals
from emission_list.samples import kundulun_list, kundulun_regions
from service.console import entry_form
from service.storage.repositories import audit, lists
from tests.console.list_files import bad_row, csv_bytes, list_rows, new_codes, xlsx_bytes

#: The pages' queries on PostgreSQL (the embedded SQLite default is what the browser tests
#: in tests/console/ run on); both databases would double this module's time for little.
pytestmark = pytest.mark.parametrize("seeded_database_url", ["postgresql"], indirect=True)


ENTRIES = kundulun_list().entries
CATALOG = default_catalog()
PARENTS = {r.region_id: r.parent for r in kundulun_regions()}
NEW_IDS = new_codes(4, (e.enterprise_id for e in ENTRIES))
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _new_entry(code: str, **changes: object) -> Enterprise:
    entry = Enterprise(
        enterprise_id=code,
        name="包头测试铸造有限公司",
        name_en="Baotou Test Casting Co., Ltd.",
        region="150203005",
        industry="casting",
        grade="C",
        baseline=(12.0, 30.0, 45.5, 8.0),
        contact="0472-1234567",
    )
    return dataclasses.replace(entry, **changes)


def _text(page: httpx.Response) -> str:
    """The page's visible text, tags removed (for what a person reads)."""
    return unescape(re.sub(r"<[^>]+>", " ", page.text))


async def _open_draft(visitor: Visitor) -> int:
    answer = await visitor.post("/revisions")
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/revisions/(\d+)\?done=(opened|continued)", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found.group(1))


async def _stored(api: Api, number: int, code: str) -> Enterprise | None:
    async with api.runtime.session_maker() as session:
        return await lists.get_entry(session, number, code)


def _form(entry: Enterprise, **changes: str) -> dict[str, str]:
    """What the form of ``entry`` sends, with ``changes`` typed over it."""
    return entry_form.values_of(entry) | changes


async def _upload(
    visitor: Visitor, number: int, name: str, body: bytes, kind: str, mode: str = "merge"
) -> httpx.Response:
    data = {"csrftoken": visitor.csrf, "mode": mode}
    files = {"file": (name, body, kind)}
    return await visitor.client.post(
        f"/revisions/{number}/import", data=data, files=files, headers=HTML
    )


async def test_opening_a_draft_copies_the_list_and_opening_again_continues_it(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        before = await visitor.get("/revisions")
        assert before.status_code == 200
        assert "新建草稿" in before.text
        number = await _open_draft(visitor)
        page = await visitor.get(f"/revisions/{number}?done=opened")
        assert page.status_code == 200
        assert f"共 {len(ENTRIES)} 家企业" in _text(page)
        assert ENTRIES[0].enterprise_id in page.text  # the first page, by credit code
        again = await visitor.post("/revisions")
        assert again.headers["location"] == f"/revisions/{number}?done=continued"
        listing = await visitor.get("/revisions")
        text = _text(listing)
        assert f"继续编辑第 {number} 版草稿" in text
        rows = re.findall(r"<th scope=\"row\"><a href=\"/revisions/(\d+)\">", listing.text)
        assert rows == sorted(rows, key=int, reverse=True) and rows[0] == str(number)


async def test_searching_a_draft_by_name_or_credit_code(api: Api) -> None:
    target = ENTRIES[5]
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        number = await _open_draft(visitor)
        by_name = await visitor.get(f"/revisions/{number}", params={"q": target.name[2:6]})
        assert target.enterprise_id in by_name.text
        by_code = await visitor.get(f"/revisions/{number}", params={"q": target.enterprise_id[:12]})
        codes = set(re.findall(r"<code>([0-9A-Z]{18})</code>", by_code.text))
        expected = {
            e.enterprise_id
            for e in ENTRIES
            if e.enterprise_id.startswith(target.enterprise_id[:12])
        }
        assert codes == expected
        assert f"找到 {len(expected)} 家企业" in _text(by_code)
        nothing = await visitor.get(f"/revisions/{number}", params={"q": "没有这家企业"})
        assert "找到 0 家企业" in _text(nothing)


async def test_a_bad_value_is_shown_beside_its_field_with_the_typed_values_kept(api: Api) -> None:
    entry = ENTRIES[3]
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        number = await _open_draft(visitor)
        url = f"/revisions/{number}/enterprises/{entry.enterprise_id}"
        form = await visitor.get(url)
        assert form.status_code == 200
        assert f'value="{entry.name}"' in form.text
        typed = _form(entry, baseline_pm="-5", name="改名后的企业", grade="Z")
        answer = await visitor.post(url, typed)
        assert answer.status_code == 422
        pm = re.search(r"<input id=\"f-baseline_pm\"[^>]*>", answer.text).group(0)
        assert 'aria-invalid="true"' in pm and 'value="-5"' in pm
        assert 'aria-describedby="f-baseline_pm-error"' in pm
        error = re.search(r'id="f-baseline_pm-error"[^>]*>([^<]+)<', answer.text).group(1)
        assert error == "PM 基准排放量不能为负：-5.0 kg/d"
        assert 'id="f-grade-error"' in answer.text and "未知绩效等级 Z" in answer.text
        assert 'value="改名后的企业"' in answer.text  # what was typed, not what is stored
        assert await _stored(api, number, entry.enterprise_id) == entry  # nothing saved
        english = await visitor.client.post(
            url + "?lang=en", data={"csrftoken": visitor.csrf, **typed}, headers=HTML
        )
        assert "The PM baseline must not be negative: -5.0 kg/day" in english.text
        fixed = await visitor.post(url, _form(entry, baseline_pm="4321.5"))
        assert fixed.status_code == 303
        stored = await _stored(api, number, entry.enterprise_id)
        assert stored == dataclasses.replace(
            entry, baseline=(*entry.baseline[:2], 4321.5, entry.baseline[3])
        )


async def test_an_unchanged_form_changes_nothing(api: Api) -> None:
    # overrides, actions and lines travel too
    entry = next(e for e in ENTRIES if e.overrides and e.lines)
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        number = await _open_draft(visitor)
        url = f"/revisions/{number}/enterprises/{entry.enterprise_id}"
        page = await visitor.get(url)
        values = dict(
            re.findall(
                r'<input id="f-[^"]+" name="([^"]+)" type="(?:text|search)" value="([^"]*)"',
                page.text,
            )
        )
        hidden = dict(
            re.findall(
                r'<input type="hidden" name="(overrides_[a-z]+_actions|lines)" value="([^"]*)"',
                page.text,
            )
        )
        selected = dict(
            re.findall(
                r'<select id="f-[^"]+" name="([^"]+)"[^>]*>.*?<option value="([^"]*)"[^>]*selected',
                page.text,
                re.S,
            )
        )
        form = {k: unescape(v) for k, v in (values | hidden | selected).items()}
        if entry.guaranteed_supply:
            form["guaranteed_supply"] = "true"
        assert (await visitor.post(url, form)).status_code == 303
        assert await _stored(api, number, entry.enterprise_id) == entry
        diff = await visitor.get(f"/revisions/{number}/diff")
        assert "修改的企业（0）" in diff.text


async def test_adding_correcting_and_deleting_an_entry(api: Api) -> None:
    good = _new_entry(NEW_IDS[0])
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        number = await _open_draft(visitor)
        mistyped = _form(
            good, enterprise_id=NEW_IDS[0][:17] + ("0" if NEW_IDS[0][17] != "0" else "1")
        )
        refused = await visitor.post(f"/revisions/{number}/enterprises/new", mistyped)
        assert refused.status_code == 422
        assert "统一社会信用代码校验位错误" in refused.text
        duplicate = await visitor.post(f"/revisions/{number}/enterprises/new", _form(ENTRIES[0]))
        assert duplicate.status_code == 422 and "草稿中已有" in duplicate.text
        added = await visitor.post(f"/revisions/{number}/enterprises/new", _form(good))
        assert added.status_code == 303
        assert await _stored(api, number, good.enterprise_id) == good
        # a wrong credit code is corrected in the edit form: the entry moves to the right one
        renamed = await visitor.post(
            f"/revisions/{number}/enterprises/{good.enterprise_id}",
            _form(good, enterprise_id=NEW_IDS[1]),
        )
        assert renamed.status_code == 303
        assert await _stored(api, number, good.enterprise_id) is None
        assert await _stored(api, number, NEW_IDS[1]) == dataclasses.replace(
            good, enterprise_id=NEW_IDS[1]
        )
        page = await visitor.get(f"/revisions/{number}", params={"q": NEW_IDS[1]})
        assert "data-confirm=" in page.text  # deleting asks first
        deleted = await visitor.post(f"/revisions/{number}/enterprises/{NEW_IDS[1]}/delete")
        assert deleted.status_code == 303
        assert await _stored(api, number, NEW_IDS[1]) is None
        async with api.runtime.session_maker() as session:
            actions = [r.action for r in await audit.recent(session, limit=10)]
        assert {"list.entry.add", "list.entry.remove"} <= set(actions)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_an_import_reports_bad_rows_by_number_and_stores_the_good_ones(
    api: Api, kind: str
) -> None:
    regraded = dataclasses.replace(ENTRIES[1], grade="C" if ENTRIES[1].grade != "C" else "B")
    added = _new_entry(NEW_IDS[0])
    rows = [
        list_rows([regraded])[0],  # line 2: replaces the entry with its code
        list_rows([added])[0],  # line 3: a new enterprise
        bad_row(_new_entry(NEW_IDS[1]), baseline_pm=-5),  # line 4
        bad_row(_new_entry(NEW_IDS[2]), enterprise_id=NEW_IDS[2][:17] + "I", grade="Z"),  # line 5
        bad_row(ENTRIES[2], region="999999"),  # line 6: a bad row leaves the entry as it was
    ]
    body = xlsx_bytes(rows) if kind == "xlsx" else csv_bytes(rows)
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        number = await _open_draft(visitor)
        form = await visitor.get(f"/revisions/{number}/import")
        assert 'data-progress="upload-progress"' in form.text and "<progress" in form.text
        media = XLSX_TYPE if kind == "xlsx" else "text/csv"
        report = await _upload(visitor, number, f"清单.{kind}", body, media)
        assert report.status_code == 200, report.text
        text = _text(report)
        assert "共读取 5 行：2 行已存入草稿，3 行有错误未导入。" in text
        found = re.findall(r'<th scope="row" rowspan="\d+">第 (\d+) 行</th>', report.text)
        assert found == ["4", "5", "6"]
        assert "PM 基准排放量不能为负" in text and "未知绩效等级 Z" in text
        assert "统一社会信用代码含有不使用的字符 I" in text and "未知区划 999999" in text
        assert await _stored(api, number, regraded.enterprise_id) == regraded
        assert await _stored(api, number, added.enterprise_id) == added
        assert await _stored(api, number, NEW_IDS[1]) is None
        assert await _stored(api, number, ENTRIES[2].enterprise_id) == ENTRIES[2]
        async with api.runtime.session_maker() as session:
            (recorded,) = await audit.recent(session, action="list.import")
        assert recorded.target == f"list/{number}"
        assert recorded.details["added"] == 1 and recorded.details["replaced"] == 1
        # each bad row opens the form with what the file said, its problems beside the fields
        fix = re.search(r'href="(/revisions/\d+/enterprises/new\?[^"]+)"', report.text).group(1)
        page = await visitor.get(unescape(fix))
        assert 'value="-5"' in page.text and 'id="f-baseline_pm-error"' in page.text


async def test_replace_all_removes_what_the_file_lacks_and_keeps_bad_rows_entries(api: Api) -> None:
    kept, bad = ENTRIES[:3], ENTRIES[3]
    rows = [*list_rows(kept), bad_row(bad, grade="Z")]
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        number = await _open_draft(visitor)
        report = await _upload(visitor, number, "all.csv", csv_bytes(rows), "text/csv", "replace")
        assert report.status_code == 200
        async with api.runtime.session_maker() as session:
            draft = await lists.get(session, number)
        assert set(draft.ids) == {e.enterprise_id for e in ENTRIES[:4]}
        text = _text(report)
        assert re.search(rf"删除企业（文件中没有）\s+{len(ENTRIES) - 4}\b", text)
        assert re.search(r"保留原条目（该行有错误）\s+1\b", text)


@pytest.mark.parametrize(
    ("name", "body", "code"),
    [
        ("list.pdf", b"%PDF-1.4", "只接受 CSV"),
        ("list.xlsx", b"not a workbook at all", "不是有效的 Excel 工作簿"),
        ("list.xlsx", b"PK\x03\x04broken zip", "无法作为 Excel 工作簿读取"),
        ("list.csv", "企业名称,信用代码\n".encode("gbk"), "不是 UTF-8 编码"),
        ("list.csv", b"name,grade\nx,B\n", "首行缺少列：enterprise_id"),
        ("list.csv", b"", "是空文件"),
    ],
)
async def test_a_file_that_cannot_be_read_is_a_clear_problem(
    api: Api, name: str, body: bytes, code: str
) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        number = await _open_draft(visitor)
        answer = await _upload(visitor, number, name, body, "application/octet-stream")
        assert answer.status_code == 422
        error = re.search(r'id="f-file-error"[^>]*>([^<]+)<', answer.text)
        assert error and code in unescape(error.group(1))


async def test_the_import_alone_takes_files_above_the_body_limit_up_to_its_own(
    seeded_database_url: str,
) -> None:
    limits = {"max_body_bytes": 4096, "console_upload_bytes": 64 * 1024}
    async with (
        served_api(seeded_database_url, **limits) as api,
        console_visitor(api, api.secrets["operator"]) as visitor,
    ):
        number = await _open_draft(visitor)
        fits = csv_bytes(list_rows(ENTRIES[:40]))
        assert 4096 < len(fits) < 64 * 1024
        taken = await _upload(visitor, number, "list.csv", fits, "text/csv")
        assert taken.status_code == 200, taken.text
        elsewhere = await visitor.post(f"/revisions/{number}/enterprises/new", {"name": "x" * 5000})
        assert elsewhere.status_code == 413
        body = csv_bytes(list_rows(ENTRIES)) * 8
        assert len(body) > 64 * 1024
        answer = await _upload(visitor, number, "big.csv", body, "text/csv")
        assert answer.status_code == 413
        assert "text/html" in answer.headers["content-type"]
        assert "请求体过大" in answer.text and f"limit_bytes: {64 * 1024}" in answer.text
        over_htmx = await visitor.client.post(
            f"/revisions/{number}/import",
            files={"file": ("big.csv", body, "text/csv")},
            data={"csrftoken": visitor.csrf},
            headers={"HX-Request": "true", "X-CSRFToken": visitor.csrf},
        )
        assert over_htmx.status_code == 413 and "<main" in over_htmx.text


async def test_the_diff_shows_added_removed_and_changed_fields(api: Api) -> None:
    changed = ENTRIES[4]
    new_pm = changed.baseline[2] + 100
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        number = await _open_draft(visitor)
        await visitor.post(f"/revisions/{number}/enterprises/new", _form(_new_entry(NEW_IDS[0])))
        await visitor.post(f"/revisions/{number}/enterprises/{ENTRIES[6].enterprise_id}/delete")
        url = f"/revisions/{number}/enterprises/{changed.enterprise_id}"
        await visitor.post(url, _form(changed, baseline_pm=repr(new_pm)))
        page = await visitor.get(f"/revisions/{number}/diff")
        assert page.status_code == 200
        text = _text(page)
        assert "新增 1 家，删除 1 家，修改 1 家" in text
        assert NEW_IDS[0] in page.text and ENTRIES[6].enterprise_id in page.text
        assert re.search(
            r"基准排放量 · 颗粒物\s+"
            + re.escape(f"{changed.baseline[2]:g}")
            + r"\s+"
            + re.escape(f"{new_pm:g}"),
            text,
        )


async def test_the_preview_compares_each_region_with_the_minimum(api: Api) -> None:
    weak = _new_entry(
        NEW_IDS[0],
        grade="A",
        industry="casting",
        baseline=(0.0, 0.0, 90_000.0, 0.0),
        region="150203007",
    )
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        number = await _open_draft(visitor)
        await visitor.post(f"/revisions/{number}/enterprises/new", _form(weak))
        page = await visitor.get(
            f"/revisions/{number}/preview", params={"level": "orange", "region": "150203"}
        )
        assert page.status_code == 200, page.text
    entries = [*ENTRIES, weak]
    own = {"150203": (Level.ORANGE, Response.FULL)}
    totals = region_totals(entries, evaluate_list(entries, CATALOG, PARENTS, own), PARENTS, own)
    names = {r.name["zh-CN"]: r.region_id for r in kundulun_regions()}
    pollutant = {"二氧化硫": 0, "氮氧化物": 1, "颗粒物": 2, "挥发性有机物": 3}
    row = (
        r'<tr( class="shortfall")?>\s*(?:<th scope="rowgroup"[^>]*>[^<]+</th>)?\s*'
        r'<th scope="row">([^<]+)</th>\s*<td class="num">([^<]+)</td>\s*'
        r'<td class="num">([^<]+)</td>'
    )
    groups = re.findall(r'<tbody class="region">(.*?)</tbody>', page.text, re.S)
    seen = {}
    for group in groups:
        name = re.search(r'<th scope="rowgroup"[^>]*>([^<]+)</th>', group).group(1)
        expected = totals[names[name]]
        for short, which, baseline, required in re.findall(row, group):
            p = pollutant[which]
            assert float(baseline.replace(",", "")) == pytest.approx(
                expected["baseline"][p], abs=0.06
            )
            assert float(required.replace(",", "")) == pytest.approx(
                expected["required"][p], abs=0.06
            )
            assert bool(short) == (expected["shortfall"][p] > 0)
            seen[name, which] = bool(short)
    shown = {r for r in names.values() if any(totals[r]["baseline"])} & set(PARENTS)
    assert {names[n] for n, _ in seen} == {
        r for r in shown if r == "150203" or PARENTS[r] == "150203"
    }
    assert seen["鞍山道街道", "颗粒物"]  # the A-grade plant leaves its subdistrict short
    assert "不足" in _text(page)


async def test_publishing_asks_first_refuses_problems_and_then_applies_the_list(api: Api) -> None:
    entry = ENTRIES[7]
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        number = await _open_draft(visitor)
        # an entry stored invalid through the API (it allows that in a draft) blocks publishing
        broken = entry.to_dict() | {"grade": "Z"}
        put = await api.client.put(
            f"/api/v1/list/revisions/{number}/enterprises/{entry.enterprise_id}",
            json=broken,
            headers=api.as_("operator"),
        )
        assert put.status_code == 200
        confirm = await visitor.get(f"/revisions/{number}/publish")
        assert confirm.status_code == 200
        assert "有 1 处错误，修正后才能发布" in confirm.text and "未知绩效等级 Z" in confirm.text
        assert f'action="/revisions/{number}/publish"' not in confirm.text
        refused = await visitor.post(
            f"/revisions/{number}/publish", {"effective_from": "2026-10-01"}
        )
        assert refused.status_code == 422 and "未发布" in refused.text
        url = f"/revisions/{number}/enterprises/{entry.enterprise_id}"
        assert (await visitor.post(url, _form(entry, grade="D"))).status_code == 303
        confirm = await visitor.get(f"/revisions/{number}/publish")
        assert "data-confirm=" in confirm.text and 'type="date"' in confirm.text
        assert "修改 1 家" in _text(confirm)
        bad_date = await visitor.post(
            f"/revisions/{number}/publish", {"effective_from": "1.10.2026"}
        )
        assert bad_date.status_code == 422 and 'id="f-effective_from-error"' in bad_date.text
        done = await visitor.post(f"/revisions/{number}/publish", {"effective_from": "2026-10-01"})
        assert done.status_code == 303
        assert done.headers["location"] == f"/revisions?done=published&number={number}"
        listing = await visitor.get(done.headers["location"])
        assert f"第 {number} 版清单已发布并立即生效" in listing.text
    assert api.runtime.state.board.revision == number  # enterprises follow it at once
    published = await api.client.get(
        f"/api/v1/list/enterprises/{entry.enterprise_id}", headers=api.as_("operator")
    )
    assert published.json()["entry"]["grade"] == "D"
    async with api.runtime.session_maker() as session:
        info = await lists.info(session, number)
    assert info.effective_from.isoformat() == "2026-10-01"


async def test_an_enterprise_cannot_open_the_revision_pages(api: Api) -> None:
    async with console_visitor(api, api.secrets["enterprise"]) as visitor:
        assert (await visitor.get("/revisions")).status_code == 403
        assert (await visitor.post("/revisions")).status_code == 403


async def test_a_published_revision_cannot_be_edited(api: Api) -> None:
    async with api.runtime.session_maker() as session:
        published = await lists.published_number(session)
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = await visitor.get(f"/revisions/{published}")
        assert page.status_code == 200 and "/enterprises/new" not in page.text
        edit = await visitor.get(f"/revisions/{published}/enterprises/{ENTRIES[0].enterprise_id}")
        assert edit.status_code == 409
        answer = await _upload(
            visitor, published, "x.csv", csv_bytes(list_rows(ENTRIES[:1])), "text/csv"
        )
        assert answer.status_code == 409


async def test_an_upload_without_its_csrf_token_first_is_refused(api: Api) -> None:
    body = csv_bytes(list_rows([_new_entry(NEW_IDS[0])]))
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        number = await _open_draft(visitor)
        url = f"/revisions/{number}/import"
        files = {"file": ("list.csv", body, "text/csv")}
        missing = await visitor.client.post(url, files=files, headers=HTML)
        wrong = await visitor.client.post(
            url, data={"csrftoken": "forged"}, files=files, headers=HTML
        )
        for refused in (missing, wrong):
            assert refused.status_code == 403 and "csrf.invalid" in refused.text
        assert await _stored(api, number, NEW_IDS[0]) is None
