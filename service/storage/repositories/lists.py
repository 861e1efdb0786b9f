"""Revisions of the emission-reduction list and their entries.

A revision is a row of ``list_revisions``; each enterprise of it a row of ``list_entries``
holding :meth:`Enterprise.to_dict` (overrides included; a NaN or infinite number kept as its
text, which :meth:`Enterprise.from_dict` reads back). Revisions come out as
:class:`emission_list.revisions.Revision` with :class:`Enterprise` entries.

Only drafts change: editing or publishing anything else raises
:class:`~emission_list.revisions.RevisionError` (``revision.unknown``,
``revision.published``, ``entry.unknown``). Validating a revision before publishing it is
the caller's (it needs the catalog and the region tree). The revision row is locked while an
entry changes or the revision is published, so the two cannot interleave on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, bindparam, func, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from emission_list.credit_code import CHARSET
from emission_list.entries import Enterprise
from emission_list.i18n import Text, text
from emission_list.revisions import Revision, RevisionError, RevisionStatus
from emission_list.warning_texts import LOCAL_TIMEZONE
from service.offloop import drop, off_loop
from service.storage.models import ListEntry, ListRevision
from service.storage.repositories import paging, put_row, utcnow
from service.storage.types import json_safe

_ENTRIES = ListEntry.__table__


@dataclass(frozen=True)
class RevisionInfo:
    """A revision without its entries: what ``GET /list/revisions`` lists."""

    number: int
    base: int | None
    status: RevisionStatus
    effective_from: dt.date
    author: str
    note: str | Text
    created_at: dt.datetime
    published_at: dt.datetime | None
    entries: int


def info_of(row: ListRevision, entries: int) -> RevisionInfo:
    return RevisionInfo(
        number=row.number,
        base=row.base,
        status=RevisionStatus(row.status),
        effective_from=row.effective_from,
        author=row.author,
        note=row.note,
        created_at=row.created_at,
        published_at=row.published_at,
        entries=entries,
    )


#: The columns copied out of an entry's document for searching the list.
SEARCH_COLUMNS = ("name", "name_en", "region", "industry", "grade")


def entry_row(number: int, entry: Enterprise) -> dict[str, Any]:
    searched = {c: str(getattr(entry, c))[:200] for c in SEARCH_COLUMNS}
    return {
        "revision": number,
        "enterprise_id": entry.enterprise_id,
        "data": json_safe(entry.to_dict()),
    } | searched


def _note(note: str | Mapping[str, str]) -> str | dict[str, str]:
    return dict(note) if isinstance(note, Mapping) else note


def _unknown(number: int) -> RevisionError:
    return RevisionError(
        "revision.unknown",
        text(f"没有第 {number} 版清单", f"No list revision {number}"),
    )


async def locked_draft(session: AsyncSession, number: int) -> ListRevision:
    """The revision row, locked; a published or unknown revision raises."""
    statement = select(ListRevision).where(ListRevision.number == number).with_for_update()
    row = (await session.execute(statement)).scalar_one_or_none()
    if row is None:
        raise _unknown(number)
    if row.status != RevisionStatus.DRAFT:
        raise RevisionError(
            "revision.published",
            text(
                f"第 {number} 版已发布，不能修改；请基于它新建草稿",
                f"Revision {number} is published and cannot change; start a new draft",
            ),
        )
    return row


async def next_number(session: AsyncSession) -> int:
    """The number the next revision takes (1 for the first)."""
    top = (await session.execute(select(func.max(ListRevision.number)))).scalar_one()
    return 1 if top is None else top + 1


async def published_number(session: AsyncSession) -> int | None:
    """The revision in force: the highest published number (None before any)."""
    statement = select(func.max(ListRevision.number)).where(
        ListRevision.status == RevisionStatus.PUBLISHED
    )
    return (await session.execute(statement)).scalar_one()


async def publications(session: AsyncSession) -> list[tuple[int, dt.datetime]]:
    """Each published revision's number and when it was published, oldest first: the
    revision in force at a time is the last one published before it."""
    statement = (
        select(ListRevision.number, ListRevision.published_at)
        .where(ListRevision.status == RevisionStatus.PUBLISHED)
        .order_by(ListRevision.published_at, ListRevision.number)
    )
    return [(number, at) for number, at in await session.execute(statement) if at is not None]


async def entries_of(
    session: AsyncSession, enterprise_id: str, numbers: Sequence[int]
) -> dict[int, Enterprise]:
    """An enterprise's entry in each of the revisions ``numbers`` that has one."""
    if not numbers:
        return {}
    statement = select(ListEntry.revision, ListEntry.data).where(
        ListEntry.enterprise_id == enterprise_id, ListEntry.revision.in_(list(numbers))
    )
    rows = await session.execute(statement)
    return {number: Enterprise.from_dict(data) for number, data in rows}


