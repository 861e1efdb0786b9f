"""The audit log: who changed what, and when.

``actor`` is the id of the token that made the change, or ``"system"`` (start-up, consumers).
``details`` is a small JSON document (what changed, never a secret).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.storage.models import AuditEntry
from service.storage.repositories import utcnow
from service.storage.types import json_safe

SYSTEM = "system"


async def record(
    session: AsyncSession,
    actor: str,
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
    *,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """Add an entry, e.g. ``record(s, token_id, "list.publish", "revision:3", {...})``."""
    entry = AuditEntry(
        at=at or utcnow(),
        actor=actor,
        action=action,
        target=target,
        details=None if details is None else json_safe(dict(details)),
    )
    session.add(entry)
    await session.flush()
    return entry


async def recent(
    session: AsyncSession,
    *,
    limit: int = 100,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    since: dt.datetime | None = None,
) -> list[AuditEntry]:
    """The newest entries first, optionally only those matching every filter given."""
    statement = select(AuditEntry)
    for column, value in (
        (AuditEntry.actor, actor),
        (AuditEntry.action, action),
        (AuditEntry.target, target),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if since is not None:
        statement = statement.where(AuditEntry.at >= since)
    statement = statement.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    return list((await session.execute(statement)).scalars())
