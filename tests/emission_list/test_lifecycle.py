import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from small_regions import SMALL_REGIONS

from emission_list.i18n import is_bilingual, text
from emission_list.levels import Level, Response
from emission_list.lifecycle import (
    Alert,
    LifecycleSettings,
    RegionAlertState,
    active_at,
    apply_forecast,
    apply_joint,
    apply_manual,
    approve,
    effective_levels,
    expire,
    own_levels,
    scheduled,
)
from emission_list.regions import RegionTree, decode_state, state_code
from emission_list.warnings import Forecast, RuleSet, decide, national_rules, response_for

TZ = ZoneInfo("Asia/Shanghai")
REGION = "150203"


def at(day, hour=16, minute=0):
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=TZ)


def midnight(day):
    return at(day, 0)


def step(state, issued, aqi, first=None, drivers="pm25", cfg=None, rules=None, region=REGION):
    first = first or issued.astimezone(TZ).date()
    f = Forecast.from_values(region, issued, first, aqi, drivers)
    return apply_forecast(state, decide(f, rules or national_rules()), f, cfg)


def kinds(events):
    return [e.kind for e in events]


def level_at(state, when):
    return active_at(state, when)[0]


EMPTY = RegionAlertState()


# ----------------------------------------------------------------- issue, upgrade


def test_issue_ahead_is_scheduled_then_active():
    # issued Dec 1 16:00; orange forecast for Dec 3-4
    s, ev = step(EMPTY, at(1), [120, 230, 240, 130], first=dt.date(2026, 12, 2))
    assert kinds(ev) == ["issue"]
    alert = s.current
    assert (alert.level, alert.response, alert.status) == (Level.ORANGE, Response.FULL, "active")
    assert (alert.starts_at, alert.ends_at) == (midnight(3), midnight(5))
    assert alert.issued_at == at(1)
    assert alert.rule_id == "national-2024/orange.aqi200x48h"
    assert alert.forecast_days == (dt.date(2026, 12, 3), dt.date(2026, 12, 4))
    assert scheduled(s, at(2, 12)) == alert
    assert active_at(s, at(2, 12)) == (Level.NONE, None, None)
    assert active_at(s, at(3, 0)) == (Level.ORANGE, Response.FULL, alert)
    assert scheduled(s, at(3, 0)) is None
    assert level_at(s, at(4, 23, 59)) is Level.ORANGE
    assert level_at(s, midnight(5)) is Level.NONE
    assert "issued 32 hours ahead" in ev[0].reason["en"] and "提前 32 小时" in ev[0].reason["zh-CN"]
    assert is_bilingual(ev[0].reason) and ev[0].previous_level is Level.NONE
    assert s.history == tuple(ev)


def test_issue_for_today_starts_at_the_issue_time():
    s, ev = step(EMPTY, at(1, 9), [210, 120])
    assert kinds(ev) == ["issue"]
    assert (s.current.starts_at, s.current.ends_at) == (at(1, 9), midnight(2))
    assert level_at(s, at(1, 9)) is Level.YELLOW


def test_upgrade_at_once():
    s, _ = step(EMPTY, at(1, 10), [160, 170, 120])  # yellow, Dec 1-2
    assert level_at(s, at(1, 12)) is Level.YELLOW
    s, ev = step(s, at(1, 16), [160, 230, 250, 120])  # orange (> 150 for 72 h) from today
    assert kinds(ev) == ["upgrade"]
    assert ev[0].previous_level is Level.YELLOW
    assert s.current.starts_at == at(1, 16) and s.current.ends_at == midnight(4)
    assert level_at(s, at(1, 16)) is Level.ORANGE
    assert ev[0].replaced.status == "superseded" and ev[0].replaced.ends_at == at(1, 16)
    assert "Upgraded from yellow to orange" in ev[0].reason["en"]


