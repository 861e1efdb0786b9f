"""The list page on PostgreSQL: a search by each field, paged by its links, is the same
search done in Python over the sample list; htmx gets the results alone; a search nothing can
match is shown beside its field."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import pytest
from api_client import Api
from console_client import HTML, Visitor, console_visitor
from list_reference import SAMPLE, expected_ids

#: The pages' queries on PostgreSQL (the embedded SQLite default is what the browser tests
#: in tests/console/ run on); both databases would double this module's time for little.
pytestmark = pytest.mark.parametrize("seeded_database_url", ["postgresql"], indirect=True)


ROW_LINK = re.compile(r'<th scope="row">\s*<a href="/enterprises/([0-9A-Z]+)"')
NEXT = re.compile(r'<a href="([^"]+)" rel="next"')
PREVIOUS = re.compile(r'<a href="([^"]+)" rel="prev"')
HTMX = {**HTML, "HX-Request": "true", "HX-Target": "results"}


def _link(pattern: re.Pattern[str], page: str) -> str | None:
    found = pattern.search(page)
    return None if found is None else html.unescape(found.group(1))


async def _walk(visitor: Visitor, where: dict[str, str]) -> list[str]:
    """Every row of the search, following the next-page links, then back by the previous-page
    links (which must give the same pages)."""
    pages: list[list[str]] = []
    url: str | None = "/list?" + urlencode(where)
    while url is not None:
        answer = await visitor.get(url)
        assert answer.status_code == 200, answer.text
        pages.append(ROW_LINK.findall(answer.text))
        url, previous = _link(NEXT, answer.text), _link(PREVIOUS, answer.text)
    assert all(len(page) == 50 for page in pages[:-1])
    back = [pages[-1]]
    while previous is not None:
        answer = await visitor.get(previous)
        back.insert(0, ROW_LINK.findall(answer.text))
        previous = _link(PREVIOUS, answer.text)
    assert back == pages
    return [i for page in pages for i in page]


SEARCHES = (
    {},
    {"name": "稀土"},
    {"name": "Printing"},
    {"credit_code": "91150203m"},
    {"credit_code": SAMPLE.entries[3].enterprise_id},
    {"region": "150203015"},
    {"region": "150203"},
    {"industry": "chemicals"},
    {"grade": "C"},
    {"name": "包头", "region": "150203", "grade": "B"},
)


@pytest.mark.parametrize("where", SEARCHES, ids=lambda w: ",".join(w) or "all")
async def test_a_search_paged_through_is_the_search_done_in_python(
    api: Api, where: dict[str, str]
) -> None:
    expected = expected_ids(where)
    assert expected
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        assert await _walk(visitor, where) == expected


async def test_the_page_says_the_revision_and_names_rows_in_both_languages(api: Api) -> None:
    first = SAMPLE.entries[0]
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        chinese = (await visitor.get(f"/list?credit_code={first.enterprise_id}")).text
        assert f"现行清单为第 {SAMPLE.number} 版，共 {len(SAMPLE.entries)} 家企业。" in chinese
        assert first.name in chinese and "钢铁（长流程）" in chinese and "无预警" in chinese
        english = (await visitor.get(f"/list?credit_code={first.enterprise_id}&lang=en")).text
        assert first.name_en in english and "Steel (integrated, long process)" in english
        assert f"Revision {SAMPLE.number} is in force" in english


async def test_the_level_column_shows_the_warning_in_force(api: Api) -> None:
    issued = await api.client.post(
        "/api/v1/alerts",
        json={"region": "150203015", "level": "orange", "reason": {"zh-CN": "测试"}},
        headers=api.as_("operator"),
    )
    assert issued.status_code == 200, issued.text
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        town = (await visitor.get("/list?region=150203015")).text
        other = (await visitor.get("/list?region=150203013")).text
    assert town.count('class="badge level-orange">橙色预警') == len(
        expected_ids({"region": "150203015"})
    )
    assert "level-orange" not in other


async def test_q_is_another_name_for_the_name_field(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = await visitor.get("/list?q=钢&grade=B")
    expected = expected_ids({"name": "钢", "grade": "B"})
    assert expected and ROW_LINK.findall(page.text) == expected


async def test_htmx_gets_the_results_alone(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        answer = await visitor.client.get("/list?name=稀土", headers=HTMX)
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section id="results"')
    assert "<html" not in answer.text and "<form" not in answer.text
    assert ROW_LINK.findall(answer.text) == expected_ids({"name": "稀土"})


async def test_a_credit_code_no_entry_can_have_is_shown_beside_its_field(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = await visitor.get("/list?credit_code=91150203IO")
        assert page.status_code == 422
        field = re.search(r'<input id="credit_code"[^>]*>', page.text).group(0)
        assert 'aria-invalid="true"' in field and "credit_code-error" in field
        error = re.search(r'id="credit_code-error">([^<]*)<', page.text).group(1)
        assert error == "统一社会信用代码只含数字和大写字母（不含 I、O、S、V、Z）。"
        assert ROW_LINK.findall(page.text) == []
        # typed with htmx: the results say so, and the message goes beside the field
        typed = await visitor.client.get("/list?credit_code=91150203IO", headers=HTMX)
        assert typed.status_code == 200 and 'role="alert"' in typed.text
        assert re.search(r'id="credit_code-error" hx-swap-oob="true">统一社会', typed.text)


async def test_an_unknown_region_is_a_field_problem_not_an_error(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = await visitor.get("/list?region=999999")
    assert page.status_code == 422
    assert re.search(r'id="region-error">没有这个区域。<', page.text)


async def test_an_enterprise_session_may_not_search_the_list(api: Api) -> None:
    async with console_visitor(api, api.secrets["enterprise"]) as visitor:
        page = await visitor.get("/list")
    assert page.status_code == 403 and "console.operators_only" in page.text
