"""Units a logger's registration may declare per pollutant code, and conversion factors.

HJ 212-2017 Table B.2 gives mg/m³ for gases and ng/m³ for particles, but many stations send
µg/m³ for everything but CO: the registration says which (``units``), and a code it leaves
out takes the table's unit (:data:`TABLE_B2_UNITS`; ``service.hj212.codes`` holds the table).
Values are converted to the unit their consumer works in: readings in µg/m³ (CO mg/m³, as the
API takes them), the compliance check in mg/m³ for stack concentrations.
"""

from __future__ import annotations

from collections.abc import Mapping

from service.hj212 import codes

#: Spellings a registration may use, each to its canonical form.
UNIT_SPELLINGS: dict[str, str] = {
    "ng/m³": "ng/m³",
    "ng/m3": "ng/m³",
    "µg/m³": "µg/m³",
    "μg/m³": "µg/m³",  # Greek mu
    "ug/m3": "µg/m³",
    "ug/m³": "µg/m³",
    "mg/m³": "mg/m³",
    "mg/m3": "mg/m³",
    "%": "%",
    "kW": "kW",
    "kw": "kW",
    "kWh": "kWh",
    "m³/s": "m³/s",
    "m3/s": "m³/s",
    "m³/h": "m³/h",
    "m3/h": "m³/h",
    "m/s": "m/s",
    "℃": "℃",
    "°C": "℃",
    "°": "°",
    "kPa": "kPa",
    "Pa": "Pa",
}
#: Mass concentrations in µg/m³ per unit.
_MICROGRAMS = {"ng/m³": 1e-3, "µg/m³": 1.0, "mg/m³": 1e3}

#: The unit of each code in HJ 212-2017 Table B.2 (``service/hj212/codes.json``).
TABLE_B2_UNITS: dict[str, str] = {p.code: p.unit for p in codes.POLLUTANTS.values()}


def canonical_unit(unit: str) -> str | None:
    """The canonical spelling of ``unit``, None when it is not one the service knows."""
    return UNIT_SPELLINGS.get(unit.strip())


def unit_of(code: str, units: Mapping[str, str]) -> str | None:
    """The unit a device sends ``code`` in: its registration's, else Table B.2's."""
    return units.get(code) or TABLE_B2_UNITS.get(code)


def factor(from_unit: str | None, to_unit: str) -> float | None:
    """Multiply by this to go from ``from_unit`` to ``to_unit``; None when they do not convert
    (a mass concentration into a percentage)."""
    if from_unit == to_unit:
        return 1.0
    if from_unit in _MICROGRAMS and to_unit in _MICROGRAMS:
        return _MICROGRAMS[from_unit] / _MICROGRAMS[to_unit]
    return None
