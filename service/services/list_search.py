"""Searching the published list: what the console's list page asks and shows.

A search names any of: a part of the enterprise's name (Chinese or English), the start of its
credit code, a region (it and every region under it), an industry and a grade of the catalog.
The database answers a page of 50 by credit code (the search columns of ``list_entries``,
:class:`~service.storage.repositories.lists.EntryFilter`); each row gets the level in force
for it from the action board in memory. A field holding what no entry can match (an unknown
region, a character no credit code has) is a problem shown beside that field, not an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.catalog import Catalog
from emission_list.credit_code import CHARSET
from emission_list.i18n import Text
from emission_list.levels import Level, Response
from emission_list.regions import RegionTree
from service.api.text_guard import bad_text
from service.services.board import ActionBoard
from service.storage.repositories import lists, regions

PAGE_SIZE = 50
#: Longest name part and credit code a search takes (a code has 18 characters).
MAX_NAME_CHARS = 100
CODE_CHARS = 18


@dataclass(frozen=True)
class SearchQuery:
    """The search as typed: every field may be empty."""

    name: str = ""
    credit_code: str = ""
    region: str = ""
    industry: str = ""
    grade: str = ""
    after: str = ""
    before: str = ""

    def fields(self) -> dict[str, str]:
        """The search fields (not the cursors), for links that keep the search."""
        keys = ("name", "credit_code", "region", "industry", "grade")
        return {k: getattr(self, k) for k in keys if getattr(self, k)}


@dataclass(frozen=True)
class RegionOption:
    region_id: str
    name: Text
    depth: int


@dataclass(frozen=True)
class ListRow:
    """An entry as the list shows it, with the level in force for it now."""

    enterprise_id: str
    name: str
    name_en: str
    region: Text
    industry: Text
    grade: Text
    level: Level
    response: Response | None


@dataclass(frozen=True)
class SearchResult:
    query: SearchQuery
    revision: int | None  # the published revision searched (None before any)
    total: int | None  # entries of that revision, when the board holds it
    rows: list[ListRow] = field(default_factory=list)
    previous: str | None = None
    next: str | None = None
    problems: dict[str, str] = field(default_factory=dict)  # field -> text key


def problems_of(query: SearchQuery, tree: RegionTree, catalog: Catalog) -> dict[str, str]:
    """What in ``query`` no entry can match, by field (values are text keys)."""
    found: dict[str, str] = {}
    for name, value in query.fields().items():
        if bad_text(value) is not None:
            found[name] = "list.problem.bad_text"
    if found:
        return found
    if len(query.name) > MAX_NAME_CHARS:
        found["name"] = "list.problem.name_long"
    code = query.credit_code.strip().upper()
    if len(code) > CODE_CHARS:
        found["credit_code"] = "list.problem.code_long"
    elif not set(code) <= set(CHARSET):
        found["credit_code"] = "list.problem.code_charset"
    if query.region and query.region not in tree:
        found["region"] = "list.problem.region"
    if query.industry and query.industry not in catalog.industries:
        found["industry"] = "list.problem.industry"
    if query.grade and query.grade not in catalog.grades:
        found["grade"] = "list.problem.grade"
    return found


def entry_filter(query: SearchQuery, tree: RegionTree) -> lists.EntryFilter:
    """The repository filter of a valid query; a region stands for its whole subtree."""
    under = None
    if query.region:
        i = tree.index[query.region]
        if int(tree.subtree_end[i]) - i < len(tree):  # the whole tree needs no clause
            under = tuple(tree.subtree(query.region))
    return lists.EntryFilter(
        name=query.name,
        credit_code=query.credit_code,
        regions=under,
        industry=query.industry,
        grade=query.grade,
    )


def region_options(tree: RegionTree, names: Mapping[str, Text]) -> list[RegionOption]:
    """Every region in tree order (a parent before its children), with its depth."""
    return [
        RegionOption(r, names.get(r, {"zh-CN": r, "en": r}), int(tree.depth[i]))
        for i, r in enumerate(tree.ids)
    ]


def _cursor(value: str) -> str | None:
    """A page cursor is a credit code; anything else starts from the first page."""
    code = value.strip().upper()
    return code if code and len(code) <= CODE_CHARS and set(code) <= set(CHARSET) else None


async def region_names(session: AsyncSession) -> dict[str, Text]:
    return {r.region_id: r.name for r in await regions.list_all(session)}


async def search(
    session: AsyncSession,
    query: SearchQuery,
    *,
    board: ActionBoard,
    catalog: Catalog,
    names: Mapping[str, Text],
) -> SearchResult:
    """A page of the published list matching ``query`` (nothing searched on a problem)."""
    tree = board.tree
    problems = problems_of(query, tree, catalog)
    number = await lists.published_number(session)
    total = len(board.evaluator.compiled) if board.revision == number else None
    if problems or number is None:
        return SearchResult(query, number, total, problems=problems)
    page = await lists.search_entries(
        session,
        number,
        entry_filter(query, tree),
        limit=PAGE_SIZE,
        after=_cursor(query.after),
        before=_cursor(query.before),
    )
    rows = []
    for row in page.rows:
        answer = board.answer(row.enterprise_id) if board.revision == number else None
        industry = catalog.industries.get(row.industry)
        rows.append(
            ListRow(
                enterprise_id=row.enterprise_id,
                name=row.name,
                name_en=row.name_en,
                region=names.get(row.region, {"zh-CN": row.region, "en": row.region}),
                industry=industry.name if industry else {"zh-CN": row.industry, "en": row.industry},
                grade=catalog.grade_names.get(row.grade, {"zh-CN": row.grade, "en": row.grade}),
                level=answer.actions.level if answer else Level.NONE,
                response=answer.actions.response if answer else None,
            )
        )
    return SearchResult(query, number, total, rows, page.previous, page.next)