def test_upgrade_for_a_later_day_keeps_the_level_in_force_until_then():
    s, _ = step(EMPTY, at(1, 10), [160, 170, 120])  # yellow in force until Dec 3 00:00
    s, ev = step(s, at(1, 16), [140, 230, 250, 120])  # orange for Dec 2-3
    assert kinds(ev) == ["upgrade"]
    assert s.current.starts_at == midnight(2)
    assert level_at(s, at(1, 20)) is Level.YELLOW
    assert level_at(s, at(2, 0)) is Level.ORANGE
    assert ev[0].replaced.ends_at == midnight(2)
    assert scheduled(s, at(1, 20)) == s.current


# ----------------------------------------------------------------- fluctuation, downgrade


def test_fluctuating_forecasts_hold_the_higher_level_then_two_lower_downgrade():
    s, _ = step(EMPTY, at(1, 8), [230, 240, 250, 160, 120])  # orange
    assert s.current.level is Level.ORANGE
    s, ev = step(s, at(1, 16), [210, 140, 210, 140, 100])  # yellow: lower, first time
    assert kinds(ev) == ["hold"] and s.lower_streak == 1
    assert level_at(s, at(1, 17)) is Level.ORANGE
    assert "the higher level holds" in ev[0].reason["en"]
    assert "1 of 2" in ev[0].reason["en"] and "维持较高级别" in ev[0].reason["zh-CN"]
    s, ev = step(s, at(2, 8), [230, 240, 160, 120])  # orange again: streak reset
    assert kinds(ev) == ["hold"] and s.lower_streak == 0
    assert s.current.ends_at == midnight(5)  # refreshed to the new run (Dec 2-4)
    s, ev = step(s, at(2, 16), [210, 140, 100])  # yellow
    assert kinds(ev) == ["hold"] and s.lower_streak == 1
    s, ev = step(s, at(3, 8), [210, 120])  # yellow again: downgrade now
    assert kinds(ev) == ["downgrade"]
    assert ev[0].previous_level is Level.ORANGE
    assert (s.current.level, s.current.starts_at, s.current.ends_at) == (
        Level.YELLOW,
        at(3, 8),
        midnight(4),
    )
    assert level_at(s, at(3, 8)) is Level.YELLOW
    assert (ev[0].replaced.level, ev[0].replaced.status) == (Level.ORANGE, "superseded")
    assert ev[0].replaced.ends_at == at(3, 8)  # the orange was in force until now
    assert s.lower_streak == 0
    assert "2 successive forecasts below orange" in ev[0].reason["en"]


def test_downgrade_goes_to_the_highest_level_of_the_lower_streak():
    s, _ = step(EMPTY, at(1, 8), [320, 330, 310, 250, 220])  # red
    assert s.current.level is Level.RED
    s, _ = step(s, at(1, 16), [230, 240, 250, 150])  # orange to Dec 4 00:00
    s, ev = step(s, at(2, 8), [210, 140])  # yellow
    assert kinds(ev) == ["downgrade"] and s.current.level is Level.ORANGE
    s, ev = step(s, at(2, 16), [210, 140])
    assert kinds(ev) == ["hold"]
    s, ev = step(s, at(3, 8), [210, 140])
    assert kinds(ev) == ["downgrade"] and s.current.level is Level.YELLOW


def test_a_response_change_at_the_same_level_is_ordered_by_state_code():
    s, _ = step(EMPTY, at(1, 8), [230, 240], drivers="dust")  # orange, advisory
    assert s.current.response is Response.ADVISORY
    s, ev = step(s, at(1, 16), [230, 240], drivers="pm25")  # orange, full: higher code
    assert kinds(ev) == ["upgrade"] and s.current.response is Response.FULL


def test_downgrade_confirmations_is_a_setting():
    cfg = LifecycleSettings(downgrade_confirmations=1)
    s, _ = step(EMPTY, at(1, 8), [230, 240, 250], cfg=cfg)
    s, ev = step(s, at(1, 16), [210, 140], cfg=cfg)
    assert kinds(ev) == ["downgrade"]


# ----------------------------------------------------------------- lift, expiry


