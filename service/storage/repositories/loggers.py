"""The HJ 212 data loggers the gateway accepts (``loggers``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.storage.models import Logger
from service.storage.repositories import paging, put_row


async def put(session: AsyncSession, mn: str, values: Mapping[str, Any]) -> bool:
    """Create or replace the logger ``mn``; True when it was created."""
    return await put_row(session, Logger, mn, {"mn": mn, **values})


async def get(session: AsyncSession, mn: str) -> Logger | None:
    return await session.get(Logger, mn)


async def remove(session: AsyncSession, mn: str) -> bool:
    """Delete the logger; False when there was none."""
    result = await session.execute(delete(Logger).where(Logger.mn == mn))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def every(session: AsyncSession) -> list[Logger]:
    """Every registered logger (the gateway holds them in memory)."""
    return list((await session.execute(select(Logger))).scalars())


async def page(
    session: AsyncSession,
    *,
    kind: str | None = None,
    owner: str | None = None,
    limit: int = paging.DEFAULT_LIMIT,
    after: str | None = None,
) -> tuple[list[Logger], str | None]:
    """Loggers by MN (of one kind, of one station or enterprise), a page at a time."""
    statement = select(Logger)
    if kind is not None:
        statement = statement.where(Logger.kind == kind)
    if owner is not None:
        statement = statement.where((Logger.station_id == owner) | (Logger.enterprise_id == owner))
    keys = None if after is None else (after,)
    statement = paging.keyset(statement, [Logger.mn], keys, limit)
    found = list((await session.execute(statement)).scalars())
    return paging.page(found, limit, lambda row: row.mn)


async def latest_change(session: AsyncSession) -> dt.datetime | None:
    """When a logger was last registered or changed (the gateway reloads after that)."""
    return await session.scalar(select(func.max(Logger.updated_at)))
