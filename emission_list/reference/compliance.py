"""Plain scalar reference of the compliance check: one enterprise, line, logger at a time.

Written from the rules (``docs/compliance.md``), not from the vectorised code: Python loops
and per-object dictionaries, thresholds read from the :class:`IndustryRule` objects rather
than the arrays. Tests run :class:`emission_list.compliance.ComplianceCheck` beside it over
random sequences of intervals and require the same alarms, evidence and state.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from emission_list.compliance import (
    NEVER,
    CemsAlarms,
    Cleared,
    ComplianceLayout,
    ControlAlarms,
    IntervalInput,
    IntervalResult,
    LoadAlarms,
    SilentAlarms,
)
from emission_list.compliance_rules import CEMS_POLLUTANTS, ComplianceRules


def _nan(value: float) -> bool:
    return math.isnan(value)


class ReferenceCheck:
    """Same contract as :class:`~emission_list.compliance.ComplianceCheck`, in plain loops."""

    def __init__(self, layout: ComplianceLayout, rules: ComplianceRules) -> None:
        self.rules = rules
        industry = [rules.industries[int(i)] for i in layout.enterprise_industry]
        self.enterprise_rule = [rules.rules[code] for code in industry]
        self.line_enterprise = [int(e) for e in layout.line_enterprise]
        self.control = [bool(c) for c in layout.line_is_control]
        self.rated = [float(r) for r in layout.line_rated_kw]
        self.line_logger = [int(s) for s in layout.line_logger]
        self.serves: dict[int, list[int]] = defaultdict(list)
        for c, p in zip(layout.serve_control, layout.serve_production, strict=True):
            self.serves[int(c)].append(int(p))
        self.controls = sorted(self.serves)
        self.logger_enterprise = [int(e) for e in layout.logger_enterprise]
        self.cems_enterprise = [int(e) for e in layout.cems_enterprise]
        self.cems_limit = []
        for ch, e in enumerate(self.cems_enterprise):
            pollutant = CEMS_POLLUTANTS[int(layout.cems_pollutant[ch])]
            limit = self.enterprise_rule[e].cems[pollutant].limit_mg_m3
            if layout.cems_limit_mg_m3 is not None:
                limit = float(layout.cems_limit_mg_m3[ch])
            self.cems_limit.append(math.nan if limit is None else float(limit))
        self.cems_run_needed = [
            self.enterprise_rule[e].cems[CEMS_POLLUTANTS[int(p)]].run
            for e, p in zip(self.cems_enterprise, layout.cems_pollutant, strict=True)
        ]
        n_lines = len(self.line_enterprise)
        self.load_run = [0] * n_lines
        self.load_open = [0] * n_lines
        self.running = [False] * n_lines
        self.control_run = {c: 0 for c in self.controls}
        self.control_open = {c: False for c in self.controls}
        self.logger_open = [False] * len(self.logger_enterprise)
        self.cems_run = [0] * len(self.cems_enterprise)
        self.cems_open = [False] * len(self.cems_enterprise)
        self.under = [False] * len(industry)
        self.warning_start = [NEVER] * len(industry)

    def _line_rule(self, line: int):
        return self.enterprise_rule[self.line_enterprise[line]]

    def evaluate(self, data: IntervalInput) -> IntervalResult:
        now = int(data.interval)
        cut = [float(c) for c in data.cut]
        power = [float(p) for p in data.power_kw]
        normal = [float(n) for n in data.normal_kw]
        last_valid = [int(v) for v in data.logger_last_valid]
        concentration = [float(c) for c in data.cems_mg_m3]

        started, ended = [], []
        for e, c in enumerate(cut):
            under = not _nan(c)
            if under and not self.under[e]:
                started.append(e)
                self.warning_start[e] = now
            if self.under[e] and not under:
                ended.append(e)
            self.under[e] = under

        def under_line(line: int) -> bool:
            return self.under[self.line_enterprise[line]]

        # warnings that are not on: nothing carried
        for line in range(len(power)):
            if not under_line(line):
                self.load_run[line], self.load_open[line], self.running[line] = 0, 0, False
        for c in self.controls:
            if not under_line(c):
                self.control_run[c], self.control_open[c] = 0, False

        suspected, confirmed, cleared_load, too_little = [], [], [], []
        allowed_of: dict[int, float] = {}
        for line in range(len(power)):
            if self.control[line] or not under_line(line):
                continue
            rule = self._line_rule(line)
            e = self.line_enterprise[line]
            if _nan(normal[line]):
                too_little.append(line)
            allowed = normal[line] * ((1.0 - cut[e]) * (1.0 + rule.tolerance))
            allowed_of[line] = allowed
            if _nan(power[line]) or _nan(allowed):
                pass  # no evidence either way: the run holds
            elif power[line] > allowed:
                self.load_run[line] += 1
                if self.load_run[line] >= rule.suspected_after and self.load_open[line] < 1:
                    suspected.append(line)
                    self.load_open[line] = 1
                if self.load_run[line] >= rule.confirmed_after and self.load_open[line] < 2:
                    confirmed.append(line)
                    self.load_open[line] = 2
            else:
                self.load_run[line] = 0
                if self.load_open[line]:
                    cleared_load.append(line)
                    self.load_open[line] = 0
            # running, for the control check: a line without a value keeps its last state
            if not _nan(power[line]):
                known = [v for v in (normal[line], self.rated[line]) if not _nan(v)]
                floor = min(known) * rule.running_fraction if known else math.nan
                self.running[line] = power[line] > floor

        stopped_rows, cleared_control = [], []
        for c in self.controls:
            if not under_line(c):
                continue
            rule = self._line_rule(c)
            heard = last_valid[self.line_logger[c]] == now
            if _nan(power[c]) and not heard:
                continue  # its logger sent nothing this interval: unknown, the run holds
            stopped = _nan(power[c]) or power[c] < rule.stopped_fraction * self.rated[c]
            if stopped and any(self.running[p] for p in self.serves[c]):
                self.control_run[c] += 1
                if self.control_run[c] >= rule.control_after and not self.control_open[c]:
                    stopped_rows.append(c)
                    self.control_open[c] = True
            else:
                self.control_run[c] = 0
                if self.control_open[c]:
                    cleared_control.append(c)
                    self.control_open[c] = False

        silent_slots, silent_for, cleared_silent = [], [], []
        for slot, e in enumerate(self.logger_enterprise):
            if not self.under[e]:
                self.logger_open[slot] = False
                continue
            quiet = now - max(last_valid[slot], self.warning_start[e] - 1)
            silent = quiet >= self.enterprise_rule[e].silent_after
            if silent and not self.logger_open[slot]:
                silent_slots.append(slot)
                silent_for.append(quiet)
            if self.logger_open[slot] and not silent:
                cleared_silent.append(slot)
            self.logger_open[slot] = silent

        over_channels, cleared_cems = [], []
        for ch, e in enumerate(self.cems_enterprise):
            if not self.under[e]:
                self.cems_run[ch], self.cems_open[ch] = 0, False
                continue
            value, limit = concentration[ch], self.cems_limit[ch]
            if _nan(value) or _nan(limit):
                continue
            if value > limit:
                self.cems_run[ch] += 1
                if self.cems_run[ch] >= self.cems_run_needed[ch] and not self.cems_open[ch]:
                    over_channels.append(ch)
                    self.cems_open[ch] = True
            else:
                self.cems_run[ch] = 0
                if self.cems_open[ch]:
                    cleared_cems.append(ch)
                    self.cems_open[ch] = False

        def load_alarms(rows: list[int]) -> LoadAlarms:
            return LoadAlarms(
                rows=np.array(rows, np.intp),
                power_kw=np.array([power[r] for r in rows]),
                normal_kw=np.array([normal[r] for r in rows]),
                allowed_kw=np.array([allowed_of[r] for r in rows]),
                cut=np.array([cut[self.line_enterprise[r]] for r in rows]),
                run=np.array([self.load_run[r] for r in rows], np.int32),
            )

        def production_kw(c: int) -> float:
            return sum(power[p] for p in self.serves[c] if not _nan(power[p]))

        def ints(values: list[int]) -> np.ndarray:
            return np.array(values, np.intp)

        return IntervalResult(
            interval=now,
            suspected=load_alarms(suspected),
            confirmed=load_alarms(confirmed),
            control_stopped=ControlAlarms(
                rows=ints(stopped_rows),
                power_kw=np.array([power[c] for c in stopped_rows]),
                rated_kw=np.array([self.rated[c] for c in stopped_rows]),
                stopped_below_kw=np.array(
                    [self._line_rule(c).stopped_fraction * self.rated[c] for c in stopped_rows]
                ),
                production_kw=np.array([production_kw(c) for c in stopped_rows]),
                run=np.array([self.control_run[c] for c in stopped_rows], np.int32),
            ),
            logger_silent=SilentAlarms(
                slots=ints(silent_slots),
                last_valid=np.array([last_valid[s] for s in silent_slots], np.int64),
                silent_for=np.array(silent_for, np.int64),
            ),
            cems_over_limit=CemsAlarms(
                channels=ints(over_channels),
                concentration_mg_m3=np.array([concentration[c] for c in over_channels]),
                limit_mg_m3=np.array([self.cems_limit[c] for c in over_channels]),
                run=np.array([self.cems_run[c] for c in over_channels], np.int32),
            ),
            cleared=Cleared(
                ints(cleared_load), ints(cleared_control), ints(cleared_silent), ints(cleared_cems)
            ),
            too_little_history=ints(too_little),
            warning_started=ints(started),
            warning_ended=ints(ended),
        )