def test_lift_after_36_hours_clean_and_not_after_32():
    s, _ = step(EMPTY, at(1, 8), [230, 240, 250, 160])  # orange to Dec 5 00:00
    s, ev = step(s, at(3, 16), [140, 100, 180])  # 8 + 24 = 32 h: hold
    assert kinds(ev) == ["hold"]
    assert "only 32 hours (36 hours needed to lift)" in ev[0].reason["en"]
    assert level_at(s, at(3, 17)) is Level.ORANGE
    s, ev = step(s, at(4, 12), [140, 100, 180])  # 12 + 24 = 36 h: lift
    assert kinds(ev) == ["lift"]
    lifted = ev[0].alert
    assert (lifted.status, lifted.ends_at, lifted.level) == ("lifted", at(4, 12), Level.ORANGE)
    assert s.current is None and level_at(s, at(4, 12)) is Level.NONE
    assert level_at(s, at(4, 11)) is Level.NONE  # state is now; history keeps the past
    assert "for 36 hours" in ev[0].reason["en"] and "解除橙色预警" in ev[0].reason["zh-CN"]


def test_a_none_forecast_without_a_lower_level_holds_until_expiry():
    s, _ = step(EMPTY, at(1, 8), [230, 240])  # orange to Dec 3 00:00
    s, ev = step(s, at(2, 16), [160, 140, 160])  # none, not clean now, no lower level: hold
    assert kinds(ev) == ["hold"] and s.current.level is Level.ORANGE
    assert s.lower_streak == 1 and s.downgrade_to is None
    s, ev = step(s, at(2, 20), [160, 140, 160])  # a second one cannot downgrade to nothing
    assert kinds(ev) == ["hold"] and s.current.level is Level.ORANGE
    s, ev = step(s, at(3, 8), [140, 160, 100])  # the alert ended at 00:00: it expires only
    assert kinds(ev) == ["expire"]
    assert ev[0].alert.status == "expired" and ev[0].alert.ends_at == midnight(3)
    assert s.current is None


def test_expiry_then_a_new_episode_issues_again():
    s, _ = step(EMPTY, at(1, 8), [210, 120])  # yellow Dec 1
    s, ev = step(s, at(2, 8), [230, 240])
    assert kinds(ev) == ["expire", "issue"]
    assert s.current.level is Level.ORANGE and s.current.starts_at == at(2, 8)


def test_expire_on_a_clock_tick():
    s, _ = step(EMPTY, at(1, 8), [210, 120])
    same, ev = expire(s, at(1, 23))
    assert ev == [] and same.current == s.current
    s, ev = expire(s, midnight(2))
    assert kinds(ev) == ["expire"] and s.current is None


def test_older_or_repeated_forecasts_are_ignored():
    s, _ = step(EMPTY, at(1, 8), [230, 240])
    again, ev = step(s, at(1, 8), [100, 100])
    assert ev == [] and again == s
    older, ev = step(s, at(1, 7), [100, 100])
    assert ev == [] and older == s


def test_a_forecast_for_another_region_is_refused():
    s, _ = step(EMPTY, at(1, 8), [230, 240])
    with pytest.raises(ValueError, match="150205"):
        step(s, at(1, 16), [230, 240], region="150205")


# ----------------------------------------------------------------- by hand, joint

REASON = text("市指挥部通知", "city command notice")


def test_manual_issue_and_lift():
    s = RegionAlertState(region=REGION)
    s, ev = apply_manual(s, Level.ORANGE, Response.FULL, REASON, at(1, 16))
    assert kinds(ev) == ["issue"]
    alert = s.current
    assert (alert.source, alert.starts_at, alert.ends_at) == ("manual", at(1, 16), midnight(3))
    assert "市指挥部通知" in ev[0].reason["zh-CN"] and "city command notice" in ev[0].reason["en"]
    assert level_at(s, at(1, 16)) is Level.ORANGE
    # a clean forecast does not lift a warning issued by hand
    s, ev = step(s, at(2, 8), [90, 80, 70])
    assert kinds(ev) == ["hold"] and "an operator must" in ev[0].reason["en"]
    # nor does a lower one downgrade it; a higher one upgrades it
    s, ev = step(s, at(2, 10), [210, 90])
    assert kinds(ev) == ["hold"] and s.current.source == "manual"
    s, ev = apply_manual(s, Level.NONE, None, REASON, at(2, 12))
    assert kinds(ev) == ["lift"] and s.current is None
    assert ev[0].alert.ends_at == at(2, 12)


