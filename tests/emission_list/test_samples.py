"""The Kundulun sample: regions, stations, list and the December 2026 episode."""

import datetime as dt
import importlib.util
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emission_list import credit_code
from emission_list.catalog import default_catalog
from emission_list.compiler import compile_revision
from emission_list.evaluator import Evaluator
from emission_list.i18n import is_bilingual
from emission_list.levels import Driver, Level
from emission_list.lifecycle import RegionAlertState, apply_forecast
from emission_list.regions import state_code
from emission_list.revisions import validate_revision
from emission_list.sample_episode import READING_POLLUTANTS, generate_readings
from emission_list.samples import (
    _load,
    kundulun_episode,
    kundulun_list,
    kundulun_region_tree,
    kundulun_regions,
    kundulun_stations,
)
from emission_list.warnings import decide, national_rules

ROOT = Path(__file__).resolve().parents[2]
SUBDISTRICTS = [
    "Shaoxianlu", "Zhaotan", "Linyinlu", "Youyi Dajie", "Aerding Dajie", "Tuanjie Dajie",
    "Anshandao", "Qianjindao", "Shifu Donglu", "Baiyunlu", "Huanghe Xilu", "Kungonglu", "Kunbei",
]  # fmt: skip
# HJ 633-2026 24h breakpoints (IAQI 0..500) of PM2.5 and PM10 [µg/m³], for a hand check.
PM25_BP = (0, 35, 60, 115, 150, 250, 350, 500)
PM10_BP = (0, 50, 120, 250, 350, 420, 500, 600)
IAQI = (0, 50, 100, 150, 200, 300, 400, 500)
LOCAL = dt.timezone(dt.timedelta(hours=8))


def _iaqi(c: float, bp: tuple[int, ...]) -> int:
    return int(np.ceil(np.interp(c, bp, IAQI)))


# --------------------------------------------------------------------------- regions


def test_regions_form_the_kundulun_tree_with_neighbours():
    tree = kundulun_region_tree()
    regions = {r.region_id: r for r in kundulun_regions()}
    assert len(tree) == len(regions) == 21
    leaves_under = [r for r in tree.subtree("150203") if tree.is_leaf[tree.index[r]]]
    assert leaves_under == [f"150203{i:03d}" for i in range(1, 16)]
    assert tree.ancestors("150203007") == ["150203", "150200", "150000"]
    for city in ("150100", "150200", "150600", "150900"):
        assert regions[city].parent == "150000" and regions[city].kind == "city"
    assert tree.common_ancestor(["150100", "150200", "150600", "150900"]) == "150000"
    assert [regions[f"150203{i:03d}"].name["en"] for i in range(1, 14)] == [
        f"{s} Subdistrict" for s in SUBDISTRICTS
    ]
    assert regions["150203014"].name == {"zh-CN": "昆河镇", "en": "Kunhe Town"}
    assert (
        regions["150203015"].kind == "town" and regions["150203015"].name["zh-CN"] == "卜尔汉图镇"
    )
    assert regions["150203"].name["zh-CN"] == "昆都仑区" and regions["150000"].parent is None
    assert all(is_bilingual(r.name) for r in regions.values())
    kinds = Counter(r.kind for r in regions.values())
    assert kinds == {"province": 1, "city": 4, "district": 1, "subdistrict": 13, "town": 2}


# --------------------------------------------------------------------------- stations


def test_stations_declare_regions_units_and_conditions():
    stations = kundulun_stations()
    tree = kundulun_region_tree()
    by_name = {s.name["en"]: s for s in stations}
    assert len({s.station_id for s in stations}) == len(stations) == 11
    gov = by_name["Kundulun District Government"]
    assert (gov.lon, gov.lat, gov.name["zh-CN"]) == (109.8332, 40.6577, "昆区政府")
    lab = by_name["City Environmental Monitoring Station"]
    assert (lab.lon, lab.lat, lab.region) == (109.8761, 40.6533, "150200")
    for name in ("Huilong Logistics", "Binhe Building", "Baotou No. 8 Middle School",
                 "Municipal Party School", "Donghe Honglongwan"):  # fmt: skip
        assert by_name[name].kind == "national"
    assert Counter(s.kind for s in stations) == {"national": 7, "district": 4}
    kundulun = set(tree.subtree("150203"))
    for s in stations:
        assert is_bilingual(s.name)
        assert 109.6 < s.lon < 110.2 and 40.5 < s.lat < 40.8
        assert s.gas_condition == "reference" and s.particle_condition == "actual"
        assert s.units["co"] == "mg/m³" and s.units["pm25"] == s.units["so2"] == "µg/m³"
        # In the district: a subdistrict or town (a leaf); outside: the city.
        assert s.region == "150200" or (s.region in kundulun and tree.is_leaf[tree.index[s.region]])
        if s.kind == "district":
            assert s.region in kundulun
    assert {s.region for s in stations if s.kind == "district"} >= {
        "150203013",
        "150203014",
        "150203015",
    }


