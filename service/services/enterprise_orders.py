"""What an enterprise must do: now, next, at each level, and what it was ordered before.

*Now* is the action board's answer, the same the API's ``GET /enterprises/{id}/actions``
gives (level, production cut, required reductions [kg/day], the measures, from the alert in
force over its region or an ancestor). *Next* is the change a warning already issued for
later brings (an alert whose ``starts_at`` is ahead, :func:`emission_list.lifecycle.scheduled`):
the highest state of the enterprise's region and ancestors at its start. Next, each level
and every past order are derived with the core's own functions (the entry's measure at the
level, :func:`~emission_list.entries.resolve_measure`, the part the response orders,
:func:`~emission_list.response.apply_response`, times the baseline), as the board does.

Past orders come from the alert history of the region and its ancestors, each with the
entry of the list revision in force when the order started.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.alerts import Alert, RegionAlertState
from emission_list.breakpoints import LOCAL_TIME
from emission_list.catalog import Action, Catalog
from emission_list.entries import Enterprise, resolve_measure
from emission_list.i18n import Text
from emission_list.levels import LIST_POLLUTANTS, WARNING_LEVELS, Level, Response
from emission_list.lifecycle import active_at, scheduled
from emission_list.regions import RegionTree
from emission_list.response import apply_response
from emission_list.warning_texts import local_midnight
from service.services.board import ActionBoard
from service.storage.repositories import alerts, lists, utcnow
from service.storage.repositories.alerts import StoredEvent

#: How far back the orders page reads the history at a time [days].
ORDERS_WINDOW_DAYS = 366
#: Events read around the window: issued ahead of it, lifted after it [days].
_LEAD_DAYS, _TAIL_DAYS = 7, 60
_OPENING = ("issue", "upgrade", "downgrade", "hold")


@dataclass(frozen=True)
class Requirement:
    """What one measure asks of the enterprise."""

    production_cut: float  # fraction 0..1
    reductions: dict[str, float]  # [kg/day] by list pollutant
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Order:
    """A warning's order for the enterprise; ``requirement`` None when it was not listed."""

    level: Level
    response: Response | None
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    region: str | None  # where the warning was issued
    source: str | None
    issued_at: dt.datetime | None
    reason: Text
    requirement: Requirement | None


@dataclass(frozen=True)
class LevelMeasure:
    """The entry's measure at one level under the full response."""

    level: Level
    fractions: dict[str, float]
    requirement: Requirement


@dataclass(frozen=True)
class EnterpriseView:
    entry: Enterprise
    revision: int
    now: Order
    next: Order | None
    levels: list[LevelMeasure]
    regions: list[str]  # its region, then its ancestors


def requirement(
    catalog: Catalog, entry: Enterprise, level: Level, response: Response | None
) -> Requirement:
    """What ``entry`` must do at ``level`` under ``response``: the core's derivation."""
    measure = apply_response(resolve_measure(catalog, entry, level), response)
    reductions = {
        p: b * f for p, b, f in zip(LIST_POLLUTANTS, entry.baseline, measure.fractions, strict=True)
    }
    return Requirement(measure.production_cut, reductions, measure.actions)


def _order(alert: Alert | None, need: Requirement | None) -> Order:
    if alert is None:
        return Order(Level.NONE, None, None, None, None, None, None, {}, need)
    return Order(
        alert.level,
        alert.response,
        alert.starts_at,
        alert.ends_at,
        alert.region,
        alert.source,
        alert.issued_at,
        dict(alert.reason),
        need,
    )


def now_order(board: ActionBoard, enterprise_id: str) -> Order:
    """The order in force, as the board (and so the API) answers it."""
    answer = board.answer(enterprise_id)
    if answer is None:
        return _order(None, None)
    actions = answer.actions
    need = Requirement(actions.production_cut, dict(actions.reductions), actions.actions)
    order = _order(answer.alert, need)
    return replace(order, level=actions.level, response=actions.response)


def effective_alert(
    chain: Sequence[str], states: dict[str, RegionAlertState], at: dt.datetime
) -> Alert | None:
    """The alert setting the highest state over ``chain`` (nearest region first) at ``at``."""
    best: Alert | None = None
    for region in chain:
        state = states.get(region)
        alert = None if state is None else active_at(state, at)[2]
        if alert is not None and (best is None or alert.code > best.code):
            best = alert
    return best


def next_order(
    catalog: Catalog,
    entry: Enterprise,
    chain: Sequence[str],
    states: dict[str, RegionAlertState],
    now: dt.datetime,
    current: Order,
) -> Order | None:
    """The order a warning issued ahead brings at its start, if it changes what is in force."""
    starts = [
        alert.starts_at
        for region in chain
        if region in states and (alert := scheduled(states[region], now)) is not None
    ]
    if not starts:
        return None
    at = min(starts)
    alert = effective_alert(chain, states, at)
    if alert is None or (alert.level, alert.response) == (current.level, current.response):
        return None
    return _order(alert, requirement(catalog, entry, alert.level, alert.response))


