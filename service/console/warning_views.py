"""What the warnings pages show, built from the stored alert states and events: each region's
state, the form of a change by hand as typed, and an alert's history as a timeline.

Times are shown in the bureau's local time (Asia/Shanghai) to the minute; the form's end
time (``datetime-local``) is read in that zone too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from emission_list.alerts import Alert, RegionAlertState
from emission_list.breakpoints import LOCAL_TIME
from emission_list.i18n import Text, text
from emission_list.levels import Level, Response
from emission_list.lifecycle import active_at, effective_levels, scheduled
from emission_list.regions import RegionTree, decode_state
from emission_list.samples import Region
from service.services.alert_changes import ChangeProblem, ManualChange, one_reason
from service.services.warnings import Pending
from service.storage.repositories.alerts import StoredEvent

#: The levels the form offers, "none" lifting the warning.
FORM_LEVELS = ("yellow", "orange", "red", "none")
RESPONSES = tuple(r.value for r in Response)
#: Changes the form confirms on a second page before making them.
CONFIRMED_LEVELS = ("red", "none")
#: Events on a page of the timeline.
TIMELINE_PAGE = 50


@dataclass(frozen=True)
class RegionRow:
    """A region of the tree as the warnings page shows it."""

    region_id: str
    name: Text
    depth: int
    in_force: Alert | None  # its own alert in force now
    effective: str  # the level in force there, its own or an ancestor's
    scheduled: Alert | None  # its own alert issued ahead, starting later
    pending: Pending | None
    signoff: bool  # its own setting
    signoff_inherited: bool  # an ancestor's setting covers it


def region_rows(
    tree: RegionTree,
    regions: Mapping[str, Region],
    states: Mapping[str, RegionAlertState],
    pending: Sequence[Pending],
    now: dt.datetime,
) -> list[RegionRow]:
    """Every region of ``tree`` in preorder (a parent before its children)."""
    effective = effective_levels(tree, states, now)
    waiting = {p.region: p for p in pending}
    signoff = {r for r, region in regions.items() if region.requires_signoff}
    rows = []
    for i, region_id in enumerate(tree.ids):
        state = states.get(region_id, RegionAlertState(region=region_id))
        region = regions.get(region_id)
        rows.append(
            RegionRow(
                region_id=region_id,
                name=region.name if region else text(region_id, region_id),
                depth=int(tree.depth[i]),
                in_force=active_at(state, now)[2],
                effective=decode_state(int(effective[i]))[0].label,
                scheduled=scheduled(state, now),
                pending=waiting.get(region_id),
                signoff=region_id in signoff,
                signoff_inherited=any(a in signoff for a in tree.ancestors(region_id)),
            )
        )
    return rows


@dataclass
class WarningForm:
    """The change-by-hand form as typed, with the problems found beside each field."""

    regions: list[str] = field(default_factory=list)
    level: str = ""
    response: str = "full"
    reason_zh: str = ""
    reason_en: str = ""
    ends_at: str = ""
    joint: bool = False
    problems: dict[str, list[Text]] = field(default_factory=dict)

    def add(self, problem: ChangeProblem) -> None:
        self.problems.setdefault(problem.field, []).append(problem.message)

    @property
    def needs_confirmation(self) -> bool:
        return self.level in CONFIRMED_LEVELS

    def change(self) -> ManualChange:
        """The change asked for, the fields it cannot read noted in :attr:`problems` (and
        taken as their defaults); :func:`~service.services.alert_changes.change_problems`
        checks the rest."""
        level, response, ends_at = Level.NONE, Response.FULL, None
        if self.level in FORM_LEVELS:
            level = Level.parse(self.level)
        else:
            self.add(ChangeProblem("alert.level", "level", text("请选择级别", "Choose a level")))
        if self.response in RESPONSES:
            response = Response(self.response)
        else:
            message = text("请选择响应类型", "Choose a response")
            self.add(ChangeProblem("alert.response", "response", message))
        if "\x00" in self.reason_zh + self.reason_en:
            message = text("理由含有无效字符", "The reason holds an invalid character")
            self.add(ChangeProblem("alert.reason", "reason", message))
        if self.ends_at:
            try:
                ends_at = dt.datetime.fromisoformat(self.ends_at).replace(tzinfo=LOCAL_TIME)
            except ValueError:
                message = text("无法识别的结束时间", "The end time cannot be read")
                self.add(ChangeProblem("alert.ends_at", "ends_at", message))
        return ManualChange(
            tuple(self.regions),
            level,
            response,
            one_reason({"zh-CN": self.reason_zh, "en": self.reason_en}),
            source="joint" if self.joint else "manual",
            ends_at=ends_at,
        )


@dataclass(frozen=True)
class TimelineEntry:
    """One event of an alert's history: its levels before and after, and any sign-off."""

    event: StoredEvent
    before: str
    after: str
    proposed: str | None  # the level put up for sign-off (``propose``) or signed off
    source: str | None
    approver: str | None
    wait_minutes: int | None


def timeline(events: Sequence[StoredEvent]) -> list[TimelineEntry]:
    """The entries of ``events``, in their order."""
    return [_entry(e) for e in events]


def _entry(event: StoredEvent) -> TimelineEntry:
    alert, before = event.alert, event.previous_level
    after, proposed = before, None
    is_proposal = alert is not None and alert.issued_at is None  # never issued: a proposal
    if event.kind in ("propose", "approve") and alert is not None:
        proposed = alert.level.label
    elif event.kind == "lift" or (event.kind == "expire" and not is_proposal):
        after = Level.NONE.label
    elif event.kind in ("issue", "upgrade", "downgrade", "hold") and alert is not None:
        after = alert.level.label
    wait = None if alert is None or event.kind != "approve" else alert.signoff_wait
    return TimelineEntry(
        event=event,
        before=before,
        after=after,
        proposed=proposed,
        source=None if alert is None else alert.source,
        approver=alert.approved_by if alert is not None and event.kind == "approve" else None,
        wait_minutes=None if wait is None else round(wait.total_seconds() / 60),
    )
