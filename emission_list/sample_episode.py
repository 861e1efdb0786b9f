"""Hourly readings of the sample episode, generated from a compact daily profile.

Each pollutant's value at station ``s`` and hour ``t`` is

    daily level(t) × diurnal factor(hour of t) × station factor(s) × exp(noise(s, t))

where the daily level follows the profile's daily means (interpolated in log space between
day centres, then rescaled so that each day's mean at a station of factor 1 equals the
profile's value before noise), the diurnal factors are normalised to mean 1, and the noise is
a seeded AR(1) process in log space. PM10 is the fine part times the day's coarse ratio plus
any dust, and a share of the dust counts as PM2.5 too, so PM2.5 never exceeds PM10.
Values are rounded as stations report them: integers in [µg/m³], CO to 0.1 [mg/m³].
Gaps become NaN. Timestamps are hour-ending (the reading stamped 14:00 covers 13:00-14:00).

References
----------
GB 3095-2012 (hourly means; gases at reference conditions, particles at actual conditions
since the 2018 amendment); HJ 663-2013 (data validity).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

#: Pollutants of a reading, in column order; CO in [mg/m³], the others in [µg/m³].
READING_POLLUTANTS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "o3", "co")

_LOCAL_OFFSET = timedelta(hours=8)  # Asia/Shanghai has no daylight saving time
_LOCAL_SUFFIX = "+08:00"


def _utc64(moment: str | datetime) -> np.datetime64:
    """An aware moment (ISO 8601 text or datetime) as naive UTC ``datetime64[s]``."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return np.datetime64(moment.astimezone(UTC).replace(tzinfo=None), "s")


@dataclass(frozen=True, eq=False)
class EpisodeReadings:
    """Hourly readings as columns; one row per station and hour.

    Attributes
    ----------
    station_ids
        Station ids; ``station_index`` points into it.
    station_index
        ``(n,)`` int32.
    observed_at
        ``(n,)`` ``datetime64[s]`` in UTC, hour-ending.
    received_at
        ``(n,)`` ``datetime64[s]`` in UTC, when the reading reached the service.
    pm25, pm10, so2, no2, o3
        ``(n,)`` float64 [µg/m³]; NaN is missing.
    co
        ``(n,)`` float64 [mg/m³]; NaN is missing.
    """

    station_ids: tuple[str, ...]
    station_index: np.ndarray
    observed_at: np.ndarray
    received_at: np.ndarray
    pm25: np.ndarray
    pm10: np.ndarray
    so2: np.ndarray
    no2: np.ndarray
    o3: np.ndarray
    co: np.ndarray

    def __post_init__(self) -> None:
        for name in ("station_index", "observed_at", "received_at", *READING_POLLUTANTS):
            getattr(self, name).flags.writeable = False  # shared by every caller of the cache

    def __len__(self) -> int:
        return len(self.station_index)

    @property
    def station_id(self) -> np.ndarray:
        """Station id of every row, ``(n,)`` str."""
        return np.asarray(self.station_ids, dtype=str)[self.station_index]

    def columns(self) -> dict[str, np.ndarray]:
        """The six pollutant columns by name, in :data:`READING_POLLUTANTS` order."""
        return {p: getattr(self, p) for p in READING_POLLUTANTS}

    def observed_at_local(self) -> np.ndarray:
        """``observed_at`` as ISO 8601 text in local time, e.g. ``2026-12-07T03:00:00+08:00``."""
        local = self.observed_at + np.timedelta64(_LOCAL_OFFSET)
        return np.char.add(np.datetime_as_string(local, unit="s"), _LOCAL_SUFFIX)

    def rows(self) -> Iterator[dict[str, Any]]:
        """One dict per row, as an API posts them: ``station_id``, ``observed_at`` (ISO 8601
        with ``+08:00``) and the six pollutants (None where missing)."""
        ids = self.station_id.tolist()
        stamps = self.observed_at_local().tolist()
        values = {p: v.tolist() for p, v in self.columns().items()}
        for i, (station, stamp) in enumerate(zip(ids, stamps, strict=True)):
            row: dict[str, Any] = {"station_id": station, "observed_at": stamp}
            for p in READING_POLLUTANTS:
                x = values[p][i]
                row[p] = None if x != x else x  # NaN is missing
            yield row

    def take(self, rows: np.ndarray) -> EpisodeReadings:
        """The readings at the given row indices or boolean mask."""
        pick = {p: v[rows] for p, v in self.columns().items()}
        return EpisodeReadings(
            self.station_ids,
            self.station_index[rows],
            self.observed_at[rows],
            self.received_at[rows],
            **pick,
        )


