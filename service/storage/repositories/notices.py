"""Notices: one per enterprise per change of its required actions, or per alert event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.storage.models import Delivery, ListEntry, Notice, Subscription
from service.storage.repositories import COPY_MIN_ROWS, copy_rows, next_ids, paging
from service.storage.repositories.subscriptions import IN_CHUNK


@dataclass(frozen=True)
class Latest:
    """An enterprise's latest notice: what it said and when its state was read."""

    notice_id: int
    level: str
    as_of: dt.datetime
    payload: dict[str, Any]


async def latest(session: AsyncSession, enterprise_ids: Collection[str]) -> dict[str, Latest]:
    found: dict[str, Latest] = {}
    ids = sorted(enterprise_ids)
    for start in range(0, len(ids), IN_CHUNK):
        newest = (
            select(func.max(Notice.id))
            .where(Notice.enterprise_id.in_(ids[start : start + IN_CHUNK]))
            .group_by(Notice.enterprise_id)
        )
        rows = await session.execute(
            select(
                Notice.id, Notice.enterprise_id, Notice.level, Notice.as_of, Notice.payload
            ).where(Notice.id.in_(newest.scalar_subquery()))
        )
        for notice_id, eid, level, as_of, payload in rows:
            found[eid] = Latest(notice_id, level, as_of, payload)
    return found


async def names(
    session: AsyncSession, revision: int, enterprise_ids: Collection[str]
) -> dict[str, tuple[str, str, str]]:
    """``(name, English name, region)`` of enterprises in a revision of the list."""
    found: dict[str, tuple[str, str, str]] = {}
    ids = sorted(enterprise_ids)
    for start in range(0, len(ids), IN_CHUNK):
        rows = await session.execute(
            select(
                ListEntry.enterprise_id, ListEntry.name, ListEntry.name_en, ListEntry.region
            ).where(
                ListEntry.revision == revision,
                ListEntry.enterprise_id.in_(ids[start : start + IN_CHUNK]),
            )
        )
        for eid, name, name_en, region in rows:
            found[eid] = (name, name_en, region)
    return found


async def add_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert notices; their ids in the order given (copied with ids drawn at once on
    PostgreSQL)."""
    table = Notice.__table__
    drawn = await next_ids(session, table, len(rows)) if len(rows) >= COPY_MIN_ROWS else None
    if drawn is not None:
        await copy_rows(session, table, [{"id": i, **r} for i, r in zip(drawn, rows, strict=True)])
        return drawn
    ids: list[int] = []
    for start in range(0, len(rows), IN_CHUNK):
        result = await session.execute(
            insert(Notice).returning(Notice.id, sort_by_parameter_order=True),
            list(rows[start : start + IN_CHUNK]),
        )
        ids.extend(result.scalars())
    return ids


async def add_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await copy_rows(session, Delivery.__table__, rows)
    if rows:
        await _analyze_if_grown(session)


#: The deliveries' pages now, and when the planner's statistics were taken.
_DELIVERY_PAGES = text(
    "SELECT pg_relation_size(oid) / current_setting('block_size')::int, relpages "
    "FROM pg_class WHERE oid = 'deliveries'::regclass"
)


async def _analyze_if_grown(session: AsyncSession) -> None:
    """PostgreSQL: analyse the deliveries once they more than doubled since the statistics
    were taken. A warning adds its deliveries faster than autovacuum analyses them; planned on
    the statistics of a near-empty table, the queue's self-joins (claim, supersede) ran as
    full scans on every call (at 100,000 deliveries, from a tenth of a second to minutes)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    pages, known = (await session.execute(_DELIVERY_PAGES)).one()
    if pages > 2 * max(known, 0) + 8:
        await session.execute(text("ANALYZE deliveries"))


async def get(session: AsyncSession, notice_id: int) -> Notice | None:
    return await session.get(Notice, notice_id)


@dataclass(frozen=True)
class NoticeFilter:
    enterprise_id: str | None = None
    unacknowledged: bool = False
    acknowledged: bool = False
    levels: tuple[str, ...] = ()
    created_before: dt.datetime | None = None
    current_only: bool = False  # only each enterprise's latest notice


async def page(
    session: AsyncSession, where: NoticeFilter, limit: int, after: int | None
) -> tuple[list[Notice], str | None]:
    """Notices newest first, a page at a time (the cursor is a notice id)."""
    statement = select(Notice)
    if where.enterprise_id is not None:
        statement = statement.where(Notice.enterprise_id == where.enterprise_id)
    if where.unacknowledged:
        statement = statement.where(Notice.acknowledged_at.is_(None))
    if where.acknowledged:
        statement = statement.where(Notice.acknowledged_at.is_not(None))
    if where.levels:
        statement = statement.where(Notice.level.in_(where.levels))
    if where.created_before is not None:
        statement = statement.where(Notice.created_at < where.created_before)
    if where.current_only:
        statement = statement.where(Notice.id.in_(_current_ids()))
    statement = statement.where(Notice.id < after) if after is not None else statement
    statement = statement.order_by(Notice.id.desc()).limit(limit + 1)
    found = list((await session.execute(statement)).scalars())
    return paging.page(found, limit, lambda n: str(n.id))


def _current_ids() -> Any:
    return (
        select(func.max(Notice.id))
        .where(Notice.enterprise_id.is_not(None))
        .group_by(Notice.enterprise_id)
        .scalar_subquery()
    )


async def deliveries_of(session: AsyncSession, notice_ids: Collection[int]) -> list[Delivery]:
    if not notice_ids:
        return []
    statement = (
        select(Delivery).where(Delivery.notice_id.in_(sorted(notice_ids))).order_by(Delivery.id)
    )
    return list((await session.execute(statement)).scalars())


async def waiting(
    session: AsyncSession,
    levels: Collection[str],
    created_before: dt.datetime,
    limit: int,
    after: int | None,
) -> tuple[list[Notice], str | None]:
    """Enterprises' current (latest) notices at ``levels`` not acknowledged and made before
    ``created_before``, oldest first (the cursor is a notice id). "Current" is a probe of
    ``ix_notices_enterprise_id_id`` per candidate (no newer notice of the enterprise), not
    a grouping of the whole table."""
    newer = aliased(Notice, name="newer")
    statement = select(Notice).where(
        Notice.enterprise_id.is_not(None),
        Notice.acknowledged_at.is_(None),
        Notice.level.in_(sorted(levels)),
        Notice.created_at < created_before,
        ~exists().where(newer.enterprise_id == Notice.enterprise_id, newer.id > Notice.id),
    )
    if after is not None:
        statement = statement.where(Notice.id > after)
    statement = statement.order_by(Notice.id).limit(limit + 1)
    found = list((await session.execute(statement)).scalars())
    return paging.page(found, limit, lambda n: str(n.id))


async def deliveries_by_channel(
    session: AsyncSession, notice_ids: Collection[int]
) -> list[tuple[Delivery, str]]:
    """The notices' deliveries with their subscription's channel, in the order they were made
    (one query for a whole page of notices)."""
    if not notice_ids:
        return []
    statement = (
        select(Delivery, Subscription.channel)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .where(Delivery.notice_id.in_(sorted(notice_ids)))
        .order_by(Delivery.id)
    )
    return [(d, channel) for d, channel in await session.execute(statement)]