# --------------------------------------------------------------------------- the list


def test_list_is_a_valid_published_revision():
    revision = kundulun_list()
    tree = kundulun_region_tree()
    assert (revision.number, revision.status, revision.author) == (1, "published", "sample")
    assert revision.effective_from == dt.date(2026, 10, 1)
    assert 60 <= len(revision) <= 120
    assert validate_revision(revision, default_catalog(), tree.leaves, regions=tree.ids) == []
    assert {e.region for e in revision.entries} == set(tree.subtree("150203")[1:])
    assert kundulun_list() is revision  # loaded once


def test_credit_codes_valid_unique_and_mostly_registered_in_the_district():
    ids = [e.enterprise_id for e in kundulun_list().entries]
    assert credit_code.is_valid_array(ids).all()
    assert all(credit_code.is_valid(c) for c in ids)
    assert len(set(ids)) == len(ids)
    divisions = Counter(c[2:8] for c in ids)
    assert divisions["150203"] >= 0.8 * len(ids)
    assert set(divisions) - {"150203"}  # a few registered elsewhere (city, other districts)


def test_every_sector_of_the_plan_with_realistic_grades_and_baselines():
    entries = kundulun_list().entries
    catalog = default_catalog()
    by_industry: dict[str, list] = {}
    for e in entries:
        by_industry.setdefault(e.industry, []).append(e)
        assert e.grade in catalog.industries[e.industry].grades
    assert set(by_industry) == set(catalog.industries)  # all 17 industries, "other" included
    grades = Counter(e.grade for e in entries)
    assert grades["B"] + grades["C"] >= 0.5 * len(entries)
    assert 1 <= grades["A+"] <= 4 and grades["A"] >= 2 and grades["D"] >= 3
    assert all(e.guaranteed_supply for e in by_industry["heating"])
    assert sum(e.guaranteed_supply for e in entries) <= 8

    baseline = np.array([e.baseline for e in entries])
    assert np.isfinite(baseline).all() and (baseline >= 0).all()
    biggest = entries[int(np.argmax(baseline[:, 0]))]
    assert biggest.industry == "steel" and 1000 <= biggest.baseline[0] <= 20000
    for e in by_industry["printing"]:
        assert e.baseline[:3] == (0.0, 0.0, 0.0) and 5 <= e.baseline[3] <= 100
    assert all(e.baseline[3] == 0 for e in by_industry["lime"])  # lime kilns emit no VOCs


def test_overrides_names_and_contacts():
    entries = kundulun_list().entries
    with_overrides = [e for e in entries if e.overrides]
    assert any(
        e.industry == "other" and set(e.overrides) == {"yellow", "orange", "red"}
        for e in with_overrides
    )
    steel = [e for e in with_overrides if e.industry == "steel"]
    assert steel and steel[0].overrides["red"].production_cut == 0.4
    assert steel[0].overrides["orange"].production_cut == 0.25
    assert any(a.code.startswith("own.") for a in steel[0].overrides["red"].actions)
    assert len({e.name for e in entries}) == len({e.name_en for e in entries}) == len(entries)
    real = (
        "包钢",
        "北方稀土",
        "华美稀土",
        "天骄清美",
        "东方希望",
        "美科",
        "Baogang",
        "Northern Rare Earth",
    )
    for e in entries:
        assert e.name.endswith(("公司", "厂")) and e.name_en.endswith(("Ltd.", "Works"))
        assert not any(word in e.name or word in e.name_en for word in real)
        assert re.fullmatch(r"\S{2,5} 0472-\d{7}", e.contact)


