"""The forecasts consumer: each forecast record through the warning service, committed.

A record's value is the JSON of :class:`service.api.schemas.alerts.ForecastIn`. A record that
does not decode, breaks the checks the API applies (:mod:`service.services.forecast_check`:
the topic takes records from other producers too) or names an unknown region goes to the
dead-letter sink; a forecast already
stored changes nothing (redelivery is harmless). The outcome of each forecast is handed to
``remember`` (:class:`service.services.outcomes.RecentOutcomes`) so that the in-process
``POST /forecasts`` can answer with what was decided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.warnings import Forecast
from service.bus import Record
from service.bus.records import decode_forecast_body
from service.services.board import ActionBoard
from service.services.forecast_check import forecast_problems
from service.services.warnings import Outcome, WarningService

DeadLetter = Callable[[Sequence[tuple[Record, str]]], Awaitable[None]]
Remember = Callable[[str, dt.datetime, Outcome], None]


def checked_forecast(
    record: Record, now: dt.datetime, tolerance: dt.timedelta
) -> tuple[Forecast | None, str]:
    """The forecast of a record, or None and why it cannot be decided."""
    if record.value is None:
        return None, "tombstone: a record without a value"
    try:
        body = decode_forecast_body(record.value)
    except ValidationError as exc:
        return None, f"undecodable forecast: {exc.errors()[0]['msg']}"
    problems = forecast_problems(body, now, tolerance)
    if problems:
        return None, "invalid forecast: " + ", ".join(p.code for p in problems)
    try:
        return body.to_domain(), ""
    except (ValueError, OverflowError) as exc:  # the domain's own checks
        return None, f"invalid forecast: {exc}"


class ForecastsHandler:
    """Handles batches of ``haze.forecasts`` records, one forecast at a time, in order.

    ``change()`` gives a session committed on exit (and the board rebuilt on failure);
    ``announce(session, outcome)`` queues a new outcome's records in that transaction.
    """

    def __init__(
        self,
        change: Callable[[], AbstractAsyncContextManager[AsyncSession]],
        warnings: Callable[[], WarningService],
        board: Callable[[], ActionBoard],
        dead_letter: DeadLetter,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        announce: Callable[[AsyncSession, Outcome], Awaitable[None]] | None = None,
        remember: Remember | None = None,
        future_tolerance: dt.timedelta = dt.timedelta(minutes=10),
    ) -> None:
        self._tolerance = future_tolerance
        self._announce = announce
        self._change = change
        self._warnings = warnings
        self._board = board
        self._dead_letter = dead_letter
        self._clock = clock
        self._remember = remember or (lambda region, issued_at, outcome: None)

    async def __call__(self, records: Sequence[Record]) -> None:
        await self.handle(records)

    async def handle(self, records: Sequence[Record]) -> list[Outcome]:
        outcomes, bad = [], []
        for record in records:
            forecast, why = checked_forecast(record, self._clock(), self._tolerance)
            if forecast is None:
                bad.append((record, why))
                continue
            warnings = self._warnings()
            if forecast.region not in warnings.tree:
                bad.append((record, f"unknown region {forecast.region!r}"))
                continue
            async with self._change() as session:
                outcome = await warnings.on_forecast(
                    session, forecast, self._board(), self._clock()
                )
                if self._announce is not None and not outcome.duplicate:
                    await self._announce(session, outcome)
            self._remember(forecast.region, forecast.issued_at, outcome)
            outcomes.append(outcome)
        if bad:
            await self._dead_letter(bad)
        return outcomes
