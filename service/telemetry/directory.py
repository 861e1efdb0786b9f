"""The registered loggers held in memory, for the gateway's lookups (thousands a second).

Loaded at start and again whenever a registration changed: at once in the process that
changed it (:meth:`Runtime.loggers_changed`), and within ``HAZE_REFRESH_INTERVAL_S`` in the
others (the newest ``updated_at`` moved, or the count did: a deletion).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.gateway.directory import Registration
from service.storage.models import Logger
from service.storage.repositories import loggers


def registration(row: Logger, default_timezone: str) -> Registration:
    return Registration(
        mn=row.mn,
        kind=row.kind,
        owner=row.station_id or row.enterprise_id or "",
        password_sha256=bytes.fromhex(row.password_sha256),
        units=dict(row.units),
        timezone=row.timezone or default_timezone,
    )


class DatabaseDirectory:
    """:class:`service.gateway.directory.LoggerDirectory` over the ``loggers`` table."""

    def __init__(self, default_timezone: str) -> None:
        self.default_timezone = default_timezone
        self._by_mn: dict[str, Registration] = {}
        self._version: tuple[dt.datetime | None, int] | None = None

    def lookup(self, mn: str) -> Registration | None:
        return self._by_mn.get(mn)

    def registrations(self) -> list[Registration]:
        return list(self._by_mn.values())

    def __len__(self) -> int:
        return len(self._by_mn)

    async def reload(self, session: AsyncSession, *, if_changed: bool = False) -> bool:
        """Read every registration again (only when one changed, with ``if_changed``);
        True when it read them."""
        version = (
            await loggers.latest_change(session),
            await session.scalar(select(func.count()).select_from(Logger)) or 0,
        )
        if if_changed and version == self._version:
            return False
        rows = await loggers.every(session)
        self._by_mn = {row.mn: registration(row, self.default_timezone) for row in rows}
        self._version = version
        return True
