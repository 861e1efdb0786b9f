"""The per-interval compliance check, vectorised over every line of every enterprise.

Each interval (one call of :meth:`ComplianceCheck.evaluate`, once per interval, in order) the
check reads the interval's power of every line, its normal load for the hour, the required
production cut of every enterprise (NaN: not under a warning), the last interval each logger
sent a valid value, and every CEMS concentration; it updates run counters and open alarms it
carries (:class:`ComplianceState`) and returns the alarms newly raised, with their evidence,
and those whose condition cleared (:class:`IntervalResult`). Rules (``docs/compliance.md``):

- load: a production line with power > normal × (1 − cut) × (1 + tolerance) for K consecutive
  judged intervals is *suspected*, for M (> K) *confirmed*; power ≤ that resets the run and
  clears the alarm; no power value or no normal load (too little history) is no evidence
  either way: the run holds. A change of cut (level) keeps the run: each interval is judged
  against its own cut.
- control_stopped: a control line stopped (power < stopped fraction × rated, or no value
  while its logger reports this interval) while a production line it serves runs (power >
  running fraction × min(rated, normal); a production line without a value keeps its last
  known state) for ``control_after`` consecutive intervals. A control line whose logger sent
  nothing this interval is unknown: the run holds (the silent logger is its own alarm).
- logger_silent: a logger without a valid value for N intervals of a warning; a logger not
  heard since the warning began counts from the warning's first interval.
- cems_over_limit: a concentration above its limit for a run of intervals (NaN holds).

Each alarm is raised once per episode and re-armed when its condition clears. When an
enterprise's warning ends, the state of its lines, loggers and channels is reset (nothing is
reported as cleared: the warning ended, the evidence stands); a new warning starts afresh.

The hot path is whole-array ufuncs into preallocated buffers (``out=``); gathers by the
layout's static indices use ``np.take(..., out=)``; per-line factors that depend only on the
cuts are recomputed only when a cut changes; the rows of alarms are looked up by one
``np.flatnonzero`` over the few candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emission_list.compliance_rules import ComplianceRules

NEVER = -1  # a logger's last valid interval when it was never heard


@dataclass(frozen=True)
class ComplianceLayout:
    """Who is who: the static arrays of the lines, loggers and CEMS channels checked.

    Parameters
    ----------
    enterprise_industry
        (E,) row of each enterprise's industry in the rules (:meth:`ComplianceRules.index`).
    line_enterprise, line_is_control, line_rated_kw, line_logger
        (L,) each line's enterprise row, kind (True: pollution control), rated power [kW]
        and logger slot.
    serve_control, serve_production
        (P,) pairs: the control line ``serve_control[i]`` treats production line
        ``serve_production[i]`` (one pair per line served).
    logger_enterprise
        (S,) enterprise row of each logger slot.
    cems_enterprise, cems_pollutant
        (C,) enterprise row and pollutant column (:data:`CEMS_POLLUTANTS`) of each channel.
    cems_limit_mg_m3
        (C,) the channel's limit [mg/m³] (NaN: not judged); None: the industry's limit.
    """

    enterprise_industry: np.ndarray
    line_enterprise: np.ndarray
    line_is_control: np.ndarray
    line_rated_kw: np.ndarray
    line_logger: np.ndarray
    serve_control: np.ndarray
    serve_production: np.ndarray
    logger_enterprise: np.ndarray
    cems_enterprise: np.ndarray
    cems_pollutant: np.ndarray
    cems_limit_mg_m3: np.ndarray | None = None

    @property
    def n_enterprises(self) -> int:
        return len(self.enterprise_industry)

    @property
    def n_lines(self) -> int:
        return len(self.line_enterprise)


@dataclass
class ComplianceState:
    """What the check carries from interval to interval (arrays owned by the check).

    ``load_run`` (L,) consecutive judged intervals above the allowed load;
    ``suspected_open``/``confirmed_open`` (L,) that alarm raised in this episode;
    ``running`` (L,) a production line's last known running state;
    ``control_run``/``control_open`` (Cp,) for the control lines that serve a production
    line, in the order of :attr:`ComplianceCheck.control_lines`;
    ``logger_open`` (S,); ``cems_run``/``cems_open`` (C,); ``under`` (E,) under a warning at
    the last interval, ``warning_start`` (E,) its first interval; ``previous_cut`` (E,) the
    cuts of the last interval (NaN: none).
    """

    load_run: np.ndarray
    suspected_open: np.ndarray
    confirmed_open: np.ndarray
    running: np.ndarray
    control_run: np.ndarray
    control_open: np.ndarray
    logger_open: np.ndarray
    cems_run: np.ndarray
    cems_open: np.ndarray
    under: np.ndarray
    warning_start: np.ndarray
    previous_cut: np.ndarray

    @classmethod
    def empty(
        cls, n_enterprises: int, n_lines: int, n_controls: int, n_loggers: int, n_cems: int
    ) -> ComplianceState:
        return cls(
            load_run=np.zeros(n_lines, np.int32),
            suspected_open=np.zeros(n_lines, bool),
            confirmed_open=np.zeros(n_lines, bool),
            running=np.zeros(n_lines, bool),
            control_run=np.zeros(n_controls, np.int32),
            control_open=np.zeros(n_controls, bool),
            logger_open=np.zeros(n_loggers, bool),
            cems_run=np.zeros(n_cems, np.int32),
            cems_open=np.zeros(n_cems, bool),
            under=np.zeros(n_enterprises, bool),
            warning_start=np.full(n_enterprises, NEVER, np.int64),
            previous_cut=np.full(n_enterprises, np.nan),
        )


@dataclass(frozen=True)
class IntervalInput:
    """One interval's telemetry.

    ``interval`` the interval's number (e.g. minutes since the epoch; one call per interval);
    ``power_kw`` (L,) [kW] NaN = no valid value; ``normal_kw`` (L,) [kW] this hour's normal
    load, NaN = too little history; ``cut`` (E,) required production cut 0..1, NaN = not
    under a warning; ``logger_last_valid`` (S,) the last interval each logger sent a valid
    value (:data:`NEVER`); ``cems_mg_m3`` (C,) [mg/m³] at the reference O2 where the limit has
    one (:func:`~emission_list.compliance_rules.reference_oxygen`), NaN = no valid value.
    """

    interval: int
    power_kw: np.ndarray
    normal_kw: np.ndarray
    cut: np.ndarray
    logger_last_valid: np.ndarray
    cems_mg_m3: np.ndarray


@dataclass(frozen=True)
class LoadAlarms:
    """Production lines newly above their allowed load, with the evidence (each (n,))."""

    rows: np.ndarray  # line rows
    power_kw: np.ndarray
    normal_kw: np.ndarray
    allowed_kw: np.ndarray
    cut: np.ndarray
    run: np.ndarray  # consecutive intervals above


@dataclass(frozen=True)
class ControlAlarms:
    """Control lines newly stopped while production they serve runs."""

    rows: np.ndarray  # control line rows
    power_kw: np.ndarray  # NaN: no value while its logger reports
    rated_kw: np.ndarray
    stopped_below_kw: np.ndarray
    production_kw: np.ndarray  # summed valid power of the production lines it serves
    run: np.ndarray


@dataclass(frozen=True)
class SilentAlarms:
    """Loggers newly silent during a warning."""

    slots: np.ndarray
    last_valid: np.ndarray  # interval (NEVER: not heard at all)
    silent_for: np.ndarray  # intervals without a valid value within the warning


@dataclass(frozen=True)
class CemsAlarms:
    """CEMS channels newly above their limit."""

    channels: np.ndarray
    concentration_mg_m3: np.ndarray
    limit_mg_m3: np.ndarray
    run: np.ndarray


@dataclass(frozen=True)
class Cleared:
    """Rows whose open alarm's condition cleared this interval (nothing is closed)."""

    load: np.ndarray  # line rows (a suspected or confirmed alarm)
    control_stopped: np.ndarray
    logger_silent: np.ndarray
    cems_over_limit: np.ndarray