@pytest.mark.parametrize("level", [Level.YELLOW, Level.ORANGE, Level.RED])
def test_list_meets_the_minimum_reductions_in_kundulun(level):
    tree = kundulun_region_tree()
    evaluator = Evaluator(compile_revision(kundulun_list(), default_catalog(), tree))
    own = np.zeros(len(tree), dtype=np.int64)
    own[tree.index["150203"]] = state_code(level)
    evaluator.evaluate(own)
    report = evaluator.region_report()
    i = tree.index["150203"]
    ratio = report.required[i] / report.baseline[i]
    assert (ratio >= {Level.YELLOW: 0.1, Level.ORANGE: 0.2, Level.RED: 0.3}[level]).all()
    assert (report.shortfall[i] == 0).all()


def test_sample_list_script_reproduces_the_shipped_file():
    spec = importlib.util.spec_from_file_location(
        "make_sample_list", ROOT / "scripts" / "make_sample_list.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = (ROOT / "emission_list" / "data" / "kundulun_list.json").read_text(encoding="utf-8")
    assert module.render(module.build()) == shipped


# --------------------------------------------------------------------------- the episode


def _grid(readings, n_stations: int, first: np.datetime64, n_hours: int) -> dict[str, np.ndarray]:
    """Readings as (station, hour) arrays, NaN where absent."""
    hour = ((readings.observed_at - first) // np.timedelta64(1, "h")).astype(int)
    out = {}
    for p in READING_POLLUTANTS:
        g = np.full((n_stations, n_hours), np.nan)
        g[readings.station_index, hour] = getattr(readings, p)
        out[p] = g
    return out


FIRST = np.datetime64("2026-11-30T16:00", "s")  # 2026-12-01 00:00 +08:00
N_HOURS = 14 * 24 + 1


def test_readings_cover_every_station_and_hour_exactly_once_with_one_late_row():
    ep = kundulun_episode()
    r, late = ep.readings, ep.late_readings
    stations = [s.station_id for s in kundulun_stations()]
    assert r.station_ids == tuple(stations)
    cells = list(zip(r.station_index.tolist(), r.observed_at.tolist(), strict=True))
    assert len(set(cells)) == len(cells) == len(stations) * N_HOURS - 1
    assert r.observed_at.min() == FIRST and r.observed_at.max() == FIRST + np.timedelta64(336, "h")
    assert (np.diff(r.observed_at.astype(np.int64)) >= 0).all()  # in arrival order
    # The late reading fills the one missing cell; the correction repeats a cell.
    late_cells = list(zip(late.station_index.tolist(), late.observed_at.tolist(), strict=True))
    assert late_cells[0] not in set(cells) and late_cells[1] in set(cells)
    assert len(set(cells) | set(late_cells)) == len(stations) * N_HOURS
    assert (late.received_at - late.observed_at >= np.timedelta64(6, "h")).all()
    assert (np.diff(late.received_at.astype(np.int64)) > 0).all()


def test_correction_restores_a_dropped_digit():
    ep = kundulun_episode()
    r, fix = ep.readings, ep.late_readings.take(np.array([1]))
    row = (r.station_index == fix.station_index[0]) & (r.observed_at == fix.observed_at[0])
    posted, corrected = r.pm25[row][0], fix.pm25[0]
    assert corrected > 150 and posted == np.round(corrected / 10)
    for p in ("pm10", "so2", "no2", "o3", "co"):
        assert getattr(r, p)[row][0] == getattr(fix, p)[0]


def test_readings_are_plausible_and_follow_the_episode():
    ep = kundulun_episode()
    r = ep.readings
    g = _grid(r, len(r.station_ids), FIRST, N_HOURS)
    values = {p: v[~np.isnan(v)] for p, v in g.items()}
    assert all((v > 0).all() for v in values.values())
    assert values["pm25"].max() < 500 and values["pm10"].max() < 600
    assert values["so2"].max() < 300 and values["no2"].max() < 200
    assert values["o3"].max() < 200 and values["co"].max() < 8
    both = ~np.isnan(g["pm25"]) & ~np.isnan(g["pm10"])
    assert (g["pm25"][both] <= g["pm10"][both]).all()
    assert np.array_equal(values["co"], np.round(values["co"], 1))
    assert np.array_equal(values["pm25"], np.round(values["pm25"]))

    # Daily means over all stations (hour-ending: hours 1..24 of each day).
    daily = {
        p: np.nanmean(v[:, 1:].reshape(len(r.station_ids), 14, 24), axis=(0, 2))
        for p, v in g.items()
    }
    pm25 = daily["pm25"]
    assert int(np.argmax(pm25)) == 6  # 7 Dec is the worst day
    assert pm25[0] < 60 and pm25[13] < 35  # good before, excellent after
    assert (np.diff(pm25[:7]) > 0).all() and (np.diff(pm25[6:11]) < 0).all()
    assert (g["pm25"] > 150).sum() > 100 and np.nanmax(g["pm25"]) > 250  # heavy; severe touched
    assert np.nanmax(g["pm25"][:, -24:]) < 75  # clear at the end
    assert int(np.argmax(daily["pm10"] / daily["pm25"])) == 12  # the dust day
    assert int(np.argmin(daily["o3"])) == 6  # O3 lowest under the haze
    # Winter diurnal cycle: night-time PM2.5 above the afternoon's.
    clock = (np.arange(N_HOURS) + 0) % 24
    assert np.nanmean(g["pm25"][:, clock == 1]) > 1.3 * np.nanmean(g["pm25"][:, clock == 15])


def test_gaps_make_a_station_day_invalid_and_keep_others_valid():
    r = kundulun_episode().readings
    stations = list(r.station_ids)
    g = _grid(r, len(stations), FIRST, N_HOURS)
    day5 = slice(4 * 24 + 1, 5 * 24 + 1)  # stamps 5 Dec 01:00 .. 6 Dec 00:00
    a03 = stations.index("1502A03")
    assert (~np.isnan(g["pm25"][a03, day5])).sum() == 18  # < 20: no 24h mean
    assert (~np.isnan(g["pm25"][stations.index("1502A01"), day5])).sum() == 24
    day10 = slice(9 * 24 + 1, 10 * 24 + 1)
    assert (~np.isnan(g["pm10"][stations.index("1502A05"), day10])).sum() == 20
    assert np.isnan(g["o3"][stations.index("150203D02")]).sum() == 3
    assert sum(np.isnan(v).sum() for v in g.values()) == 6 * 6 + 3 + 4 + 6  # + the late cell


def test_rows_for_apis():
    r = kundulun_episode().readings
    rows = list(r.rows())
    assert len(rows) == len(r)
    assert rows[0] == {
        "station_id": r.station_ids[0],
        "observed_at": "2026-12-01T00:00:00+08:00",
        **{p: float(getattr(r, p)[0]) for p in READING_POLLUTANTS},
    }
    gap = next(
        row
        for row in rows
        if row["station_id"] == "1502A03" and row["observed_at"] == "2026-12-05T02:00:00+08:00"
    )
    assert all(gap[p] is None for p in READING_POLLUTANTS)
    assert dt.datetime.fromisoformat(rows[-1]["observed_at"]) == dt.datetime(
        2026, 12, 15, tzinfo=LOCAL
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_rows_match_columns(seed):
    spec = _load("kundulun_episode.json")["readings"]
    stations = [s.station_id for s in kundulun_stations()]
    r, _ = generate_readings(spec, stations, seed)
    i = seed % len(r)
    row = next(x for k, x in enumerate(r.rows()) if k == i)
    assert row["station_id"] == stations[r.station_index[i]]
    stamp = dt.datetime.fromisoformat(row["observed_at"]).astimezone(dt.UTC).replace(tzinfo=None)
    assert np.datetime64(stamp, "s") == r.observed_at[i]
    for p in READING_POLLUTANTS:
        v = getattr(r, p)[i]
        assert (row[p] is None and np.isnan(v)) or row[p] == v


def test_readings_are_deterministic():
    spec = _load("kundulun_episode.json")
    stations = [s.station_id for s in kundulun_stations()]
    a, la = generate_readings(spec["readings"], stations, spec["seed"])
    b, lb = generate_readings(spec["readings"], stations, spec["seed"])
    c, _ = generate_readings(spec["readings"], stations, spec["seed"] + 1)
    for p in READING_POLLUTANTS:
        np.testing.assert_array_equal(getattr(a, p), getattr(b, p))
        np.testing.assert_array_equal(getattr(la, p), getattr(lb, p))
        np.testing.assert_array_equal(getattr(a, p), getattr(kundulun_episode().readings, p))
    assert not np.array_equal(a.pm25, c.pm25, equal_nan=True)


# --------------------------------------------------------------------------- forecasts


def test_forecasts_are_daily_and_agree_with_the_readings():
    ep = kundulun_episode()
    assert (ep.start, ep.end, ep.timezone) == (
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 14),
        "Asia/Shanghai",
    )
    assert [f.issued_at for f in ep.forecasts] == sorted(f.issued_at for f in ep.forecasts)
    district = [f for f in ep.forecasts if f.region == "150203"]
    assert [f.issued_at.astimezone(LOCAL) for f in district] == [
        dt.datetime(2026, 12, d, 16, tzinfo=LOCAL) for d in range(1, 15)
    ]
    assert {f.region for f in ep.forecasts} == {"150203", "150200"}
    assert all(len(f.days) == 4 and f.days[0].date == f.issued_at.date() for f in ep.forecasts)
    assert [d.driver for f in ep.forecasts for d in f.days].count(Driver.DUST) >= 3
    # The issue day's forecast AQI is within 20 of the observed daily AQI (PM-driven):
    # Kundulun from its own stations, Baotou from the national stations.
    r, stations = ep.readings, kundulun_stations()
    tree = kundulun_region_tree()
    inside = [i for i, s in enumerate(stations) if s.region in tree.subtree("150203")]
    national = [i for i, s in enumerate(stations) if s.kind == "national"]
    day = (r.observed_at + np.timedelta64(7, "h")).astype("datetime64[D]")  # hour-ending, local
    for f in ep.forecasts:
        rows = (day == np.datetime64(f.days[0].date)) & np.isin(
            r.station_index, inside if f.region == "150203" else national
        )
        observed = max(
            _iaqi(np.nanmean(r.pm25[rows]), PM25_BP), _iaqi(np.nanmean(r.pm10[rows]), PM10_BP)
        )
        assert abs(observed - f.days[0].aqi) <= 20, (f.region, f.days[0].date, observed)


def test_forecasts_replayed_through_the_lifecycle_give_the_expected_events():
    ep = kundulun_episode()
    states: dict[str, RegionAlertState] = {}
    seen = []
    for forecast, expected in zip(ep.forecasts, ep.expected, strict=True):
        assert (expected.region, expected.issued_at) == (forecast.region, forecast.issued_at)
        state = states.get(forecast.region, RegionAlertState())
        state, events = apply_forecast(state, decide(forecast, national_rules()), forecast)
        states[forecast.region] = state
        kinds = [e.kind for e in events]
        assert kinds == ([] if expected.event == "none" else [expected.event]), expected.why
        level = state.current.level if state.current else Level.NONE
        assert level == expected.level, expected.why
        seen.append((forecast.region, expected.event, expected.level))
    district = [(e, lvl) for region, e, lvl in seen if region == "150203" and e != "hold"]
    assert district == [
        ("none", Level.NONE),
        ("issue", Level.YELLOW),
        ("upgrade", Level.ORANGE),
        ("downgrade", Level.YELLOW),
        ("lift", Level.NONE),
        ("none", Level.NONE),
        ("none", Level.NONE),
        ("none", Level.NONE),
    ]
    issue = next(e for e in states["150203"].history if e.kind == "issue")
    assert issue.alert.starts_at - issue.at >= dt.timedelta(hours=24)  # issued ahead
    assert [e.kind for e in states["150200"].history] == ["issue", "hold", "lift"]


@pytest.mark.parametrize("key", ["name", "description"])
def test_episode_texts_are_bilingual(key):
    ep = kundulun_episode()
    assert is_bilingual(getattr(ep, key))
    assert ep.notes and all(is_bilingual(n) for n in ep.notes)


def test_loaders_are_cached_and_safe_to_share():
    regions = kundulun_regions()
    regions.clear()
    assert len(kundulun_regions()) == 21
    assert kundulun_episode() is kundulun_episode()
    with pytest.raises(ValueError, match="read-only"):
        kundulun_episode().readings.pm25[0] = 0.0