async def add(
    session: AsyncSession, revision: Revision, *, now: dt.datetime | None = None
) -> RevisionInfo:
    """Store a whole revision (the sample list, an imported file) with its entries."""
    now = now or utcnow()
    row = ListRevision(
        number=revision.number,
        base=revision.base,
        status=str(revision.status),
        effective_from=revision.effective_from,
        author=revision.author,
        note=_note(revision.note),
        created_at=now,
        published_at=None if revision.is_draft else now,
    )
    session.add(row)
    await session.flush()
    if revision.entries:
        rows = [entry_row(revision.number, e) for e in revision.entries]
        await session.execute(insert(_ENTRIES), rows)
    return info_of(row, len(revision.entries))


async def create_draft(
    session: AsyncSession,
    *,
    author: str,
    note: str | Mapping[str, str] = "",
    effective_from: dt.date | None = None,
    now: dt.datetime | None = None,
) -> RevisionInfo:
    """A new draft carrying every entry of the published revision, based on it.

    With no published revision yet the draft starts empty. ``effective_from`` defaults to
    the local (Asia/Shanghai) date of ``now``; publishing may set it again.
    """
    now = now or utcnow()
    base_row = None
    base = await published_number(session)
    if base is not None:  # lock the base: concurrent drafts then take distinct numbers
        statement = select(ListRevision).where(ListRevision.number == base).with_for_update()
        base_row = (await session.execute(statement)).scalar_one()
    number = await next_number(session)
    row = ListRevision(
        number=number,
        base=base,
        status=str(RevisionStatus.DRAFT),
        effective_from=effective_from or now.astimezone(ZoneInfo(LOCAL_TIMEZONE)).date(),
        author=author,
        note=_note(note),
        created_at=now,
        published_at=None,
    )
    session.add(row)
    await session.flush()
    count = 0
    if base_row is not None:
        copied = ("enterprise_id", "data", *SEARCH_COLUMNS)
        copy = select(literal(number), *(_ENTRIES.c[c] for c in copied)).where(
            ListEntry.revision == base
        )
        result = await session.execute(insert(_ENTRIES).from_select(["revision", *copied], copy))
        count = result.rowcount
    return info_of(row, count)


async def _count(session: AsyncSession, number: int) -> int:
    statement = select(func.count()).select_from(ListEntry).where(ListEntry.revision == number)
    return (await session.execute(statement)).scalar_one()


async def info(session: AsyncSession, number: int) -> RevisionInfo | None:
    row = await session.get(ListRevision, number)
    return None if row is None else info_of(row, await _count(session, number))


def _revisions_with_counts() -> Any:
    return (
        select(ListRevision, func.count(ListEntry.enterprise_id))
        .outerjoin(ListEntry, ListEntry.revision == ListRevision.number)
        .group_by(ListRevision.number)
    )


async def list_revisions(session: AsyncSession) -> list[RevisionInfo]:
    """Every revision, oldest first, with its number of entries."""
    statement = _revisions_with_counts().order_by(ListRevision.number)
    return [info_of(row, count) for row, count in await session.execute(statement)]


async def page_revisions(
    session: AsyncSession, *, limit: int = paging.DEFAULT_LIMIT, after: int | None = None
) -> tuple[list[RevisionInfo], str | None]:
    """Up to ``limit`` revisions, oldest first, numbered above ``after``; the next cursor."""
    keys = None if after is None else (after,)
    statement = paging.keyset(_revisions_with_counts(), [ListRevision.number], keys, limit)
    infos = [info_of(row, count) for row, count in await session.execute(statement)]
    return paging.page(infos, limit, lambda info: str(info.number))


