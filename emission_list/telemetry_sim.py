"""A deterministic simulator of the sample's power-meter and CEMS telemetry.

The normal load of a line at a local clock hour is ``rated_kw × utilisation × profile[hour]``
with the industry's daily profile of ``telemetry_profiles.json`` (continuous processes flat,
day-shift industries low at night) and a seeded utilisation per line (0.85..1). A control
line draws ``rated × utilisation × (control_base + (1 − control_base) × r)`` where ``r`` is
the mean load ratio of the production lines it serves (what they draw over their own full
normal load), and standby power once they all stop.

Noise is counter-based: a splitmix64 hash of (seed, stream, row, absolute minute or hour), so
a value does not depend on the range asked for (a day simulated in one call or minute by
minute gives the same numbers). It is bounded: ``|noise| ≤ noise`` (a sum of three uniform
deviates, scaled), so a compliant plant's production stays at most
``normal × (1 − cut) × (1 − margin) × (1 + noise)``, below ``normal × (1 − cut) × 1.10``
with the defaults (5 % margin, 3 % noise).

Under a warning (a finite required cut), a compliant enterprise produces at
``normal × (1 − cut) × (1 − margin)``; the three sample cheaters (``kundulun_loggers.json``):

- ``night``: full normal load from 20:00 to 06:00 local time, compliant by day;
- ``control_stopped``: compliant production, its control lines at standby from
  ``after_minutes`` into the warning, its CEMS concentrations at their uncontrolled values;
- ``silent``: from ``after_minutes`` into the warning its loggers send nothing (``sent`` is
  False) while it produces at full normal load.

Times are UTC ``datetime64[m]`` (minutes) and ``datetime64[h]`` (hours); an hour of history is
stamped with its start, as HJ 212 stamps hourly data (DataTime is the start of the period).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from emission_list.entries import Enterprise

#: Behaviours of an enterprise in the simulator, by code (index into this tuple).
BEHAVIOURS: tuple[str, ...] = ("compliant", "night", "control_stopped", "silent")
#: The night producer's hours, local clock: from 20:00 to 06:00.
NIGHT_FROM, NIGHT_TO = 20, 6
#: Local time offset of Asia/Shanghai [min] (no daylight saving time).
LOCAL_OFFSET_MIN = 8 * 60
#: Valid data flag of HJ 212 (N: normal) carried with every simulated value.
FLAG_NORMAL = "N"

_DATA = "emission_list.data"
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@cache
def _profiles() -> dict[str, Any]:
    text = resources.files(_DATA).joinpath("telemetry_profiles.json").read_text("utf-8")
    return json.loads(text)


@cache
def _sample_loggers() -> dict[str, Any]:
    text = resources.files(_DATA).joinpath("kundulun_loggers.json").read_text("utf-8")
    return json.loads(text)


#: CEMS item codes (HJ 212-2017): SO2, NOx, particulate [mg/m³], O2 [%], flow [m³/s].
CEMS_CODES: tuple[str, ...] = ("a21026", "a21002", "a34013", "a19001", "a00000")


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over uint64 arrays (wrapping arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _uniform(seed: int, stream: int, rows: np.ndarray, ticks: np.ndarray) -> np.ndarray:
    """Uniform deviates in [0, 1), ``(rows, ticks)``, a pure function of its arguments."""
    with np.errstate(over="ignore"):
        key = _mix(np.asarray([(seed * 1_000_003 + stream) % 2**64], dtype=np.uint64))
        r = np.asarray(rows, dtype=np.uint64)[:, None] * _GOLDEN
        t = np.asarray(ticks, dtype=np.int64).astype(np.uint64)[None, :]
        x = _mix(_mix(key ^ r) + t * np.uint64(0xD1B54A32D192ED03))
    return (x >> np.uint64(11)).astype(np.float64) * 2.0**-53


def bounded_noise(seed: int, stream: int, rows: np.ndarray, ticks: np.ndarray) -> np.ndarray:
    """Noise in [-1, 1] (sum of three uniform deviates, centred and scaled), ``(rows, ticks)``."""
    total = sum(_uniform(seed, stream * 3 + k, rows, ticks) for k in range(3))
    return (total - 1.5) / 1.5


@dataclass(frozen=True, eq=False)
class Plant:
    """The metered lines and loggers of a list, as arrays (``L`` lines, ``G`` loggers,
    ``C`` CEMS loggers, ``E`` enterprises).

    Attributes
    ----------
    enterprise_ids
        ``(E,)``; ``behaviour`` ``(E,)`` int (index into :data:`BEHAVIOURS`) and
        ``after_minutes`` ``(E,)`` int: when a cheater starts, after its warning began.
    line_enterprise, line_ids, is_control, rated_kw, full_kw, normal_kw
        Per line: enterprise index, id, control or production, rated power [kW], its full
        load (rated × utilisation) [kW], and the normal load [kW] at each local clock hour,
        ``(L, 24)``.
    pairs_control, pairs_production
        Which control line serves which production line (line indices), ``(S,)`` each.
    line_logger, channel
        Per line: index of its logger and its channel code.
    mns, logger_enterprise
        ``(G,)`` logger MNs and enterprise index.
    cems_logger, cems_normal, cems_uncontrolled, cems_limits
        ``(C,)`` logger index; ``(C, 5)`` normal values of :data:`CEMS_CODES`; ``(C, 3)``
        SO2, NOx, particulate [mg/m³] with the control lines stopped, and their limits.
    """

    enterprise_ids: tuple[str, ...]
    behaviour: np.ndarray
    after_minutes: np.ndarray
    line_enterprise: np.ndarray
    line_ids: tuple[str, ...]
    is_control: np.ndarray
    rated_kw: np.ndarray
    full_kw: np.ndarray
    normal_kw: np.ndarray
    pairs_control: np.ndarray
    pairs_production: np.ndarray
    line_logger: np.ndarray
    channel: tuple[str, ...]
    mns: tuple[str, ...]
    logger_enterprise: np.ndarray
    cems_logger: np.ndarray
    cems_normal: np.ndarray
    cems_uncontrolled: np.ndarray
    cems_limits: np.ndarray


def build_plant(
    entries: Sequence[Enterprise],
    loggers: Sequence[Mapping[str, Any]],
    cheaters: Sequence[Mapping[str, Any]] = (),
    *,
    seed: int = 0,
) -> Plant:
    """The plant of the entries with lines, their meter and CEMS loggers, and the cheaters.

    ``loggers`` are registrations as in ``kundulun_loggers.json`` (``mn``, ``kind``,
    ``enterprise_id``); ``cheaters`` name an ``enterprise_id``, a ``behaviour`` of
    :data:`BEHAVIOURS` and ``after_minutes``. Enterprises without lines are left out.
    """
    shapes = _profiles()
    metered = [e for e in entries if e.lines]
    index = {e.enterprise_id: i for i, e in enumerate(metered)}
    behaviour = np.zeros(len(metered), dtype=np.int8)
    after = np.zeros(len(metered), dtype=np.int64)
    for cheater in cheaters:
        i = index[cheater["enterprise_id"]]
        behaviour[i] = BEHAVIOURS.index(cheater["behaviour"])
        after[i] = int(cheater["after_minutes"])
    kept = [r for r in loggers if r["kind"] in ("meter", "cems") and r["enterprise_id"] in index]
    mns = tuple(r["mn"] for r in kept)
    logger_index = {mn: g for g, mn in enumerate(mns)}
    lines = [(i, e, line) for i, e in enumerate(metered) for line in e.lines]
    profile = np.array(
        [shapes["profiles"][shapes["industry_profiles"][e.industry]] for _, e, _ in lines]
    ).reshape(len(lines), 24)
    rated = np.array([float(line.rated_kw) for _, _, line in lines])
    utilisation = 0.85 + 0.15 * _uniform(seed, 99, np.arange(len(lines)), np.zeros(1))[:, 0]
    is_control = np.array([line.is_control for _, _, line in lines], dtype=bool)
    position = {(i, line.line_id): k for k, (i, _, line) in enumerate(lines)}
    pairs = [
        (k, position[(i, served)])
        for k, (i, _, line) in enumerate(lines)
        for served in line.serves
        if (i, served) in position
    ]
    pairs_arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    full = rated * utilisation
    normal = full[:, None] * profile
    # A control line's normal load follows the production lines it serves.
    ratio = np.zeros((len(lines), 24))
    np.add.at(ratio, pairs_arr[:, 0], profile[pairs_arr[:, 1]])
    served = np.bincount(pairs_arr[:, 0], minlength=len(lines))[:, None]
    base = float(shapes["control_base"])
    control = full[:, None] * (base + (1 - base) * ratio / np.maximum(served, 1))
    normal = np.where(is_control[:, None], control, normal)
    cems = [(g, r) for g, r in enumerate(kept) if r["kind"] == "cems"]
    table = shapes["cems"]

    def cems_values(key: str, width: int) -> np.ndarray:
        rows = [table[metered[index[r["enterprise_id"]]].industry][key] for _, r in cems]
        return np.array(rows, dtype=np.float64).reshape(len(cems), width)

    return Plant(
        enterprise_ids=tuple(e.enterprise_id for e in metered),
        behaviour=behaviour,
        after_minutes=after,
        line_enterprise=np.array([i for i, _, _ in lines], dtype=np.int64),
        line_ids=tuple(line.line_id for _, _, line in lines),
        is_control=is_control,
        rated_kw=rated,
        full_kw=full,
        normal_kw=normal,
        pairs_control=pairs_arr[:, 0],
        pairs_production=pairs_arr[:, 1],
        line_logger=np.array([logger_index[line.logger] for _, _, line in lines], dtype=np.int64),
        channel=tuple(line.channel for _, _, line in lines),
        mns=mns,
        logger_enterprise=np.array([index[r["enterprise_id"]] for r in kept], dtype=np.int64),
        cems_logger=np.array([g for g, _ in cems], dtype=np.int64),
        cems_normal=cems_values("normal", len(CEMS_CODES)),
        cems_uncontrolled=cems_values("uncontrolled", 3),
        cems_limits=cems_values("limits", 3),
    )


@cache
def sample_plant() -> Plant:
    """The Kundulun sample's plant: its list's lines, ``kundulun_loggers.json``, the three
    cheaters (seed 0 for the utilisations)."""
    from emission_list.samples import kundulun_list

    data = _sample_loggers()
    return build_plant(kundulun_list().entries, data["loggers"], data["cheaters"])


def _local_hour(ticks_min: np.ndarray) -> np.ndarray:
    return ((ticks_min + LOCAL_OFFSET_MIN) // 60) % 24


def history(
    plant: Plant,
    end: np.datetime64,
    weeks: int,
    *,
    seed: int = 0,
    noise: float = 0.03,
) -> tuple[np.ndarray, np.ndarray]:
    """Hourly mean power [kW] of every line over the ``weeks`` weeks before ``end``, normal
    operation, no warnings.

    Returns
    -------
    hours
        ``(H,)`` ``datetime64[h]`` UTC, each hour's start; the last hour ends at ``end``
        (floored to the hour).
    kw
        ``(L, H)`` float64 hourly means [kW].
    """
    last = np.datetime64(end, "h")
    hours = last - np.arange(weeks * 7 * 24, 0, -1).astype("timedelta64[h]")
    ticks = hours.astype(np.int64)
    clock = _local_hour(ticks * 60)
    rows = np.arange(len(plant.line_ids))
    wobble = 1.0 + noise * bounded_noise(seed, 1, rows, ticks)
    return hours, plant.normal_kw[:, clock] * wobble


@dataclass(frozen=True, eq=False)
class Telemetry:
    """Simulated minutes: ``power`` ``(L, M)`` [kW], ``cems`` ``(C, 5, M)`` in
    :data:`CEMS_CODES` order, ``sent`` ``(G, M)`` (False: the logger sent no packet that
    minute), ``times`` ``(M,)`` ``datetime64[m]`` UTC."""

    plant: Plant
    times: np.ndarray
    power: np.ndarray
    cems: np.ndarray
    sent: np.ndarray

    def packet_values(self, minute: int) -> Iterator[tuple[str, dict[str, tuple[float, str]]]]:
        """Per logger that sent at ``minute`` (an index into ``times``): its MN and what the
        packet carries, ``{item code: (value, flag)}`` (power in [kW] to 0.1, concentrations
        [mg/m³] and O2 [%] to 0.01, flow [m³/s] to 0.1)."""
        plant = self.plant
        values: list[dict[str, tuple[float, str]]] = [{} for _ in plant.mns]
        column = self.power[:, minute].round(1).tolist()
        for k, (g, code) in enumerate(zip(plant.line_logger.tolist(), plant.channel, strict=True)):
            values[g][code] = (column[k], FLAG_NORMAL)
        stacks = self.cems[:, :, minute].tolist()
        for c, g in enumerate(plant.cems_logger.tolist()):
            for code, value in zip(CEMS_CODES, stacks[c], strict=True):
                values[g][code] = (round(value, 1 if code == "a00000" else 2), FLAG_NORMAL)
        sent = self.sent[:, minute].tolist()
        for g, mn in enumerate(plant.mns):
            if sent[g] and values[g]:
                yield mn, values[g]


def _onset(cut: np.ndarray, times: np.ndarray, warned_since: np.ndarray | None) -> np.ndarray:
    """Minute (absolute) each enterprise's warning began: given, or its first warned minute
    in the range (a far future where it is never warned)."""
    ticks = times.astype(np.int64)
    warned = np.isfinite(cut)
    first = np.where(warned.any(axis=1), ticks[np.argmax(warned, axis=1)], np.iinfo(np.int64).max)
    if warned_since is None:
        return first
    given = np.asarray(warned_since, dtype="datetime64[m]")
    return np.where(np.isnat(given), first, given.astype(np.int64))


def minutes(
    plant: Plant,
    start: np.datetime64,
    end: np.datetime64,
    cut: np.ndarray,
    *,
    warned_since: np.ndarray | None = None,
    seed: int = 0,
    margin: float = 0.05,
    noise: float = 0.03,
) -> Telemetry:
    """Per-minute power of every line and values of every CEMS from ``start`` to ``end``
    (exclusive), given each enterprise's required production cut.

    Parameters
    ----------
    cut
        ``(E,)`` or ``(E, M)``: the production cut in force (0..1), NaN where no warning.
    warned_since
        ``(E,)`` ``datetime64``: when each enterprise's warning began (NaT: its first warned
        minute in this range); cheaters count ``after_minutes`` from it.
    margin
        How far below the allowed load a compliant plant stays.
    noise
        Bound of the relative noise; ``(1 − margin) × (1 + noise)`` must stay below 1.10.

    Raises
    ------
    ValueError
        When margin and noise could put a compliant plant above 110 % of its allowed load.
    """
    if not (0 <= margin < 1 and noise >= 0 and (1 - margin) * (1 + noise) < 1.10):
        raise ValueError(f"margin {margin} and noise {noise} could exceed the 10 % tolerance")
    times = np.arange(np.datetime64(start, "m"), np.datetime64(end, "m"))
    ticks = times.astype(np.int64)
    n_e = len(plant.enterprise_ids)
    cut = np.broadcast_to(np.asarray(cut, dtype=np.float64).reshape(n_e, -1), (n_e, len(times)))
    warned = np.isfinite(cut)
    started = ticks[None, :] >= (_onset(cut, times, warned_since) + plant.after_minutes)[:, None]
    clock = _local_hour(ticks)
    night = (clock >= NIGHT_FROM) | (clock < NIGHT_TO)
    code = plant.behaviour[:, None]
    ordered = np.where(warned, (1 - np.nan_to_num(cut)) * (1 - margin), 1.0)
    full = (warned & (code == 1) & night[None, :]) | (warned & (code == 3) & started)
    factor = np.where(full, 1.0, ordered)  # (E, M): production load over normal
    stopped = warned & (code == 2) & started  # (E, M): control lines stopped

    rows = np.arange(len(plant.line_ids))
    wobble = 1.0 + noise * bounded_noise(seed, 2, rows, ticks)
    production = plant.normal_kw[:, clock] * factor[plant.line_enterprise] * wobble
    # What the production lines draw over their full load, averaged per control line.
    ratio = np.zeros_like(production)
    share = production[plant.pairs_production] / plant.full_kw[plant.pairs_production, None]
    np.add.at(ratio, plant.pairs_control, share)
    ratio /= np.maximum(np.bincount(plant.pairs_control, minlength=len(rows)), 1)[:, None]
    base, standby = float(_profiles()["control_base"]), float(_profiles()["standby"])
    running = (ratio > standby) & ~stopped[plant.line_enterprise]
    control = np.where(
        running,
        plant.full_kw[:, None] * (base + (1 - base) * ratio) * wobble,
        plant.rated_kw[:, None] * standby,
    )
    power = np.where(plant.is_control[:, None], control, production)
    stacks = _cems(plant, factor, stopped, seed, noise, ticks)
    return Telemetry(plant, times, power, stacks, _sent(plant, warned, started))


def _cems(
    plant: Plant,
    factor: np.ndarray,
    stopped: np.ndarray,
    seed: int,
    noise: float,
    ticks: np.ndarray,
) -> np.ndarray:
    """CEMS values ``(C, 5, M)``: normal (flow follows production), uncontrolled
    concentrations while the control lines are stopped."""
    n_c = len(plant.cems_logger)
    owner = plant.logger_enterprise[plant.cems_logger]
    wobble = 1.0 + noise * bounded_noise(seed, 3, np.arange(n_c * 5), ticks)
    values = plant.cems_normal[:, :, None] * wobble.reshape(n_c, 5, -1)
    raised = plant.cems_uncontrolled[:, :, None] * wobble.reshape(n_c, 5, -1)[:, :3]
    off = stopped[owner][:, None, :]
    values[:, :3] = np.where(off, raised, values[:, :3])
    values[:, 4] *= factor[owner]  # flow [m³/s] with the load
    return values


def _sent(plant: Plant, warned: np.ndarray, started: np.ndarray) -> np.ndarray:
    silent = warned & (plant.behaviour[:, None] == 3) & started
    return ~silent[plant.logger_enterprise]
