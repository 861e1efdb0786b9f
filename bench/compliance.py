"""Benchmark of the compliance check's evaluation; prints one JSON object.

    python -m bench.compliance [--enterprises 100000] [--minutes 200] [--seed 0]

A synthetic district: ``--enterprises`` enterprises, each with 2 production lines and 2
pollution-control lines (each control line serving one production line) on one logger, and
a CEMS stack (SO2, NOx, particulate) at 30 % of them; 1-minute telemetry with a realistic mix:
90 % of the enterprises under a warning (cuts of 10-50 %), most lines at or below their
allowed load, 2 % of the enterprises producing above it, 1 % with a control line stopped,
1 % of the loggers silent, 3 % of the loggers' packets lost each minute and 0.2 % of the
values invalid, 3 % of the production lines without enough history; at ``--minutes / 2`` a
fifth of the warnings go up a level (the plants follow). A first minute, untimed, starts the
warnings and faults the buffers' pages in.

Measures, in one run:

- ``per_minute_ms``: median and p99 of the time of :meth:`ComplianceCheck.evaluate` for one
  minute over ``--minutes`` minutes (goal: median <= 10 ms);
- ``floor_ms``: median time of copying, with ``np.copyto`` into preallocated arrays, exactly
  the arrays one minute's evaluation reads and writes (its inputs, its state, the work
  buffers it writes, the static arrays it reads on every minute) — a memory-copy floor;
- ``ratio_to_floor`` = median per minute / floor (goal <= 3);
- ``level_change_minute_ms``: the minute a fifth of the warnings change level (the per-line
  factors that depend on the cuts are recomputed then, and only then);
- ``alarms``: what the run raised, to show the mix is what it says;
- ``normal_load``: the normal-load median over 28 days of hourly loads, timed on
  ``--normal-load-lines`` lines and scaled linearly to all the lines;
- ``latency`` (``--latency-minutes``, 0: skipped): the time from a packet to its alarm on
  the API through the whole service, at the sample's scale (:mod:`bench.compliance_latency`;
  goal p99 < 5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np

from bench.timing import median_time
from emission_list.compliance import NEVER, ComplianceCheck, ComplianceLayout, IntervalInput
from emission_list.compliance_rules import default_compliance_rules
from emission_list.normal_load import normal_load

PER_MINUTE_GOAL_MS = 10.0
RATIO_GOAL = 3.0
LINES_PER_ENTERPRISE = 4  # production, production, control (of the first), control (second)
FRAMES = 8  # distinct telemetry frames the minutes cycle through (generated before timing)


def synthetic_layout(enterprises: int, rng: np.random.Generator) -> ComplianceLayout:
    """The district: 4 lines per enterprise, one logger each, CEMS at 30 %."""
    rules = default_compliance_rules()
    industry = rng.integers(0, len(rules.industries), enterprises)
    line_enterprise = np.repeat(np.arange(enterprises), LINES_PER_ENTERPRISE)
    kind = np.tile(np.array([False, False, True, True]), enterprises)
    rated = np.where(kind, rng.uniform(50, 400, kind.size), rng.uniform(500, 5000, kind.size))
    base = np.arange(enterprises) * LINES_PER_ENTERPRISE
    with_cems = np.flatnonzero(rng.random(enterprises) < 0.3)
    return ComplianceLayout(
        enterprise_industry=rules.index([rules.industries[i] for i in industry]),
        line_enterprise=line_enterprise,
        line_is_control=kind,
        line_rated_kw=rated,
        line_logger=line_enterprise.copy(),
        serve_control=np.concatenate([base + 2, base + 3]),
        serve_production=np.concatenate([base, base + 1]),
        logger_enterprise=np.arange(enterprises),
        cems_enterprise=np.repeat(with_cems, 3),
        cems_pollutant=np.tile(np.arange(3), with_cems.size),
    )


class District:
    """The telemetry of the synthetic district, minute by minute."""

    def __init__(self, layout: ComplianceLayout, rng: np.random.Generator) -> None:
        n_e, n_l = layout.n_enterprises, layout.n_lines
        self.rng, self.layout = rng, layout
        production = ~layout.line_is_control
        self.normal = np.where(production, layout.line_rated_kw * rng.uniform(0.5, 0.9, n_l), 0)
        self.normal[production & (rng.random(n_l) < 0.03)] = np.nan  # too little history
        self.cut = np.where(rng.random(n_e) < 0.9, rng.choice([0.1, 0.2, 0.3, 0.5], n_e), np.nan)
        self.cheats = rng.random(n_e) < 0.02
        self.stops_control = rng.random(n_e) < 0.01
        self.silent = rng.random(n_e) < 0.01
        self.lost = [rng.random(n_e) < 0.03 for _ in range(FRAMES)]  # a logger's packet lost
        self.frames = [self._frame(lost) for lost in self.lost]
        self.cems = [self._cems() for _ in range(FRAMES)]
        self.last_valid = np.full(n_e, NEVER, np.int64)

    def _frame(self, lost: np.ndarray) -> np.ndarray:
        layout, rng = self.layout, self.rng
        n_l = layout.n_lines
        cut = np.nan_to_num(self.cut[layout.line_enterprise])  # not under a warning: normal
        cheat = self.cheats[layout.line_enterprise]
        load = np.where(np.isnan(self.normal), layout.line_rated_kw * 0.5, self.normal)
        ratio = np.where(cheat, rng.uniform(1.0, 1.1, n_l), rng.uniform(0.7, 1.0, n_l))
        power = load * np.where(cheat, 1.0, 1.0 - cut) * ratio
        control = layout.line_is_control
        power[control] = layout.line_rated_kw[control] * rng.uniform(0.5, 0.9, control.sum())
        power[control & self.stops_control[layout.line_enterprise]] = 0.0
        power[rng.random(n_l) < 0.002] = np.nan  # one value invalid (a flag other than N)
        power[(self.silent | lost)[layout.line_enterprise]] = np.nan
        return power

    def _cems(self) -> np.ndarray:
        n_c = len(self.layout.cems_enterprise)
        value = self.rng.uniform(2, 40, n_c)
        over = self.cheats[self.layout.cems_enterprise] & (self.rng.random(n_c) < 0.5)
        value[over] *= 40
        value[self.rng.random(n_c) < 0.03] = np.nan
        return value

    def change_level(self) -> None:
        """A fifth of the warnings go up a level (+0.2 cut); the plants follow the new cut."""
        change = ~np.isnan(self.cut) & (self.rng.random(self.cut.size) < 0.2)
        self.cut[change] = np.minimum(self.cut[change] + 0.2, 1.0)
        self.frames = [self._frame(lost) for lost in self.lost]

    def minute(self, t: int) -> IntervalInput:
        self.last_valid[~(self.silent | self.lost[t % FRAMES])] = t
        return IntervalInput(
            interval=t,
            power_kw=self.frames[t % FRAMES],
            normal_kw=self.normal,
            cut=self.cut.copy(),
            logger_last_valid=self.last_valid,
            cems_mg_m3=self.cems[t % FRAMES],
        )


def _touched_arrays(check: ComplianceCheck, data: IntervalInput) -> list[np.ndarray]:
    """Every array one minute's evaluation reads or writes in full: not those it reads only
    at the few candidate rows (thresholds K and M, confirmed alarms), nor those it reads or
    writes only when a cut changes (warning starts, per-line tolerances and enterprises)."""
    s, w, state = check._s, check._w, check.state
    inputs = [data.power_kw, data.normal_kw, data.cut, data.logger_last_valid, data.cems_mg_m3]
    once = {id(state.warning_start), id(state.under), id(state.confirmed_open)}
    carried = [a for a in vars(state).values() if id(a) not in once]
    work = list(vars(w).values())
    static = [check._rated, check._judged_production, s.control_lines, s.control_logger]
    static += [s.stopped_below_kw, s.silent_after, s.cems_limit]
    static += [lines for _, lines, _ in s.served_groups]
    return inputs + carried + work + static


def _copy_floor(arrays: list[np.ndarray], repeats: int) -> tuple[float, int]:
    sources = [np.ascontiguousarray(a).copy() for a in arrays]
    targets = [np.empty_like(a) for a in sources]

    def copy_all() -> None:
        for source, target in zip(sources, targets, strict=True):
            np.copyto(target, source)

    copy_all()  # fault the pages in, as the evaluation's are
    return median_time(copy_all, repeats), sum(a.nbytes for a in sources)


def _time_normal_load(n_lines: int, total_lines: int, rng: np.random.Generator) -> dict:
    days = 28
    hourly = rng.uniform(100, 1000, (n_lines, days * 24))
    valid = rng.random(hourly.shape) > 0.1
    hours = np.arange(days * 24) % 24
    start = time.perf_counter()
    result = normal_load(hourly, valid, hours, min_history=7)
    seconds = time.perf_counter() - start
    return {
        "lines_timed": n_lines,
        "days": days,
        "seconds": seconds,
        "seconds_scaled_to_all_lines": seconds * total_lines / n_lines,
        "lines_with_too_little_history": int(result.too_little_history.any(axis=1).sum()),
    }


def run(enterprises: int, minutes: int, seed: int, normal_load_lines: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    layout = synthetic_layout(enterprises, rng)
    district = District(layout, rng)
    check = ComplianceCheck(layout, default_compliance_rules())
    setup_s = time.perf_counter() - start
    times, raised = (
        [],
        dict.fromkeys(
            ("suspected", "confirmed", "control_stopped", "logger_silent", "cems_over_limit"), 0
        ),
    )
    cleared, too_little = 0, 0
    check.evaluate(district.minute(0))  # the warnings' first minute; faults the pages in
    for t in range(1, minutes + 1):
        if t == minutes // 2:
            district.change_level()
        data = district.minute(t)
        begin = time.perf_counter()
        result = check.evaluate(data)
        times.append(time.perf_counter() - begin)
        raised["suspected"] += result.suspected.rows.size
        raised["confirmed"] += result.confirmed.rows.size
        raised["control_stopped"] += result.control_stopped.rows.size
        raised["logger_silent"] += result.logger_silent.slots.size
        raised["cems_over_limit"] += result.cems_over_limit.channels.size
        cleared += sum(getattr(result.cleared, f).size for f in vars(result.cleared))
        too_little = result.too_little_history.size
    floor_s, floor_bytes = _copy_floor(_touched_arrays(check, data), max(minutes, 20))
    median_s = statistics.median(times)
    p99_s = float(np.percentile(times, 99))
    ratio = median_s / floor_s
    return {
        "benchmark": "compliance",
        "enterprises": enterprises,
        "lines": layout.n_lines,
        "control_pairs": len(layout.serve_control),
        "loggers": len(layout.logger_enterprise),
        "cems_channels": len(layout.cems_enterprise),
        "under_warning": int((~np.isnan(district.cut)).sum()),
        "minutes": minutes,
        "setup_s": round(setup_s, 3),
        "per_minute_ms": {"median": median_s * 1e3, "p99": p99_s * 1e3, "max": max(times) * 1e3},
        "level_change_minute_ms": times[minutes // 2 - 1] * 1e3,  # cut-dependent factors redone
        "ns_per_line": median_s / layout.n_lines * 1e9,
        "floor_ms": floor_s * 1e3,
        "floor_bytes": floor_bytes,
        "ratio_to_floor": ratio,
        "alarms": raised,
        "cleared": cleared,
        "too_little_history_lines": too_little,
        "normal_load": (
            _time_normal_load(normal_load_lines, layout.n_lines, rng) if normal_load_lines else None
        ),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "goals": {
            "per_minute_ms_max": PER_MINUTE_GOAL_MS,
            "per_minute_met": median_s * 1e3 <= PER_MINUTE_GOAL_MS,
            "ratio_to_floor_max": RATIO_GOAL,
            "ratio_to_floor_met": ratio <= RATIO_GOAL,
        },
        "met": median_s * 1e3 <= PER_MINUTE_GOAL_MS and ratio <= RATIO_GOAL,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compliance", description=__doc__)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--minutes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--normal-load-lines",
        type=int,
        default=40_000,
        help="lines the normal-load median is timed on (0: not timed)",
    )
    parser.add_argument(
        "--latency-minutes",
        type=int,
        default=100,
        help="simulated minutes of the packet-to-alarm latency through the service (0: none)",
    )
    args = parser.parse_args(argv)
    result = run(args.enterprises, args.minutes, args.seed, args.normal_load_lines)
    if args.latency_minutes:
        from bench import compliance_latency

        latency = compliance_latency.run(args.latency_minutes)
        result["latency"] = latency
        result["goals"]["latency_p99_s_max"] = compliance_latency.LATENCY_GOAL_S
        result["goals"]["latency_met"] = latency["met"]
        result["met"] = result["met"] and latency["met"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
