"""The enterprise pages on PostgreSQL: now and next say what the API's actions say, an
enterprise's session sees only its own pages, the notice and the past orders."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from api_client import Api
from console_client import HTML, Visitor, console_visitor
from list_reference import SAMPLE

from service.console.auth import SESSION_COOKIE

#: The pages' queries on PostgreSQL (the embedded SQLite default is what the browser tests
#: in tests/console/ run on); both databases would double this module's time for little.
pytestmark = pytest.mark.parametrize("seeded_database_url", ["postgresql"], indirect=True)


LOCAL = dt.timezone(dt.timedelta(hours=8))
POLLUTANTS = ("so2", "nox", "pm", "vocs")
LEVEL = {"zh-CN": {"orange": "橙色预警", "yellow": "黄色预警"}, "en": {"orange": "Orange"}}


def _minute(iso: str) -> str:
    """An instant of the API (ISO with +08:00) as the page writes it: local, to the minute."""
    return dt.datetime.fromisoformat(iso).astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


def _section(page: str, name: str) -> str:
    found = re.search(rf'<section aria-labelledby="{name}-heading".*?</section>', page, re.S)
    assert found, page
    return found.group(0)


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def _reductions(fragment: str) -> dict[str, str]:
    cells = re.findall(r'data-pollutant="(\w+)">([^<]*)<', fragment)
    return dict(cells)


def _actions(fragment: str) -> list[str]:
    found = re.search(r'<ol class="actions">(.*?)</ol>', fragment, re.S)
    return (
        []
        if found is None
        else [html.unescape(t) for t in re.findall(r"<li>(.*?)</li>", found.group(1))]
    )


def _says_what_the_api_says(fragment: str, actions: dict[str, Any], language: str) -> None:
    text = _text(fragment)
    assert LEVEL[language][actions["level"]] in text
    assert _minute(actions["valid_from"]) in text and _minute(actions["valid_until"]) in text
    cut = f"{round(actions['production_cut'] * 100, 1):g}%"
    assert (f"限产 {cut}" if language == "zh-CN" else f"Cut production by {cut}") in text
    expected = {p: f"{actions['reductions_kg_per_day'][p]:,.1f}" for p in POLLUTANTS}
    assert _reductions(fragment) == expected
    assert _actions(fragment) == [a["text"] for a in actions["actions"]]
    assert actions["alert"]["reason"] in text


async def _api_actions(api: Api, language: str, enterprise_id: str | None = None) -> dict:
    answer = await api.client.get(
        f"/api/v1/enterprises/{enterprise_id or api.enterprise_id}/actions",
        params={"lang": language},
        headers=api.as_("operator"),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _issue(api: Api, region: str, level: str, **more: Any) -> None:
    body = {"region": region, "level": level, "reason": {"zh-CN": "区政府决定", "en": "By order"}}
    answer = await api.client.post("/api/v1/alerts", json=body | more, headers=api.as_("operator"))
    assert answer.status_code == 200, answer.text


async def _page(visitor: Visitor, path: str, language: str) -> str:
    answer = await visitor.get(path, params={"lang": language})
    assert answer.status_code == 200, answer.text
    return answer.text


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_now_says_what_the_api_says_under_a_warning_issued_by_hand(
    api: Api, language: str
) -> None:
    await _issue(api, "150203", "orange")
    actions = await _api_actions(api, language)
    assert actions["level"] == "orange" and actions["production_cut"] > 0
    async with console_visitor(api, api.secrets["enterprise"]) as visitor:
        page = await _page(visitor, f"/enterprises/{api.enterprise_id}", language)
    _says_what_the_api_says(_section(page, "now"), actions, language)
    assert 'lang="' + language + '"' in page


async def test_next_is_the_warning_issued_ahead_as_the_api_will_answer_it(api: Api) -> None:
    issued = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = issued.astimezone(LOCAL).date()
    days = [
        {"date": (today + dt.timedelta(days=i)).isoformat(), "aqi": aqi}
        for i, aqi in enumerate([100, 230, 260, 240])
    ]
    body = {"region": "150200", "issued_at": issued.isoformat(), "daily": days}  # the city
    decided = await api.client.post("/api/v1/forecasts", json=body, headers=api.as_("operator"))
    assert decided.status_code == 200, decided.text
    alert = decided.json()["alert"]
    starts = dt.datetime.fromisoformat(alert["starts_at"])
    assert alert["level"] == "orange" and starts > issued  # issued ahead of its first day
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = await _page(visitor, f"/enterprises/{api.enterprise_id}", "zh-CN")
    assert "当前无预警" in _text(_section(page, "now"))
    upcoming = _section(page, "next")
    assert "包头市" in _text(upcoming)  # an ancestor's warning reaches the enterprise
    # once it began, the API answers what the page announced
    await api.runtime.refresh(starts + dt.timedelta(minutes=1))
    _says_what_the_api_says(upcoming, await _api_actions(api, "zh-CN"), "zh-CN")


async def test_the_measures_at_each_level_are_baseline_times_the_share(api: Api) -> None:
    entry = SAMPLE.entries[0]
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = await _page(visitor, f"/enterprises/{entry.enterprise_id}", "zh-CN")
    rows = re.findall(
        r"<tr>\s*<th scope=\"row\"><span class=\"badge level-(\w+)\">.*?</tr>", page, re.S
    )
    assert rows == ["yellow", "orange", "red"]
    table = _section(page, "levels")
    for row in re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", table, re.S):
        cells = re.findall(
            r'<td class="num">([\d,.]+)<br><small class="muted">([\d.]+)%</small>', row
        )
        assert len(cells) == 4
        for (reduction, share), baseline in zip(cells, entry.baseline, strict=True):
            assert abs(float(reduction.replace(",", "")) - baseline * float(share) / 100) <= (
                0.05 + baseline * 0.0005  # the share is written to 0.1 %
            )
    assert entry.contact in _text(_section(page, "facts"))


OTHER = SAMPLE.entries[1].enterprise_id


@pytest.mark.parametrize("suffix", ["", "/notice", "/orders"])
async def test_an_enterprise_session_gets_404_for_another_enterprises_pages(
    api: Api, suffix: str
) -> None:
    async with console_visitor(api, api.secrets["enterprise"]) as visitor:
        other = await visitor.get(f"/enterprises/{OTHER}{suffix}")
        unknown = await visitor.get(f"/enterprises/91150203000000000X{suffix}")
        own = await visitor.get(f"/enterprises/{api.enterprise_id}{suffix}")
    assert other.status_code == unknown.status_code == 404
    assert "enterprise.unknown" in other.text and "enterprise.unknown" in unknown.text
    assert SAMPLE.entries[1].name not in other.text
    assert own.status_code == 200


async def test_operators_open_any_enterprise_and_unknown_ids_are_404(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        assert (await visitor.get(f"/enterprises/{OTHER}")).status_code == 200
        assert (await visitor.get("/enterprises/NOPE/orders")).status_code == 404


async def test_an_enterprise_signing_in_lands_on_its_own_page(api: Api) -> None:
    client = api.client
    page = await client.get("/signin", headers=HTML)
    csrf = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
    signed = await client.post(
        "/signin", data={"csrftoken": csrf, "token": api.secrets["enterprise"]}, headers=HTML
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == f"/enterprises/{api.enterprise_id}"
    client.cookies.delete(SESSION_COOKIE)


async def test_the_notice_is_the_order_in_force_as_a_formal_notice(api: Api) -> None:
    await _issue(api, "150203", "orange")
    actions = await _api_actions(api, "zh-CN")
    entry = SAMPLE.entries[0]
    async with console_visitor(api, api.secrets["enterprise"]) as visitor:
        page = await _page(visitor, f"/enterprises/{api.enterprise_id}/notice", "zh-CN")
    text = _text(page)
    assert "重污染天气应急减排通知书" in text and "昆都仑区生态环境局" in text
    assert f"{entry.name}（统一社会信用代码：{entry.enterprise_id}）" in text
    assert "根据昆都仑区发布的橙色预警" in text
    assert f"自 {_minute(actions['valid_from'])} 起至 {_minute(actions['valid_until'])}" in text
    assert _reductions(page) == {
        p: f"{actions['reductions_kg_per_day'][p]:,.1f}" for p in POLLUTANTS
    }
    assert "data-print" in page and 'media="print"' in page


async def test_without_a_warning_the_notice_says_nothing_is_required(api: Api) -> None:
    async with console_visitor(api, api.secrets["enterprise"]) as visitor:
        page = await _page(visitor, f"/enterprises/{api.enterprise_id}/notice", "en")
    assert "No warning is in force and your enterprise need take no emergency measures" in page


async def test_past_orders_list_the_warnings_over_its_region_with_what_they_required(
    api: Api,
) -> None:
    await _issue(api, "150100", "red")  # Hohhot: not over Kundulun
    await _issue(api, "150203", "orange")
    during = await _api_actions(api, "zh-CN")
    await _issue(api, "150203", "none")  # lifted
    async with console_visitor(api, api.secrets["enterprise"]) as visitor:
        page = await _page(visitor, f"/enterprises/{api.enterprise_id}/orders", "zh-CN")
        english = await _page(visitor, f"/enterprises/{api.enterprise_id}/orders", "en")
    rows = re.findall(r"<tbody>.*?</tbody>", page, re.S)[0]
    assert rows.count("<tr>") == 1
    text = _text(rows)
    assert "橙色预警" in text and "昆都仑区" in text and "已结束" in text
    assert _minute(during["valid_from"]) in text
    assert "红色预警" not in text and "呼和浩特" not in text
    required = "；".join(
        f"{name} {during['reductions_kg_per_day'][p]:,.1f}"
        for p, name in zip(
            POLLUTANTS,
            ["二氧化硫（SO₂）", "氮氧化物（NOₓ）", "颗粒物（PM）", "挥发性有机物（VOCs）"],
            strict=True,
        )
    )
    assert required in text
    assert _actions(rows) == [a["text"] for a in during["actions"]]
    assert "Ended" in _text(english) and "Orange" in _text(english)


async def test_the_lines_table_lists_every_metered_line_of_the_entry(api: Api) -> None:
    entry = next(e for e in SAMPLE.entries if len(e.lines) >= 3)
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        english = await _page(visitor, f"/enterprises/{entry.enterprise_id}", "en")
        chinese = await _page(visitor, f"/enterprises/{entry.enterprise_id}", "zh-CN")
    rows = re.findall(r"<tr>\s*<th scope=\"row\"><code>.*?</tr>", _section(english, "lines"), re.S)
    assert len(rows) == len(entry.lines)
    for row, line in zip(rows, entry.lines, strict=True):
        text = _text(row)
        assert line.line_id in text and line.logger in text and line.channel in text
        assert line.name_en in text and str(line.rated_kw) in text
        assert ("Pollution control" if line.is_control else "Production") in text
        assert ", ".join(line.serves) in text
    table = _text(_section(chinese, "lines"))
    assert all(line.name in table for line in entry.lines) and "治污线" in table
    unmetered = next(e for e in SAMPLE.entries if not e.lines)
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = await _page(visitor, f"/enterprises/{unmetered.enterprise_id}", "en")
    assert "The list records no metered lines." in _text(_section(page, "lines"))
