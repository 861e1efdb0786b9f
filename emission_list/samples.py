"""The Kundulun sample: regions, stations, the emission-reduction list and a winter episode.

Everything is invented for demonstration and tests, though shaped like the real district
(Kundulun District of Baotou, division 150203): its 13 subdistricts and 2 towns, Baotou's
national monitoring stations, about 90 enterprises from the sectors of the district's 2025
action plan (with invented names and synthetic credit codes, so that no real company is
graded), and a two-week PM2.5 episode in December 2026 with the daily forecasts that should
issue, upgrade, downgrade and lift a warning.

Data lives in ``emission_list/data/kundulun_*.json``; each loader reads its file once.
The episode's hourly readings are generated deterministically from the compact daily profile
in ``kundulun_episode.json`` (see :mod:`emission_list.sample_episode`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from emission_list.i18n import Text
from emission_list.levels import Driver, Level
from emission_list.regions import RegionTree
from emission_list.revisions import Revision
from emission_list.sample_episode import EpisodeReadings, generate_readings
from emission_list.warnings import Forecast, ForecastDay

__all__ = [
    "Episode",
    "EpisodeReadings",
    "ExpectedDecision",
    "Region",
    "Station",
    "kundulun_episode",
    "kundulun_list",
    "kundulun_region_tree",
    "kundulun_regions",
    "kundulun_stations",
]

#: Kinds of region, from the root down.
REGION_KINDS: tuple[str, ...] = ("province", "city", "district", "subdistrict", "town")
#: Gases at reference conditions, 298.15 K and 1013.25 hPa (GB 3095-2012, 2018 amendment).
GAS_REFERENCE = "reference"
#: Particles at the actual (ambient) temperature and pressure (GB 3095-2012, 2018 amendment).
PARTICLE_ACTUAL = "actual"
#: Sample id of the district.
KUNDULUN = "150203"
#: The city above it.
BAOTOU = "150200"

_DATA = "emission_list.data"


@cache
def _load(name: str) -> Any:
    return json.loads(resources.files(_DATA).joinpath(name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Region:
    """A region of the sample tree.

    ``kind`` is one of :data:`REGION_KINDS`; ``parent`` is None for the province.
    ``requires_signoff``: the region's warnings (and those of the regions under it) wait as
    proposals until an operator signs them off.
    """

    region_id: str
    parent: str | None
    name: Text
    kind: str
    requires_signoff: bool = False


@dataclass(frozen=True)
class Station:
    """A monitoring station and what it declares about its data.

    ``units`` maps each pollutant to its unit ([µg/m³]; [mg/m³] for CO);
    ``gas_condition`` is ``"reference"`` (298.15 K, 1013.25 hPa) and ``particle_condition``
    ``"actual"`` (ambient temperature and pressure), as GB 3095-2012 amended in 2018 requires.
    ``region`` is the subdistrict or town for a station in Kundulun, else the city.
    """

    station_id: str
    name: Text
    lon: float
    lat: float
    region: str
    kind: str
    gas_condition: str = GAS_REFERENCE
    particle_condition: str = PARTICLE_ACTUAL
    units: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class ExpectedDecision:
    """What a sample forecast should make the warning lifecycle decide.

    ``event`` is ``"none"`` (no warning before or after), ``"issue"``, ``"upgrade"``,
    ``"hold"``, ``"downgrade"`` or ``"lift"``; ``level`` is the level in force afterwards.
    """

    region: str
    issued_at: datetime
    event: str
    level: Level
    why: str


@dataclass(frozen=True)
class Episode:
    """The sample winter episode.

    ``forecasts`` are in issue order (all regions together) and ``expected[i]`` belongs to
    ``forecasts[i]``. ``readings`` are the on-time hourly readings; ``late_readings`` arrive
    afterwards, in order: a reading missing from ``readings`` and a correction of one
    already there (to exercise the per-station-and-hour upsert).
    """

    name: Text
    description: Text
    timezone: str
    start: date
    end: date
    aqi_edition: str
    forecasts: tuple[Forecast, ...]
    expected: tuple[ExpectedDecision, ...]
    readings: EpisodeReadings
    late_readings: EpisodeReadings
    notes: tuple[Text, ...] = ()


@cache
def _regions() -> tuple[Region, ...]:
    return tuple(
        Region(r["region_id"], r["parent"], dict(r["name"]), r["kind"])
        for r in _load("kundulun_regions.json")["regions"]
    )


def kundulun_regions() -> list[Region]:
    """Inner Mongolia, Baotou, Kundulun with its 15 subdistricts and towns, and the neighbours.

    Subdistrict and town ids are sample ids ``150203001`` to ``150203015`` in the order
    Shaoxianlu, Zhaotan, Linyinlu, Youyi Dajie, Aerding Dajie, Tuanjie Dajie, Anshandao,
    Qianjindao, Shifu Donglu, Baiyunlu, Huanghe Xilu, Kungonglu, Kunbei, Kunhe (town),
    Buerhantu (town), not the official township codes. Hohhot (150100), Ordos (150600) and
    Ulanqab (150900) sit beside Baotou (150200) under Inner Mongolia (150000).
    """
    return list(_regions())


@cache
def kundulun_region_tree() -> RegionTree:
    """The sample regions as a :class:`~emission_list.regions.RegionTree`."""
    return RegionTree((r.region_id, r.parent) for r in _regions())


@cache
def _stations() -> tuple[Station, ...]:
    data = _load("kundulun_stations.json")
    return tuple(
        Station(
            station_id=s["station_id"],
            name=dict(s["name"]),
            lon=float(s["lon"]),
            lat=float(s["lat"]),
            region=s["region"],
            kind=s["kind"],
            gas_condition=s.get("gas_condition", GAS_REFERENCE),
            particle_condition=s.get("particle_condition", PARTICLE_ACTUAL),
            units=dict(s.get("units", data["units"])),
        )
        for s in data["stations"]
    )


def kundulun_stations() -> list[Station]:
    """Baotou's seven national stations and four district stations of Kundulun.

    Ids: ``1502A01`` .. ``1502A07`` (national, sample codes) and ``150203D01`` ..
    ``150203D04`` (district). A station in Kundulun has its subdistrict or town as region,
    one elsewhere in Baotou the city (150200).
    """
    return list(_stations())


@cache
def kundulun_list() -> Revision:
    """The sample list: revision 1, published, in force from 2026-10-01, author ``sample``.

    About 90 invented enterprises of Kundulun with synthetic valid credit codes, sorted by
    enterprise id. Regenerate the data file with ``scripts/make_sample_list.py``.
    """
    return Revision.from_dict(_load("kundulun_list.json"))


def _forecast(f: dict[str, Any]) -> Forecast:
    return Forecast(
        region=f["region"],
        issued_at=datetime.fromisoformat(f["issued_at"]),
        days=tuple(
            ForecastDay(date.fromisoformat(day), int(aqi), Driver(driver))
            for day, aqi, driver in f["days"]
        ),
    )


@cache
def kundulun_episode() -> Episode:
    """The December 2026 winter episode: forecasts, expected decisions and hourly readings.

    Forecasts for Kundulun (150203) are issued daily at 16:00 local time and those of the
    city (150200) at 15:00 on three days; each covers the issue day and the next three days.
    Replayed through the national rules and the lifecycle they should give, for Kundulun:
    a yellow warning issued on 2 Dec (32 hours ahead), an upgrade to orange on 3 Dec, holds
    (including a first lower forecast on 8 Dec), a downgrade to yellow on 9 Dec and a lift
    on 11 Dec; and for Baotou an orange issued on 6 Dec, held on 8 Dec and lifted on 9 Dec.
    """
    spec = _load("kundulun_episode.json")
    stations = _stations()
    ordered = sorted(spec["forecasts"], key=lambda f: datetime.fromisoformat(f["issued_at"]))
    readings, late = generate_readings(
        spec["readings"], [s.station_id for s in stations], spec["seed"]
    )
    return Episode(
        name=dict(spec["name"]),
        description=dict(spec["description"]),
        timezone=spec["timezone"],
        start=date.fromisoformat(spec["start"]),
        end=date.fromisoformat(spec["end"]),
        aqi_edition=spec["aqi_edition"],
        forecasts=tuple(_forecast(f) for f in ordered),
        expected=tuple(
            ExpectedDecision(
                region=f["region"],
                issued_at=datetime.fromisoformat(f["issued_at"]),
                event=f["expected_event"],
                level=Level.parse(f["expected_level"]),
                why=f["why"],
            )
            for f in ordered
        ),
        readings=readings,
        late_readings=late,
        notes=tuple(
            dict(item["note"])
            for key in ("gaps", "late", "corrections")
            for item in spec["readings"][key]
        ),
    )


def kundulun_loggers() -> list[dict[str, Any]]:
    """The sample's data loggers (``kundulun_loggers.json``): power meters and CEMS of the
    listed enterprises and the stations' loggers, each with its sample password and units."""
    return [dict(logger) for logger in _load("kundulun_loggers.json")["loggers"]]


def kundulun_cheaters() -> dict[str, str]:
    """The sample's three cheating plants: enterprise id → what it does (``night``,
    ``control_stopped``, ``silent``; docs/compliance-sample.md)."""
    return {c["enterprise_id"]: c["behaviour"] for c in _load("kundulun_loggers.json")["cheaters"]}