def _ar1(rng: np.random.Generator, shape: tuple[int, ...], sigma: float, phi: float) -> np.ndarray:
    """Stationary AR(1) noise along the last axis (time), standard deviation ``sigma``."""
    z = rng.standard_normal(shape)
    out = np.empty(shape)
    out[..., 0] = sigma * z[..., 0]
    innovation = sigma * np.sqrt(1.0 - phi * phi)
    for t in range(1, shape[-1]):  # a few hundred hours, vectorised over stations
        out[..., t] = phi * out[..., t - 1] + innovation * z[..., t]
    return out


def _daily_levels(
    means: np.ndarray,
    day: np.ndarray,
    t: np.ndarray,
    clock: np.ndarray,
    centres: np.ndarray,
    diurnal: np.ndarray,
) -> np.ndarray:
    """Hourly levels whose mean over each day's hours is that day's mean, ``(T,)``.

    ``t`` is the hour index, ``clock`` its local clock hour, ``day`` its day index and
    ``centres`` the hour index of each day's centre.
    """
    shape = diurnal[clock] / diurnal.mean()
    level = np.exp(np.interp(t, centres, np.log(means))) * shape
    sums = np.bincount(day, weights=level, minlength=len(means))
    counts = np.bincount(day, minlength=len(means))
    return level * (means / (sums / np.maximum(counts, 1)))[day]