#: Entries read from the database at a time.
LOAD_CHUNK = 5_000


async def get(session: AsyncSession, number: int) -> Revision | None:
    """A revision with all its entries."""
    row = await session.get(ListRevision, number)
    if row is None:
        return None
    statement = (
        select(ListEntry.data)
        .where(ListEntry.revision == number)
        .order_by(ListEntry.enterprise_id)  # stable entry indices in validation errors
        .execution_options(yield_per=LOAD_CHUNK)
    )
    # A national list is a million rows: read in chunks (other requests are served in
    # between) and turned into entries in a thread, off the event loop.
    data: list[dict[str, Any]] = []
    async for chunk in (await session.stream_scalars(statement)).partitions():
        data += chunk
    entries = await off_loop(lambda: tuple(map(Enterprise.from_dict, data)))
    await drop([data])  # type: ignore[list-item]
    return Revision(
        row.number, row.base, row.status, row.effective_from, row.author, row.note, entries
    )


async def published(session: AsyncSession) -> Revision | None:
    """The revision in force, with its entries (None before the first is published)."""
    number = await published_number(session)
    return None if number is None else await get(session, number)


async def get_entry(session: AsyncSession, number: int, enterprise_id: str) -> Enterprise | None:
    row = await session.get(ListEntry, (number, enterprise_id))
    return None if row is None else Enterprise.from_dict(row.data)


async def page_entries(
    session: AsyncSession, number: int, *, limit: int = 100, after: str | None = None
) -> tuple[list[Enterprise], str | None]:
    """Up to ``limit`` entries by enterprise id after the cursor ``after``, and the next cursor
    (None on the last page)."""
    statement = select(ListEntry.data).where(ListEntry.revision == number)
    keys = None if after is None else (after,)
    statement = paging.keyset(statement, [ListEntry.enterprise_id], keys, limit)
    data = list((await session.execute(statement)).scalars())
    rows, cursor = paging.page(data, limit, lambda row: str(row["enterprise_id"]))
    return [Enterprise.from_dict(d) for d in rows], cursor


_NAMES = (ListEntry.name, ListEntry.name_en)


#: A part this long gives pg_trgm trigrams to look up (alembic 0008); a shorter one is a scan.
TRIGRAM_CHARS = 3


def _contains(column: Any, part: str, dialect: str) -> ColumnElement[bool]:
    """``column`` contains ``part``, letters A-Z in any case (other characters as written).

    The pattern goes into the statement as a literal, so that PostgreSQL plans for it: from
    three characters on it looks the names up in the trigram index; a shorter part that is
    common walks the credit-code order and stops at a page, a rare one reads the rows. Then
    folding costs a lowered copy of every row's text: a part without Latin letters (Chinese,
    a number) needs none, and PostgreSQL folds in the "C" collation, ASCII only, several
    times faster than in the database's own (SQLite's ``lower`` is ASCII only anyway)."""
    escaped = part.replace("/", "//").replace("%", "/%").replace("_", "/_")
    pattern = bindparam(None, f"%{escaped}%", type_=String, literal_execute=True)
    if not any(c.isascii() and c.isalpha() for c in part):
        return column.like(pattern, escape="/")
    if dialect == "postgresql" and len(part) < TRIGRAM_CHARS:
        return column.collate("C").ilike(pattern, escape="/")
    return column.ilike(pattern, escape="/")


