"""The console's texts: one table per area (``texts/<area>.json``), one key per text.

Each file maps a key (``"area.what"``) to ``{"zh-CN": ..., "en": ...}``; a text may name
values in braces (``"{count} 家企业"``) filled by :func:`Texts.say`. A key in two files, or a
text missing a language, stops the tables from loading (a test loads them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from emission_list.i18n import LANGUAGES, Text, is_bilingual, pick

TEXTS_DIR = Path(__file__).resolve().parent / "texts"


class Texts:
    """Every console text, looked up by key."""

    def __init__(self, table: Mapping[str, Text]) -> None:
        self._table = dict(table)

    def __contains__(self, key: str) -> bool:
        return key in self._table

    def keys(self) -> list[str]:
        return sorted(self._table)

    def text(self, key: str) -> Text:
        """Both languages of ``key`` (a KeyError names a key no table has)."""
        return self._table[key]

    def say(self, key: str, language: str, **values: object) -> str:
        """``key`` in ``language``, its ``{names}`` filled from ``values``."""
        said = pick(self._table[key], language)
        return said.format(**values) if values else said


def load_tables(directory: Path = TEXTS_DIR) -> Texts:
    """Read every table of ``directory``; refuses duplicate keys and one-language texts."""
    table: dict[str, Text] = {}
    where: dict[str, str] = {}
    for path in sorted(directory.glob("*.json")):
        for key, value in json.loads(path.read_text(encoding="utf-8")).items():
            if key in table:
                raise ValueError(f"text {key!r} is in both {where[key]} and {path.name}")
            if not is_bilingual(value) or set(value) != set(LANGUAGES):
                raise ValueError(f"text {key!r} of {path.name} needs exactly {LANGUAGES}")
            table[key], where[key] = value, path.name
    return Texts(table)


@cache
def texts() -> Texts:
    """The tables shipped with the package, read once."""
    return load_tables()
