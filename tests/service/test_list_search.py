"""Searching a revision's entries: the filter's where-clause, and every page of a search on
SQLite and PostgreSQL against the same search done in Python over the sample list."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from list_reference import SAMPLE, expected_ids, subtree
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.samples import kundulun_regions
from service.storage.models import ListEntry
from service.storage.repositories import lists, regions
from service.storage.repositories.lists import EntryFilter


def _sql(where: EntryFilter, dialect: str) -> str:
    compiler = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
    statement = select(ListEntry.enterprise_id).where(*where.clauses(dialect))
    return str(statement.compile(dialect=compiler, compile_kwargs={"literal_binds": True}))


def test_an_empty_filter_asks_nothing() -> None:
    assert EntryFilter().clauses("postgresql") == []
    assert EntryFilter(name="  ", credit_code=" ").clauses("sqlite") == []


def test_a_name_without_latin_letters_is_matched_as_written() -> None:
    sql = _sql(EntryFilter(name="钢铁"), "postgresql")
    assert "ILIKE" not in sql and "lower(" not in sql
    assert "list_entries.name LIKE '%%钢铁%%' ESCAPE '/'" in sql and "name_en LIKE" in sql


def test_the_name_pattern_is_written_into_the_statement_for_the_planner() -> None:
    statement = select(ListEntry.enterprise_id).where(*EntryFilter(name="钢铁").clauses())
    assert "POSTCOMPILE" in str(statement.compile(dialect=postgresql.dialect()))


def test_latin_letters_match_in_any_case() -> None:
    pg = _sql(EntryFilter(name="Steel"), "postgresql")
    assert "list_entries.name_en ILIKE '%%Steel%%'" in pg  # the trigram index answers it
    short = _sql(EntryFilter(name="St"), "postgresql")  # no trigram: a scan, folded cheaply
    assert "(list_entries.name_en COLLATE \"C\") ILIKE '%%St%%'" in short
    lite = _sql(EntryFilter(name="Steel"), "sqlite")
    assert "lower(list_entries.name_en) LIKE lower('%Steel%')" in lite


def test_wildcards_typed_in_a_name_are_plain_characters() -> None:
    sql = _sql(EntryFilter(name="50%_"), "sqlite")
    assert "50/%/_" in sql and "ESCAPE '/'" in sql


def test_a_credit_code_is_a_prefix_bounded_for_the_primary_key() -> None:
    sql = _sql(EntryFilter(credit_code=" 91150203a"), "postgresql")
    assert "enterprise_id LIKE '91150203A' || '%%'" in sql
    assert "enterprise_id >= '91150203A'" in sql and "enterprise_id < '91150203AZ'" in sql
    outside = _sql(EntryFilter(credit_code="9115I"), "postgresql")  # I is in no credit code
    assert "enterprise_id <" not in outside


def test_regions_industry_and_grade_are_matched_exactly() -> None:
    sql = _sql(EntryFilter(regions=("150203001", "150203002"), industry="steel", grade="B"), "")
    assert "list_entries.region IN ('150203001', '150203002')" in sql
    assert "list_entries.industry = 'steel'" in sql and "list_entries.grade = 'B'" in sql


# -- against the database ------------------------------------------------------------------


def _filter(where: dict[str, str]) -> EntryFilter:
    region = where.get("region")
    return EntryFilter(
        name=where.get("name", ""),
        credit_code=where.get("credit_code", ""),
        regions=None if region is None else tuple(subtree(region)),
        industry=where.get("industry", ""),
        grade=where.get("grade", ""),
    )


async def _walk(session: AsyncSession, where: EntryFilter, limit: int) -> list[list[str]]:
    """Every page forward from the first, then back again from the last: both directions
    must give the same pages."""
    pages, cursor = [], None
    while True:
        page = await lists.search_entries(session, SAMPLE.number, where, limit=limit, after=cursor)
        pages.append([r.enterprise_id for r in page.rows])
        assert (page.previous is None) == (cursor is None)
        if page.next is None:
            break
        cursor = page.next
    back, cursor = [pages[-1]], page.previous
    while cursor is not None:
        page = await lists.search_entries(session, SAMPLE.number, where, limit=limit, before=cursor)
        back.insert(0, [r.enterprise_id for r in page.rows])
        assert page.next is not None
        cursor = page.previous
    assert back == pages
    return pages


@pytest.fixture
async def listed(session: AsyncSession) -> AsyncSession:
    await regions.put_many(session, kundulun_regions())
    await lists.add(session, SAMPLE)
    await session.flush()
    return session


SEARCHES: Sequence[dict[str, str]] = (
    {},
    {"name": "稀土"},
    {"name": "heating"},
    {"name": "CO., LTD"},
    {"name": "包头"},
    {"name": "没有这家"},
    {"credit_code": "91150203"},
    {"credit_code": SAMPLE.entries[0].enterprise_id},
    {"credit_code": "9115020"},
    {"region": "150203"},
    {"region": "150203015"},
    {"region": "150200", "grade": "C"},
    {"industry": "coating"},
    {"grade": "B"},
    {"name": "有限", "industry": "rare_earth", "grade": "B"},
)


def _id(where: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in where.items()) or "all"


@pytest.mark.parametrize("where", SEARCHES, ids=_id)
async def test_every_page_together_is_the_search_done_in_python(
    listed: AsyncSession, where: dict[str, str]
) -> None:
    expected = expected_ids(where)
    for limit in (7, 50):
        pages = await _walk(listed, _filter(where), limit)
        assert [i for page in pages for i in page] == expected
        assert all(len(page) == limit for page in pages[:-1])
    assert expected or where.get("name") == "没有这家"  # the searches are not vacuous


async def test_a_page_row_carries_the_search_columns(listed: AsyncSession) -> None:
    first = SAMPLE.entries[0]
    page = await lists.search_entries(
        listed, SAMPLE.number, EntryFilter(credit_code=first.enterprise_id)
    )
    (row,) = page.rows
    assert (row.name, row.name_en, row.region, row.industry, row.grade) == (
        first.name,
        first.name_en,
        first.region,
        first.industry,
        first.grade,
    )
    assert page.previous is None and page.next is None


async def test_a_stale_previous_link_opens_the_first_page(listed: AsyncSession) -> None:
    lowest = min(e.enterprise_id for e in SAMPLE.entries)
    page = await lists.search_entries(listed, SAMPLE.number, EntryFilter(), limit=5, before=lowest)
    assert [r.enterprise_id for r in page.rows] == expected_ids({})[:5]