@dataclass(frozen=True)
class EntryFilter:
    """What a search of a revision's entries asks for; an empty field asks nothing.

    ``name`` is a substring of the Chinese or the English name (any case); ``credit_code`` a
    prefix of the unified social credit code (a whole code is its own prefix; upper-cased);
    ``regions`` the region ids an entry may be in (the caller expands a region to its
    subtree; None: any); ``industry`` and ``grade`` catalog codes, matched exactly.
    """

    name: str = ""
    credit_code: str = ""
    regions: tuple[str, ...] | None = None
    industry: str = ""
    grade: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "credit_code", self.credit_code.strip().upper())
        if self.regions is not None:
            object.__setattr__(self, "regions", tuple(self.regions))

    def clauses(self, dialect: str = "") -> list[ColumnElement[bool]]:
        """The where-clauses on ``list_entries``' search columns (one per field asked), for
        the database ``dialect`` (``"postgresql"``, ``"sqlite"``)."""
        found: list[ColumnElement[bool]] = []
        if self.name:
            found.append(or_(*(_contains(c, self.name, dialect) for c in _NAMES)))
        if self.credit_code:
            code = ListEntry.enterprise_id
            found.append(code.startswith(self.credit_code, autoescape=True))
            # A range the primary key serves: codes of CHARSET sort below prefix + "Z".
            found.append(code >= self.credit_code)
            if set(self.credit_code) <= set(CHARSET):
                found.append(code < self.credit_code + "Z")
        if self.regions is not None:
            found.append(ListEntry.region.in_(self.regions))
        if self.industry:
            found.append(ListEntry.industry == self.industry)
        if self.grade:
            found.append(ListEntry.grade == self.grade)
        return found


@dataclass(frozen=True)
class EntryRow:
    """An entry as a search lists it: its search columns, not its document."""

    enterprise_id: str
    name: str
    name_en: str
    region: str
    industry: str
    grade: str


@dataclass(frozen=True)
class SearchPage:
    """A page of a search, by credit code, with the cursors of the pages either side (the
    first and last ids of this page; None where no page follows)."""

    rows: list[EntryRow]
    previous: str | None
    next: str | None


async def search_entries(
    session: AsyncSession,
    number: int,
    where: EntryFilter,
    *,
    limit: int = 50,
    after: str | None = None,
    before: str | None = None,
) -> SearchPage:
    """Up to ``limit`` entries of revision ``number`` matching ``where``, by credit code:
    after the code ``after``, or (``before``) the page before the code ``before``."""
    columns = [ListEntry.enterprise_id, *(ListEntry.__table__.c[c] for c in SEARCH_COLUMNS)]
    dialect = session.get_bind().dialect.name
    statement = select(*columns).where(ListEntry.revision == number, *where.clauses(dialect))
    backward = before is not None and after is None
    key = before if backward else after
    keys = None if key is None else (key,)
    statement = paging.keyset(statement, [ListEntry.enterprise_id], keys, limit, backward=backward)
    found = [EntryRow(*row) for row in await session.execute(statement)]
    more = len(found) > limit
    rows = found[:limit]
    if backward:
        rows.reverse()
    if not rows:  # a stale previous-page link: the first page instead
        if backward:
            return await search_entries(session, number, where, limit=limit)
        return SearchPage([], None, None)
    earlier = more if backward else after is not None
    later = True if backward else more
    return SearchPage(
        rows,
        rows[0].enterprise_id if earlier else None,
        rows[-1].enterprise_id if later else None,
    )


async def put_entry(session: AsyncSession, number: int, entry: Enterprise) -> bool:
    """Add an entry to a draft or replace the one with its id; True when added."""
    await locked_draft(session, number)
    row = entry_row(number, entry)
    return await put_row(session, ListEntry, (number, entry.enterprise_id), row)


async def delete_entry(session: AsyncSession, number: int, enterprise_id: str) -> None:
    """Remove an entry from a draft (the enterprise closed or left the list)."""
    await locked_draft(session, number)
    row = await session.get(ListEntry, (number, enterprise_id))
    if row is None:
        raise RevisionError(
            "entry.unknown",
            text(
                f"第 {number} 版清单中没有企业 {enterprise_id}",
                f"No entry {enterprise_id} in revision {number}",
            ),
        )
    await session.delete(row)
    await session.flush()


async def publish(
    session: AsyncSession,
    number: int,
    *,
    effective_from: dt.date | None = None,
    now: dt.datetime | None = None,
) -> RevisionInfo:
    """Freeze a draft as published (validate it first); it becomes the revision in force."""
    row = await locked_draft(session, number)
    row.status = str(RevisionStatus.PUBLISHED)
    row.published_at = now or utcnow()
    if effective_from is not None:
        row.effective_from = effective_from
    await session.flush()
    return info_of(row, await _count(session, number))
