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
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, or_, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.i18n import Text
from service.storage.models import Base
from service.storage.types import NamedNumbers, json_safe

#: From this many rows on, PostgreSQL upserts go through COPY and a staging table.
COPY_MIN_ROWS = 200
_PG = postgresql.dialect()
_JSONB = postgresql.JSONB
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


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _copy_upsert(
    session: AsyncSession,
    table: Table,
    rows: list[Mapping[str, Any]],
    key: Sequence[str],
    compared: Sequence[str],
    now: dt.datetime,
) -> list[Any]:
    """PostgreSQL: the rows by binary COPY into a temporary table, then one
    ``INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE distinct RETURNING updated_at``,
    in the session's transaction. Returns the ``updated_at`` of each row written."""
    columns = list(rows[0])
    as_json = {c for c in columns if isinstance(table.c[c].type.dialect_impl(_PG), _JSONB)}
    arrays = {c: table.c[c].type for c in columns if isinstance(table.c[c].type, NamedNumbers)}
    records = [
        tuple(
            _json(r[c])
            if c in as_json
            else arrays[c].process_bind_param(r[c], _PG)
            if c in arrays
            else r[c]
            for c in columns
        )
        for r in rows
    ]
    raw = await driver_connection(session)
    target, staging = _quoted(table.name), f"haze_in_{table.name}"
    await raw.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_quoted(staging)} "
        f"(LIKE {target} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    await raw.execute(f"TRUNCATE {_quoted(staging)}")
    await raw.copy_records_to_table(staging, records=records, columns=columns)
    names = ", ".join(_quoted(c) for c in columns)
    updates = ", ".join(f"{_quoted(c)} = EXCLUDED.{_quoted(c)}" for c in compared)
    changed = " OR ".join(
        f"{target}.{_quoted(c)} IS DISTINCT FROM EXCLUDED.{_quoted(c)}" for c in compared
    )
    statement = (
        f"INSERT INTO {target} ({names}) SELECT {names} FROM {_quoted(staging)} "
        f"ON CONFLICT ({', '.join(_quoted(k) for k in key)}) DO UPDATE "
        f"SET {updates}, updated_at = $1 WHERE {changed} RETURNING updated_at"
    )
    return [row[0] for row in await raw.fetch(statement, now)]


async def copy_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert plain rows (no conflict expected): binary COPY on PostgreSQL from
    :data:`COPY_MIN_ROWS` rows on, else one multi-row ``INSERT`` per :data:`CHUNK_ROWS`."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql" or len(rows) < COPY_MIN_ROWS:
        for start in range(0, len(rows), CHUNK_ROWS):
            await session.execute(table.insert(), list(rows[start : start + CHUNK_ROWS]))
        return
    columns = list(rows[0])
    as_json = {c for c in columns if isinstance(table.c[c].type.dialect_impl(_PG), _JSONB)}
    records = [tuple(_json(r[c]) if c in as_json else r[c] for c in columns) for r in rows]
    raw = await driver_connection(session)
    await raw.copy_records_to_table(table.name, records=records, columns=columns)


async def next_ids(session: AsyncSession, table: Table, count: int) -> list[int] | None:
    """``count`` new ids of ``table``'s serial key drawn at once (PostgreSQL), for rows to be
    copied; None elsewhere (insert with ``RETURNING`` instead)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    statement = text(
        "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
    )
    return list(await session.scalars(statement, {"table": table.name, "n": count}))


async def driver_connection(session: AsyncSession) -> Any:
    """The driver's own connection under the session's transaction (asyncpg's on PostgreSQL),
    the transaction begun: SQLAlchemy's asyncpg adapter begins it only with its first
    statement, and statements sent straight to the driver before that would each commit."""
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if session.get_bind().dialect.name == "postgresql" and not driver.is_in_transaction():
        await connection.execute(text("SELECT 1"))
    return driver


def _json(value: Any) -> str:
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:  # NaN or infinity somewhere: stored as text, as the ORM path does
        return json.dumps(json_safe(value))


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
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and len(latest) >= COPY_MIN_ROWS:
        stamps = await _copy_upsert(session, table, list(latest.values()), key, compared, now)
        inserted = sum(stamp is None for stamp in stamps)
        return counts + UpsertCounts(inserted, len(stamps) - inserted, len(latest) - len(stamps))
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
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
