"""The vectorised compliance check against the plain scalar reference: by hand, then over
random sequences of intervals (one test body, two implementations)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emission_list.compliance import (
    NEVER,
    ComplianceCheck,
    ComplianceLayout,
    IntervalInput,
    lines_and_pairs,
)
from emission_list.compliance_rules import CEMS_POLLUTANTS, load_compliance_rules
from emission_list.reference.compliance import ReferenceCheck

NAN = math.nan
IMPLEMENTATIONS = [ComplianceCheck, ReferenceCheck]


def rules_document(k=3, m=5, control=2, silent=4, cems_run=2, tolerance=0.1):
    return {
        "schema": "haze-response/compliance-rules/1",
        "interval_s": 60,
        "default": {
            "tolerance": tolerance,
            "suspected_after": k,
            "confirmed_after": m,
            "control_after": control,
            "silent_after": silent,
            "running_fraction": 0.2,
            "stopped_fraction": 0.1,
            "cems": {
                code: {"limit_mg_m3": 50, "reference_o2": None, "run": cems_run}
                for code in CEMS_POLLUTANTS
            },
            "reasoning": {"zh-CN": "测试", "en": "test"},
        },
        "industries": {},
    }


RULES = load_compliance_rules(rules_document(), industries=["steel", "other"])

# One enterprise: production line 0 (rated 1000 kW) and control line 1 (100 kW) serving it on
# logger 0; a second enterprise with production line 2 on logger 1; a CEMS channel (SO2).
LAYOUT = ComplianceLayout(
    enterprise_industry=np.array([0, 1]),
    line_enterprise=np.array([0, 0, 1]),
    line_is_control=np.array([False, True, False]),
    line_rated_kw=np.array([1000.0, 100.0, 500.0]),
    line_logger=np.array([0, 0, 1]),
    serve_control=np.array([1]),
    serve_production=np.array([0]),
    logger_enterprise=np.array([0, 1]),
    cems_enterprise=np.array([0]),
    cems_pollutant=np.array([0]),
)


def step(check, t, power, normal=(800.0, NAN, 400.0), cut=(0.5, 0.5), heard=(True, True), so2=10):
    last = getattr(check, "_test_last", np.full(2, NEVER))
    last = np.where(np.array(heard), t, last)
    check._test_last = last
    return check.evaluate(
        IntervalInput(
            interval=t,
            power_kw=np.array(power, float),
            normal_kw=np.array(normal, float),
            cut=np.array(cut, float),
            logger_last_valid=last,
            cems_mg_m3=np.array([so2], float),
        )
    )


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_a_line_above_its_allowed_load_is_suspected_after_k_and_confirmed_after_m(
    implementation,
):
    check = implementation(LAYOUT, RULES)
    allowed = 800 * (1 - 0.5) * 1.1  # 440 kW
    raised = {}
    for t in range(1, 8):
        result = step(check, t, (450.0, 50.0, 100.0))
        raised[t] = (result.suspected.rows.tolist(), result.confirmed.rows.tolist())
        if t == 3:
            assert result.suspected.allowed_kw[0] == pytest.approx(allowed)
            assert result.suspected.power_kw[0] == 450 and result.suspected.run[0] == 3
            assert result.suspected.cut[0] == 0.5 and result.suspected.normal_kw[0] == 800
    assert raised == {1: ([], []), 2: ([], []), 3: ([0], []), 4: ([], []), 5: ([], [0])} | {
        6: ([], []),
        7: ([], []),
    }
    result = step(check, 8, (430.0, 50.0, 100.0))  # below: the condition cleared, re-armed
    assert result.cleared.load.tolist() == [0]
    for t in range(9, 12):
        result = step(check, t, (450.0, 50.0, 100.0))
    assert result.suspected.rows.tolist() == [0]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_no_value_or_no_history_holds_the_run_and_too_little_history_is_reported(
    implementation,
):
    check = implementation(LAYOUT, RULES)
    step(check, 1, (450.0, 50.0, 100.0))
    step(check, 2, (NAN, 50.0, 100.0))  # no value: no evidence either way
    result = step(check, 3, (450.0, 50.0, 100.0), normal=(NAN, NAN, NAN))
    assert result.too_little_history.tolist() == [0, 2]  # production lines only
    assert result.suspected.rows.size == 0
    assert step(check, 4, (450.0, 50.0, 100.0)).suspected.rows.size == 0  # runs 1, 1, 1, 2
    result = step(check, 5, (450.0, 50.0, 100.0))
    assert result.suspected.rows.tolist() == [0] and result.suspected.run.tolist() == [3]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_a_level_change_keeps_counting_and_the_warning_end_resets(implementation):
    check = implementation(LAYOUT, RULES)
    step(check, 1, (450.0, 50.0, 100.0), cut=(0.5, 0.5))
    step(check, 2, (450.0, 50.0, 100.0), cut=(0.3, 0.5))  # 616 kW allowed: below, reset
    step(check, 3, (450.0, 50.0, 100.0), cut=(0.6, 0.5))  # 352 kW allowed: above again
    step(check, 4, (450.0, 50.0, 100.0), cut=(0.5, 0.5))
    result = step(check, 5, (450.0, 50.0, 100.0), cut=(0.5, 0.5))
    assert result.suspected.rows.tolist() == [0]  # runs 1, 0, 1, 2, 3
    result = step(check, 6, (450.0, 50.0, 100.0), cut=(NAN, 0.5))
    assert result.warning_ended.tolist() == [0] and result.cleared.load.size == 0
    result = step(check, 7, (450.0, 50.0, 100.0), cut=(0.5, 0.5))
    assert result.warning_started.tolist() == [0]
    for t in (8, 9):
        result = step(check, t, (450.0, 50.0, 100.0))
    assert result.suspected.rows.tolist() == [0] and result.suspected.run.tolist() == [3]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_a_control_line_stopped_while_its_production_runs(implementation):
    check = implementation(LAYOUT, RULES)
    result = step(check, 1, (300.0, 5.0, 100.0))  # stopped (5 < 10 kW), production runs
    assert result.control_stopped.rows.size == 0  # after 2 intervals
    result = step(check, 2, (300.0, 5.0, 100.0))
    alarm = result.control_stopped
    assert alarm.rows.tolist() == [1] and alarm.run.tolist() == [2]
    assert alarm.production_kw.tolist() == [300.0] and alarm.stopped_below_kw.tolist() == [10.0]
    assert step(check, 3, (300.0, 5.0, 100.0)).control_stopped.rows.size == 0  # once
    assert step(check, 4, (300.0, 50.0, 100.0)).cleared.control_stopped.tolist() == [1]
    # no control value while its logger reports counts as stopped ...
    step(check, 5, (300.0, NAN, 100.0))
    assert step(check, 6, (300.0, NAN, 100.0)).control_stopped.rows.tolist() == [1]
    # ... production stopped clears it; a production line without a value keeps its state
    assert step(check, 7, (100.0, NAN, 100.0)).cleared.control_stopped.tolist() == [1]
    step(check, 8, (NAN, 5.0, 100.0))
    assert step(check, 9, (NAN, 5.0, 100.0)).control_stopped.rows.size == 0


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_a_logger_silent_for_n_intervals_raises_once_even_never_heard(implementation):
    check = implementation(LAYOUT, RULES)
    check._test_last = np.array([NEVER, 100])  # logger 0 never heard, logger 1 heard long ago
    results = [step(check, t, (NAN, NAN, NAN), heard=(False, False)) for t in range(200, 206)]
    raised = [(r.interval, r.logger_silent.slots.tolist()) for r in results]
    assert raised == [(200, []), (201, []), (202, []), (203, [0, 1]), (204, []), (205, [])]
    alarm = results[3].logger_silent
    assert alarm.silent_for.tolist() == [4, 4]  # counted from the warning's start
    assert alarm.last_valid.tolist() == [NEVER, 100]
    # no control alarm from a silent logger's missing values (the run holds)
    assert all(r.control_stopped.rows.size == 0 for r in results)
    assert step(
        check, 206, (NAN, NAN, NAN), heard=(True, False)
    ).cleared.logger_silent.tolist() == [0]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_a_cems_concentration_above_its_limit_for_a_run(implementation):
    check = implementation(LAYOUT, RULES)
    assert step(check, 1, (NAN,) * 3, so2=60).cems_over_limit.channels.size == 0
    step(check, 2, (NAN,) * 3, so2=NAN)  # no value: holds
    result = step(check, 3, (NAN,) * 3, so2=70)
    assert result.cems_over_limit.channels.tolist() == [0]
    assert result.cems_over_limit.limit_mg_m3.tolist() == [50.0]
    assert result.cems_over_limit.concentration_mg_m3.tolist() == [70.0]
    assert step(check, 4, (NAN,) * 3, so2=50).cleared.cems_over_limit.tolist() == [0]


# -- random sequences ---------------------------------------------------------------------

CUTS = [NAN, 0.0, 0.1, 0.3, 0.5, 1.0]
POWERS = [NAN, 0.0, 4.0, 10.0, 30.0, 60.0, 100.0, 120.0, 220.0, 440.0, 900.0]
NORMALS = [NAN, 50.0, 100.0, 200.0, 400.0]
CONCENTRATIONS = [NAN, 5.0, 30.0, 50.0, 100.0, 250.0, 400.0]


@st.composite
def rules_tables(draw):
    k = draw(st.integers(1, 3))
    doc = rules_document(
        k=k,
        m=draw(st.integers(k + 1, 5)),
        control=draw(st.integers(1, 3)),
        silent=draw(st.integers(1, 4)),
        cems_run=draw(st.integers(1, 3)),
        tolerance=draw(st.sampled_from([0.0, 0.1, 0.25])),
    )
    doc["industries"]["steel"] = {"suspected_after": 1, "confirmed_after": 2, "silent_after": 2}
    return load_compliance_rules(doc, industries=["steel", "cement", "other"])


@st.composite
def layouts(draw):
    n_e = draw(st.integers(1, 4))
    industry, line_ent, control, rated, logger, slots_ent = [], [], [], [], [], []
    pairs, cems_ent, cems_pol = [], [], []
    for e in range(n_e):
        industry.append(draw(st.integers(0, 2)))
        first_slot = len(slots_ent)
        slots_ent.extend([e] * draw(st.integers(1, 2)))
        lines = draw(st.lists(st.booleans(), max_size=4))
        first = len(line_ent)
        for kind in lines:
            line_ent.append(e)
            control.append(kind)
            rated.append(draw(st.sampled_from([NAN, 0.0, 100.0, 500.0, 1000.0])))
            logger.append(draw(st.integers(first_slot, len(slots_ent) - 1)))
        rows = range(first, len(line_ent))
        for c in [r for r in rows if control[r]]:
            production = [r for r in rows if not control[r]]
            pairs += (
                [(c, p) for p in draw(st.lists(st.sampled_from(production), unique=True))]
                if production
                else []
            )
        for _ in range(draw(st.integers(0, 3))):
            cems_ent.append(e)
            cems_pol.append(draw(st.integers(0, 2)))
    draw(st.randoms()).shuffle(pairs)
    override = draw(st.booleans())
    return ComplianceLayout(
        enterprise_industry=np.array(industry),
        line_enterprise=np.array(line_ent, np.intp),
        line_is_control=np.array(control, bool),
        line_rated_kw=np.array(rated, float),
        line_logger=np.array(logger, np.intp),
        serve_control=np.array([c for c, _ in pairs], np.intp),
        serve_production=np.array([p for _, p in pairs], np.intp),
        logger_enterprise=np.array(slots_ent, np.intp),
        cems_enterprise=np.array(cems_ent, np.intp),
        cems_pollutant=np.array(cems_pol, np.intp),
        cems_limit_mg_m3=(
            np.array([draw(st.sampled_from([NAN, 30.0, 100.0])) for _ in cems_ent])
            if override
            else None
        ),
    )


@st.composite
def sequences(draw, layout: ComplianceLayout):
    n_e, n_l = layout.n_enterprises, layout.n_lines
    n_s, n_c = len(layout.logger_enterprise), len(layout.cems_enterprise)
    start = draw(st.integers(0, 10_000))
    last = np.array([draw(st.sampled_from([NEVER, start - 3])) for _ in range(n_s)], np.int64)
    cut = np.full(n_e, NAN)
    normal = np.array([draw(st.sampled_from(NORMALS)) for _ in range(n_l)])
    steps = []
    for t in range(start, start + draw(st.integers(1, 30))):
        cut = cut.copy()
        for e in range(n_e):
            if draw(st.integers(0, 4)) == 0:  # warnings and levels come and go
                cut[e] = draw(st.sampled_from(CUTS))
        if draw(st.integers(0, 5)) == 0:  # a new hour, a new normal
            normal = np.array([draw(st.sampled_from(NORMALS)) for _ in range(n_l)])
        heard = np.array([draw(st.integers(0, 3)) > 0 for _ in range(n_s)], bool)
        last = np.where(heard, t, last)
        steps.append(
            IntervalInput(
                interval=t,
                power_kw=np.array([draw(st.sampled_from(POWERS)) for _ in range(n_l)]),
                normal_kw=normal.copy(),
                cut=cut.copy(),
                logger_last_valid=last.copy(),
                cems_mg_m3=np.array([draw(st.sampled_from(CONCENTRATIONS)) for _ in range(n_c)]),
            )
        )
    return steps


def _assert_same(got, expected, where: str) -> None:
    if dataclasses.is_dataclass(got):
        for f in dataclasses.fields(got):
            _assert_same(getattr(got, f.name), getattr(expected, f.name), f"{where}.{f.name}")
    elif isinstance(got, np.ndarray):
        np.testing.assert_array_equal(got, expected, err_msg=where)
    else:
        assert got == expected, where


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_vectorised_check_equals_the_scalar_reference_over_random_intervals(data):
    rules = data.draw(rules_tables())
    layout = data.draw(layouts())
    steps = data.draw(sequences(layout))
    vectorised, reference = ComplianceCheck(layout, rules), ReferenceCheck(layout, rules)
    for interval in steps:
        got, expected = vectorised.evaluate(interval), reference.evaluate(interval)
        _assert_same(got, expected, f"interval {interval.interval}")
        state = vectorised.state
        assert state.load_run.tolist() == reference.load_run
        assert state.suspected_open.tolist() == [o >= 1 for o in reference.load_open]
        assert state.confirmed_open.tolist() == [o >= 2 for o in reference.load_open]
        assert state.running.tolist() == reference.running
        controls = vectorised.control_lines.tolist()
        assert sorted(controls) == reference.controls
        assert state.control_run.tolist() == [reference.control_run[c] for c in controls]
        assert state.control_open.tolist() == [reference.control_open[c] for c in controls]
        assert state.logger_open.tolist() == reference.logger_open
        assert state.cems_run.tolist() == reference.cems_run
        assert state.cems_open.tolist() == reference.cems_open


def test_serve_pairs_must_join_a_control_line_to_a_production_line():
    wrong = dataclasses.replace(LAYOUT, serve_control=np.array([0]), serve_production=np.array([2]))
    with pytest.raises(ValueError, match="serve pairs"):
        ComplianceCheck(wrong, RULES)


def test_pairs_from_each_lines_list_of_served_lines():
    control, production = lines_and_pairs([[], [], [0, 2], []])
    assert control.tolist() == [2, 2] and production.tolist() == [0, 2]
