"""The telemetry consumer: ``haze.telemetry`` records into stored values and the compliance
check's latest figures.

Each record (:mod:`service.telemetry.records`) is one packet of an enterprise's meter or
stack monitor. Its values are stored (a value stored already, a packet sent twice, is kept
once) and committed before the batch's offsets are; then the compliance worker of this
process is handed them (:meth:`consumers.compliance.ComplianceWorker.observe`). A record that
cannot be read goes to the dead-letter sink.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.bus import Record
from service.storage.repositories import telemetry
from service.telemetry import records
from service.telemetry.records import Decoded

DeadLetter = Callable[[Sequence[tuple[Record, str]]], Awaitable[None]]


def value_rows(items: Sequence[Decoded]) -> list[dict[str, object]]:
    """The ``telemetry_values`` rows of decoded records; the last of a key in the batch wins."""
    rows: dict[tuple[str, str, str, object], dict[str, object]] = {}
    for item in items:
        record = item.telemetry
        for code, value, flag in record.v:
            rows[(record.mn, code, record.p, item.at)] = {
                "mn": record.mn,
                "code": code,
                "period": record.p,
                "at": item.at,
                "enterprise_id": record.e,
                "value": value,
                "flag": flag[:2],
            }
    return list(rows.values())


class TelemetryHandler:
    def __init__(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        dead_letter: DeadLetter,
        observe: Callable[[Sequence[Decoded]], None],
    ) -> None:
        self._session_maker = session_maker
        self._dead_letter = dead_letter
        self._observe = observe

    async def __call__(self, batch: Sequence[Record]) -> None:
        good, bad = records.decode(batch)
        if bad:
            await self._dead_letter(bad)
        if not good:
            return
        async with self._session_maker() as session:
            await telemetry.store_values(session, value_rows(good))
            await session.commit()
        self._observe(good)