def generate_readings(
    spec: Mapping[str, Any], station_ids: Sequence[str], seed: int
) -> tuple[EpisodeReadings, EpisodeReadings]:
    """Generate the episode's on-time and late readings from its ``readings`` description.

    Parameters
    ----------
    spec
        The ``readings`` object of ``kundulun_episode.json``: first and last hour-ending
        stamps, daily means, diurnal factors, station factors, noise, gaps, a late reading
        and a correction.
    station_ids
        Stations to generate, each with an entry in ``spec["station_factors"]``.
    seed
        Seed of the noise; the same seed gives the same readings.

    Returns
    -------
    tuple of EpisodeReadings
        On-time readings (ordered by hour, then station) and the late ones (in arrival order).
    """
    rng = np.random.default_rng(seed)
    first = _utc64(spec["first_observed_at"])
    last = _utc64(spec["last_observed_at"])
    n_hours = int((last - first) // np.timedelta64(1, "h")) + 1
    days = spec["days"]
    # Hours from local midnight of the first day to the first stamp.
    start_local = datetime.fromisoformat(spec["first_observed_at"])
    offset = (start_local.date() - date.fromisoformat(days[0]["date"])).days * 24 + start_local.hour
    t = np.arange(n_hours)
    clock = (t + offset) % 24
    # Hour-ending: the stamp 00:00 closes the day before; a stamp before the first day (or
    # after the last) is counted in the first (last) day.
    day = np.clip((t + offset - 1) // 24, 0, len(days) - 1)
    centres = np.arange(len(days)) * 24 + 12.5 - offset

    def col(name: str) -> np.ndarray:
        return np.array([d[name] for d in days], dtype=np.float64)

    diurnal = {k: np.asarray(v, dtype=np.float64) for k, v in spec["diurnal"].items()}
    levels = {
        p: _daily_levels(col(p), day, t, clock, centres, diurnal[k])
        for p, k in (("pm25", "pm"), ("so2", "so2"), ("no2", "no2"), ("co", "co"), ("o3", "o3"))
    }
    coarse = np.interp(t, centres, col("coarse"))
    dust = col("dust")[day] * diurnal["dust"][clock] / diurnal["dust"].mean()

    factors = spec["station_factors"]
    n_st = len(station_ids)

    def station_factor(key: str) -> np.ndarray:
        return np.array([factors[s][key] for s in station_ids], dtype=np.float64)[:, None]

    noise = spec["noise"]
    sigma, phi = float(noise["sigma"]), float(noise["phi"])
    e = {k: _ar1(rng, (n_st, n_hours), sigma, phi) for k in ("pm", "so2", "no2", "o3", "dust")}
    e["co"] = 0.6 * e["pm"] + _ar1(rng, (n_st, n_hours), float(noise["co_sigma"]), phi)
    e_coarse = float(noise["coarse_sigma"]) * rng.standard_normal((n_st, n_hours))

    fine = levels["pm25"] * station_factor("pm") * np.exp(e["pm"])
    dusty = dust * station_factor("dust") * np.exp(e["dust"])
    share = float(spec["fine_share_of_dust"])
    values = {
        "pm25": np.round(fine + share * dusty),
        "pm10": np.round(fine * coarse * np.exp(np.abs(e_coarse)) + dusty),
        "so2": np.round(levels["so2"] * station_factor("so2") * np.exp(e["so2"])),
        "no2": np.round(levels["no2"] * station_factor("no2") * np.exp(e["no2"])),
        "o3": np.round(levels["o3"] * station_factor("o3") * np.exp(e["o3"])),
        "co": np.round(levels["co"] * station_factor("co") * np.exp(e["co"]), 1),
    }
    values = {p: np.maximum(v, 0.1 if p == "co" else 1.0) for p, v in values.items()}

    index = {s: i for i, s in enumerate(station_ids)}

    def hour_of(stamp: str) -> int:
        return int((_utc64(stamp) - first) // np.timedelta64(1, "h"))

    for gap in spec["gaps"]:
        h = hour_of(gap["from"])
        for p in gap["pollutants"]:
            values[p][index[gap["station_id"]], h : h + int(gap["hours"])] = np.nan

    observed = first + t.astype("timedelta64[h]")
    received = observed + np.timedelta64(int(spec["received_after_seconds"]), "s")
    on_time = np.ones((n_st, n_hours), dtype=bool)
    late_cells, late_received, late_values = [], [], []
    for late in spec["late"]:
        s, h = index[late["station_id"]], hour_of(late["observed_at"])
        on_time[s, h] = False
        late_cells.append((s, h))
        late_received.append(_utc64(late["received_at"]))
        late_values.append({p: values[p][s, h] for p in READING_POLLUTANTS})
    for fix in spec["corrections"]:
        s, h, p = index[fix["station_id"]], hour_of(fix["observed_at"]), fix["pollutant"]
        late_cells.append((s, h))
        late_received.append(_utc64(fix["received_at"]))
        late_values.append({q: values[q][s, h] for q in READING_POLLUTANTS})
        values[p][s, h] = np.round(values[p][s, h] * float(fix["first_posted_factor"]))

    # On-time rows ordered by hour, then station: transpose to (hour, station) and keep.
    keep = on_time.T.ravel()
    station_index = np.tile(np.arange(n_st, dtype=np.int32), n_hours)[keep]
    hours = np.repeat(t, n_st)[keep]
    readings = EpisodeReadings(
        tuple(station_ids),
        station_index,
        observed[hours],
        received[hours],
        **{p: values[p].T.ravel()[keep] for p in READING_POLLUTANTS},
    )
    cells = np.array(late_cells, dtype=np.int64).reshape(-1, 2)
    late_readings = EpisodeReadings(
        tuple(station_ids),
        cells[:, 0].astype(np.int32),
        observed[cells[:, 1]],
        np.array(late_received, dtype="datetime64[s]"),
        **{p: np.array([v[p] for v in late_values], dtype=np.float64) for p in READING_POLLUTANTS},
    )
    order = np.argsort(late_readings.received_at, kind="stable")
    return readings, late_readings.take(order)
