"""The notices consumer: ``haze.actions`` records into stored notices and deliveries.

A record's key is the enterprise id and its value the enterprise's actions now
(:func:`service.bus.records.actions_value`; none: it left the list). The last record of each
enterprise in a batch counts; the notices it makes (:mod:`service.services.notices`) are
committed before the batch's offsets are, so a crash loses none, and a record seen again
makes none twice. Then the delivery worker of this process is woken. A record whose key or
value cannot be read goes to the dead-letter sink.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emission_list.catalog import Catalog
from service.bus import Record
from service.services.board import ActionBoard
from service.services.notices import ActionsChange, record_actions_changes
from service.storage.repositories import utcnow

DeadLetter = Callable[[Sequence[tuple[Record, str]]], Awaitable[None]]


def decoded(record: Record) -> tuple[ActionsChange | None, str]:
    """The change a record holds, or None and why it cannot be read."""
    try:
        enterprise_id = (record.key or b"").decode()
        value = None if record.value is None else json.loads(record.value)
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"undecodable actions record: {exc}"
    if not enterprise_id or len(enterprise_id) > 32:
        return None, "an actions record needs an enterprise id of 1 to 32 characters as its key"
    if value is not None and not (
        isinstance(value, dict)
        and value.get("enterprise_id") == enterprise_id
        and isinstance(value.get("level"), str)
        and isinstance(value.get("list_revision"), int)
    ):
        return None, "an actions record's value must be an enterprise's actions (or null)"
    read_at = dt.datetime.fromtimestamp(record.timestamp_ms / 1000, dt.UTC)
    return ActionsChange(enterprise_id, value, read_at), ""


class NoticesHandler:
    def __init__(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        board: Callable[[], ActionBoard],
        catalog: Catalog,
        dead_letter: DeadLetter,
        stored: Callable[[], None],
    ) -> None:
        self._session_maker = session_maker
        self._board = board
        self._catalog = catalog
        self._dead_letter = dead_letter
        self._stored = stored

    async def __call__(self, records: Sequence[Record]) -> None:
        changes, bad = [], []
        for record in records:
            change, why = decoded(record)
            if change is None:
                bad.append((record, why))
            else:
                changes.append(change)
        if bad:
            await self._dead_letter(bad)
        if not changes:
            return
        async with self._session_maker() as session:
            made = await record_actions_changes(
                session, changes, self._board(), self._catalog, utcnow()
            )
            await session.commit()
        if made:
            self._stored()
