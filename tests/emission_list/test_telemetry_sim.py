"""The telemetry simulator: deterministic and independent of how a range is cut, compliant
plants within their allowed load (against the median of the simulated history, as the
compliance check computes a normal load), the three cheaters doing what they should."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emission_list.telemetry_sim import (
    BEHAVIOURS,
    CEMS_CODES,
    LOCAL_OFFSET_MIN,
    history,
    minutes,
    sample_plant,
)

PLANT = sample_plant()
E = len(PLANT.enterprise_ids)
CHEATERS = {
    c["behaviour"]: PLANT.enterprise_ids.index(c["enterprise_id"])
    for c in json.loads(
        (
            Path(__file__).resolve().parents[2] / "emission_list/data/kundulun_loggers.json"
        ).read_text("utf-8")
    )["cheaters"]
}
#: The sample episode's orange warning began at 16:00 local on 3 December 2026.
WARNING = np.datetime64("2026-12-03T08:00", "m")
HOURS, HISTORY = history(PLANT, WARNING, weeks=4)


def _normal_by_clock_hour() -> np.ndarray:
    """Median of each line's history at each local clock hour, ``(L, 24)``."""
    clock = ((HOURS.astype(np.int64) * 60 + LOCAL_OFFSET_MIN) // 60) % 24
    return np.stack([np.median(HISTORY[:, clock == h], axis=1) for h in range(24)], axis=1)


NORMAL = _normal_by_clock_hour()


def _clock(times: np.ndarray) -> np.ndarray:
    return ((times.astype(np.int64) + LOCAL_OFFSET_MIN) // 60) % 24


def _cuts(value: float) -> np.ndarray:
    return np.full(E, value)


def _warned(value: float, start: np.datetime64, end: np.datetime64) -> np.ndarray:
    """``(E, M)`` cuts: no warning before :data:`WARNING`, ``value`` from it."""
    times = np.arange(start, end)
    return np.where(times[None, :] >= WARNING, value, np.nan).repeat(E, axis=0)


def test_the_same_seed_gives_the_same_telemetry_and_a_range_cut_in_two_the_same_minutes() -> None:
    cut = _cuts(0.3)
    end = WARNING + np.timedelta64(180, "m")
    one = minutes(PLANT, WARNING, end, cut, seed=7)
    again = minutes(PLANT, WARNING, end, cut, seed=7)
    assert np.array_equal(one.power, again.power) and np.array_equal(one.cems, again.cems)
    middle = WARNING + np.timedelta64(77, "m")
    first = minutes(PLANT, WARNING, middle, cut, seed=7, warned_since=np.full(E, WARNING))
    second = minutes(PLANT, middle, end, cut, seed=7, warned_since=np.full(E, WARNING))
    assert np.array_equal(np.hstack([first.power, second.power]), one.power)
    assert np.array_equal(np.hstack([first.sent, second.sent]), one.sent)
    other = minutes(PLANT, WARNING, end, cut, seed=8)
    assert not np.array_equal(other.power, one.power)
    h1 = history(PLANT, WARNING, 1, seed=3)[1]
    assert np.array_equal(h1, history(PLANT, WARNING, 1, seed=3)[1])


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**31),
    start_hour=st.integers(0, 24 * 365),
    cuts=st.lists(st.floats(0, 1), min_size=E, max_size=E),
    margin=st.floats(0, 0.1),
)
def test_a_compliant_plant_never_exceeds_its_allowed_load(
    seed: int, start_hour: int, cuts: list[float], margin: float
) -> None:
    start = WARNING + np.timedelta64(start_hour, "h")
    cut = np.array(cuts)
    out = minutes(PLANT, start, start + np.timedelta64(36, "h"), cut, seed=seed, margin=margin)
    compliant = PLANT.behaviour[PLANT.line_enterprise] == 0
    production = compliant & ~PLANT.is_control
    normal = NORMAL[:, _clock(out.times)]
    allowed = normal * (1 - cut[PLANT.line_enterprise])[:, None]
    assert np.all(out.power[production] <= allowed[production] * 1.10 + 1e-9)
    # and it does produce what it may, not far below
    assert np.all(out.power[production] >= allowed[production] * (1 - margin) * 0.9 - 1e-9)
    # Its control lines run whenever its production runs (not next to nothing).
    running = compliant & PLANT.is_control & (cut[PLANT.line_enterprise] <= 0.8)
    assert np.all(out.power[running] > PLANT.rated_kw[running, None] * 0.1)
    assert out.sent[PLANT.behaviour[PLANT.logger_enterprise] == 0].all()


def test_without_a_warning_every_plant_runs_normally() -> None:
    out = minutes(PLANT, WARNING, WARNING + np.timedelta64(24, "h"), _cuts(np.nan))
    normal = NORMAL[:, _clock(out.times)]
    assert np.all(np.abs(out.power / normal - 1) <= 0.1) and out.sent.all()


def _lines_of(behaviour: str, control: bool) -> np.ndarray:
    return (PLANT.line_enterprise == CHEATERS[behaviour]) & (PLANT.is_control == control)