def test_manual_warning_is_upgraded_by_a_forecast_and_takes_explicit_ends():
    s = RegionAlertState(region=REGION)
    s, _ = apply_manual(s, "yellow", "full", REASON, at(1, 16), ends_at=midnight(5))
    assert s.current.ends_at == midnight(5)
    s, ev = step(s, at(2, 8), [230, 240, 100])
    assert kinds(ev) == ["upgrade"] and s.current.source == "forecast"


def test_forecasts_may_override_manual_when_set():
    cfg = LifecycleSettings(forecasts_override_manual=True)
    s = RegionAlertState(region=REGION)
    s, _ = apply_manual(s, Level.ORANGE, Response.FULL, REASON, at(1, 16), settings=cfg)
    s, ev = step(s, at(2, 8), [90, 80, 70], cfg=cfg)
    assert kinds(ev) == ["lift"]


def test_manual_refuses_bad_input():
    with pytest.raises(ValueError, match="region"):
        apply_manual(RegionAlertState(), Level.RED, None, REASON, at(1))
    with pytest.raises(ValueError, match="source"):
        apply_manual(RegionAlertState(region=REGION), Level.RED, None, REASON, at(1), "forecast")
    with pytest.raises(ValueError, match="reason"):
        apply_manual(RegionAlertState(region=REGION), Level.RED, None, {"en": "x"}, at(1))
    with pytest.raises(ValueError, match="after"):
        apply_manual(RegionAlertState(region=REGION), Level.RED, None, REASON, at(2), ends_at=at(1))


# ----------------------------------------------------------------- sign-off

SIGNOFF = LifecycleSettings(requires_signoff=True)


def test_signoff_proposes_then_approve_issues_with_the_wait_recorded():
    s, ev = step(EMPTY, at(1, 16), [120, 230, 240], cfg=SIGNOFF)
    assert kinds(ev) == ["propose"]
    assert s.current is None and s.proposal.status == "proposed"
    assert s.proposal.proposed_at == at(1, 16)
    assert level_at(s, at(2, 12)) is Level.NONE and scheduled(s, at(1, 17)) is None
    assert "Awaiting sign-off (issue orange)" in ev[0].reason["en"]
    s, ev = approve(s, "deputy mayor", at(1, 17, 30), SIGNOFF)
    assert kinds(ev) == ["approve", "issue"]
    assert ev[0].wait == dt.timedelta(minutes=90)
    assert "after 90 minutes" in ev[0].reason["en"] and "over" not in ev[0].reason["en"]
    alert = s.current
    assert (alert.approved_by, alert.approved_at, alert.proposed_at) == (
        "deputy mayor",
        at(1, 17, 30),
        at(1, 16),
    )
    assert alert.signoff_wait == dt.timedelta(minutes=90)
    assert alert.issued_at == at(1, 17, 30) and alert.starts_at == midnight(2)
    assert s.proposal is None


def test_signoff_late_approval_is_flagged_and_starts_at_approval():
    s, _ = step(EMPTY, at(1, 16), [230, 240], cfg=SIGNOFF)
    s, ev = approve(s, "mayor", at(1, 19), SIGNOFF)
    assert "over the 2-hour target" in ev[0].reason["en"]
    assert s.current.starts_at == at(1, 19)


