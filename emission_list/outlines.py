"""Region outlines: GeoJSON Polygon and MultiPolygon geometries in WGS 84 (RFC 7946).

:func:`geometry_problems` checks an outline as received (its type, the nesting of its
coordinates, each position's longitude in −180..180 and latitude in −90..90, each ring closed
with at least four positions of which three distinct, and a bound on its size) and returns
every problem found, up to :data:`MAX_PROBLEMS`, each with the path of the part at fault.
It never raises, whatever the input.

:func:`simplify_ring` is the Douglas–Peucker simplification of one ring: the first and last
positions are kept, and a position is kept when it lies farther than ``tolerance`` from the
segment joining the kept positions around it (distance to the *segment*, so that a closed
ring, whose first and last positions coincide, splits at its farthest position first). Each
step measures every candidate position of a span at once with numpy.

References
----------
RFC 7946, The GeoJSON Format, sections 3.1.1 (positions), 3.1.6 (Polygon), 3.1.7
(MultiPolygon). Douglas, D. H. and Peucker, T. K. (1973), Algorithms for the reduction of the
number of points required to represent a digitized line or its caricature, Cartographica 10(2).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from emission_list.i18n import Text, text

#: Outline types accepted; a region is an area.
OUTLINE_TYPES: tuple[str, ...] = ("Polygon", "MultiPolygon")
#: The most positions an outline may hold in all its rings (a district's official outline
#: has a few thousand; the shipped ones are simplified to a few hundred).
MAX_POSITIONS = 20_000
#: Problems reported at most (a broken file should not answer with 20,000 details).
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class OutlineProblem:
    """What is wrong with an outline, and where (``coordinates[0][3]``)."""

    code: str
    path: str
    message: Text

    def detail(self) -> dict[str, str]:
        return {"field": self.path, "code": self.code, "message": self.message["en"]}


def _finite_number(value: object) -> bool:
    """A JSON number (not a boolean) that is finite as a float."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float
        return False


