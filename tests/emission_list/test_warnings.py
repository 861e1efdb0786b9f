import datetime as dt
import json
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from small_regions import SMALL_REGIONS

from emission_list.i18n import is_bilingual
from emission_list.levels import Driver, Level, Response
from emission_list.regions import RegionTree, state_code
from emission_list.warnings import (
    Forecast,
    ForecastDay,
    Rule,
    RuleBook,
    RuleSet,
    decide,
    lightly_polluted_or_better_hours,
    national_rules,
    observed_exceedance,
    response_for,
    shipped_rule_sets,
)

TZ = ZoneInfo("Asia/Shanghai")
ISSUED = dt.datetime(2026, 12, 1, 16, 0, tzinfo=TZ)
DAY1 = dt.date(2026, 12, 2)


def forecast(aqi, drivers="pm25", first=DAY1, issued=ISSUED, region="150203"):
    return Forecast.from_values(region, issued, first, aqi, drivers)


def level_of(aqi, rules=None):
    return decide(forecast(aqi), rules or national_rules()).level


# ----------------------------------------------------------------- national criteria, by hand


@pytest.mark.parametrize(
    "aqi, level, rule",
    [
        ([200], Level.NONE, None),
        ([201], Level.YELLOW, "yellow.aqi200x24h"),
        ([100, 201, 100], Level.YELLOW, "yellow.aqi200x24h"),
        ([150, 151], Level.NONE, None),
        ([151, 151], Level.YELLOW, "yellow.aqi150x48h"),
        ([151, 150, 151], Level.NONE, None),  # not consecutive
        ([201, 150, 201], Level.YELLOW, "yellow.aqi200x24h"),
        ([201, 201], Level.ORANGE, "orange.aqi200x48h"),
        ([200, 201], Level.YELLOW, "yellow.aqi150x48h"),  # 200 is > 150 but not > 200
        ([151, 151, 151], Level.ORANGE, "orange.aqi150x72h"),
        ([151, 151, 150, 151], Level.YELLOW, "yellow.aqi150x48h"),
        ([201, 200, 201], Level.ORANGE, "orange.aqi150x72h"),  # three days > 150
        ([201, 201, 201], Level.ORANGE, "orange.aqi200x48h"),  # red needs a day > 300
        ([300, 300, 300], Level.ORANGE, "orange.aqi200x48h"),  # 300 is not > 300
        ([201, 301, 201], Level.RED, "red.aqi200x72h.peak300x24h"),
        ([301, 201, 201], Level.RED, "red.aqi200x72h.peak300x24h"),
        ([301, 301, 200, 301], Level.ORANGE, "orange.aqi150x72h"),  # > 200 only 2 days; > 150 for 4
        ([500, 500], Level.ORANGE, "orange.aqi200x48h"),
        ([90, 120, 140], Level.NONE, None),
    ],
)
def test_national_rules_by_hand(aqi, level, rule):
    decision = decide(forecast(aqi), national_rules())
    assert decision.level is level
    assert decision.rule_id == (None if rule is None else f"national-2024/{rule}")


def test_decision_names_run_days_and_reason_in_both_languages():
    d = decide(forecast([120, 230, 260, 140]), national_rules())
    assert d.level is Level.ORANGE
    assert d.rule_id == "national-2024/orange.aqi200x48h"
    assert d.days == (dt.date(2026, 12, 3), dt.date(2026, 12, 4))
    assert (d.run_start, d.run_end) == (dt.date(2026, 12, 3), dt.date(2026, 12, 4))
    assert d.response is Response.FULL and d.driver is Driver.PM25
    assert is_bilingual(d.reason)
    zh, en = d.reason["zh-CN"], d.reason["en"]
    assert zh.startswith("橙色预警：预测 2026-12-03 至 2026-12-04 日 AQI > 200 连续 48 小时")
    assert "2026-12-03 AQI 230" in zh and "2026-12-04 AQI 260" in zh
    assert "（" in zh and "规则 national-2024/orange.aqi200x48h" in zh
    assert en.startswith("Orange warning: forecast daily AQI > 200 for 48 hours")
    assert "2026-12-03 AQI 230" in en and "rule national-2024/orange.aqi200x48h" in en


def test_same_level_prefers_the_run_that_starts_first():
    # orange by > 200 for Dec 3-4, and by > 150 for Dec 2-5: the warning covers the episode
    d = decide(forecast([160, 230, 260, 170, 120]), national_rules())
    assert d.rule_id == "national-2024/orange.aqi150x72h"
    assert d.days == tuple(DAY1 + dt.timedelta(days=i) for i in range(4))
    assert {m.rule.id for m in d.matches} == {
        "yellow.aqi200x24h",
        "yellow.aqi150x48h",
        "orange.aqi200x48h",
        "orange.aqi150x72h",
    }


