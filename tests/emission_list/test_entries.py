"""The enterprise entry: construction, JSON form, and the measure it resolves to."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emission_list.catalog import Action, FrozenDict, Measure, default_catalog
from emission_list.credit_code import check_character
from emission_list.entries import ENTRY_FIELDS, Enterprise, MeasureOverride, resolve_measure
from emission_list.i18n import text
from emission_list.levels import WARNING_LEVELS, Level

CATALOG = default_catalog()
CODE = "91150203000000001" + check_character("91150203000000001")
OWN_ACTION = Action("own_kiln", text("1号窑停产", "Stop kiln No. 1"), ("so2", "nox", "pm"))


def steel(**kw) -> Enterprise:
    args = {
        "enterprise_id": CODE,
        "name": "昆都仑示例钢铁有限公司",
        "name_en": "Kundulun Sample Steel Co.",
        "region": "150203003",
        "industry": "steel",
        "grade": "B",
        "baseline": (1200.0, 1500.0, 600.0, 40.0),
    }
    return Enterprise(**{**args, **kw})


def test_entry_fields_in_stable_order():
    assert ENTRY_FIELDS == (
        "enterprise_id",
        "name",
        "name_en",
        "region",
        "industry",
        "grade",
        "guaranteed_supply",
        "baseline",
        "overrides",
        "contact",
        "lines",
    )


def test_defaults_and_immutability():
    e = Enterprise(CODE, "某企业", "", "150203001", "other", "other")
    assert e.guaranteed_supply is False
    assert e.baseline == (0.0, 0.0, 0.0, 0.0)
    assert e.overrides == {} and e.contact == ""
    with pytest.raises(AttributeError):
        e.grade = "A"  # type: ignore[misc]
    assert hash(e) == hash(Enterprise(CODE, "某企业", "", "150203001", "other", "other"))


def test_overrides_are_normalised_frozen_and_hashable():
    e = steel(
        overrides={
            Level.RED: MeasureOverride(production_cut=0.6),
            "Orange": {"fractions": {"pm": 0.5}},
        }
    )
    assert isinstance(e.overrides, FrozenDict)
    assert set(e.overrides) == {"red", "orange"}
    assert e.overrides["orange"] == MeasureOverride(fractions=(None, None, 0.5, None))
    with pytest.raises(TypeError):
        e.overrides["yellow"] = MeasureOverride()  # type: ignore[index]
    same = steel(
        overrides={"red": MeasureOverride(0.6), "orange": MeasureOverride(None, {"pm": 0.5})}
    )
    assert e == same and hash(e) == hash(same)


def test_numpy_strings_become_plain_strings():
    e = steel(enterprise_id=np.array([CODE])[0], region=np.str_("150203003"))
    assert type(e.enterprise_id) is str and type(e.region) is str


def test_json_round_trip_with_overrides_and_actions():
    e = steel(
        guaranteed_supply=True,
        contact="0472-0000000",
        overrides={
            "red": MeasureOverride(0.8, (None, 0.9, None, None), (OWN_ACTION,)),
            "yellow": MeasureOverride(fractions=(0.1, 0.1, 0.3, 0.1)),
        },
    )
    data = json.loads(json.dumps(e.to_dict(), ensure_ascii=False))
    assert list(data) == list(ENTRY_FIELDS)
    assert data["baseline"] == {"so2": 1200.0, "nox": 1500.0, "pm": 600.0, "vocs": 40.0}
    assert data["overrides"]["red"] == {
        "production_cut": 0.8,
        "fractions": {"nox": 0.9},
        "actions": [
            {
                "code": "own_kiln",
                "text": {"zh-CN": "1号窑停产", "en": "Stop kiln No. 1"},
                "pollutants": ["so2", "nox", "pm"],
            }
        ],
    }
    assert Enterprise.from_dict(data) == e


def test_from_dict_reads_csv_style_rows():
    row = {
        "enterprise_id": f"  {CODE.lower()} ",
        "name": " 昆都仑示例焦化有限公司 ",
        "region": "150203003",
        "industry": "coking",
        "grade": "C",
        "guaranteed_supply": "是",
        "baseline_so2": "12.5",
        "baseline_nox": "NA",
        "baseline_pm": "/",
        "baseline_vocs": "",
    }
    e = Enterprise.from_dict(row)
    assert e.enterprise_id == CODE
    assert e.name == "昆都仑示例焦化有限公司" and e.name_en == ""
    assert e.guaranteed_supply is True
    assert e.baseline[0] == 12.5
    assert all(math.isnan(v) for v in e.baseline[1:])  # missing, never read as zero
    assert Enterprise.from_dict({**row, "guaranteed_supply": "否"}).guaranteed_supply is False
    assert Enterprise.from_dict({**row, "guaranteed_supply": "maybe"}).guaranteed_supply == "maybe"
    # A pollutant left out of a baseline mapping is zero; bad text is kept for validation.
    kept = Enterprise.from_dict({**row, "baseline": {"so2": 3, "pm": "lots"}})
    assert kept.baseline == (3.0, 0.0, "lots", 0.0)


def test_override_fractions_by_pollutant_refuse_unknown_pollutants():
    with pytest.raises(ValueError):
        MeasureOverride(fractions={"co": 0.5})


def test_no_override_resolves_to_the_catalog_measure():
    e = steel()
    for level in WARNING_LEVELS:
        assert resolve_measure(CATALOG, e, level) == CATALOG.measure("steel", "B", False, level)
    assert resolve_measure(CATALOG, e, Level.NONE) is Measure.NONE
    with_override = steel(overrides={"red": MeasureOverride(1.0)})
    assert resolve_measure(CATALOG, with_override, Level.NONE) is Measure.NONE


def test_override_cut_only_moves_fractions_and_action_wording():
    e = steel(overrides={"red": MeasureOverride(production_cut=0.6)})
    m = resolve_measure(CATALOG, e, Level.RED)
    # Steel red floors: NOx 0.08, PM 0.3: 1 - 0.4 * 0.92 = 0.632; 1 - 0.4 * 0.7 = 0.72.
    assert m.production_cut == 0.6
    assert m.fractions == (0.6, 0.632, 0.72, 0.6)
    sinter = next(a for a in m.actions if a.code == "steel_sinter_cut")
    assert "60%" in sinter.text["zh-CN"] and "60%" in sinter.text["en"]
    # Other levels keep the catalog's measure.
    assert resolve_measure(CATALOG, e, Level.ORANGE) == CATALOG.measure("steel", "B", False, 2)


def test_override_fraction_replaces_only_that_pollutant():
    e = steel(overrides={"orange": MeasureOverride(fractions=(None, None, 0.9, None))})
    catalog = CATALOG.measure("steel", "B", False, Level.ORANGE)
    m = resolve_measure(CATALOG, e, Level.ORANGE)
    assert m.production_cut == catalog.production_cut
    assert m.fractions == (catalog.fractions[0], catalog.fractions[1], 0.9, catalog.fractions[3])
    assert m.actions == catalog.actions


def test_override_actions_replace_the_list():
    e = steel(overrides={"yellow": MeasureOverride(actions=(OWN_ACTION,))})
    m = resolve_measure(CATALOG, e, Level.YELLOW)
    assert m.actions == (OWN_ACTION,)
    assert m.fractions == CATALOG.measure("steel", "B", False, Level.YELLOW).fractions


def test_guaranteed_supply_override_can_add_a_cut():
    e = steel(guaranteed_supply=True, overrides={"red": MeasureOverride(production_cut=0.2)})
    m = resolve_measure(CATALOG, e, Level.RED)
    assert m.production_cut == 0.2
    assert "steel_sinter_cut" in [a.code for a in m.actions]
    assert resolve_measure(CATALOG, e, Level.ORANGE).production_cut == 0.0


def test_override_to_a_full_stop_uses_stop_wording():
    e = steel(grade="C", overrides={"red": MeasureOverride(production_cut=1.0)})
    m = resolve_measure(CATALOG, e, Level.RED)
    assert m.fractions == (1.0, 1.0, 1.0, 1.0)
    assert m.actions[-1].code == "plant_stop"


cuts = st.none() | st.floats(0, 1)
fraction_overrides = st.none() | st.tuples(*[st.none() | st.floats(0, 1)] * 4)
industry_grades = st.sampled_from(
    [(code, g) for code, ind in CATALOG.industries.items() for g in ind.grades]
)


@settings(max_examples=200, deadline=None)
@given(industry_grades, st.booleans(), st.sampled_from(WARNING_LEVELS), cuts, fraction_overrides)
def test_resolve_measure_equals_field_by_field_reference(ig, supply, level, cut, fractions):
    industry, grade = ig
    override = {level.label: MeasureOverride(cut, fractions)}
    e = Enterprise(CODE, "x", "", "150203001", industry, grade, supply, overrides=override)
    got = resolve_measure(CATALOG, e, level)
    catalog = CATALOG.measure(industry, grade, supply, level)
    want_cut = catalog.production_cut if cut is None else cut
    # Plain reference of the rule: floors are the fractions at no cut; factor from the data.
    floors = CATALOG.fractions_for(industry, 0.0, level)
    rules = CATALOG.to_dict()
    own_rules = rules["industries"][industry].get("fractions", {})
    factor = {**rules["fractions"]["factor"], **own_rules.get("factor", {})}
    want = []
    for i, p in enumerate(("so2", "nox", "pm", "vocs")):
        if fractions is not None and fractions[i] is not None:
            want.append(fractions[i])
        else:
            want.append(1 - (1 - min(1.0, factor[p] * want_cut)) * (1 - floors[i]))
    assert got.production_cut == want_cut
    assert got.fractions == pytest.approx(want, abs=1e-9)
    if cut is None:
        assert got.actions == catalog.actions
