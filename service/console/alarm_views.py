"""What the console's alarm pages show: a page of alarms with the enterprises' names, one
alarm with its evidence as a table, the series around it as a chart and its audit trail, an
enterprise's open and recent alarms, and the dashboard's count of open alarms by kind.

The evidence is whatever the check recorded: each key is shown, the known ones with a label
of ``texts/alarms.json`` (``alarms.evidence.<key>``) and their unit, any other as it is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.i18n import Text
from emission_list.regions import RegionTree
from service.console.charts import SeriesChart, series_chart
from service.console.formats import percent
from service.console.texts import texts
from service.services import alarms as alarm_service
from service.storage.models import ALARM_KINDS, ALARM_STATUSES, Alarm, AlarmEvent
from service.storage.repositories import alarms as alarm_store
from service.storage.repositories import notices as notice_store
from service.storage.repositories.alarms import ACTIVE, AlarmFilter

LEVELS = ("yellow", "orange", "red")
#: The steps of the audit trail (service.services.alarms) the page names.
ACTIONS = ("raised", "confirmed", "cleared", "recurred", "explained", "verified", "closed")
PAGE_SIZE = 50
RECENT_ALARMS = 10
#: Evidence values in kilowatts, and those that are fractions (shown as percentages).
KILOWATTS = ("power_kw", "normal_kw", "allowed_kw", "rated_kw")
FRACTIONS = ("cut", "tolerance")
#: The order of the evidence table's known keys (any other follows, alphabetically).
EVIDENCE_ORDER = (
    "line_name",
    "line_id",
    "mn",
    "codes",
    "power_kw",
    "normal_kw",
    "cut",
    "allowed_kw",
    "run",
    "concentration",
    "limit",
)


@dataclass(frozen=True)
class AlarmRow:
    alarm: Alarm
    name: Text  # the enterprise's, from the list in force (its id when not on it)


async def enterprise_names(
    session: AsyncSession, revision: int, enterprise_ids: Collection[str]
) -> dict[str, Text]:
    """The names of enterprises in the list revision ``revision`` (the board's)."""
    found = await notice_store.names(session, revision, enterprise_ids)
    return {
        eid: {"zh-CN": found[eid][0] or eid, "en": found[eid][1] or found[eid][0] or eid}
        if eid in found
        else {"zh-CN": eid, "en": eid}
        for eid in enterprise_ids
    }


async def _rows(session: AsyncSession, revision: int, found: Sequence[Alarm]) -> list[AlarmRow]:
    names = await enterprise_names(session, revision, {a.enterprise_id for a in found})
    return [AlarmRow(a, names[a.enterprise_id]) for a in found]


@dataclass(frozen=True)
class AlarmFilters:
    """The list's filters as chosen (empty: any)."""

    region: str | None = None
    levels: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    def where(self, tree: RegionTree) -> AlarmFilter:
        regions = None
        if self.region is not None:
            regions = tree.subtree(self.region) if self.region in tree else [self.region]
        return AlarmFilter(
            regions=regions, statuses=self.statuses, levels=self.levels, kinds=self.kinds
        )

    def query(self) -> str:
        """The filters as a query string (for the pager's links)."""
        pairs = [("region", self.region)] if self.region else []
        pairs += [("level", v) for v in self.levels] + [("status", v) for v in self.statuses]
        pairs += [("kind", v) for v in self.kinds]
        return "&".join(f"{k}={v}" for k, v in pairs)


async def page(
    session: AsyncSession,
    revision: int,
    tree: RegionTree,
    filters: AlarmFilters,
    cursor: int | None,
) -> tuple[list[AlarmRow], str | None]:
    found, next_cursor = await alarm_store.page(
        session, filters.where(tree), limit=PAGE_SIZE, before=cursor
    )
    return await _rows(session, revision, found), next_cursor


def evidence_value(key: str, value: Any) -> str:
    """One evidence value as written on the page."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return "—"
        if key in FRACTIONS:
            return percent(float(value))
        number = (
            f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"
        )
        return f"{number} kW" if key in KILOWATTS else number
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(evidence_value(key, v) for v in value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class EvidenceRow:
    key: str
    label: Text | None  # None: a key without a label, shown as it is
    value: str


def evidence_rows(evidence: Mapping[str, Any] | None) -> list[EvidenceRow]:
    """Every key of ``evidence``, the labelled ones first in the table's order."""
    table = texts()
    order = {key: i for i, key in enumerate(EVIDENCE_ORDER)}
    keys = sorted(evidence or {}, key=lambda k: (order.get(k, len(order)), k))
    return [
        EvidenceRow(
            key,
            table.text(label) if (label := f"alarms.evidence.{key}") in table else None,
            evidence_value(key, (evidence or {})[key]),
        )
        for key in keys
    ]


def allowed_of(evidence: Mapping[str, Any] | None) -> float | None:
    """The value the series is judged against: the allowed load, else the emission limit."""
    for key in ("allowed_kw", "limit"):
        value = (evidence or {}).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


@dataclass(frozen=True)
class AlarmPage:
    row: AlarmRow
    evidence: list[EvidenceRow]
    chart: SeriesChart
    events: list[AlarmEvent]

    @property
    def active(self) -> bool:
        return self.row.alarm.status in ACTIVE


async def detail(session: AsyncSession, revision: int, alarm: Alarm) -> AlarmPage:
    values = await alarm_service.series(session, alarm)
    chart = series_chart(
        [(v.at, v.code, v.value, v.flag) for v in values],
        allowed=allowed_of(alarm.evidence),
        started=alarm.started_at,
        cleared=alarm.cleared_at,
    )
    [row] = await _rows(session, revision, [alarm])
    trail = await alarm_store.events(session, alarm.id)
    return AlarmPage(row, evidence_rows(alarm.evidence), chart, trail)


@dataclass(frozen=True)
class EnterpriseAlarms:
    """An enterprise's alarms still followed up, and its latest ones settled."""

    active: list[Alarm]
    recent: list[Alarm]


async def of_enterprise(session: AsyncSession, enterprise_id: str) -> EnterpriseAlarms:
    active, _ = await alarm_store.page(
        session, AlarmFilter(enterprise_id=enterprise_id, statuses=ACTIVE), limit=PAGE_SIZE
    )
    settled = [s for s in ALARM_STATUSES if s not in ACTIVE]
    recent, _ = await alarm_store.page(
        session, AlarmFilter(enterprise_id=enterprise_id, statuses=settled), limit=RECENT_ALARMS
    )
    return EnterpriseAlarms(active, recent)


async def open_counts(session: AsyncSession) -> list[tuple[str, int]]:
    """Open (or explained) alarms by kind, every kind in its order."""
    counts = await alarm_store.active_by_kind(session)
    return [(kind, counts.get(kind, 0)) for kind in ALARM_KINDS]