def test_red_reason_names_the_peak_days():
    d = decide(forecast([210, 320, 250]), national_rules())
    assert d.level is Level.RED
    assert "其中 1 日 AQI > 300" in d.reason["zh-CN"]
    assert "1 day(s) of them above 300" in d.reason["en"]


def test_no_warning_reason_names_the_highest_day():
    d = decide(forecast([120, 180, 140]), national_rules())
    assert (d.level, d.response, d.rule_id, d.days, d.driver) == (Level.NONE, None, None, (), None)
    assert "180" in d.reason["en"] and "2026-12-03" in d.reason["en"]
    assert is_bilingual(d.reason)


# ----------------------------------------------------------------- drivers and responses


@pytest.mark.parametrize(
    "drivers, response, driver",
    [
        (["pm25", "pm25"], Response.FULL, Driver.PM25),
        (["o3", "o3"], Response.O3, Driver.O3),
        (["dust", "dust"], Response.ADVISORY, Driver.DUST),
        (["fire", "fire"], Response.ADVISORY, Driver.FIRE),
        (["transport", "transport"], Response.ADVISORY, Driver.TRANSPORT),
        (["dust", "pm25"], Response.FULL, Driver.PM25),
        (["o3", "dust"], Response.O3, Driver.O3),
        (["transport", "dust"], Response.ADVISORY, Driver.DUST),  # the worse day's driver
    ],
)
def test_driver_sets_the_response(drivers, response, driver):
    d = decide(forecast([220, 240], drivers), national_rules())
    assert (d.level, d.response, d.driver) == (Level.ORANGE, response, driver)


def test_only_the_runs_days_choose_the_response():
    # a PM2.5 day outside the run does not make a dust episode a full response
    d = decide(forecast([120, 230, 240], ["pm25", "dust", "dust"]), national_rules())
    assert d.response is Response.ADVISORY
    assert "no enterprise is ordered to cut" in d.reason["en"]
    assert "不要求企业减排" in d.reason["zh-CN"]


def test_o3_reason_says_only_voc_and_nox():
    d = decide(forecast([220, 240], "o3"), national_rules())
    assert "VOC and NOx" in d.reason["en"] and "VOCs 和 NOx" in d.reason["zh-CN"]


@given(st.lists(st.sampled_from(list(Driver)), min_size=1, max_size=6))
def test_response_for_any_driver_mix(drivers):
    expected = (
        Response.FULL
        if Driver.PM25 in drivers
        else Response.O3
        if Driver.O3 in drivers
        else Response.ADVISORY
    )
    assert response_for(drivers) is expected


# ----------------------------------------------------------------- rule sets as data


def test_shipped_sets_and_the_stricter_city_set():
    sets = shipped_rule_sets()
    assert set(sets) == {"national-2024", "baotou-example"}
    national, city = sets["national-2024"], sets["baotou-example"]
    assert [r.id for r in national.rules] == [
        "yellow.aqi200x24h",
        "yellow.aqi150x48h",
        "orange.aqi200x48h",
        "orange.aqi150x72h",
        "red.aqi200x72h.peak300x24h",
    ]
    assert [r.id for r in city.rules][:-1] == [r.id for r in national.rules]
    assert all(is_bilingual(r.description) for r in city.rules)
    # one day at 500 is red in the city, yellow nationally; 499 is yellow in both
    assert level_of([500], national) is Level.YELLOW
    assert level_of([500], city) is Level.RED
    assert decide(forecast([500]), city).rule_id == "baotou-example/red.aqi500x24h"
    assert level_of([499], city) is Level.YELLOW


def test_a_city_loads_its_own_set_from_a_dict():
    data = {
        "name": "city-x",
        "description": {"zh-CN": "某市标准", "en": "City X criteria"},
        "rules": [
            {
                "id": "yellow.aqi150x24h",
                "level": "yellow",
                "aqi_above": 150,
                "min_days": 1,
                "description": {"zh-CN": "日 AQI > 150", "en": "daily AQI > 150"},
            },
            {
                "id": "red.aqi200x48h.peak300x48h",
                "level": "red",
                "aqi_above": 200,
                "min_days": 2,
                "peak_above": 300,
                "peak_days": 2,
                "description": {"zh-CN": "红", "en": "red"},
            },
        ],
    }
    city = RuleSet.from_dict(json.loads(json.dumps(data)))
    assert level_of([151], city) is Level.YELLOW
    assert level_of([301, 250], city) is Level.YELLOW  # only one day > 300
    assert level_of([301, 250, 301], city) is Level.RED  # two peak days anywhere in the run
    assert RuleSet.from_dict(city.to_dict()) == city


