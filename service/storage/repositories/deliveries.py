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

from sqlalchemy import Row, and_, bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.storage.models import Delivery, Notice, Subscription
from service.storage.repositories import driver_connection, paging
from service.storage.repositories.subscriptions import IN_CHUNK


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker took, with its notice and subscription: plain rows (attributes
    named as the tables' columns), not ORM objects, since a worker takes thousands a second."""

    delivery: Row[Any]
    notice: Row[Any]
    subscription: Row[Any]


#: What a worker needs of a claimed delivery, of its notice and of its subscription.
_DELIVERY = (
    Delivery.id,
    Delivery.notice_id,
    Delivery.subscription_id,
    Delivery.key,
    Delivery.target,
    Delivery.attempts,
    Delivery.created_at,
    Delivery.next_attempt_at,
)
_NOTICE = (
    Notice.id,
    Notice.enterprise_id,
    Notice.region,
    Notice.event,
    Notice.level,
    Notice.previous_level,
    Notice.payload,
    Notice.created_at,
)
_SUBSCRIPTION = (Subscription.id, Subscription.channel, Subscription.language, Subscription.secret)


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
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(due.scalar_subquery()))
            # due again when the lease ends: the claims' index scan of due rows steps over
            # the ones in flight instead of reading them again each time
            .values(lease_until=until, next_attempt_at=until)
            .returning(*_DELIVERY)
        )
    )
    if not taken:
        return []
    taken.sort(key=lambda d: (d.next_attempt_at, d.id))
    notice_ids = sorted({d.notice_id for d in taken})
    found = await session.execute(select(*_NOTICE).where(Notice.id.in_(notice_ids)))
    notices = {n.id: n for n in found}
    subscription_ids = sorted({d.subscription_id for d in taken})
    found = await session.execute(
        select(*_SUBSCRIPTION).where(Subscription.id.in_(subscription_ids))
    )
    subscriptions = {s.id: s for s in found}
    return [
        Claimed(d, notices[d.notice_id], subscriptions[d.subscription_id])
        for d in taken
        if d.notice_id in notices and d.subscription_id in subscriptions
    ]


_RESULT_COLUMNS = (
    "status",
    "attempts",
    "next_attempt_at",
    "delivered_at",
    "last_status",
    "last_error",
)
_RECORD = (
    update(Delivery.__table__)
    .where(Delivery.__table__.c.id == bindparam("result_id"))
    .values({c: bindparam(f"result_{c}") for c in _RESULT_COLUMNS} | {"lease_until": None})
)

#: PostgreSQL: every result in one statement, the columns as arrays.
_RECORD_PG = (
    "UPDATE deliveries AS d SET status = v.status, attempts = v.attempts, "
    "next_attempt_at = v.next_attempt_at, delivered_at = v.delivered_at, "
    "last_status = v.last_status, last_error = v.last_error, lease_until = NULL "
    "FROM unnest($1::bigint[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[], "
    "$6::int[], $7::text[]) AS v(id, status, attempts, next_attempt_at, delivered_at, "
    "last_status, last_error) WHERE d.id = v.id"
)


async def record(session: AsyncSession, results: Sequence[dict[str, Any]]) -> None:
    """Store attempts' results: dicts of ``id``, ``status``, ``attempts``,
    ``next_attempt_at``, ``delivered_at``, ``last_status``, ``last_error`` (leases end); one
    statement for all of them (PostgreSQL: arrays; SQLite: executemany), no ORM."""
    if not results:
        return
    if session.get_bind().dialect.name == "postgresql":
        columns = [[r[c] for r in results] for c in ("id", *_RESULT_COLUMNS)]
        raw = await driver_connection(session)
        await raw.execute(_RECORD_PG, *columns)
        return
    rows = [{f"result_{k}": v for k, v in r.items()} for r in results]
    await session.execute(_RECORD, rows)


async def release(session: AsyncSession, delivery_ids: Sequence[int], now: dt.datetime) -> None:
    """End the leases of deliveries taken but not tried (a worker stopping): due at once."""
    for start in range(0, len(delivery_ids), IN_CHUNK):
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids[start : start + IN_CHUNK]))
            .values(lease_until=None, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )


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
