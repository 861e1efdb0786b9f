"""What one interval of the compliance check found, as alarms to store: the check's arrays
(:class:`emission_list.compliance.IntervalResult`) turned into :class:`Finding` rows with
their evidence, and the keys of the alarms whose condition cleared."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from emission_list.compliance import NEVER, IntervalResult
from emission_list.levels import Level
from service.services.alarms import Finding
from service.services.board import ActionBoard
from service.services.compliance_layout import Layout, codes_of

AlarmKey = tuple[str, str, str]


def findings_of(
    result: IntervalResult,
    layout: Layout,
    board: ActionBoard,
    level: np.ndarray,
    interval_s: int,
) -> tuple[list[Finding], list[AlarmKey]]:
    """The alarms an interval raised (with the figures the rule judged by) and the keys
    ``(enterprise, kind, subject)`` of those whose condition cleared. ``level`` (E,) is the
    warning level of each laid-out enterprise."""
    interval = result.interval
    arrays = layout.arrays
    found: list[Finding] = []

    def at(interval: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(interval * interval_s, dt.UTC)

    def finding(row: int, kind: str, subject: str, grade: str, length: int, **evidence) -> None:
        eid = layout.enterprise_ids[row]
        found.append(
            Finding(
                enterprise_id=eid,
                region=board.region_of(eid) or "",
                kind=kind,
                subject=subject,
                grade=grade,
                level=Level(int(level[row])).label,
                started_at=at(interval - max(length, 1) + 1),
                evidence={k: _plain(v) for k, v in evidence.items()},
            )
        )

    for grade, alarms in (("suspected", result.suspected), ("confirmed", result.confirmed)):
        for k, line in enumerate(alarms.rows.tolist()):
            mn, channel = layout.line_channel[line]
            finding(
                int(arrays.line_enterprise[line]),
                "production_over",
                layout.line_ids[line],
                grade,
                int(alarms.run[k]),
                mn=mn,
                codes=[channel],
                line_id=layout.line_ids[line],
                line_name=layout.line_names[line],
                power_kw=alarms.power_kw[k],
                normal_kw=alarms.normal_kw[k],
                allowed_kw=alarms.allowed_kw[k],
                cut=alarms.cut[k],
                run=alarms.run[k],
            )
    stopped = result.control_stopped
    for k, line in enumerate(stopped.rows.tolist()):
        mn, channel = layout.line_channel[line]
        finding(
            int(arrays.line_enterprise[line]),
            "control_stopped",
            layout.line_ids[line],
            "confirmed",
            int(stopped.run[k]),
            mn=mn,
            codes=codes_of(layout, mn),
            line_id=layout.line_ids[line],
            line_name=layout.line_names[line],
            power_kw=stopped.power_kw[k],
            rated_kw=stopped.rated_kw[k],
            stopped_below_kw=stopped.stopped_below_kw[k],
            production_kw=stopped.production_kw[k],
            run=stopped.run[k],
        )
    silent = result.logger_silent
    for k, slot in enumerate(silent.slots.tolist()):
        mn = layout.logger_mns[slot]
        last = int(silent.last_valid[k])
        finding(
            int(arrays.logger_enterprise[slot]),
            "logger_silent",
            mn,
            "confirmed",
            int(silent.silent_for[k]),
            mn=mn,
            codes=codes_of(layout, mn),
            last_valid=None if last == NEVER else at(last).isoformat(),
            silent_for=silent.silent_for[k],
        )
    over = result.cems_over_limit
    for k, channel in enumerate(over.channels.tolist()):
        mn, code = layout.cems_channel[channel]
        finding(
            int(arrays.cems_enterprise[channel]),
            "cems_over_limit",
            f"{mn}:{code}",
            "confirmed",
            int(over.run[k]),
            mn=mn,
            codes=[code, f"{code}-Zs"],
            pollutant=code,
            concentration=over.concentration_mg_m3[k],
            limit=over.limit_mg_m3[k],
            run=over.run[k],
        )
    cleared: list[AlarmKey] = []
    for line in result.cleared.load.tolist():
        eid = layout.enterprise_ids[int(arrays.line_enterprise[line])]
        cleared.append((eid, "production_over", layout.line_ids[line]))
    for line in result.cleared.control_stopped.tolist():
        eid = layout.enterprise_ids[int(arrays.line_enterprise[line])]
        cleared.append((eid, "control_stopped", layout.line_ids[line]))
    for slot in result.cleared.logger_silent.tolist():
        eid = layout.enterprise_ids[int(arrays.logger_enterprise[slot])]
        cleared.append((eid, "logger_silent", layout.logger_mns[slot]))
    for channel in result.cleared.cems_over_limit.tolist():
        eid = layout.enterprise_ids[int(arrays.cems_enterprise[channel])]
        mn, code = layout.cems_channel[channel]
        cleared.append((eid, "cems_over_limit", f"{mn}:{code}"))
    return found, cleared


def _plain(value: Any) -> Any:
    """A JSON-ready value of the evidence (numpy scalars to Python, NaN to None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