def level_measures(catalog: Catalog, entry: Enterprise) -> list[LevelMeasure]:
    """The entry's measure at yellow, orange and red (full response)."""
    found = []
    for level in WARNING_LEVELS:
        measure = resolve_measure(catalog, entry, level)
        fractions = dict(zip(LIST_POLLUTANTS, measure.fractions, strict=True))
        found.append(LevelMeasure(level, fractions, requirement(catalog, entry, level, None)))
    return found


async def _published_entry(
    session: AsyncSession, enterprise_id: str
) -> tuple[int, Enterprise] | None:
    """The published revision's number and the enterprise's entry in it, if it has one."""
    number = await lists.published_number(session)
    entry = None if number is None else await lists.get_entry(session, number, enterprise_id)
    return None if entry is None or number is None else (number, entry)


def _chain(tree: RegionTree, entry: Enterprise) -> list[str]:
    """The entry's region and its ancestors, nearest first: every warning reaching it."""
    return [entry.region, *tree.ancestors(entry.region)] if entry.region in tree else []


async def view(
    session: AsyncSession,
    enterprise_id: str,
    *,
    board: ActionBoard,
    tree: RegionTree,
    catalog: Catalog,
    now: dt.datetime,
) -> EnterpriseView | None:
    """The enterprise's page; None when it is not on the published list."""
    found = await _published_entry(session, enterprise_id)
    if found is None:
        return None
    number, entry = found
    chain = _chain(tree, entry)
    states = await alerts.load_states(session, chain)
    current = now_order(board, enterprise_id)
    upcoming = next_order(catalog, entry, chain, states, now, current)
    return EnterpriseView(entry, number, current, upcoming, level_measures(catalog, entry), chain)


def orders_from_events(events: Sequence[StoredEvent]) -> list[Alert]:
    """The alerts that were (or are, or will be) in force, as they ran, from the history.

    An issue, upgrade or downgrade puts its alert in force from its ``starts_at`` and cuts
    what its region had in force or scheduled at that time; a hold of the same state moves
    the end; a lift ends everything of its region at its time. An alert cut before it began
    never was in force and is left out."""
    by_region: dict[str, list[Alert]] = {}
    for event in sorted(events, key=lambda e: (e.at, e.id)):
        alert, held = event.alert, by_region.setdefault(event.region, [])
        if event.kind == "lift":
            held[:] = [_cut(a, event.at) for a in held]
        elif event.kind in _OPENING and alert is not None and alert.status == "active":
            last = held[-1] if held else None
            if event.kind == "hold" and last is not None and last.code == alert.code:
                held[-1] = replace(
                    last, starts_at=min(last.starts_at, alert.starts_at), ends_at=alert.ends_at
                )
                continue
            held[:] = [_cut(a, alert.starts_at) for a in held]
            held.append(alert)
    found = [a for held in by_region.values() for a in held if a.ends_at > a.starts_at]
    return sorted(found, key=lambda a: (a.starts_at, a.region), reverse=True)


def _cut(alert: Alert, at: dt.datetime) -> Alert:
    if alert.ends_at <= at:
        return alert
    return replace(alert, ends_at=max(alert.starts_at, at))


def revision_at(publications: Sequence[tuple[int, dt.datetime]], at: dt.datetime) -> int | None:
    """The revision in force at ``at``: the last published at or before it."""
    found = None
    for number, published_at in publications:
        if published_at <= at:
            found = number
    return found


@dataclass(frozen=True)
class OrdersPage:
    entry: Enterprise
    orders: list[Order]
    since: dt.datetime
    until: dt.datetime
    earlier: bool  # whether the history holds anything before ``since``
    latest: bool  # whether ``until`` is now


async def past_orders(
    session: AsyncSession,
    enterprise_id: str,
    *,
    tree: RegionTree,
    catalog: Catalog,
    until: dt.datetime | None = None,
) -> OrdersPage | None:
    """The orders over the enterprise's region that started in the window of
    :data:`ORDERS_WINDOW_DAYS` before ``until`` (default: now), newest first, each with what
    the entry of the revision then in force required; None when it is not on the list."""
    found = await _published_entry(session, enterprise_id)
    if found is None:
        return None
    entry = found[1]
    latest = until is None
    until = until or utcnow()
    # from a local midnight: the next page back, up to that day, joins this one exactly
    first_day = (until - dt.timedelta(days=ORDERS_WINDOW_DAYS)).astimezone(LOCAL_TIME).date()
    since = local_midnight(first_day)
    chain = _chain(tree, entry)
    events = await alerts.history(
        session,
        regions=chain,
        since=since - dt.timedelta(days=_LEAD_DAYS),
        until=until + dt.timedelta(days=_TAIL_DAYS),
    )
    ran = [a for a in orders_from_events(events) if since <= a.starts_at < until]
    publications = await lists.publications(session)
    in_force = [revision_at(publications, a.starts_at) for a in ran]
    numbers = sorted({n for n in in_force if n is not None})
    entries = await lists.entries_of(session, enterprise_id, numbers)
    orders = []
    for alert, revision in zip(ran, in_force, strict=True):
        then = None if revision is None else entries.get(revision)
        need = None if then is None else requirement(catalog, then, alert.level, alert.response)
        orders.append(_order(alert, need))
    earlier = bool(await alerts.history(session, regions=chain, until=since, limit=1))
    return OrdersPage(entry, orders, since, until, earlier, latest)
