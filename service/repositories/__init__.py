"""All SQL of the service, a module per resource.

Repositories take an :class:`~sqlalchemy.ext.asyncio.AsyncSession` and never commit (the
caller owns the transaction) nor raise HTTP errors. They speak the domain's types where the
domain has them (regions, stations, list revisions and entries) and ORM rows for plain
records (readings, AQI results, audit entries).

This module holds what several repositories share: the idempotent multi-row upsert and the
create-or-replace of one row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.i18n import Text
from service.db.models import Base

#: Rows per INSERT statement: stays below the bind-parameter limits of asyncpg (32,767) and
#: SQLite (32,766) for tables of up to 16 columns.
CHUNK_ROWS = 2000


@dataclass(frozen=True)
class UpsertCounts:
    """What an upsert did with each row it was given.

    ``superseded`` counts rows dropped because a later row in the same call has the same key
    (the later one wins, as a later message would).
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.superseded + other.superseded,
        )

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.superseded


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def name_columns(name: Text) -> dict[str, str]:
    """``name_zh`` and ``name_en`` of a bilingual name (one language stands in for the other)."""
    zh = name.get("zh-CN") or name.get("en", "")
    return {"name_zh": zh, "name_en": name.get("en") or zh}


async def put_row(
    session: AsyncSession, model: type[Base], key: Any, values: Mapping[str, Any]
) -> bool:
    """Create the row of ``model`` with primary key ``key`` or overwrite it with ``values``
    (which include the key columns); True when it was created."""
    row = await session.get(model, key)
    created = row is None
    if row is None:
        row = model()
        session.add(row)
    for column, value in values.items():
        setattr(row, column, value)
    await session.flush()
    return created


async def upsert_rows(
    session: AsyncSession,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    key: Sequence[str],
    compared: Sequence[str],
    now: dt.datetime,
) -> UpsertCounts:
    """Insert ``rows``, or update the row with the same ``key`` where a ``compared`` column differs.

    One ``INSERT ... VALUES (...), (...) ON CONFLICT (key) DO UPDATE ... WHERE <a value is
    distinct> RETURNING updated_at`` per chunk of :data:`CHUNK_ROWS`, so replaying rows
    already stored writes nothing. An update sets ``updated_at = now``; ``table`` must have
    a nullable ``updated_at`` that inserts leave NULL (which tells inserts from updates).
    """
    latest: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    given = 0
    for row in rows:
        given += 1
        latest[tuple(row[k] for k in key)] = row
    counts = UpsertCounts(superseded=given - len(latest))
    if not latest:
        return counts
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table)
    statement = (
        statement.on_conflict_do_update(
            index_elements=[table.c[k] for k in key],
            set_={**{c: statement.excluded[c] for c in compared}, "updated_at": now},
            where=or_(*(table.c[c].is_distinct_from(statement.excluded[c]) for c in compared)),
        )
        .returning(table.c.updated_at)
        .execution_options(insertmanyvalues_page_size=CHUNK_ROWS)
    )
    # Executed with many parameter sets and RETURNING, SQLAlchemy sends one multi-row
    # INSERT per page of CHUNK_ROWS ("insertmanyvalues"), compiled once and cached.
    stamps = (await session.execute(statement, list(latest.values()))).scalars().all()
    inserted = sum(stamp is None for stamp in stamps)
    return counts + UpsertCounts(inserted, len(stamps) - inserted, len(latest) - len(stamps))
