"""Revisions as the console shows them: newest first, a draft's entries searched and changed in
bulk (an imported file), and what a revision changes against its base, found in SQL.

Entries come out as :class:`EntryRow` (the search columns only) where a page lists them,
and as :class:`Enterprise` where their fields are needed. Bulk changes lock the draft as
single edits do (:func:`lists.locked_draft`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, exists, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from emission_list.entries import Enterprise
from emission_list.revisions import RevisionStatus
from service.storage.models import ListEntry, ListRevision
from service.storage.repositories import lists, paging
from service.storage.repositories.lists import EntryRow, RevisionInfo

_ENTRIES = ListEntry.__table__
#: Ids per ``IN (...)`` list and rows per multi-row insert (SQLite binds at most 32,766).
CHUNK = 500


def _chunks(items: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def open_draft(session: AsyncSession) -> int | None:
    """The draft to continue: the newest one based on the revision in force (a draft based
    on an older one can no longer be published)."""
    published = await lists.published_number(session)
    based = ListRevision.base.is_(None) if published is None else ListRevision.base == published
    statement = select(func.max(ListRevision.number)).where(
        ListRevision.status == RevisionStatus.DRAFT, based
    )
    return (await session.execute(statement)).scalar_one()


async def page_newest_first(
    session: AsyncSession, *, limit: int, before: int | None = None
) -> tuple[list[RevisionInfo], str | None]:
    """Up to ``limit`` revisions numbered below ``before``, newest first, with their entry
    counts (counted for this page's revisions only); the next cursor."""
    statement = select(ListRevision).order_by(ListRevision.number.desc()).limit(limit + 1)
    if before is not None:
        statement = statement.where(ListRevision.number < before)
    rows = list((await session.execute(statement)).scalars())
    rows, cursor = paging.page(rows, limit, lambda row: str(row.number))
    counted = (
        select(ListEntry.revision, func.count())
        .where(ListEntry.revision.in_([row.number for row in rows]))
        .group_by(ListEntry.revision)
    )
    counts = {n: c for n, c in await session.execute(counted)} if rows else {}
    return [lists.info_of(row, counts.get(row.number, 0)) for row in rows], cursor


def _matching(search: str) -> object:
    """Entries whose credit code starts with ``search`` or whose name contains it."""
    return or_(
        ListEntry.enterprise_id.startswith(search.upper(), autoescape=True),
        ListEntry.name.contains(search, autoescape=True),
        func.lower(ListEntry.name_en).contains(search.lower(), autoescape=True),
    )


async def page_entries(
    session: AsyncSession,
    number: int,
    *,
    limit: int,
    after: str | None = None,
    search: str = "",
) -> tuple[list[EntryRow], str | None]:
    """Up to ``limit`` entries of a revision by credit code after ``after``, those matching
    ``search`` only when it is given; the next cursor."""
    columns = (ListEntry.enterprise_id, *(ListEntry.__table__.c[c] for c in lists.SEARCH_COLUMNS))
    statement = select(*columns).where(ListEntry.revision == number)
    if search:
        statement = statement.where(_matching(search))
    keys = None if after is None else (after,)
    statement = paging.keyset(statement, [ListEntry.enterprise_id], keys, limit)
    found = [EntryRow(*row) for row in await session.execute(statement)]
    return paging.page(found, limit, lambda entry: entry.enterprise_id)


async def count_entries(
    session: AsyncSession, number: int, *, search: str = "", cap: int | None = None
) -> int:
    """How many entries of a revision match ``search`` (all without one); with ``cap``, the
    count stops at ``cap`` + 1, so a search matching most of a large list stays cheap."""
    statement = select(ListEntry.enterprise_id).where(ListEntry.revision == number)
    if search:
        statement = statement.where(_matching(search))
    if cap is not None:
        statement = statement.limit(cap + 1)
    counted = select(func.count()).select_from(statement.subquery())
    return (await session.execute(counted)).scalar_one()


async def ids(session: AsyncSession, number: int, among: Collection[str] | None = None) -> set[str]:
    """The credit codes of a revision's entries (only those ``among`` the given ones)."""
    base = select(ListEntry.enterprise_id).where(ListEntry.revision == number)
    if among is None:
        return set((await session.execute(base)).scalars())
    found: set[str] = set()
    for chunk in _chunks(sorted(among)):
        statement = base.where(ListEntry.enterprise_id.in_(chunk))
        found.update((await session.execute(statement)).scalars())
    return found


async def entries_among(
    session: AsyncSession, number: int, among: Collection[str]
) -> dict[str, Enterprise]:
    """The entries of a revision with the given credit codes, by code."""
    found: dict[str, Enterprise] = {}
    for chunk in _chunks(sorted(among)):
        statement = select(ListEntry.data).where(
            ListEntry.revision == number, ListEntry.enterprise_id.in_(chunk)
        )
        for data in (await session.execute(statement)).scalars():
            entry = Enterprise.from_dict(data)
            found[entry.enterprise_id] = entry
    return found


async def _insert(session: AsyncSession, number: int, entries: Sequence[Enterprise]) -> None:
    for start in range(0, len(entries), CHUNK):
        rows = [lists.entry_row(number, e) for e in entries[start : start + CHUNK]]
        await session.execute(insert(_ENTRIES), rows)


async def put_entries(session: AsyncSession, number: int, entries: Sequence[Enterprise]) -> None:
    """Add entries to a draft, each replacing the one with its credit code (ids unique)."""
    await lists.locked_draft(session, number)
    for chunk in _chunks([e.enterprise_id for e in entries]):
        await session.execute(
            delete(_ENTRIES).where(
                _ENTRIES.c.revision == number, _ENTRIES.c.enterprise_id.in_(chunk)
            )
        )
    await _insert(session, number, entries)


async def replace_entries(
    session: AsyncSession, number: int, entries: Sequence[Enterprise]
) -> None:
    """Make ``entries`` (ids unique) the whole of a draft."""
    await lists.locked_draft(session, number)
    await session.execute(delete(_ENTRIES).where(_ENTRIES.c.revision == number))
    await _insert(session, number, entries)


@dataclass(frozen=True)
class DiffIds:
    """Credit codes a revision adds and removes against another (the first ``limit`` of
    each, with their counts), and those whose stored document differs (all of them)."""

    added: list[EntryRow]
    added_count: int
    removed: list[EntryRow]
    removed_count: int
    differing: list[str]


def _only_in(one: int, other: int | None) -> tuple[object, object]:
    mine, theirs = ListEntry, aliased(ListEntry)
    missing = ~exists().where(theirs.revision == other, theirs.enterprise_id == mine.enterprise_id)
    return mine, and_(mine.revision == one, missing)


async def _summaries(session: AsyncSession, one: int, other: int | None, limit: int) -> tuple:
    mine, where = _only_in(one, other)
    columns = (mine.enterprise_id, *(mine.__table__.c[c] for c in lists.SEARCH_COLUMNS))
    statement = select(*columns).where(where).order_by(mine.enterprise_id).limit(limit)
    found = [EntryRow(*row) for row in await session.execute(statement)]
    count = select(func.count()).select_from(mine).where(where)
    return found, (await session.execute(count)).scalar_one()


async def diff_ids(session: AsyncSession, old: int | None, new: int, *, limit: int) -> DiffIds:
    """What ``new`` adds, removes and may change against ``old`` (None: everything is new)."""
    added, added_count = await _summaries(session, new, old, limit)
    removed, removed_count = ([], 0) if old is None else await _summaries(session, old, new, limit)
    differing: list[str] = []
    if old is not None:
        before, after = aliased(ListEntry), aliased(ListEntry)
        statement = (
            select(after.enterprise_id)
            .join(before, before.enterprise_id == after.enterprise_id)
            .where(after.revision == new, before.revision == old, after.data != before.data)
            .order_by(after.enterprise_id)
        )
        differing = list((await session.execute(statement)).scalars())
    return DiffIds(added, added_count, removed, removed_count, differing)
