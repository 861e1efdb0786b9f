"""The compliance thresholds file: the shipped one loads and covers the catalog; faults are
refused with every problem named; the arrays follow the rows."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from emission_list.catalog import default_catalog
from emission_list.compliance_rules import (
    CEMS_POLLUTANTS,
    ComplianceRulesError,
    default_compliance_rules,
    load_compliance_rules,
    reference_oxygen,
)


def shipped() -> dict:
    path = resources.files("emission_list.data").joinpath("compliance_rules.json")
    return json.loads(path.read_text("utf-8"))


def test_the_shipped_rules_cover_every_catalog_industry_with_reasoning_in_both_languages():
    rules = default_compliance_rules()
    assert set(rules.industries) == set(default_catalog().industries)
    assert set(shipped()["industries"]) == set(default_catalog().industries)
    for code, rule in rules.rules.items():
        assert rule.confirmed_after > rule.suspected_after, code
        assert rule.reasoning["zh-CN"] and rule.reasoning["en"], code
    steel = rules.rules["steel"].cems
    assert [steel[p].limit_mg_m3 for p in CEMS_POLLUTANTS] == [35, 50, 10]  # 环大气〔2019〕35号
    assert {steel[p].reference_o2 for p in CEMS_POLLUTANTS} == {16}
    cement = rules.rules["cement"].cems
    assert [cement[p].limit_mg_m3 for p in CEMS_POLLUTANTS] == [35, 50, 10]


def test_the_arrays_follow_the_rows_and_an_industry_row_overrides_only_what_it_names():
    doc = shipped()
    rules = load_compliance_rules(doc)
    i = rules.industries.index("casting")
    assert rules.suspected_after[i] == doc["industries"]["casting"]["suspected_after"]
    assert rules.silent_after[i] == doc["default"]["silent_after"]  # not overridden
    coating = rules.industries.index("coating")
    assert np.isnan(rules.cems_limit[coating]).all()  # VOCs: not judged
    steel = rules.industries.index("steel")
    assert rules.cems_reference_o2[steel].tolist() == [16.0] * 3
    assert rules.cems_run[steel].tolist() == [doc["default"]["cems"]["a21026"]["run"]] * 3
    assert rules.index(["steel", "nonsense", "other"]).tolist() == [
        steel,
        rules.industries.index("other"),
        rules.industries.index("other"),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["default"].update(surprise=1), "default: unknown key 'surprise'"),
        (lambda d: d.update(extra=1), "unknown key 'extra'"),
        (lambda d: d["industries"].update(mining={}), "unknown industry 'mining'"),
        (lambda d: d["industries"]["steel"].update(confirmed_after=15), "steel: confirmed_after"),
        (lambda d: d["default"].update(tolerance=-0.1), "default.tolerance: -0.1 outside"),
        (lambda d: d["default"].update(silent_after=0), "default.silent_after: 0 outside"),
        (lambda d: d["default"].update(suspected_after=2.5), "suspected_after: an integer"),
        (lambda d: d["default"].update(stopped_fraction="low"), "stopped_fraction: a number"),
        (lambda d: d["default"]["cems"]["a21026"].update(limit_mg_m3=-5), "limit_mg_m3: -5"),
        (lambda d: d["default"]["cems"].update(a99999={"run": 1}), "unknown pollutant"),
        (lambda d: d["default"]["cems"]["a21002"].update(run=0), "a21002.run"),
        (lambda d: d["industries"]["lime"].update(reasoning={"en": "x"}), "lime.reasoning"),
        (lambda d: d.update(schema="other/1"), "schema"),
    ],
)
def test_a_faulty_file_is_refused_with_a_clear_error(change, message):
    doc = copy.deepcopy(shipped())
    change(doc)
    with pytest.raises(ComplianceRulesError) as caught:
        load_compliance_rules(doc)
    assert message in str(caught.value)


def test_every_problem_is_listed_at_once():
    doc = copy.deepcopy(shipped())
    doc["default"]["tolerance"] = -1
    doc["default"]["surprise"] = True
    with pytest.raises(ComplianceRulesError) as caught:
        load_compliance_rules(doc)
    assert len(caught.value.problems) == 2


def test_conversion_to_the_reference_oxygen_content():
    # 40 mg/m³ measured at 18 % O2 is 40 × (21 − 16) / (21 − 18) at 16 %
    got = reference_oxygen(
        np.array([40.0, 40.0, 40.0]), np.array([18.0, 21.0, 18.0]), np.array([16.0, 16.0, np.nan])
    )
    assert got[0] == pytest.approx(40 * 5 / 3)
    assert np.isnan(got[1])  # 21 % O2: no valid value
    assert got[2] == 40.0  # no reference O2: as measured


def test_the_documented_table_is_the_shipped_file():
    docs = Path(__file__).resolve().parents[2] / "docs" / "compliance.md"
    rules = default_compliance_rules()
    rows = {}
    for line in docs.read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0] in rules.rules:
            rows[cells[0]] = cells[1:]
    assert set(rows) == set(rules.industries)
    for code, (tolerance, k, m, *limits, o2) in rows.items():
        rule = rules.rules[code]
        assert (float(tolerance), int(k), int(m)) == (
            rule.tolerance,
            rule.suspected_after,
            rule.confirmed_after,
        ), code
        shipped_limits = [rule.cems[p].limit_mg_m3 for p in CEMS_POLLUTANTS]
        assert [None if v == "—" else float(v) for v in limits] == shipped_limits, code
        reference = rule.cems["a21026"].reference_o2
        assert o2 == ("measured" if reference is None else f"{reference:g} %"), code