def test_extends_replaces_a_rule_of_the_same_id():
    data = {
        "name": "stricter",
        "extends": "national-2024",
        "description": {"zh-CN": "从严", "en": "stricter"},
        "rules": [
            {
                "id": "yellow.aqi150x48h",
                "level": "yellow",
                "aqi_above": 150,
                "min_days": 1,
                "description": {"zh-CN": "日 AQI > 150", "en": "daily AQI > 150"},
            }
        ],
    }
    stricter = RuleSet.from_dict(data)
    assert len(stricter.rules) == 5
    assert level_of([151], stricter) is Level.YELLOW
    assert level_of([151], national_rules()) is Level.NONE


@pytest.mark.parametrize(
    "change, message",
    [
        ({"level": "none"}, "yellow, orange or red"),
        ({"min_days": 0}, "min_days"),
        ({"description": {"en": "only English"}}, "description"),
        ({"peak_above": 100}, "peak_above below"),
    ],
)
def test_bad_rules_are_refused(change, message):
    base = {
        "id": "r",
        "level": "yellow",
        "aqi_above": 150,
        "min_days": 1,
        "description": {"zh-CN": "规则", "en": "rule"},
    }
    with pytest.raises(ValueError, match=message):
        Rule.from_dict(base | change)


def test_rule_book_inherits_through_ancestors():
    tree = RegionTree(SMALL_REGIONS)
    book = RuleBook.from_assignments({"150200": "baotou-example"})
    city = shipped_rule_sets()["baotou-example"]
    for region in ("150200", "150203", "150203001", "150203002"):
        assert book.for_region(region, tree.ancestors(region)) is city
    assert book.for_region("150100", tree.ancestors("150100")) is national_rules()
    assert book.for_region("150000", tree.ancestors("150000")) is national_rules()
    # a district's own set beats its city's
    own = RuleBook(national_rules(), {"150200": city, "150203": national_rules()})
    assert own.for_region("150203001", tree.ancestors("150203001")) is national_rules()


# ----------------------------------------------------------------- forecasts


def test_forecast_validation():
    day = ForecastDay(DAY1, 100)
    with pytest.raises(ValueError, match="aware"):
        Forecast("150203", dt.datetime(2026, 12, 1, 16), (day,))
    with pytest.raises(ValueError, match="consecutive"):
        Forecast("150203", ISSUED, (day, ForecastDay(DAY1 + dt.timedelta(days=2), 90)))
    with pytest.raises(ValueError, match="consecutive"):
        Forecast("150203", ISSUED, (day, day))
    with pytest.raises(ValueError, match="before its issue date"):
        forecast([100], first=dt.date(2026, 11, 30))
    with pytest.raises(ValueError, match="at least one"):
        Forecast("150203", ISSUED, ())
    with pytest.raises(ValueError, match="non-negative"):
        ForecastDay(DAY1, -1)
    with pytest.raises(ValueError, match="integer"):
        ForecastDay(DAY1, 150.5)
    with pytest.raises(ValueError):
        ForecastDay(DAY1, 100, "smoke")
    # the first day may be the issue date
    assert forecast([100], first=dt.date(2026, 12, 1)).days[0].aqi == 100


# ----------------------------------------------------------------- clean hours for lifting


@pytest.mark.parametrize(
    "issued_hour, first, aqi, hours",
    [
        (16, dt.date(2026, 12, 1), [140, 100, 180], 32.0),  # 8 h today + 24 h
        (12, dt.date(2026, 12, 1), [140, 100, 180], 36.0),
        (16, dt.date(2026, 12, 1), [140, 100, 90], 56.0),
        (16, dt.date(2026, 12, 1), [151, 100, 90], 0.0),
        (16, dt.date(2026, 12, 1), [150, 150], 32.0),  # 150 is lightly polluted
        (16, dt.date(2026, 12, 2), [100, 120, 160], 48.0),  # forecast starts tomorrow
    ],
)
def test_lightly_polluted_or_better_hours(issued_hour, first, aqi, hours):
    at = dt.datetime(2026, 12, 1, issued_hour, tzinfo=TZ)
    f = forecast(aqi, first=first, issued=at)
    assert lightly_polluted_or_better_hours(f, at) == hours


