"""The sample's lines and loggers: every line metered by a registered meter of its enterprise,
MNs of the standard's form, the large emitters with a CEMS, every station with a logger, and
the three cheating plants under orders at orange."""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

from emission_list.catalog import default_catalog
from emission_list.entries import resolve_measure
from emission_list.levels import Level
from emission_list.samples import kundulun_list, kundulun_stations

ROOT = Path(__file__).resolve().parents[2]
LOGGERS = json.loads((ROOT / "emission_list/data/kundulun_loggers.json").read_text("utf-8"))
ENTRIES = {e.enterprise_id: e for e in kundulun_list().entries}
BY_MN = {r["mn"]: r for r in LOGGERS["loggers"]}


def test_every_mn_is_24_hex_characters_and_unique() -> None:
    assert len(BY_MN) == len(LOGGERS["loggers"])
    assert all(re.fullmatch(r"[0-9A-F]{24}", mn) for mn in BY_MN)
    assert all(re.fullmatch(r"\d{6}", r["password"]) for r in BY_MN.values())


def test_every_line_is_metered_by_a_meter_of_its_enterprise_in_kw() -> None:
    metered = [e for e in ENTRIES.values() if e.lines]
    assert 0.8 * len(ENTRIES) <= len(metered) < len(ENTRIES)  # most, not every one
    for entry in metered:
        kinds = Counter(line.kind for line in entry.lines)
        assert 1 <= kinds["production"] <= 3 and 1 <= kinds["control"] <= 2, entry.name_en
        for line in entry.lines:
            logger = BY_MN[line.logger]
            assert logger["kind"] == "meter" and logger["enterprise_id"] == entry.enterprise_id
            assert logger["units"][line.channel] == "kW" and line.line_id in logger["lines"]
    meters = [r for r in BY_MN.values() if r["kind"] == "meter"]
    assert sum(len(r["units"]) for r in meters) == sum(len(e.lines) for e in metered)


def test_rated_power_follows_the_industry() -> None:
    def production_kw(industry: str) -> list[float]:
        return [
            line.rated_kw
            for e in ENTRIES.values()
            if e.industry == industry
            for line in e.lines
            if line.kind == "production"
        ]

    assert min(production_kw("ferroalloy")) > 5000 and max(production_kw("printing")) < 200
    steel = next(e for e in ENTRIES.values() if "Union" in e.name_en)
    assert all(line.rated_kw > 3000 for line in steel.lines if line.kind == "production")


def test_large_emitters_have_a_cems_and_stations_a_logger_with_their_units() -> None:
    cems = [r for r in BY_MN.values() if r["kind"] == "cems"]
    industries = {ENTRIES[r["enterprise_id"]].industry for r in cems}
    assert {"steel", "coking", "cement", "power", "heating", "ferroalloy"} <= industries
    assert not industries & {"printing", "coating", "equipment"}
    assert all(r["units"]["a21026"] == "mg/m³" and r["units"]["a19001"] == "%" for r in cems)
    stations = [r for r in BY_MN.values() if r["kind"] == "station"]
    assert sorted(r["station_id"] for r in stations) == sorted(
        s.station_id for s in kundulun_stations()
    )
    for r in stations:
        assert r["units"]["a34004"] == "µg/m³" and r["units"]["a05024"] == "µg/m³"
        assert r["units"]["a21005"] == "mg/m³" and r["enterprise_id"] is None


def test_the_three_cheaters_are_metered_and_must_cut_at_orange() -> None:
    cheaters = LOGGERS["cheaters"]
    assert [c["behaviour"] for c in cheaters] == ["night", "control_stopped", "silent"]
    for cheater in cheaters:
        entry = ENTRIES[cheater["enterprise_id"]]
        cut = resolve_measure(default_catalog(), entry, Level.ORANGE).production_cut
        assert cut > 0 and cut == cheater["orange_cut"] and entry.region.startswith("150203")
        assert any(line.kind == "control" for line in entry.lines)
    stopper = ENTRIES[cheaters[1]["enterprise_id"]]
    assert any(
        r["kind"] == "cems" and r["enterprise_id"] == stopper.enterprise_id for r in BY_MN.values()
    )


def test_the_script_reproduces_the_shipped_loggers() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_sample_list", ROOT / "scripts" / "make_sample_list.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = (ROOT / "emission_list/data/kundulun_loggers.json").read_text(encoding="utf-8")
    assert module.render_loggers(kundulun_list()) == shipped