@dataclass(frozen=True)
class IntervalResult:
    """What one interval raised and cleared, and whom the load check cannot judge."""

    interval: int
    suspected: LoadAlarms
    confirmed: LoadAlarms
    control_stopped: ControlAlarms
    logger_silent: SilentAlarms
    cems_over_limit: CemsAlarms
    cleared: Cleared
    too_little_history: np.ndarray  # production rows under a warning without a normal load
    warning_started: np.ndarray  # enterprise rows
    warning_ended: np.ndarray


@dataclass
class _Static:
    """Per-line, per-slot and per-channel thresholds broadcast once from the industry table."""

    one_plus_tolerance: np.ndarray  # (L,) NaN for control lines
    suspected_after: np.ndarray
    confirmed_after: np.ndarray
    running_fraction: np.ndarray  # (L,) NaN for control lines (never "running")
    control_lines: np.ndarray  # (Cp,) rows of control lines serving something (state order)
    control_enterprise: np.ndarray  # (Cp,)
    control_logger: np.ndarray  # (Cp,)
    stopped_below_kw: np.ndarray  # (Cp,)
    control_after: np.ndarray  # (Cp,)
    pair_production: np.ndarray  # (P,) sorted by control, stably
    pair_starts: np.ndarray  # (Cp,) first pair of each control line
    pair_counts: np.ndarray  # (Cp,) production lines each control line serves
    served_groups: list[tuple[slice, np.ndarray, np.ndarray]]  # by count: rows, (n, k) lines
    silent_after: np.ndarray  # (S,)
    cems_limit: np.ndarray  # (C,)
    cems_run: np.ndarray  # (C,)


