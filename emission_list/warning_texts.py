"""Bilingual warning texts and local-day helpers for warning decisions and alerts.

The texts live in the package data file ``warning_rules.json`` (key ``texts``) beside the
shipped rule sets; :func:`message` formats one in every language.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from emission_list.i18n import LANGUAGES, Text, pick
from emission_list.levels import Level

#: Local time of the model deployment; a "day" is a natural day in this zone.
LOCAL_TIMEZONE = "Asia/Shanghai"


@cache
def warning_data() -> dict[str, Any]:
    """The package data file ``warning_rules.json`` (texts and rule sets), read once."""
    raw = resources.files("emission_list.data").joinpath("warning_rules.json").read_text("utf-8")
    return json.loads(raw)


def message(key: str, **values: object) -> dict[str, str]:
    """The bilingual text ``key`` of the warning texts, formatted in each language.

    A value that is itself a bilingual text is substituted in the matching language.
    """
    template = warning_data()["texts"][key]
    return {
        lang: template[lang].format(
            **{k: pick(v, lang) if isinstance(v, Mapping) else v for k, v in values.items()}
        )
        for lang in LANGUAGES
    }


def join_texts(*parts: Text, sep: str = "") -> dict[str, str]:
    """Concatenate bilingual texts language by language (Chinese without a separator)."""
    out = {}
    for lang in LANGUAGES:
        texts = [pick(p, lang) for p in parts if p]
        out[lang] = ("" if lang == "zh-CN" else sep).join(t for t in texts if t)
    return out


def level_name(level: Level, capital: bool = False) -> dict[str, str]:
    """Name of a warning level, e.g. 橙色 / orange."""
    return message(("Level." if capital else "level.") + Level(level).label)


@cache
def local_zone(timezone: str = LOCAL_TIMEZONE) -> ZoneInfo:
    """The zone ``timezone`` (IANA name), cached."""
    return ZoneInfo(timezone)


def local_midnight(day: dt.date, timezone: str = LOCAL_TIMEZONE) -> dt.datetime:
    """Start of the local natural day ``day`` as an aware datetime."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=local_zone(timezone))
