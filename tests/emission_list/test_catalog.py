"""The shipped catalog of measures: the domain's cut table, industry rules, and loading."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from emission_list.catalog import (
    GRADES,
    Action,
    Catalog,
    CatalogError,
    FrozenDict,
    Measure,
    default_catalog,
)
from emission_list.i18n import is_bilingual
from emission_list.levels import LIST_POLLUTANTS, WARNING_LEVELS, Level

CATALOG = default_catalog()
DATA = CATALOG.to_dict()
INDUSTRY_CODES = [
    "steel",
    "coking",
    "ferroalloy",
    "carbon",
    "rare_earth",
    "silicon_pv",
    "casting",
    "equipment",
    "power",
    "heating",
    "cement",
    "lime",
    "brick",
    "coating",
    "printing",
    "chemicals",
    "other",
]
VOC_USERS = ("coating", "printing", "chemicals", "equipment")

# The domain brief's production cut by grade at yellow / orange / red (B- and other: our choice).
CUT_TABLE = {
    "A+": (0, 0, 0),
    "A": (0, 0, 0),
    "leading": (0, 0, 0),
    "B": (0.1, 0.2, 0.3),
    "B-": (0.15, 0.25, 0.4),
    "C": (0.2, 0.3, 0.5),
    "D": (0.3, 0.5, 1.0),
    "other": (0.2, 0.3, 0.5),
}


def every_measure():
    """(industry, grade, guaranteed_supply, level, measure) for every grade each industry uses."""
    for code, industry in CATALOG.industries.items():
        for grade in industry.grades:
            for supply in (False, True):
                for level in WARNING_LEVELS:
                    yield code, grade, supply, level, CATALOG.measure(code, grade, supply, level)


def test_grades_and_industries_are_the_agreed_codes():
    assert GRADES == ("A+", "A", "leading", "B", "B-", "C", "D", "other")
    assert CATALOG.grades == GRADES
    assert list(CATALOG.industries) == INDUSTRY_CODES
    for code, industry in CATALOG.industries.items():
        assert industry.code == code
        assert is_bilingual(industry.name)
        assert industry.key_industry is (code != "other")
    assert CATALOG.industries["other"].grades == ("other",)
    assert "other" not in {
        g for i in CATALOG.industries.values() if i.key_industry for g in i.grades
    }
    for grade in GRADES:
        assert is_bilingual(CATALOG.grade_name(grade))
    assert is_bilingual(CATALOG.guaranteed_supply_name)


def test_every_lowest_grade_is_one_of_the_industrys_grades_and_the_worst():
    for industry in CATALOG.industries.values():
        assert industry.lowest_grade in industry.grades
        assert industry.lowest_grade == industry.grades[-1]
        ranks = [GRADES.index(g) for g in industry.grades]
        assert ranks == sorted(ranks), industry.code  # best first, in catalog order


@pytest.mark.parametrize("grade", GRADES)
def test_production_cut_table_of_the_domain(grade):
    used_by = [c for c, i in CATALOG.industries.items() if grade in i.grades]
    assert used_by, f"no industry uses {grade}"
    for code in used_by:
        for level, expected in zip(WARNING_LEVELS, CUT_TABLE[grade], strict=True):
            assert CATALOG.measure(code, grade, False, level).production_cut == expected
            assert CATALOG.measure(code, grade, True, level).production_cut == 0.0


def test_a_grades_never_cut_production():
    for _code, grade, _supply, _level, measure in every_measure():
        if grade in ("A+", "A", "leading"):
            assert measure.production_cut == 0.0


def test_d_at_red_stops_the_plant():
    for code, industry in CATALOG.industries.items():
        if "D" not in industry.grades:
            continue
        measure = CATALOG.measure(code, "D", False, Level.RED)
        assert measure.production_cut == 1.0
        assert measure.fractions == (1.0, 1.0, 1.0, 1.0)
        assert "plant_stop" in [a.code for a in measure.actions]
        # Production actions use their "stop" wording, no percentage left.
        assert not any("%" in a.text["en"] for a in measure.actions)


def test_guaranteed_supply_has_no_cut_but_emission_actions():
    for code, _grade, supply, level, measure in every_measure():
        if not supply:
            continue
        assert measure.production_cut == 0.0
        emission_codes = DATA["industries"][code]["emission_actions"][level.label]
        assert [a.code for a in measure.actions] == emission_codes
        assert len(measure.actions) >= 2
        # What the emission measures cut is what the actions say they reduce.
        reduced = {p for a in measure.actions for p in a.pollutants}
        for p, f in zip(LIST_POLLUTANTS, measure.fractions, strict=True):
            if f > 0:
                assert p in reduced, (code, level, p)


def test_heating_takes_only_nox_and_pm_emission_measures():
    for grade in CATALOG.industries["heating"].grades:
        for level in WARNING_LEVELS:
            m = CATALOG.measure("heating", grade, True, level)
            so2, nox, pm, vocs = m.fractions
            assert so2 == 0 and vocs == 0 and nox > 0 and pm > 0
            assert {p for a in m.actions for p in a.pollutants} <= {"nox", "pm"}


def test_steel_cuts_pm_from_material_handling_at_every_level():
    for grade in CATALOG.industries["steel"].grades:
        for supply in (False, True):
            for level in WARNING_LEVELS:
                m = CATALOG.measure("steel", grade, supply, level)
                assert m.fractions[2] >= 0.2
                assert m.fractions[2] > m.production_cut or m.production_cut == 1.0
    assert CATALOG.measure("steel", "A", False, Level.YELLOW).fractions[2] == 0.2
    # By hand, B at yellow cuts 10 %; floors NOx 0.03, PM 0.2 act on the 90 % still produced:
    # NOx 1 - 0.9 * 0.97 = 0.127, PM 1 - 0.9 * 0.8 = 0.28.
    assert CATALOG.measure("steel", "B", False, Level.YELLOW).fractions == (0.1, 0.127, 0.28, 0.1)
    # B at red: 30 % cut, PM floor 0.3: 1 - 0.7 * 0.7 = 0.51.
    assert CATALOG.measure("steel", "B", False, Level.RED).fractions[2] == 0.51


def test_voc_users_cut_vocs_more_than_production():
    for code in VOC_USERS:
        for grade in CATALOG.industries[code].grades:
            for level in WARNING_LEVELS:
                m = CATALOG.measure(code, grade, False, level)
                vocs = m.fractions[3]
                assert vocs > m.production_cut or vocs == m.production_cut == 1.0, (code, grade)
                assert vocs > m.fractions[0] or vocs == 1.0
    # By hand: coating, factor 1.5, floors 0.1/0.2/0.3.
    # B yellow: 1 - (1 - 0.15) * 0.9 = 0.235; C red: 1 - (1 - 0.75) * 0.7 = 0.825; A red: 0.3.
    assert CATALOG.measure("coating", "B", False, Level.YELLOW).fractions[3] == 0.235
    assert CATALOG.measure("coating", "C", False, Level.RED).fractions[3] == 0.825
    assert CATALOG.measure("coating", "A", False, Level.RED).fractions[3] == 0.3


def test_fractions_follow_the_cut_where_no_rule_applies():
    # "other" has only the catalog-wide transport floors: NOx 0.03 and PM 0.05 at orange.
    m = CATALOG.measure("other", "other", False, Level.ORANGE)
    assert m.production_cut == 0.3
    assert m.fractions == (0.3, 0.321, 0.335, 0.3)  # 1 - 0.7 * 0.97, 1 - 0.7 * 0.95
    assert CATALOG.fractions_for("other", 0.3, Level.ORANGE) == m.fractions
    assert CATALOG.fractions_for("other", 0.0, Level.ORANGE) == (0.0, 0.03, 0.05, 0.0)


def test_every_action_text_is_bilingual_with_known_pollutants():
    for _code, _grade, _supply, _level, measure in every_measure():
        for action in measure.actions:
            assert is_bilingual(action.text), action.code
            assert "{cut}" not in action.text["zh-CN"] + action.text["en"]
            assert action.pollutants and set(action.pollutants) <= set(LIST_POLLUTANTS)
    for code, raw in DATA["actions"].items():
        assert raw["zh-CN"] and raw["en"], code
        assert "stop" not in raw or is_bilingual(raw["stop"])


def test_production_actions_state_the_grades_cut():
    m = CATALOG.measure("steel", "B", False, Level.ORANGE)
    sinter = next(a for a in m.actions if a.code == "steel_sinter_cut")
    assert "20%" in sinter.text["zh-CN"] and "20%" in sinter.text["en"]
    assert sinter.pollutants == ("so2", "nox", "pm")
    b_minus = CATALOG.measure("coking", "B-", False, Level.RED)
    assert any("40%" in a.text["en"] for a in b_minus.actions)


def test_named_example_actions_reduce_the_right_pollutants():
    assert CATALOG.action("spray_stop").pollutants == ("vocs",)
    assert CATALOG.action("transport_cn4").pollutants == ("nox", "pm")
    assert CATALOG.action("steel_sinter_cut", 0.5).pollutants == ("so2", "nox", "pm")
    assert "50%" in CATALOG.action("steel_sinter_cut", 0.5).text["en"]


def test_grade_actions_apply_to_that_grade_and_worse():
    codes = {
        (g, lvl): [a.code for a in CATALOG.measure("coating", g, False, lvl).actions]
        for g in ("B", "C", "D")
        for lvl in WARNING_LEVELS
    }
    assert "spray_stop" not in codes[("B", Level.RED)]
    assert "spray_stop" in codes[("C", Level.RED)]
    assert "spray_stop" not in codes[("C", Level.ORANGE)]
    assert "spray_stop" in codes[("D", Level.ORANGE)] and "spray_stop" in codes[("D", Level.RED)]
    assert "spray_stop" not in [a.code for a in CATALOG.measure("coating", "D", True, 3).actions]


def test_measures_are_monotone_in_grade_and_level():
    for code, industry in CATALOG.industries.items():
        for supply in (False, True):
            for level in WARNING_LEVELS:
                previous = None
                for grade in industry.grades:  # best to worst
                    m = CATALOG.measure(code, grade, supply, level)
                    numbers = np.array([m.production_cut, *m.fractions])
                    if previous is not None:
                        assert (numbers >= previous[0]).all(), (code, grade, level)
                        assert {a.code for a in previous[1].actions} <= {a.code for a in m.actions}
                    previous = (numbers, m)
            for grade in industry.grades:
                rows = [CATALOG.measure(code, grade, supply, lvl) for lvl in WARNING_LEVELS]
                numbers = np.array([[m.production_cut, *m.fractions] for m in rows])
                assert (np.diff(numbers, axis=0) >= 0).all(), (code, grade, supply)


def test_action_counts_grow_with_worse_grades_within_bounds():
    for _code, grade, supply, _level, measure in every_measure():
        assert 2 <= len(measure.actions) <= 6
        assert len({a.code for a in measure.actions}) == len(measure.actions)
        if grade in ("A+", "A", "leading") or supply:
            assert len(measure.actions) <= 4


def test_no_warning_is_the_zero_measure():
    assert CATALOG.measure("steel", "D", False, Level.NONE) is Measure.NONE
    assert Measure.NONE.production_cut == 0.0
    assert Measure.NONE.fractions == (0.0, 0.0, 0.0, 0.0)
    assert Measure.NONE.actions == ()
    assert CATALOG.fractions_for("steel", 0.5, Level.NONE) == (0.0, 0.0, 0.0, 0.0)


def test_lookups_accept_level_names_and_refuse_unknown_codes():
    assert CATALOG.measure("steel", "B", False, "red") == CATALOG.measure("steel", "B", False, 3)
    with pytest.raises(KeyError):
        CATALOG.measure("shipbuilding", "A", False, Level.RED)
    with pytest.raises(KeyError):
        CATALOG.measure("steel", "E", False, Level.RED)
    # A catalog grade outside the industry's list still resolves (validation reports it).
    assert CATALOG.measure("steel", "B-", False, Level.RED).production_cut == 0.4


def test_measures_are_immutable_and_hashable():
    m = CATALOG.measure("coating", "C", False, Level.RED)
    assert hash(m) == hash(CATALOG.compose("coating", "C", False, Level.RED))
    with pytest.raises(TypeError):
        m.actions[0].text["en"] = "changed"  # type: ignore[index]
    assert json.loads(json.dumps(m.to_dict()))["fractions"]["vocs"] == 0.825
    assert Action.from_dict(m.actions[0].to_dict()) == m.actions[0]
    frozen = FrozenDict({"a": 1})
    assert copy.deepcopy(frozen) == frozen and hash(copy.copy(frozen)) == hash(frozen)


def test_tables_equal_measures():
    tables = CATALOG.tables()
    assert tables is CATALOG.tables()
    assert tables.production_cut.shape == (len(INDUSTRY_CODES), len(GRADES), 2, 4)
    assert tables.fractions.shape == (len(INDUSTRY_CODES), len(GRADES), 2, 4, 4)
    assert not tables.production_cut.flags.writeable
    for i, code in enumerate(tables.industries):
        for g, grade in enumerate(tables.grades):
            for supply in (0, 1):
                for level in Level:
                    m = CATALOG.measure(code, grade, bool(supply), level)
                    assert tables.production_cut[i, g, supply, level] == m.production_cut
                    assert tuple(tables.fractions[i, g, supply, level]) == m.fractions
    ind, grd = tables.index(["steel", "nope", "other"], ["D", "A", "zz"])
    assert ind.tolist() == [0, -1, 16] and grd.tolist() == [6, 1, -1]


def test_round_trip_through_dict():
    again = Catalog.from_dict(CATALOG.to_dict())
    for code, grade, supply, level, measure in every_measure():
        assert again.measure(code, grade, supply, level) == measure
    assert default_catalog() is CATALOG


def test_a_district_can_override_an_industrys_cut_rows():
    data = copy.deepcopy(DATA)
    data["industries"]["cement"]["production_cut"] = {"B": [0.15, 0.3, 0.45]}
    district = Catalog.from_dict(data)
    assert district.measure("cement", "B", False, Level.RED).production_cut == 0.45
    assert district.measure("lime", "B", False, Level.RED).production_cut == 0.3
    assert CATALOG.measure("cement", "B", False, Level.RED).production_cut == 0.3


def test_from_dict_reports_every_problem():
    data = copy.deepcopy(DATA)
    data["actions"]["spray_stop"]["en"] = ""
    data["actions"]["transport_cn4"]["pollutants"] = ["co"]
    data["production_cut"]["B"] = [0.1, 0.2, 1.3]
    data["industries"]["steel"]["lowest_grade"] = "B-"
    data["industries"]["steel"]["emission_actions"]["red"].append("fly_to_the_moon")
    data["industries"]["coating"]["grades"].append("Z")
    data["industries"]["coating"]["fractions"]["floor"]["vocs"] = [0.1, 0.2]
    with pytest.raises(CatalogError) as info:
        Catalog.from_dict(data)
    problems = "\n".join(info.value.problems)
    assert len(info.value.problems) == 7, problems
    for fragment in (
        "actions.spray_stop",
        "actions.transport_cn4.pollutants",
        "production_cut.B",
        "industries.steel.lowest_grade",
        "fly_to_the_moon",
        "industries.coating.grades",
        "floor.vocs",
    ):
        assert fragment in problems
