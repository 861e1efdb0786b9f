"""Warnings: a forecast or an operator's decision through the lifecycle, stored, on the board.

One call handles one region's change in the caller's session (the caller commits): it
stores the forecast (a redelivered one changes nothing), decides the level under the
region's rule set, runs the alert lifecycle from the stored state, stores the new state and
its events, and brings the action board to the alerts in force, returning the enterprises
whose required actions changed. Changes are serialised in this process by a lock; across
processes the forecasts topic is keyed by region, so one consumer owns a region.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.alerts import AlertEvent, LifecycleSettings, RegionAlertState
from emission_list.i18n import Text
from emission_list.levels import Level, Response
from emission_list.lifecycle import apply_forecast
from emission_list.manual import apply_manual
from emission_list.regions import RegionTree
from emission_list.warning_rules import RuleBook
from emission_list.warnings import Decision, Forecast, decide
from service.services.board import ActionBoard
from service.storage.repositories import alerts, forecasts


@dataclass(frozen=True)
class Outcome:
    """What one change did."""

    region: str
    state: RegionAlertState
    events: list[AlertEvent]
    changed_enterprises: list[str]
    decision: Decision | None = None
    duplicate: bool = False


@dataclass
class WarningService:
    rules: RuleBook
    tree: RegionTree
    lifecycle: Mapping[str, LifecycleSettings] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def settings_for(self, region: str) -> LifecycleSettings:
        for candidate in (region, *self.tree.ancestors(region)):
            if candidate in self.lifecycle:
                return self.lifecycle[candidate]
        return LifecycleSettings()

    async def on_forecast(
        self, session: AsyncSession, forecast: Forecast, board: ActionBoard, now: dt.datetime
    ) -> Outcome:
        """Apply a region's forecast; a forecast already stored changes nothing."""
        if forecast.region not in self.tree:
            raise KeyError(forecast.region)
        async with self.lock:
            states = await alerts.load_states(session)
            state = states.get(forecast.region, RegionAlertState(region=forecast.region))
            if not await forecasts.add(session, forecast):
                return Outcome(forecast.region, state, [], [], duplicate=True)
            rules = self.rules.for_region(forecast.region, self.tree.ancestors(forecast.region))
            decision = decide(forecast, rules)
            state, events = apply_forecast(
                state, decision, forecast, self.settings_for(forecast.region)
            )
            changed = await self._store(session, states, forecast.region, state, events, board, now)
            return Outcome(forecast.region, state, events, changed, decision)

    async def on_manual(
        self,
        session: AsyncSession,
        region: str,
        level: Level,
        response: Response | None,
        reason: Text,
        board: ActionBoard,
        now: dt.datetime,
        *,
        source: str = "manual",
        ends_at: dt.datetime | None = None,
    ) -> Outcome:
        """An operator issues, changes or lifts (``Level.NONE``) a region's warning at once."""
        if region not in self.tree:
            raise KeyError(region)
        async with self.lock:
            states = await alerts.load_states(session)
            state = states.get(region, RegionAlertState(region=region))
            state, events = apply_manual(
                state,
                level,
                None if level is Level.NONE else response,
                reason,
                now,
                source=source,
                ends_at=ends_at,
                settings=self.settings_for(region),
            )
            changed = await self._store(session, states, region, state, events, board, now)
            return Outcome(region, state, events, changed)

    async def refresh(
        self, session: AsyncSession, board: ActionBoard, now: dt.datetime
    ) -> list[str]:
        """Bring the board to the alerts in force at ``now`` (alerts start and end with time)."""
        return board.apply_alerts(await alerts.load_states(session), now)

    async def _store(
        self,
        session: AsyncSession,
        states: dict[str, RegionAlertState],
        region: str,
        state: RegionAlertState,
        events: list[AlertEvent],
        board: ActionBoard,
        now: dt.datetime,
    ) -> list[str]:
        await alerts.save_state(session, region, state)
        await alerts.record_events(session, events)
        states[region] = state
        return board.apply_alerts(states, now)
