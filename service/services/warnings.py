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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.alert_transitions import change_kind, expire
from emission_list.alerts import Alert, AlertEvent, LifecycleSettings, RegionAlertState
from emission_list.i18n import Text
from emission_list.levels import Level, Response
from emission_list.lifecycle import apply_forecast
from emission_list.manual import apply_manual
from emission_list.regions import RegionTree
from emission_list.signoff import approve
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
    changed_enterprises: Sequence[str]  # a board's Changed: the regions it moved
    decision: Decision | None = None
    duplicate: bool = False


@dataclass(frozen=True)
class Pending:
    """A region's change waiting for sign-off: the proposal, what it would do (``kind``:
    issue, upgrade, downgrade or lift) to the alert now ``current``, and how long it waited
    (``late`` beyond the region's sign-off target)."""

    region: str
    proposal: Alert
    kind: str
    current: Alert | None
    wait: dt.timedelta
    late: bool


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

    async def on_approve(
        self,
        session: AsyncSession,
        region: str,
        approver: str,
        board: ActionBoard,
        now: dt.datetime,
    ) -> Outcome | None:
        """Sign off the region's pending proposal at ``now`` (events ``approve``, then the
        change); None, changing nothing, when no proposal waits (none, or its episode ended)."""
        if region not in self.tree:
            raise KeyError(region)
        async with self.lock:
            states = await alerts.load_states(session)
            state = states.get(region)
            live = None if state is None else self._waiting(region, state, now)
            if state is None or live is None or live.proposal is None:
                return None
            # A forecast may be stamped up to the readings tolerance ahead of this clock.
            at = max(now, live.proposal.proposed_at)
            state, events = approve(state, approver, at, self.settings_for(region))
            changed = await self._store(session, states, region, state, events, board, now)
            return Outcome(region, state, events, changed)

    def pending(self, states: Mapping[str, RegionAlertState], now: dt.datetime) -> list[Pending]:
        """Every region's proposal waiting for sign-off at ``now``, by region."""
        found = []
        for region, state in sorted(states.items()):
            live = self._waiting(region, state, now)
            if live is None or live.proposal is None:
                continue
            proposal = live.proposal
            wait = max(now - proposal.proposed_at, dt.timedelta(0))
            target = dt.timedelta(hours=self.settings_for(region).signoff_target_hours)
            kind = change_kind(live, proposal)
            found.append(Pending(region, proposal, kind, live.current, wait, wait > target))
        return found

    def _waiting(
        self, region: str, state: RegionAlertState, now: dt.datetime
    ) -> RegionAlertState | None:
        """The state at ``now`` when a proposal still waits in it (not ended with its episode)."""
        if state.proposal is None or region not in self.tree:
            return None
        live, _ = expire(state, now, self.settings_for(region))
        return live if live.proposal is not None else None

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
    ) -> Sequence[str]:
        await alerts.save_state(session, region, state)
        await alerts.record_events(session, events)
        states[region] = state
        return board.apply_alerts(states, now)