class _Checker:
    def __init__(self, max_positions: int) -> None:
        self.problems: list[OutlineProblem] = []
        self.positions = 0
        self.max_positions = max_positions

    def add(self, code: str, path: str, zh: str, en: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(OutlineProblem(code, path, text(zh, en)))

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS or self.positions > self.max_positions

    def position(self, value: object, path: str) -> tuple[float, float] | None:
        self.positions += 1
        if not isinstance(value, list) or not 2 <= len(value) <= 3:
            self.add("outline.position", path, "坐标应为 [经度, 纬度]", "A position is [lon, lat]")
            return None
        if not all(_finite_number(v) for v in value):
            self.add("outline.position", path, "坐标应为有限数值", "Coordinates are finite numbers")
            return None
        lon, lat = float(value[0]), float(value[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            self.add(
                "outline.range",
                path,
                "经度应在 −180 至 180、纬度在 −90 至 90 之间（WGS 84）",
                "Longitude must lie in −180..180 and latitude in −90..90 (WGS 84)",
            )
            return None
        return lon, lat

    def ring(self, value: object, path: str) -> None:
        if not isinstance(value, list) or len(value) < 4:
            self.add(
                "outline.ring_short",
                path,
                "每个环至少需要 4 个坐标（首尾相同）",
                "A ring needs at least 4 positions (the first repeated last)",
            )
            return
        found = []
        for i, position in enumerate(value):
            if self.full:
                return
            found.append(self.position(position, f"{path}[{i}]"))
        if any(p is None for p in found):
            return
        if value[0][:2] != value[-1][:2]:
            self.add(
                "outline.ring_open",
                path,
                "环未闭合：最后一个坐标须与第一个相同",
                "The ring is not closed: its last position must equal its first",
            )
        elif len(set(found)) < 3:
            self.add(
                "outline.ring_degenerate",
                path,
                "环至少需要 3 个不同的坐标",
                "A ring needs at least 3 distinct positions",
            )

    def polygon(self, value: object, path: str) -> None:
        if not isinstance(value, list) or not value:
            self.add(
                "outline.polygon",
                path,
                "多边形应为环的列表（外环在前）",
                "A polygon is a list of rings (the exterior first)",
            )
            return
        for i, ring in enumerate(value):
            if self.full:
                return
            self.ring(ring, f"{path}[{i}]")


def geometry_problems(value: object, max_positions: int = MAX_POSITIONS) -> list[OutlineProblem]:
    """Every problem of ``value`` as a region outline (empty: it is a valid outline)."""
    check = _Checker(max_positions)
    if not isinstance(value, dict):
        check.add("outline.type", "geometry", "轮廓应为 GeoJSON 几何对象", "A GeoJSON geometry")
        return check.problems
    kind = value.get("type")
    if kind not in OUTLINE_TYPES:
        check.add(
            "outline.type",
            "type",
            "轮廓类型应为 Polygon 或 MultiPolygon",
            "The outline's type must be Polygon or MultiPolygon",
        )
        return check.problems
    coordinates = value.get("coordinates")
    if kind == "Polygon":
        check.polygon(coordinates, "coordinates")
    elif not isinstance(coordinates, list) or not coordinates:
        check.add(
            "outline.polygon",
            "coordinates",
            "MultiPolygon 应为多边形的列表",
            "A MultiPolygon is a list of polygons",
        )
    else:
        for i, polygon in enumerate(coordinates):
            if check.full:
                break
            check.polygon(polygon, f"coordinates[{i}]")
    if check.positions > max_positions:
        check.problems.append(
            OutlineProblem(
                "outline.too_large",
                "coordinates",
                text(
                    f"轮廓坐标过多：最多 {max_positions} 个，请先简化",
                    f"Too many positions: at most {max_positions}; simplify the outline first",
                ),
            )
        )
    return check.problems


def polygons(geometry: dict[str, Any]) -> list[list[np.ndarray]]:
    """A valid outline's polygons, each a list of rings as ``(n, 2)`` arrays [°lon, °lat]."""
    found = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        found = [found]
    return [[np.array([p[:2] for p in ring], dtype=float) for ring in polygon] for polygon in found]


def positions(geometry: dict[str, Any]) -> Iterator[np.ndarray]:
    """Every ring of a valid outline as an ``(n, 2)`` array."""
    for polygon in polygons(geometry):
        yield from polygon


def bounds(geometries: Sequence[dict[str, Any]]) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of valid outlines [°], None for none."""
    rings = [ring for g in geometries for ring in positions(g)]
    if not rings:
        return None
    stacked = np.concatenate(rings)
    west, south = stacked.min(axis=0)
    east, north = stacked.max(axis=0)
    return float(west), float(south), float(east), float(north)


def _squared_distances(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared distance of each of ``points`` to the segment ``a``–``b`` (to ``a`` when
    ``a == b``), element by element (no fused or reordered sums: the result does not depend
    on the BLAS numpy was built with)."""
    dx, dy = float(b[0] - a[0]), float(b[1] - a[1])
    px, py = points[:, 0] - a[0], points[:, 1] - a[1]
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        return px * px + py * py
    t = np.clip((px * dx + py * dy) / length2, 0.0, 1.0)
    ex, ey = px - t * dx, py - t * dy
    return ex * ex + ey * ey


def simplify_ring(ring: np.ndarray, tolerance: float) -> np.ndarray:
    """The positions of ``ring`` (``(n, 2)``) Douglas–Peucker keeps at ``tolerance``.

    The first and last positions are always kept; so is every position farther than
    ``tolerance`` from the segment between the kept positions around it (ties: the first).
    """
    ring = np.asarray(ring, dtype=float)
    n = len(ring)
    if n <= 2:
        return ring.copy()
    limit = float(tolerance) * float(tolerance)
    keep = np.zeros(n, dtype=bool)
    keep[[0, n - 1]] = True
    spans = [(0, n - 1)]
    while spans:
        first, last = spans.pop()
        if last - first < 2:
            continue
        distances = _squared_distances(ring[first + 1 : last], ring[first], ring[last])
        k = int(np.argmax(distances))
        if distances[k] > limit:
            split = first + 1 + k
            keep[split] = True
            spans.extend(((first, split), (split, last)))
    return ring[keep]


def simplify_geometry(geometry: dict[str, Any], tolerance: float) -> dict[str, Any] | None:
    """A valid outline simplified ring by ring (a MultiPolygon).

    A ring left with fewer than four positions (smaller than the tolerance) is dropped, and
    a polygon whose exterior is dropped goes with its holes; None when nothing is left.
    """
    kept = []
    for polygon in polygons(geometry):
        rings = [simplify_ring(ring, tolerance) for ring in polygon]
        if len(rings[0]) < 4:
            continue
        kept.append([ring.tolist() for ring in rings if len(ring) >= 4])
    if not kept:
        return None
    return {"type": "MultiPolygon", "coordinates": kept}