def test_clean_hours_use_local_days_whatever_the_offset_of_at():
    at_utc = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)  # 16:00 in Baotou
    f = forecast([140, 100, 180], first=dt.date(2026, 12, 1), issued=at_utc)
    assert lightly_polluted_or_better_hours(f, at_utc) == 32.0
    assert lightly_polluted_or_better_hours(f, dt.datetime(2026, 12, 5, tzinfo=TZ)) == 0.0


def _clean_hours_reference(f: Forecast, at: dt.datetime) -> float:
    """Walk hour by hour from the start of the hour at ``at`` (issue times on the hour)."""
    by_day = {d.date: d.aqi for d in f.days}
    t, hours = at, 0.0
    if at.astimezone(TZ).date() < f.days[0].date:
        t = dt.datetime.combine(f.days[0].date, dt.time(0), tzinfo=TZ)
    while by_day.get(t.astimezone(TZ).date(), 999) <= 150:
        t += dt.timedelta(hours=1)
        hours += 1
    return hours


@given(
    st.lists(st.integers(0, 250), min_size=1, max_size=6),
    st.integers(0, 23),
    st.integers(0, 1),
)
def test_clean_hours_match_an_hourly_walk(aqi, hour, offset_days):
    at = dt.datetime(2026, 12, 1, hour, tzinfo=TZ)
    f = forecast(aqi, first=dt.date(2026, 12, 1 + offset_days), issued=at)
    assert lightly_polluted_or_better_hours(f, at) == _clean_hours_reference(f, at)


# ----------------------------------------------------------------- observed exceedance


def test_observed_exceedance_flags_missed_forecasts():
    aqi = np.array([250.0, 201.0, 200.0, np.nan, 320.0])
    own = np.array([0, 0, 0, 0, state_code(Level.ORANGE)])
    assert observed_exceedance(aqi, own).tolist() == [True, True, False, False, False]
    assert observed_exceedance(aqi, own, threshold=150).tolist() == [True, True, True, False, False]


def test_observed_exceedance_counts_an_ancestors_warning():
    tree = RegionTree(
        [("150200", None), ("150203", "150200"), ("150205", "150200"), ("150100", None)]
    )
    # preorder: 150100, 150200, 150203, 150205; the city 150200 is under yellow
    own = np.zeros(4, dtype=np.int8)
    own[tree.index["150200"]] = state_code(Level.YELLOW, Response.FULL)
    aqi = np.full(4, 260.0)
    flagged = observed_exceedance(aqi, own, tree=tree)
    assert [r for r, f in zip(tree.ids, flagged, strict=True) if f] == ["150100"]


# ----------------------------------------------------------------- properties


def _fires_brute_force(rule, aqi):
    n = len(aqi)
    for i in range(n):
        for j in range(i + rule.min_days, n + 1):
            window = aqi[i:j]
            if all(a > rule.aqi_above for a in window) and (
                rule.peak_above is None
                or sum(a > rule.peak_above for a in window) >= rule.peak_days
            ):
                return True
    return False


def _level_brute_force(rules, aqi):
    return max((r.level for r in rules.rules if _fires_brute_force(r, aqi)), default=Level.NONE)


AQI_DAYS = st.lists(
    st.one_of(st.integers(0, 520), st.sampled_from([150, 151, 200, 201, 300, 301, 499, 500])),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(AQI_DAYS, st.sampled_from(["national-2024", "baotou-example"]))
def test_decide_matches_a_brute_force_evaluation(aqi, name):
    rules = shipped_rule_sets()[name]
    d = decide(forecast(aqi), rules)
    assert d.level is _level_brute_force(rules, aqi)
    if d.level is Level.NONE:
        assert d.days == () and d.rule_id is None
        return
    rule = next(r for r in rules.rules if d.rule_id == f"{name}/{r.id}")
    assert rule.level is d.level
    i = (d.run_start - DAY1).days
    j = i + len(d.days)
    run = aqi[i:j]
    # the days are a maximal run on which the named rule holds
    assert _fires_brute_force(rule, run)
    assert i == 0 or aqi[i - 1] <= rule.aqi_above
    assert j == len(aqi) or aqi[j] <= rule.aqi_above
    assert d.days == tuple(DAY1 + dt.timedelta(days=k) for k in range(i, j))


@given(AQI_DAYS, st.data())
def test_level_is_monotone_in_any_days_aqi(aqi, data):
    k = data.draw(st.integers(0, len(aqi) - 1))
    bump = data.draw(st.integers(1, 300))
    higher = list(aqi)
    higher[k] += bump
    for rules in shipped_rule_sets().values():
        assert level_of(higher, rules) >= level_of(aqi, rules)
