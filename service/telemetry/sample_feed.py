"""HJ 212 packets of the sample's simulated episode (:mod:`emission_list.telemetry_sim`):
what the Kundulun sample's meters and stack monitors send minute by minute, three of them
cheating. ``haze hj212 send --sample``, the tests and ``bench.compliance`` send these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from zoneinfo import ZoneInfo

import numpy as np

from emission_list.catalog import default_catalog
from emission_list.entries import resolve_measure
from emission_list.levels import Level
from emission_list.samples import kundulun_list, kundulun_loggers
from emission_list.telemetry_sim import Plant, Telemetry, minutes, sample_plant
from service.hj212.build import build, build_cp, qn_of

BEIJING = ZoneInfo("Asia/Shanghai")
#: System code of an enterprise's logger's packets: 31 air pollution source.
SOURCE_SYSTEM = "31"


def sample_passwords() -> dict[str, str]:
    """Each sample logger's MN and its sample password."""
    return {logger["mn"]: logger["password"] for logger in kundulun_loggers()}


def cuts_for(plant: Plant, enterprise_ids: Mapping[str, int], cut: np.ndarray, level: np.ndarray):
    """(E,) the plant's enterprises' required cuts (NaN: no warning) from a board's
    ``production_cut`` and ``level`` arrays and its rows by enterprise id."""
    out = np.full(len(plant.enterprise_ids), np.nan)
    for k, eid in enumerate(plant.enterprise_ids):
        row = enterprise_ids.get(eid)
        if row is not None and int(level[row]) > 0:
            out[k] = float(cut[row])
    return out


def episode(
    start: dt.datetime, count: int, cut: np.ndarray | None = None, *, seed: int = 0
) -> Telemetry:
    """``count`` minutes of the sample from ``start`` (aware) under the cuts ``cut`` (None:
    no warning)."""
    first = np.datetime64(start.astimezone(dt.UTC).replace(tzinfo=None), "m")
    plant = sample_plant()
    if cut is None:
        cut = np.full(len(plant.enterprise_ids), np.nan)
    return minutes(plant, first, first + np.timedelta64(count, "m"), cut, seed=seed)


def minute_packets(
    telemetry: Telemetry, minute: int, passwords: Mapping[str, str], *, zone: ZoneInfo = BEIJING
) -> Iterator[bytes]:
    """The minute-data packets (CN=2051, Flag=5: answer required) every logger that sent at
    ``minute`` (an index into ``telemetry.times``) sends, DataTime in local time."""
    utc = telemetry.times[minute].astype("datetime64[s]").tolist().replace(tzinfo=dt.UTC)
    local = utc.astimezone(zone).replace(tzinfo=None)
    stamp = local.strftime("%Y%m%d%H%M%S")
    for k, (mn, values) in enumerate(telemetry.packet_values(minute)):
        items = {
            code: {"Avg": f"{value:g}", "Flag": flag} for code, (value, flag) in values.items()
        }
        cp = build_cp({"DataTime": stamp}, items)
        qn = qn_of(local + dt.timedelta(milliseconds=k % 1000))
        yield build(qn=qn, st=SOURCE_SYSTEM, cn="2051", pw=passwords[mn], mn=mn, flag=5, cp=cp)


def sample_cuts(level: str) -> np.ndarray:
    """(E,) each sample plant's production cut at ``level`` over the whole list (NaN at
    ``none``), as the catalog and the entry's overrides give it: the orders an operator's
    warning of that level would give, computed offline."""
    plant = sample_plant()
    if Level.parse(level) is Level.NONE:
        return np.full(len(plant.enterprise_ids), np.nan)
    catalog, entries = default_catalog(), {e.enterprise_id: e for e in kundulun_list().entries}
    return np.array(
        [
            resolve_measure(catalog, entries[eid], level).production_cut
            for eid in plant.enterprise_ids
        ]
    )


def sample_frames(minutes: int, level: str, end: dt.datetime | None = None) -> Iterator[bytes]:
    """Every packet the sample's loggers send over the ``minutes`` minutes before ``end``
    (now) with a warning of ``level`` in force from the first of them."""
    end = (end or dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)
    start = end - dt.timedelta(minutes=minutes)
    telemetry = episode(start, minutes, sample_cuts(level))
    passwords = sample_passwords()
    for minute in range(minutes):
        yield from minute_packets(telemetry, minute, passwords)
