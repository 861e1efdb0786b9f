"""``haze region import FILE``: regions and their outlines from a regions file.

The file is the sample's format (``{"regions": [...]}``, each region with an optional
``outline``) or a GeoJSON FeatureCollection of outlines (``properties.region_id``); see
:mod:`service.services.outlines`. Nothing is stored unless the whole file is right and the
tree stays a tree; a running ``haze serve`` follows new regions after a restart.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

from emission_list.regions import RegionTree
from service.services.outlines import read_regions_file
from service.settings import Settings
from service.storage.engine import create_engine, make_session_maker
from service.storage.migrate import migrate
from service.storage.repositories import audit, outlines, regions


async def import_regions(settings: Settings, path: Path, author: str, err: TextIO) -> int:
    """Store the regions and outlines of ``path``; exit status 1 with every problem listed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"{path}: {exc}", file=err)
        return 1
    found = read_regions_file(data, source=path.name)
    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with make_session_maker(engine)() as session:
            stored = {r.region_id: r.parent for r in await regions.list_all(session)}
            merged = stored | {r.region_id: r.parent for r in found.regions}
            try:
                RegionTree(merged.items())
            except ValueError as exc:
                found.problems.append(f"regions: {exc}")
            unknown = sorted(set(found.outlines) - set(merged))
            found.problems += [f"outline of unknown region {region_id}" for region_id in unknown]
            if found.problems:
                for line in found.problems:
                    print(line, file=err)
                print(f"{len(found.problems)} problems: nothing stored", file=err)
                return 1
            created = await regions.put_many(session, found.regions)
            for region_id, (geometry, source) in sorted(found.outlines.items()):
                await outlines.put(session, region_id, geometry, source)
            details = {"file": path.name, "outlines": len(found.outlines)}
            await audit.record(session, author, "region.import", "regions", details)
            await session.commit()
    finally:
        await engine.dispose()
    print(
        f"{len(found.regions)} regions ({created} new), {len(found.outlines)} outlines stored. "
        "A running `haze serve` follows new regions after a restart.",
        file=err,
    )
    return 0


def run_import(settings: Settings, path: str, author: str) -> int:
    return asyncio.run(import_regions(settings, Path(path), author, sys.stderr))