def _static(layout: ComplianceLayout, rules: ComplianceRules) -> _Static:
    industry = np.asarray(layout.enterprise_industry, np.intp)
    line_ent = np.asarray(layout.line_enterprise, np.intp)
    control = np.asarray(layout.line_is_control, bool)
    line_industry = industry[line_ent]
    order = np.argsort(np.asarray(layout.serve_control), kind="stable")
    pair_control = np.asarray(layout.serve_control, np.intp)[order]
    pair_production = np.asarray(layout.serve_production, np.intp)[order]
    controls, starts, counts = np.unique(pair_control, return_index=True, return_counts=True)
    if np.any(~control[controls]) or np.any(control[pair_production]):
        raise ValueError("serve pairs: (control line, production line)")
    # the control state's order: by number of lines served, then row, so that each group of
    # equal count is one static (n, k) gather and one reduction
    by_count = np.lexsort((controls, counts))
    controls, starts, counts = controls[by_count], starts[by_count], counts[by_count]
    groups, position = [], 0
    for k in np.unique(counts).tolist():
        n_k = int(np.count_nonzero(counts == k))
        lines = pair_production[starts[position : position + n_k, None] + np.arange(k)]
        groups.append((slice(position, position + n_k), lines, np.zeros((n_k, k), bool)))
        position += n_k
    ctrl_industry = line_industry[controls]
    cems_ent = np.asarray(layout.cems_enterprise, np.intp)
    cems_pollutant = np.asarray(layout.cems_pollutant, np.intp)
    limit = layout.cems_limit_mg_m3
    if limit is None:
        limit = rules.cems_limit[industry[cems_ent], cems_pollutant]
    return _Static(
        one_plus_tolerance=np.where(control, np.nan, 1.0 + rules.tolerance[line_industry]),
        suspected_after=rules.suspected_after[line_industry],
        confirmed_after=rules.confirmed_after[line_industry],
        running_fraction=np.where(control, np.nan, rules.running_fraction[line_industry]),
        control_lines=controls.astype(np.intp),
        control_enterprise=line_ent[controls],
        control_logger=np.asarray(layout.line_logger, np.intp)[controls],
        stopped_below_kw=rules.stopped_fraction[ctrl_industry]
        * np.asarray(layout.line_rated_kw, np.float64)[controls],
        control_after=rules.control_after[ctrl_industry],
        pair_production=pair_production,
        pair_starts=starts.astype(np.intp),
        pair_counts=counts.astype(np.intp),
        served_groups=groups,
        silent_after=rules.silent_after[industry[np.asarray(layout.logger_enterprise, np.intp)]],
        cems_limit=np.asarray(limit, np.float64),
        cems_run=rules.cems_run[industry[cems_ent], cems_pollutant],
    )