def test_a_newer_forecast_replaces_or_withdraws_a_proposal():
    s, _ = step(EMPTY, at(1, 8), [230, 240], cfg=SIGNOFF)
    s, ev = step(s, at(1, 10), [320, 330, 310], cfg=SIGNOFF)
    assert kinds(ev) == ["propose"]
    assert ev[0].replaced.status == "superseded" and ev[0].replaced.level is Level.ORANGE
    assert s.proposal.level is Level.RED
    s, ev = step(s, at(1, 12), [100, 90], cfg=SIGNOFF)
    assert kinds(ev) == ["hold"] and s.proposal is None
    assert ev[0].replaced.level is Level.RED and "withdrawn" in ev[0].reason["en"]
    with pytest.raises(ValueError, match="no proposal"):
        approve(s, "mayor", at(1, 13), SIGNOFF)


def test_signoff_applies_to_lift_and_downgrade_too():
    s, _ = step(EMPTY, at(1, 8), [230, 240, 250, 250], cfg=SIGNOFF)
    s, _ = approve(s, "deputy mayor", at(1, 9), SIGNOFF)
    s, ev = step(s, at(1, 16), [210, 140], cfg=SIGNOFF)
    assert kinds(ev) == ["hold"]
    s, ev = step(s, at(2, 8), [210, 140], cfg=SIGNOFF)
    assert kinds(ev) == ["propose"] and "downgrade to yellow" in ev[0].reason["en"]
    assert level_at(s, at(2, 9)) is Level.ORANGE
    s, ev = approve(s, "deputy mayor", at(2, 9), SIGNOFF)
    assert kinds(ev) == ["approve", "downgrade"] and s.current.starts_at == at(2, 9)
    s, ev = step(s, at(2, 10), [90, 80, 70], cfg=SIGNOFF)
    assert kinds(ev) == ["propose"] and "lift" in ev[0].reason["en"]
    s, ev = approve(s, "deputy mayor", at(2, 11), SIGNOFF)
    assert kinds(ev) == ["approve", "lift"] and s.current is None


def test_a_proposal_whose_episode_ended_expires_unsigned():
    s, _ = step(EMPTY, at(1, 8), [230, 240], cfg=SIGNOFF)
    s, ev = approve(s, "mayor", midnight(3), SIGNOFF)
    assert kinds(ev) == ["expire"] and s.proposal is None and s.current is None


# ----------------------------------------------------------------- region tree reach

TREE = RegionTree(SMALL_REGIONS)


def _codes(codes):
    return {r: decode_state(int(c))[0] for r, c in zip(TREE.ids, codes, strict=True)}


def test_a_city_warning_reaches_its_districts():
    city, _ = step(EMPTY, at(1, 8), [230, 240], region="150200")
    states = {"150200": city}
    levels = _codes(effective_levels(TREE, states, at(1, 12)))
    assert levels == {
        "150000": Level.NONE,
        "150100": Level.NONE,
        "150200": Level.ORANGE,
        "150203": Level.ORANGE,
        "150203001": Level.ORANGE,
        "150203002": Level.ORANGE,
    }
    assert own_levels(TREE, states, at(1, 12)).dtype == np.int8
    assert effective_levels(TREE, states, midnight(3)).tolist() == [0] * 6


def test_a_districts_own_higher_level_beats_a_lower_city_level():
    city, _ = step(EMPTY, at(1, 8), [210, 120], region="150200")  # yellow
    district, _ = step(EMPTY, at(1, 8), [320, 330, 310], region="150203")  # red
    levels = _codes(effective_levels(TREE, {"150200": city, "150203": district}, at(1, 12)))
    assert levels["150200"] is Level.YELLOW
    assert levels["150203"] is levels["150203001"] is Level.RED
    with pytest.raises(ValueError, match="outside"):
        effective_levels(TREE, {"159999": city}, at(1, 12))


def test_joint_warning_at_the_common_ancestor_or_to_each_city():
    states, ev = apply_joint(
        {}, ["150200", "150100"], Level.ORANGE, "full", REASON, at(1, 16), tree=TREE
    )
    assert list(states) == ["150000"] and kinds(ev) == ["issue"]
    assert states["150000"].current.source == "joint"
    assert "joint regional warning" in ev[0].reason["en"]
    codes = effective_levels(TREE, states, at(1, 17))
    assert set(codes.tolist()) == {state_code(Level.ORANGE, Response.FULL)}
    states, ev = apply_joint({}, ["150200", "150100"], Level.YELLOW, "full", REASON, at(1, 16))
    assert sorted(states) == ["150100", "150200"] and kinds(ev) == ["issue", "issue"]
    levels = _codes(effective_levels(TREE, states, at(1, 17)))
    assert levels["150000"] is Level.NONE and levels["150203002"] is Level.YELLOW


