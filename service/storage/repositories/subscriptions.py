"""Subscriptions: where notices go."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Row, or_, select, update
from sqlalchemy import delete as delete_rows
from sqlalchemy.ext.asyncio import AsyncSession

from service.storage.models import Delivery, Subscription
from service.storage.repositories import paging

#: Ids per ``IN (...)`` list: far below both dialects' bind-parameter limits.
IN_CHUNK = 5_000


async def add(session: AsyncSession, subscription: Subscription) -> Subscription:
    session.add(subscription)
    await session.flush()
    return subscription


async def get(session: AsyncSession, subscription_id: str) -> Subscription | None:
    return await session.get(Subscription, subscription_id)


async def page(
    session: AsyncSession,
    *,
    enterprise_id: str | None = None,
    limit: int = paging.DEFAULT_LIMIT,
    after: str | None = None,
) -> tuple[list[Subscription], str | None]:
    """Subscriptions in the order they were made (an enterprise's only, if given)."""
    statement = select(Subscription)
    if enterprise_id is not None:
        statement = statement.where(Subscription.enterprise_id == enterprise_id)
    keys = None
    if after is not None:
        position = select(Subscription.created_at).where(Subscription.id == after)
        keys = (position.scalar_subquery(), after)
    order = [Subscription.created_at, Subscription.id]
    statement = paging.keyset(statement, order, keys, limit)
    found = list((await session.execute(statement)).scalars())
    return paging.page(found, limit, lambda s: s.id)


async def delete(session: AsyncSession, subscription: Subscription) -> None:
    """Remove a subscription with its deliveries (pending ones are not sent). The deliveries
    go first: a delivery worker locks a delivery and then its subscription (it disables one
    on 410, it stores new deliveries naming one), so taking them in the same order never
    deadlocks with it (the foreign key's cascade would lock the subscription first)."""
    await session.execute(delete_rows(Delivery).where(Delivery.subscription_id == subscription.id))
    await session.delete(subscription)
    await session.flush()


async def disable(session: AsyncSession, subscription_id: str, reason: str) -> None:
    """Stop a subscription (its receiver answered 410 Gone): its pending deliveries end."""
    await session.execute(
        update(Subscription)
        .where(Subscription.id == subscription_id)
        .values(status="disabled", disabled_reason=reason[:500])
    )
    await session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == subscription_id, Delivery.status == "pending")
        .values(status="disabled", lease_until=None, last_error=reason[:500])
    )


async def for_enterprises(
    session: AsyncSession, enterprise_ids: Collection[str], regions: Collection[str], event: str
) -> list[Row[Any]]:
    """The active subscriptions to ``event`` of these enterprises, or of these regions:
    rows of ``id, enterprise_id, region, target`` (no ORM objects: a warning over a large
    list reads one per enterprise)."""
    columns = (Subscription.id, Subscription.enterprise_id, Subscription.region)
    wanted = select(*columns, Subscription.target, Subscription.events)
    found: list[Row[Any]] = []
    ids, region_ids = sorted(enterprise_ids), sorted(regions)
    for start in range(0, max(len(ids), 1), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        scope = [Subscription.enterprise_id.in_(chunk)]
        if start == 0 and region_ids:
            scope.append(Subscription.region.in_(region_ids))
        statement = wanted.where(Subscription.status == "active", or_(*scope))
        found.extend(row for row in await session.execute(statement) if event in row.events)
    return found


def scope_key(subscription: Subscription | Row[Any], subject: str) -> str:
    """A delivery's supersession key: one subscription, one enterprise (or region)."""
    return f"{subscription.id}/{subject}"[:80]