@dataclass
class _Work:
    """Preallocated buffers of the hot path."""

    cut_bits: np.ndarray  # (E,) bool
    line_factor: np.ndarray  # (L,) (1 − cut) × (1 + tol), NaN: not judged
    line_running_fraction: np.ndarray  # (L,) NaN where not under a warning
    allowed: np.ndarray  # (L,)
    over: np.ndarray  # (L,) bool
    reset: np.ndarray  # (L,) bool
    hold: np.ndarray  # (L,) bool
    missing: np.ndarray  # (L,) bool: no power value; then no normal load
    threshold: np.ndarray  # (L,)
    running_now: np.ndarray  # (L,) bool
    ctrl_under: np.ndarray  # (Cp,) bool
    ctrl_power: np.ndarray  # (Cp,)
    ctrl_heard: np.ndarray  # (Cp,) bool
    ctrl_last: np.ndarray  # (Cp,) int64
    ctrl_stopped: np.ndarray  # (Cp,) bool
    ctrl_known: np.ndarray  # (Cp,) bool
    ctrl_nan: np.ndarray  # (Cp,) bool
    ctrl_reset: np.ndarray  # (Cp,) bool
    ctrl_served_running: np.ndarray  # (Cp,) bool
    slot_under: np.ndarray  # (S,) bool
    slot_start: np.ndarray  # (S,) int64
    slot_heard: np.ndarray  # (S,) int64
    slot_silent: np.ndarray  # (S,) bool
    slot_mask: np.ndarray  # (S,) bool
    cems_under: np.ndarray  # (C,) bool
    cems_over: np.ndarray  # (C,) bool
    cems_reset: np.ndarray  # (C,) bool
    cems_hold: np.ndarray  # (C,) bool


