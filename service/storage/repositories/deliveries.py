"""Deliveries: the notices' attempts, taken by workers under a lease.

A worker *claims* due deliveries (pending, due, not leased by a live worker, and the oldest
pending of their key: no two notices of one subscription and enterprise are in flight at
once, and an older one goes before a newer) by setting their lease, in a short transaction
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL: workers of several processes never take the same
row). It *records* each attempt's result in one batch; a worker that dies leaves its leases
to run out, and the deliveries are taken again, with the same message id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.storage.models import Delivery, Notice, Subscription
from service.storage.repositories import paging
from service.storage.repositories.subscriptions import IN_CHUNK


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker took, with its notice and subscription."""

    delivery: Delivery
    notice: Notice
    subscription: Subscription


async def claim(
    session: AsyncSession, limit: int, now: dt.datetime, lease_s: float
) -> list[Claimed]:
    """Take up to ``limit`` due deliveries under a lease of ``lease_s`` seconds."""
    candidate, older = aliased(Delivery, name="candidate"), aliased(Delivery, name="older")
    no_older_pending = ~exists().where(
        older.key == candidate.key, older.status == "pending", older.id < candidate.id
    )
    due = (
        select(candidate.id)
        .where(
            candidate.status == "pending",
            candidate.next_attempt_at <= now,
            candidate.lease_until.is_(None) | (candidate.lease_until < now),
            no_older_pending,
        )
        # Not also by id: the index (status, next_attempt_at) then yields the due rows in order
        # and the scan stops at ``limit``; with id the whole due set (every notice of a warning
        # shares one time) is sorted on each claim. Per key, the oldest goes first anyway.
        .order_by(candidate.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=candidate)
    )
    until = now + dt.timedelta(seconds=lease_s)
    taken = list(
        await session.scalars(
            update(Delivery)
            .where(Delivery.id.in_(due.scalar_subquery()))
            .values(lease_until=until)
            .returning(Delivery.id)
        )
    )
    if not taken:
        return []
    rows = await session.execute(
        select(Delivery, Notice, Subscription)
        .join(Notice, Notice.id == Delivery.notice_id)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .where(Delivery.id.in_(taken))
        .order_by(Delivery.next_attempt_at, Delivery.id)
    )
    return [Claimed(d, n, s) for d, n, s in rows]


async def record(session: AsyncSession, results: Sequence[dict[str, Any]]) -> None:
    """Store attempts' results: dicts of ``id``, ``status``, ``attempts``,
    ``next_attempt_at``, ``delivered_at``, ``last_status``, ``last_error`` (leases end)."""
    if results:
        rows = [{**r, "lease_until": None} for r in results]
        await session.execute(update(Delivery), rows)


async def supersede_older(session: AsyncSession, keys: Collection[str], now: dt.datetime) -> int:
    """Pending deliveries of ``keys`` that are not in flight and have a newer delivery of
    their key end as superseded; returns how many."""
    newer = aliased(Delivery)
    count = 0
    ordered = sorted(keys)
    for start in range(0, len(ordered), IN_CHUNK):
        result = await session.execute(
            update(Delivery)
            .where(
                Delivery.key.in_(ordered[start : start + IN_CHUNK]),
                Delivery.status == "pending",
                (Delivery.lease_until.is_(None)) | (Delivery.lease_until < now),
                exists().where(
                    and_(
                        newer.key == Delivery.key, newer.id > Delivery.id, newer.status == "pending"
                    )
                ),
            )
            .values(status="superseded", lease_until=None)
            .execution_options(synchronize_session=False)
        )
        count += result.rowcount or 0
    return count


async def next_due(session: AsyncSession) -> dt.datetime | None:
    """When the earliest pending delivery is due (None: nothing pending)."""
    return await session.scalar(
        select(func.min(Delivery.next_attempt_at)).where(Delivery.status == "pending")
    )


async def counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return {status: n for status, n in rows}


async def page(
    session: AsyncSession, status: str | None, limit: int, after: int | None
) -> tuple[list[Delivery], str | None]:
    """Deliveries newest first (of one status, if given); the cursor is a delivery id."""
    statement = select(Delivery)
    if status is not None:
        statement = statement.where(Delivery.status == status)
    if after is not None:
        statement = statement.where(Delivery.id < after)
    statement = statement.order_by(Delivery.id.desc()).limit(limit + 1)
    found = list((await session.execute(statement)).scalars())
    return paging.page(found, limit, lambda d: str(d.id))


@dataclass(frozen=True)
class DeadDelivery:
    """A dead delivery with its notice and subscription, for the operators' list."""

    delivery: Delivery
    notice: Notice
    subscription: Subscription


def dead_cursor(delivery: Delivery) -> str:
    return f"{delivery.next_attempt_at.astimezone(dt.UTC).isoformat()}|{delivery.id}"


def parse_dead_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    """The key a :func:`dead_cursor` names (None: not one)."""
    moment, _, number = cursor.partition("|")
    try:
        when, delivery_id = dt.datetime.fromisoformat(moment), int(number)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)), delivery_id


async def dead_page(
    session: AsyncSession, limit: int, after: tuple[dt.datetime, int] | None
) -> tuple[list[DeadDelivery], str | None]:
    """Dead deliveries, the latest given up first (by ``ix_deliveries_status_next_attempt_at``:
    a dead delivery's ``next_attempt_at`` is the try it would have made), with their notice
    and subscription in the same query."""
    statement = (
        select(Delivery, Notice, Subscription)
        .join(Notice, Notice.id == Delivery.notice_id)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .where(Delivery.status == "dead")
    )
    if after is not None:  # the index's bound; the keyset's OR alone would only filter
        statement = statement.where(Delivery.next_attempt_at <= after[0])
    order = [Delivery.next_attempt_at, Delivery.id]
    statement = paging.keyset(statement, order, after, limit, backward=True)
    found = [DeadDelivery(d, n, s) for d, n, s in await session.execute(statement)]
    return paging.page(found, limit, lambda row: dead_cursor(row.delivery))
