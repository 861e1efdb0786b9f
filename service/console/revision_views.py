"""What the revision pages show beside the stored data: region and industry names for the
selects, local times, and a diff's changed fields flattened to one line per value."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Path
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.catalog import Catalog
from emission_list.entries import OVERRIDE_LEVELS
from emission_list.i18n import Text
from emission_list.levels import LIST_POLLUTANTS
from emission_list.regions import RegionTree
from service.api.schemas.inputs import INT_MAX
from service.storage.repositories import regions

#: A revision number in a page's path: positive, within the database's INTEGER range.
RevisionNumber = Annotated[int, Path(ge=1, le=INT_MAX)]

_FIELDS = (
    "enterprise_id",
    "name",
    "name_en",
    "region",
    "industry",
    "grade",
    "guaranteed_supply",
    "baseline",
    "overrides",
    "contact",
    "production_cut",
    "fractions",
    "actions",
    "row",
    "lines",
    "line_id",
    "kind",
    "rated_kw",
    "logger",
    "channel",
    "serves",
)
#: The text of each part of a field path (``overrides.red.fractions.pm``): fields, levels and
#: pollutants; a part not here (an action's position) is shown as it is.
FIELD_PARTS: Mapping[str, str] = {
    **{name: f"revisions.field.{name}" for name in _FIELDS},
    **{level: f"level.{level}" for level in OVERRIDE_LEVELS},
    **{pollutant: f"revisions.pollutant.{pollutant}" for pollutant in LIST_POLLUTANTS},
}


@dataclass(frozen=True)
class Option:
    value: str
    label: Text | str
    depth: int = 0
    known: bool = True


async def region_options(session: AsyncSession, tree: RegionTree) -> list[Option]:
    """Every region in tree order (a parent before its children), with its depth."""
    names = {r.region_id: r.name for r in await regions.list_all(session)}
    return [
        Option(region_id, names.get(region_id, region_id), int(tree.depth[i]))
        for i, region_id in enumerate(tree.ids)
    ]


def leaf_options(options: Sequence[Option], tree: RegionTree) -> list[Option]:
    """The regions an entry may name (subdistricts and towns)."""
    leaves = set(tree.leaves)
    return [o for o in options if o.value in leaves]


def industry_options(catalog: Catalog) -> list[Option]:
    return [Option(code, industry.name) for code, industry in catalog.industries.items()]


def grade_options(catalog: Catalog) -> list[Option]:
    return [Option(grade, catalog.grade_names[grade]) for grade in catalog.grades]


def with_value(options: Sequence[Option], value: str) -> list[Option]:
    """``options``, with the one of a value they lack (a stored or typed code the catalog or
    tree does not know), so that the select still shows what was there."""
    if not value or any(o.value == value for o in options):
        return list(options)
    return [*options, Option(value, value, known=False)]


def shown(value: object) -> str:
    """A value of an entry's JSON form as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:g}"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _by_line_id(value: object) -> object:
    """An entry's lines as a mapping by line id (so a diff names the line), else ``value``."""
    if isinstance(value, list) and all(
        isinstance(v, Mapping) and isinstance(v.get("line_id"), str) for v in value
    ):
        ids = [v["line_id"] for v in value]
        if len(set(ids)) == len(ids):
            return {v["line_id"]: v for v in value}
    return value


def flat_changes(fields: Mapping[str, tuple[object, object]]) -> list[tuple[str, str, str]]:
    """``(path, old, new)`` for every value that differs, nested mappings opened
    (``baseline.pm``, ``overrides.red.production_cut``, ``lines.P1.rated_kw``)."""
    out: list[tuple[str, str, str]] = []

    def walk(path: str, old: object, new: object) -> None:
        if path == "lines":
            old, new = _by_line_id(old or []), _by_line_id(new or [])
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            for key in sorted(set(old) | set(new), key=str):
                walk(f"{path}.{key}", old.get(key), new.get(key))
        elif old != new:
            out.append((path, shown(old), shown(new)))

    for name, (old, new) in fields.items():
        walk(name, old, new)
    return out