def test_the_night_producer_runs_at_full_load_at_night_and_complies_by_day() -> None:
    cut = _cuts(0.3)
    out = minutes(PLANT, WARNING, WARNING + np.timedelta64(24, "h"), cut)
    lines = _lines_of("night", control=False)
    clock = _clock(out.times)
    night = (clock >= 20) | (clock < 6)
    allowed = NORMAL[lines][:, clock] * 0.7
    assert np.all(out.power[lines][:, night] > allowed[:, night] * 1.25)
    assert np.all(out.power[lines][:, ~night] <= allowed[:, ~night] * 1.10)
    control = _lines_of("night", control=True)
    assert np.all(out.power[control] > 0.3 * PLANT.rated_kw[control, None])


def test_the_control_line_stopper_stops_its_control_lines_and_its_stack_exceeds_limits() -> None:
    start, end = WARNING - np.timedelta64(60, "m"), WARNING + np.timedelta64(6, "h")
    out = minutes(PLANT, start, end, _warned(0.2, start, end))
    i = CHEATERS["control_stopped"]
    after = (out.times >= WARNING + np.timedelta64(45, "m"))[None, :]
    control = out.power[_lines_of("control_stopped", control=True)]
    rated = PLANT.rated_kw[_lines_of("control_stopped", control=True)][:, None]
    assert np.all(np.where(after, control <= 0.02 * rated, control > 0.3 * rated))
    production = _lines_of("control_stopped", control=False)
    allowed = NORMAL[production][:, _clock(out.times)] * 0.8
    assert np.all(out.power[production][:, after[0]] <= allowed[:, after[0]] * 1.10)
    (stack,) = np.flatnonzero(PLANT.logger_enterprise[PLANT.cems_logger] == i)
    limits = PLANT.cems_limits[stack][:, None]
    concentrations = out.cems[stack, :3]
    assert np.all(np.where(after, concentrations > limits, concentrations < limits))
    others = np.flatnonzero(PLANT.logger_enterprise[PLANT.cems_logger] != i)
    assert np.all(out.cems[others, :3] < PLANT.cems_limits[others][:, :, None])
    assert CEMS_CODES[:3] == ("a21026", "a21002", "a34013")


def test_the_silent_plant_stops_sending_into_the_warning_and_nobody_else_does() -> None:
    start, end = WARNING - np.timedelta64(30, "m"), WARNING + np.timedelta64(3, "h")
    out = minutes(PLANT, start, end, _warned(0.3, start, end))
    own = PLANT.logger_enterprise == CHEATERS["silent"]
    silent_from = WARNING + np.timedelta64(30, "m")
    assert own.sum() >= 1 and out.sent[~own].all()
    assert np.array_equal(
        out.sent[own], np.broadcast_to(out.times < silent_from, out.sent[own].shape)
    )
    mns = {PLANT.mns[g] for g in np.flatnonzero(own)}
    minute = int(np.searchsorted(out.times, silent_from))
    assert not mns & {mn for mn, _ in out.packet_values(minute)}
    assert mns <= {mn for mn, _ in out.packet_values(minute - 1)}


def test_packets_carry_each_lines_power_under_its_channel_and_the_stack_values() -> None:
    out = minutes(PLANT, WARNING, WARNING + np.timedelta64(2, "m"), _cuts(np.nan))
    packets = dict(out.packet_values(1))
    assert len(packets) == len(PLANT.mns)
    for k, (g, channel) in enumerate(zip(PLANT.line_logger, PLANT.channel, strict=True)):
        value, flag = packets[PLANT.mns[g]][channel]
        assert value == round(float(out.power[k, 1]), 1) and flag == "N"
    stack = packets[PLANT.mns[PLANT.cems_logger[0]]]
    assert set(CEMS_CODES) <= set(stack)
    assert stack["a19001"][0] == pytest.approx(out.cems[0, 3, 1], abs=0.01)


def test_the_history_profile_is_flat_for_continuous_plants_and_low_at_night_for_day_shifts() -> (
    None
):
    assert HISTORY.shape == (len(PLANT.line_ids), 4 * 7 * 24) and np.all(HISTORY > 0)
    assert HOURS[-1] + np.timedelta64(1, "h") == WARNING.astype("datetime64[h]")
    clock = ((HOURS.astype(np.int64) * 60 + LOCAL_OFFSET_MIN) // 60) % 24
    day, night = (clock >= 9) & (clock < 17), (clock >= 0) & (clock < 5)
    from emission_list.samples import kundulun_list

    industry = {e.enterprise_id: e.industry for e in kundulun_list().entries}
    of_line = np.array([industry[PLANT.enterprise_ids[i]] for i in PLANT.line_enterprise])
    production = ~PLANT.is_control
    for name, flat in (("ferroalloy", True), ("coking", True), ("casting", False)):
        lines = production & (of_line == name)
        ratio = HISTORY[lines][:, night].mean(axis=1) / HISTORY[lines][:, day].mean(axis=1)
        assert np.all(ratio > 0.95) if flat else np.all(ratio < 0.3), name
    spread = HISTORY[production & (of_line == "ferroalloy")]
    assert np.all(spread.max(axis=1) / spread.min(axis=1) < 1.07)  # noise ±3 %
    assert set(BEHAVIOURS) == {"compliant", "night", "control_stopped", "silent"}


def test_a_margin_and_noise_that_could_break_the_tolerance_are_refused() -> None:
    with pytest.raises(ValueError, match="tolerance"):
        minutes(PLANT, WARNING, WARNING + np.timedelta64(1, "m"), _cuts(0.3), noise=0.2, margin=0)
