"""The code tables of HJ 212 as data (``codes.json``): ST and CN names, QnRtn and ExeRtn, the
data flags and which of them are valid, the pollutant codes of Table B.2 with their 2005
codes, units and the list pollutant each one is. Loaded once at import; read-only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from emission_list.i18n import Text


@dataclass(frozen=True)
class Pollutant:
    code: str  # HJ 212-2017
    code_2005: str | None  # HJ/T 212-2005, None where the 2005 edition had none
    unit: str  # Table B.2's unit (a registration may say the device sends another)
    list_pollutant: str | None  # pm25, pm10, so2, no2, o3, co, or None
    name: Text


def _text(entry: dict[str, Any]) -> Text:
    return {"zh-CN": entry["zh-CN"], "en": entry["en"]}


_RAW = json.loads(resources.files(__package__).joinpath("codes.json").read_text("utf-8"))

SYSTEMS: MappingProxyType[str, Text] = MappingProxyType(
    {code: _text(entry) for code, entry in _RAW["systems"].items()}
)
COMMANDS: MappingProxyType[str, Text] = MappingProxyType(
    {code: _text(entry) for code, entry in _RAW["commands"].items()}
)
#: CN -> "data" (carries values: routed), "command" (centre -> logger), "answer", "heartbeat".
COMMAND_KINDS: MappingProxyType[str, str] = MappingProxyType(
    {code: entry["kind"] for code, entry in _RAW["commands"].items()}
)
DATA_COMMANDS = frozenset(code for code, kind in COMMAND_KINDS.items() if kind == "data")
QN_RTN: MappingProxyType[str, Text] = MappingProxyType(
    {code: _text(entry) for code, entry in _RAW["qn_rtn"].items()}
)
EXE_RTN: MappingProxyType[str, Text] = MappingProxyType(
    {code: _text(entry) for code, entry in _RAW["exe_rtn"].items()}
)
FLAGS: MappingProxyType[str, Text] = MappingProxyType(
    {flag: _text(entry) for flag, entry in _RAW["flags"].items()}
)
#: The data flags whose values count toward AQI and compliance.
VALID_FLAGS = frozenset(flag for flag, entry in _RAW["flags"].items() if entry["valid"])
POLLUTANTS: MappingProxyType[str, Pollutant] = MappingProxyType(
    {
        entry["code"]: Pollutant(
            entry["code"], entry["code_2005"], entry["unit"], entry["list"], _text(entry)
        )
        for entry in _RAW["pollutants"]
    }
)
#: 2005 code -> 2017 code.
CODES_2005: MappingProxyType[str, str] = MappingProxyType(
    {p.code_2005: p.code for p in POLLUTANTS.values() if p.code_2005}
)
#: List pollutant (pm25, ...) -> 2017 code.
LIST_CODES: MappingProxyType[str, str] = MappingProxyType(
    {p.list_pollutant: p.code for p in POLLUTANTS.values() if p.list_pollutant}
)

#: QnRtn values the gateway sends.
QN_READY, QN_REFUSED, QN_WRONG_PW, QN_WRONG_MN, QN_WRONG_CN, QN_WRONG_CRC = 1, 2, 3, 4, 8, 9


def flag_valid(flag: str | None) -> bool:
    """Does a value with this data flag count? A value without a flag counts as N."""
    return flag is None or flag in VALID_FLAGS