def test_alert_validation():
    with pytest.raises(ValueError, match="aware"):
        Alert(REGION, Level.RED, Response.FULL, dt.datetime(2026, 12, 1), at(2))
    with pytest.raises(ValueError, match="response"):
        Alert(REGION, Level.RED, None, at(1), at(2))
    with pytest.raises(ValueError, match="source"):
        Alert(REGION, Level.RED, Response.FULL, at(1), at(2), source="rumour")


# ----------------------------------------------------------------- property: a plain state machine

# Levels by one-day thresholds so every forecast's run covers its whole horizon.
SIMPLE = RuleSet.from_dict(
    {
        "name": "simple",
        "description": {"zh-CN": "测试", "en": "test"},
        "rules": [
            {"id": f"{name}.{above}", "level": name, "aqi_above": above, "min_days": 1,
             "description": {"zh-CN": name, "en": name}}
            for name, above in (("yellow", 100), ("orange", 200), ("red", 300))
        ],
    }
)  # fmt: skip
AQI_OF = {"clean": 50, "murky": 90, Level.YELLOW: 150, Level.ORANGE: 250, Level.RED: 350}


def _reference(steps, needed):
    """The lifecycle on integers: current code, lower streak and downgrade target."""
    code, streak, target, out = 0, 0, 0, []
    for kind, new in steps:
        if kind in ("clean", "murky"):
            if code and kind == "clean":
                code, streak, target = 0, 0, 0
            elif code:
                streak += 1
                if streak >= needed and target:
                    code, streak, target = target, 0, 0
        elif code == 0 or new >= code:
            code, streak, target = new, 0, 0
        else:
            streak, target = streak + 1, max(target, new)
            if streak >= needed:
                code, streak, target = target, 0, 0
        out.append(code)
    return out


STEP = st.one_of(
    st.sampled_from(["clean", "murky"]),
    st.tuples(
        st.sampled_from([Level.YELLOW, Level.ORANGE, Level.RED]),
        st.sampled_from(["pm25", "o3", "dust"]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(STEP, min_size=1, max_size=12), st.integers(1, 3), st.booleans())
@example(
    [(Level.RED, "pm25"), (Level.ORANGE, "pm25"), (Level.YELLOW, "pm25"), "murky", "clean"],
    2,
    False,
)
def test_lifecycle_matches_a_plain_state_machine(steps, needed, signoff):
    cfg = LifecycleSettings(
        downgrade_confirmations=needed, lift_below_aqi=80, requires_signoff=signoff
    )
    expected_steps, s = [], EMPTY
    got = []
    for i, item in enumerate(steps):
        issued = at(1, 0) + dt.timedelta(hours=6 * i)
        if isinstance(item, str):
            aqi, drivers = [AQI_OF[item]] * 6, "pm25"
            expected_steps.append((item, 0))
        else:
            level, drivers = item
            aqi = [AQI_OF[level]] * 6
            expected_steps.append(("level", state_code(level, response_for([drivers]))))
        s, events = step(s, issued, aqi, drivers=drivers, cfg=cfg, rules=SIMPLE)
        if signoff and s.proposal is not None:
            s, more = approve(s, "mayor", issued + dt.timedelta(minutes=30), cfg)
            events = events + more
        assert all(is_bilingual(e.reason) for e in events)
        now = issued + dt.timedelta(minutes=30)
        got.append(state_code(*active_at(s, now)[:2]))
        if s.bridge is not None:
            assert s.bridge.ends_at <= s.current.starts_at
    assert got == _reference(expected_steps, needed)