class ComplianceCheck:
    """The compliance check of one layout under one rules table; owns its state and buffers."""

    def __init__(self, layout: ComplianceLayout, rules: ComplianceRules) -> None:
        self.layout = layout
        self.rules = rules
        self._s = _static(layout, rules)
        n_e, n_l = layout.n_enterprises, layout.n_lines
        n_s, n_c = len(layout.logger_enterprise), len(layout.cems_enterprise)
        n_cp = len(self._s.control_lines)
        self.state = ComplianceState.empty(n_e, n_l, n_cp, n_s, n_c)
        self._line_enterprise = np.asarray(layout.line_enterprise, np.intp)
        self._logger_enterprise = np.asarray(layout.logger_enterprise, np.intp)
        self._cems_enterprise = np.asarray(layout.cems_enterprise, np.intp)
        self._rated = np.asarray(layout.line_rated_kw, np.float64)
        self._production = ~np.asarray(layout.line_is_control, bool)
        self._line_under = np.zeros(n_l, bool)
        self._judged_production = np.zeros(n_l, bool)
        self._w = _Work(
            cut_bits=np.zeros(n_e, bool),
            line_factor=np.full(n_l, np.nan),
            line_running_fraction=np.full(n_l, np.nan),
            allowed=np.empty(n_l),
            over=np.zeros(n_l, bool),
            reset=np.zeros(n_l, bool),
            hold=np.zeros(n_l, bool),
            missing=np.zeros(n_l, bool),
            threshold=np.empty(n_l),
            running_now=np.zeros(n_l, bool),
            ctrl_under=np.zeros(n_cp, bool),
            ctrl_power=np.empty(n_cp),
            ctrl_heard=np.zeros(n_cp, bool),
            ctrl_last=np.empty(n_cp, np.int64),
            ctrl_stopped=np.zeros(n_cp, bool),
            ctrl_known=np.zeros(n_cp, bool),
            ctrl_nan=np.zeros(n_cp, bool),
            ctrl_reset=np.zeros(n_cp, bool),
            ctrl_served_running=np.zeros(n_cp, bool),
            slot_under=np.zeros(n_s, bool),
            slot_start=np.full(n_s, NEVER, np.int64),
            slot_heard=np.empty(n_s, np.int64),
            slot_silent=np.zeros(n_s, bool),
            slot_mask=np.zeros(n_s, bool),
            cems_under=np.zeros(n_c, bool),
            cems_over=np.zeros(n_c, bool),
            cems_reset=np.zeros(n_c, bool),
            cems_hold=np.zeros(n_c, bool),
        )

    @property
    def control_lines(self) -> np.ndarray:
        """(Cp,) rows of the control lines that serve a production line (the control state's
        order)."""
        return self._s.control_lines

    # -- warnings ------------------------------------------------------------------------
    def _cuts_changed(self, now: int, cut: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Recompute what depends on the cuts; reset the state of warnings that ended."""
        st, s, w = self.state, self._s, self._w
        under = ~np.isnan(cut)
        started = np.flatnonzero(under & ~st.under)
        ended = np.flatnonzero(st.under & ~under)
        st.warning_start[started] = now
        st.under[:] = under
        np.copyto(st.previous_cut, cut)
        np.take(under, self._line_enterprise, out=self._line_under)
        np.logical_and(self._line_under, self._production, out=self._judged_production)
        line_cut = cut[self._line_enterprise]
        np.multiply(1.0 - line_cut, s.one_plus_tolerance, out=w.line_factor)
        np.copyto(w.line_running_fraction, s.running_fraction)
        w.line_running_fraction[~self._line_under] = np.nan
        np.take(under, s.control_enterprise, out=w.ctrl_under)
        np.take(under, self._logger_enterprise, out=w.slot_under)
        np.take(st.warning_start, self._logger_enterprise, out=w.slot_start)
        np.take(under, self._cems_enterprise, out=w.cems_under)
        if started.size or ended.size:  # a warning's state starts from nothing
            out_lines = ~self._line_under
            st.load_run[out_lines] = 0
            st.suspected_open[out_lines] = False
            st.confirmed_open[out_lines] = False
            st.running[out_lines] = False
            st.control_run[~w.ctrl_under] = 0
            st.control_open[~w.ctrl_under] = False
            st.logger_open[~w.slot_under] = False
            st.cems_run[~w.cems_under] = 0
            st.cems_open[~w.cems_under] = False
        return started, ended

    # -- the interval --------------------------------------------------------------------
    def evaluate(self, data: IntervalInput) -> IntervalResult:
        """Judge one interval; updates :attr:`state` and returns what it raised and cleared."""
        st, w = self.state, self._w
        now = int(data.interval)
        cut = np.asarray(data.cut, np.float64)
        np.not_equal(cut.view(np.int64), st.previous_cut.view(np.int64), out=w.cut_bits)
        if w.cut_bits.any():
            started, ended = self._cuts_changed(now, cut)
        else:
            started = ended = np.empty(0, np.intp)
        power = np.asarray(data.power_kw, np.float64)
        normal = np.asarray(data.normal_kw, np.float64)
        suspected, confirmed, cleared_load = self._load(power, normal, cut)
        last_valid = np.asarray(data.logger_last_valid, np.int64)
        control, cleared_control = self._control(now, power, normal, last_valid)
        silent, cleared_silent = self._loggers(now, last_valid)
        cems, cleared_cems = self._cems(np.asarray(data.cems_mg_m3, np.float64))
        np.isnan(normal, out=w.missing)
        np.logical_and(w.missing, self._judged_production, out=w.missing)
        too_little = np.flatnonzero(w.missing)
        return IntervalResult(
            interval=now,
            suspected=suspected,
            confirmed=confirmed,
            control_stopped=control,
            logger_silent=silent,
            cems_over_limit=cems,
            cleared=Cleared(cleared_load, cleared_control, cleared_silent, cleared_cems),
            too_little_history=too_little,
            warning_started=started,
            warning_ended=ended,
        )

    def _load(self, power, normal, cut) -> tuple[LoadAlarms, LoadAlarms, np.ndarray]:
        st, s, w = self.state, self._s, self._w
        np.multiply(normal, w.line_factor, out=w.allowed)
        np.greater(power, w.allowed, out=w.over)  # NaN on either side: neither over ...
        np.less_equal(power, w.allowed, out=w.reset)  # ... nor reset: the run holds
        np.add(st.load_run, w.over, out=st.load_run, casting="unsafe")
        np.logical_not(w.reset, out=w.hold)  # a masked copyto is slow where most are set
        np.multiply(st.load_run, w.hold, out=st.load_run, casting="unsafe")
        candidates = np.flatnonzero(w.over)
        run = st.load_run[candidates]
        new_suspected = candidates[
            (run >= s.suspected_after[candidates]) & ~st.suspected_open[candidates]
        ]
        new_confirmed = candidates[
            (run >= s.confirmed_after[candidates]) & ~st.confirmed_open[candidates]
        ]
        st.suspected_open[new_suspected] = True
        st.confirmed_open[new_confirmed] = True
        open_rows = np.flatnonzero(st.suspected_open)  # confirmed implies suspected
        cleared = open_rows[w.reset[open_rows]]
        st.suspected_open[cleared] = False
        st.confirmed_open[cleared] = False
        return (
            self._load_alarms(new_suspected, power, normal, cut),
            self._load_alarms(new_confirmed, power, normal, cut),
            cleared,
        )

    def _load_alarms(self, rows, power, normal, cut) -> LoadAlarms:
        return LoadAlarms(
            rows=rows,
            power_kw=power[rows],
            normal_kw=normal[rows],
            allowed_kw=self._w.allowed[rows],
            cut=cut[self._line_enterprise[rows]],
            run=self.state.load_run[rows].copy(),
        )

    def _control(self, now, power, normal, last_valid) -> tuple[ControlAlarms, np.ndarray]:
        st, s, w = self.state, self._s, self._w
        # production running: power > fraction × min(rated, normal); no value keeps the state
        np.fmin(normal, self._rated, out=w.threshold)
        np.multiply(w.threshold, w.line_running_fraction, out=w.threshold)
        np.greater(power, w.threshold, out=w.running_now)  # False without a value ...
        np.isnan(power, out=w.missing)
        np.logical_and(st.running, w.missing, out=st.running)  # ... where the last state holds
        np.logical_or(st.running, w.running_now, out=st.running)
        if not len(s.control_lines):
            return self._control_alarms(np.empty(0, np.intp), power), np.empty(0, np.intp)
        for rows, lines, gathered in s.served_groups:
            if lines.shape[1] == 1:
                np.take(st.running, lines[:, 0], out=w.ctrl_served_running[rows])
            else:
                np.take(st.running, lines, out=gathered)
                np.logical_or.reduce(gathered, axis=1, out=w.ctrl_served_running[rows])
        # stopped: power < fraction × rated, or no value; known: a value, or its logger reports
        np.take(power, s.control_lines, out=w.ctrl_power)
        np.take(last_valid, s.control_logger, out=w.ctrl_last)
        np.equal(w.ctrl_last, now, out=w.ctrl_heard)
        np.isnan(w.ctrl_power, out=w.ctrl_nan)
        np.less(w.ctrl_power, s.stopped_below_kw, out=w.ctrl_stopped)
        np.logical_or(w.ctrl_stopped, w.ctrl_nan, out=w.ctrl_stopped)
        np.logical_not(w.ctrl_nan, out=w.ctrl_known)
        np.logical_or(w.ctrl_known, w.ctrl_heard, out=w.ctrl_known)
        np.logical_and(w.ctrl_known, w.ctrl_under, out=w.ctrl_known)
        np.logical_and(w.ctrl_stopped, w.ctrl_served_running, out=w.ctrl_stopped)
        np.logical_and(w.ctrl_stopped, w.ctrl_known, out=w.ctrl_stopped)  # the condition
        np.greater(w.ctrl_known, w.ctrl_stopped, out=w.ctrl_reset)  # known and not the condition
        np.add(st.control_run, w.ctrl_stopped, out=st.control_run, casting="unsafe")
        np.logical_not(w.ctrl_reset, out=w.ctrl_nan)  # reused: hold
        np.multiply(st.control_run, w.ctrl_nan, out=st.control_run, casting="unsafe")
        candidates = np.flatnonzero(w.ctrl_stopped)
        new = candidates[
            (st.control_run[candidates] >= s.control_after[candidates])
            & ~st.control_open[candidates]
        ]
        st.control_open[new] = True
        open_rows = np.flatnonzero(st.control_open)
        cleared = open_rows[w.ctrl_reset[open_rows]]
        st.control_open[cleared] = False
        new = new[np.argsort(s.control_lines[new])]  # rows ascending, as elsewhere
        return self._control_alarms(new, power), np.sort(s.control_lines[cleared])

    def _control_alarms(self, compact: np.ndarray, power: np.ndarray) -> ControlAlarms:
        s = self._s
        rows = s.control_lines[compact]
        counts = s.pair_counts[compact]
        first = np.cumsum(counts) - counts  # each alarm's first pair among those gathered
        pairs = np.repeat(s.pair_starts[compact] - first, counts) + np.arange(counts.sum())
        served = power[s.pair_production[pairs]]
        served[np.isnan(served)] = 0.0
        production = np.add.reduceat(served, first) if compact.size else np.zeros(0)
        return ControlAlarms(
            rows=rows,
            power_kw=power[rows],
            rated_kw=self._rated[rows],
            stopped_below_kw=s.stopped_below_kw[compact],
            production_kw=production,
            run=self.state.control_run[compact].copy(),
        )

    def _loggers(self, now: int, last_valid: np.ndarray) -> tuple[SilentAlarms, np.ndarray]:
        st, s, w = self.state, self._s, self._w
        np.subtract(w.slot_start, 1, out=w.slot_heard)
        np.maximum(w.slot_heard, last_valid, out=w.slot_heard)
        np.subtract(now, w.slot_heard, out=w.slot_heard)  # silent for
        np.greater_equal(w.slot_heard, s.silent_after, out=w.slot_silent)
        np.logical_and(w.slot_silent, w.slot_under, out=w.slot_silent)
        np.logical_and(w.slot_silent, ~st.logger_open, out=w.slot_mask)
        new = np.flatnonzero(w.slot_mask)
        cleared = np.flatnonzero(st.logger_open & ~w.slot_silent)
        np.copyto(st.logger_open, w.slot_silent)
        alarms = SilentAlarms(slots=new, last_valid=last_valid[new], silent_for=w.slot_heard[new])
        return alarms, cleared

    def _cems(self, concentration: np.ndarray) -> tuple[CemsAlarms, np.ndarray]:
        st, s, w = self.state, self._s, self._w
        np.greater(concentration, s.cems_limit, out=w.cems_over)
        np.logical_and(w.cems_over, w.cems_under, out=w.cems_over)
        np.less_equal(concentration, s.cems_limit, out=w.cems_reset)
        np.add(st.cems_run, w.cems_over, out=st.cems_run, casting="unsafe")
        np.logical_not(w.cems_reset, out=w.cems_hold)
        np.multiply(st.cems_run, w.cems_hold, out=st.cems_run, casting="unsafe")
        candidates = np.flatnonzero(w.cems_over)
        new = candidates[
            (st.cems_run[candidates] >= s.cems_run[candidates]) & ~st.cems_open[candidates]
        ]
        st.cems_open[new] = True
        open_rows = np.flatnonzero(st.cems_open)
        cleared = open_rows[w.cems_reset[open_rows]]
        st.cems_open[cleared] = False
        alarms = CemsAlarms(
            channels=new,
            concentration_mg_m3=concentration[new],
            limit_mg_m3=s.cems_limit[new],
            run=st.cems_run[new].copy(),
        )
        return alarms, cleared


def lines_and_pairs(serves: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """``serve_control``, ``serve_production`` from each line's list of served line rows."""
    control = [c for c, served in enumerate(serves) for _ in served]
    production = [p for served in serves for p in served]
    return np.array(control, np.intp), np.array(production, np.intp)
