"""What the operators' dashboard shows, gathered in a fixed number of queries.

The effective level *now* of every region is the action board's (the level the enterprises
are told, the highest of the region's and its ancestors'); the level *scheduled ahead* is the
highest of the region's and its ancestors' alerts decided but starting later (an issue or
upgrade made ahead of the episode). Enterprises under warning and the required reductions
against the 10/20/30 % minimum are the board's precomputed region report: no per-enterprise
work, however long the list.

The dashboard centres on a *focus* region (``?region=``, else the deepest region holding the
whole published list, the district for the sample). Its *area* is the focus's parent (the
city); the overview map shows the area among its siblings (the neighbouring cities of a
joint warning), the close-up the focus with the area's stations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.alerts import Alert, RegionAlertState, in_force
from emission_list.i18n import Text
from emission_list.levels import LIST_POLLUTANTS, Level, Response
from emission_list.regions import RegionTree, decode_state
from emission_list.warnings import Forecast
from service.runtime import Board
from service.services import verification
from service.services.board import ActionBoard
from service.services.daily_aqi import LOCAL
from service.storage.models import AqiResult, RegionAqi
from service.storage.repositories import alerts, forecasts, readings, regions, stations, windows
from service.storage.repositories.outlines import Outline
from service.storage.repositories.outlines import of_regions as outlines_of

#: A station's latest hourly AQI older than this is not shown as current.
CURRENT_FOR = dt.timedelta(hours=3)
#: How far back the latest hourly AQI is looked for.
LATEST_WITHIN = dt.timedelta(days=7)
#: Days of forecast verification shown, ending yesterday (today's daily AQI is not known yet;
#: an observed 24-hour AQI above 200 now is flagged apart).
VERIFIED_DAYS = 7
#: A warned day whose observed daily AQI is at most this was a false alarm (lightly polluted
#: or better, the level at which a warning is lifted).
FALSE_ALARM_AQI = 150
#: A shortfall below this [kg/day] is rounding in the sums, not a shortfall.
SHORTFALL_NOISE = 1e-6


@dataclass(frozen=True)
class RegionStatus:
    region_id: str
    name: Text
    kind: str | None
    depth: int  # below the focus (0: the focus); negative above it
    now: Level
    response: Response | None
    ahead: Level  # NONE when nothing is scheduled
    ahead_from: dt.datetime | None
    listed: int  # enterprises of the list in the region's subtree
    warned: int  # of them under a warning now

    @property
    def scheduled(self) -> bool:
        return self.ahead is not Level.NONE and self.ahead != self.now


@dataclass(frozen=True)
class StationStatus:
    station_id: str
    name: Text
    lon: float
    lat: float
    region: str
    latest: AqiResult | None
    current: bool  # the latest hourly AQI is recent enough to be "now"

    @property
    def category(self) -> int:
        return self.latest.category if self.current and self.latest is not None else 0

    @property
    def primary(self) -> list[str]:
        if self.latest is None:
            return []
        return [p for p in self.latest.primary.split(";") if p]


@dataclass(frozen=True)
class AlertView:
    alert: Alert
    region_name: Text
    scheduled: bool
    forecast: Forecast | None  # the forecast the decision was made on, if any


@dataclass(frozen=True)
class ReductionCell:
    pollutant: str
    baseline: float  # [kg/day] of the region's subtree
    required: float  # what the list requires under the level in force [kg/day]
    minimum: float  # the level's minimum share of the baseline [kg/day]
    shortfall: float  # [kg/day], 0 when the list meets the minimum

    @property
    def short(self) -> bool:
        return self.shortfall > SHORTFALL_NOISE


@dataclass(frozen=True)
class ReductionRow:
    region: RegionStatus
    cells: list[ReductionCell]

    @property
    def short(self) -> bool:
        return any(cell.short for cell in self.cells)


@dataclass(frozen=True)
class Verified:
    region: RegionStatus
    days: list[verification.VerifiedDay]
    observed_24h: RegionAqi | None
    missed_now: bool  # observed 24-hour AQI above 200 and no warning in force

    def false_alarm(self, day: verification.VerifiedDay) -> bool:
        aqi = day.observed.aqi
        return day.warned and aqi is not None and aqi <= FALSE_ALARM_AQI

    @property
    def missed_days(self) -> int:
        return sum(day.missed_forecast for day in self.days)

    @property
    def false_alarms(self) -> int:
        return sum(self.false_alarm(day) for day in self.days)


@dataclass
class Dashboard:
    now: dt.datetime
    focus: RegionStatus
    area: RegionStatus
    statuses: dict[str, RegionStatus]
    tree: list[RegionStatus]  # the focus's subtree in preorder
    overview_ids: list[str]  # the area and its siblings
    outlines: dict[str, Outline]
    stations: list[StationStatus]
    alerts: list[AlertView]
    reductions: list[ReductionRow]
    verified: list[Verified]
    drawn_order: list[str] = field(default_factory=list)  # outlined regions, parents first


def default_focus(board: ActionBoard, tree: RegionTree) -> str | None:
    """The deepest region whose subtree holds every enterprise of the published list."""
    compiled = board.evaluator.compiled
    holding = [tree.ids[i] for i in np.flatnonzero(compiled.region_counts).tolist()]
    if not holding:
        return tree.ids[0] if len(tree) else None
    return tree.common_ancestor(holding) or tree.ids[0]


def _scheduled(state: RegionAlertState, now: dt.datetime) -> Alert | None:
    alert = state.current
    if (
        alert is not None
        and alert.status == "active"
        and alert.level is not Level.NONE
        and alert.starts_at > now
        and alert.ends_at > now
    ):
        return alert
    return None


def _statuses(
    board: ActionBoard,
    tree: RegionTree,
    states: dict[str, RegionAlertState],
    names: dict[str, tuple[Text, str | None]],
    focus: str,
    now: dt.datetime,
) -> dict[str, RegionStatus]:
    evaluator = board.evaluator
    effective_now = evaluator.region_state
    own_ahead = np.zeros(len(tree), dtype=np.int8)
    starts: dict[int, dt.datetime] = {}
    for region, state in states.items():
        alert = _scheduled(state, now)
        if alert is not None and region in tree.index:
            own_ahead[tree.index[region]] = alert.code
            starts[tree.index[region]] = alert.starts_at
    effective_ahead = tree.effective_states(own_ahead)
    counts = evaluator.compiled.region_counts
    listed = tree.subtree_sums(counts.astype(float))
    warned = tree.subtree_sums(np.where(effective_now > 0, counts, 0).astype(float))
    focus_depth = int(tree.depth[tree.index[focus]])
    out = {}
    for i, region_id in enumerate(tree.ids):
        level, response = decode_state(int(effective_now[i]))
        ahead, _ = decode_state(int(effective_ahead[i]))
        ahead_from = None
        if ahead is not Level.NONE:
            chain = [i, *(tree.index[a] for a in tree.ancestors(region_id))]
            ahead_from = min(
                (starts[j] for j in chain if j in starts and own_ahead[j] == effective_ahead[i]),
                default=None,
            )
        name, kind = names.get(region_id, ({"zh-CN": region_id, "en": region_id}, None))
        out[region_id] = RegionStatus(
            region_id,
            name,
            kind,
            int(tree.depth[i]) - focus_depth,
            level,
            response,
            ahead,
            ahead_from,
            int(listed[i]),
            int(warned[i]),
        )
    return out


async def _forecast_behind(
    session: AsyncSession, alert: Alert, now: dt.datetime
) -> Forecast | None:
    """The latest forecast of the alert's region that its days come from: a held alert keeps
    the issue time of its decision but takes the days (and reason) of each later forecast."""
    made = await forecasts.issued_between(
        session, alert.region, alert.issued_at, now + dt.timedelta(seconds=1)
    )
    counted = set(alert.forecast_days)
    for forecast in reversed(made):
        if counted <= {day.date for day in forecast.days}:
            return forecast
    return made[0] if made else None


async def _alert_views(
    session: AsyncSession,
    states: dict[str, RegionAlertState],
    statuses: dict[str, RegionStatus],
    now: dt.datetime,
) -> list[AlertView]:
    views = []
    for region, state in sorted(states.items()):
        shown: list[Alert] = []
        for alert in (in_force(state, now), _scheduled(state, now)):
            if alert is not None and all(alert is not other for other in shown):
                shown.append(alert)
        for alert in shown:
            forecast = None
            if alert.source == "forecast" and alert.issued_at is not None:
                forecast = await _forecast_behind(session, alert, now)
            name = statuses[region].name if region in statuses else {"zh-CN": region, "en": region}
            views.append(AlertView(alert, name, alert.starts_at > now, forecast))
    return views


def _reductions(
    board: ActionBoard, tree: RegionTree, statuses: dict[str, RegionStatus], focus: str
) -> list[ReductionRow]:
    """A row for every region under the focus that is under a warning and holds enterprises."""
    report = board.evaluator.region_report()
    rows = []
    for region_id in tree.subtree(focus):
        status = statuses[region_id]
        if status.now is Level.NONE or status.listed == 0:
            continue
        i = tree.index[region_id]
        cells = [
            ReductionCell(
                pollutant,
                float(report.baseline[i, p]),
                float(report.required[i, p]),
                float(report.minimum[i, p]),
                float(report.shortfall[i, p]),
            )
            for p, pollutant in enumerate(LIST_POLLUTANTS)
        ]
        rows.append(ReductionRow(status, cells))
    return rows


async def _verified(
    session: AsyncSession, tree: RegionTree, status: RegionStatus, now: dt.datetime
) -> Verified:
    first = now.astimezone(LOCAL).date() - dt.timedelta(days=VERIFIED_DAYS)  # to yesterday
    days = await verification.verify(session, tree, status.region_id, first, VERIFIED_DAYS)
    observed = await windows.latest_region_aqi(session, status.region_id, "24h")
    recent = observed is not None and now - observed.observed_at <= CURRENT_FOR
    missed = bool(
        recent and observed.aqi is not None and observed.aqi > 200 and status.now is Level.NONE
    )
    return Verified(status, days, observed if recent else None, missed)


async def build(
    session: AsyncSession, state: Board, focus: str | None, now: dt.datetime
) -> Dashboard | None:
    """The dashboard around ``focus`` (None or unknown: the default); None without regions."""
    tree, board = state.tree, state.board
    if focus not in tree:
        focus = default_focus(board, tree)
    if focus is None:
        return None
    ancestors = tree.ancestors(focus)
    area = ancestors[0] if ancestors else focus
    area_parent = tree.ancestors(area)[:1]
    if area_parent:
        parent = tree.index[area_parent[0]]
        overview = [tree.ids[j] for j in np.flatnonzero(tree.parent == parent).tolist()]
    else:
        overview = [area]
    named = {r.region_id: (r.name, r.kind) for r in await regions.list_all(session)}
    states = await alerts.load_states(session)
    statuses = _statuses(board, tree, states, named, focus, now)
    wanted = {*ancestors, *overview, *tree.subtree(focus)}
    found_outlines = await outlines_of(session, wanted)
    drawn = [r for r in tree.ids if r in found_outlines]
    placed = await stations.list_all(session, tree.subtree(area))
    latest = await readings.latest_aqi_of(
        session, [s.station_id for s in placed], now - LATEST_WITHIN
    )
    station_statuses = [
        StationStatus(
            s.station_id,
            s.name,
            s.lon,
            s.lat,
            s.region,
            latest.get(s.station_id),
            s.station_id in latest and now - latest[s.station_id].observed_at <= CURRENT_FOR,
        )
        for s in placed
    ]
    verified = [await _verified(session, tree, statuses[focus], now)]
    if area != focus:
        verified.append(await _verified(session, tree, statuses[area], now))
    return Dashboard(
        now=now,
        focus=statuses[focus],
        area=statuses[area],
        statuses=statuses,
        tree=[statuses[r] for r in tree.subtree(focus)],
        overview_ids=overview,
        outlines=found_outlines,
        stations=station_statuses,
        alerts=await _alert_views(session, states, statuses, now),
        reductions=_reductions(board, tree, statuses, focus),
        verified=verified,
        drawn_order=drawn,
    )
