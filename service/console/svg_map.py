"""Drawing outlines and points as SVG on the server: projection, fitting, paths.

The projection is equirectangular, scaled by the cosine of the frame's mean latitude, so that
a degree of longitude and a degree of latitude have their true ratio at that latitude (at
Baotou, 40.6° N, a degree of longitude is 0.76 of a degree of latitude):

    x = x0 + (lon − west) · cos(lat0) · s,    y = y0 + (north − lat) · s

A :class:`Frame` fits a box of longitudes and latitudes into a viewBox of a given width and
greatest height, keeping that ratio, centred, with a margin. Rings are clipped to a
little beyond the viewBox (a district's close-up does not carry its province's whole
border), simplified to half a unit (detail no screen shows) and written in units rounded to
0.1, dropping positions that rounding makes repeat; the templates draw shapes and points
from what :func:`outline_path` and :meth:`Frame.point` return.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from emission_list.outlines import positions, simplify_ring

#: Smallest span a frame covers [°]: a single station or a tiny outline still gets a map.
MIN_SPAN_DEG = 0.02
#: Detail below this [viewBox units] is not drawn (Douglas–Peucker on the projected ring).
DRAWN_TOLERANCE = 0.5
#: Drawn paths remembered (a dashboard draws a dozen).
CACHED_PATHS = 256
#: Outlines are clipped this far outside the viewBox [units] (so no clipped edge shows).
CLIP_MARGIN = 8.0


@dataclass(frozen=True)
class Frame:
    """Where the box ``west..east`` × ``south..north`` [°] is drawn in a viewBox."""

    west: float
    south: float
    east: float
    north: float
    width: float
    height: float
    scale: float  # viewBox units per degree of latitude
    x0: float
    y0: float
    cos_lat0: float

    @property
    def view_box(self) -> str:
        return f"0 0 {_n(self.width)} {_n(self.height)}"

    def project(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """viewBox coordinates of longitudes and latitudes [°] (arrays of one shape)."""
        x = self.x0 + (np.asarray(lon, dtype=float) - self.west) * self.cos_lat0 * self.scale
        y = self.y0 + (self.north - np.asarray(lat, dtype=float)) * self.scale
        return x, y

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self.project(np.array([lon]), np.array([lat]))
        return round(float(x[0]), 1), round(float(y[0]), 1)

    def contains(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north


def fit(
    box: tuple[float, float, float, float],
    *,
    width: float = 800,
    max_height: float = 600,
    margin: float = 12,
) -> Frame:
    """The frame drawing ``box`` (west, south, east, north [°]) as large as ``width`` and
    ``max_height`` allow, its aspect kept; the viewBox is ``width`` wide and as high as the
    drawing needs (at most ``max_height``)."""
    west, south, east, north = box
    if east - west < MIN_SPAN_DEG:
        middle = (east + west) / 2
        west, east = middle - MIN_SPAN_DEG / 2, middle + MIN_SPAN_DEG / 2
    if north - south < MIN_SPAN_DEG:
        middle = (north + south) / 2
        south, north = middle - MIN_SPAN_DEG / 2, middle + MIN_SPAN_DEG / 2
    cos_lat0 = math.cos(math.radians((north + south) / 2))
    span_x, span_y = (east - west) * cos_lat0, north - south
    scale = min((width - 2 * margin) / span_x, (max_height - 2 * margin) / span_y)
    height = span_y * scale + 2 * margin
    x0 = (width - span_x * scale) / 2
    return Frame(west, south, east, north, width, height, scale, x0, margin, cos_lat0)


def padded(box: tuple[float, float, float, float], share: float) -> tuple[float, ...]:
    """``box`` widened by ``share`` of its span on every side."""
    west, south, east, north = box
    dx, dy = (east - west) * share, (north - south) * share
    return west - dx, south - dy, east + dx, north + dy


def union(boxes: Iterable[tuple[float, float, float, float] | None]) -> tuple[float, ...] | None:
    found = [b for b in boxes if b is not None]
    if not found:
        return None
    return (
        min(b[0] for b in found),
        min(b[1] for b in found),
        max(b[2] for b in found),
        max(b[3] for b in found),
    )


def points_box(lon_lat: Iterable[tuple[float, float]]) -> tuple[float, ...] | None:
    found = list(lon_lat)
    if not found:
        return None
    lons, lats = zip(*found, strict=True)
    return min(lons), min(lats), max(lons), max(lats)


def _n(value: float) -> str:
    """A number as short as SVG allows at 0.1 unit (``12``, ``12.5``, ``-0.3``)."""
    text = f"{value:.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text == "-0" else text


def _clip_edge(
    points: list[tuple[float, float]], axis: int, limit: float, keep_below: bool
) -> list[tuple[float, float]]:
    """Sutherland–Hodgman: the ring ``points`` cut by the line ``coordinate[axis] = limit``."""

    def inside(p: tuple[float, float]) -> bool:
        return p[axis] <= limit if keep_below else p[axis] >= limit

    out: list[tuple[float, float]] = []
    for i, current in enumerate(points):
        previous = points[i - 1]
        if inside(current) != inside(previous):
            t = (limit - previous[axis]) / (current[axis] - previous[axis])
            out.append(
                (
                    previous[0] + t * (current[0] - previous[0]),
                    previous[1] + t * (current[1] - previous[1]),
                )
            )
        if inside(current):
            out.append(current)
    return out


def clip_ring(xy: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """A ring (``(n, 2)``, closed or not) clipped to the rectangle ``(x0, y0, x1, y1)``.

    The clipped polygon covers exactly the part of the ring's area inside the rectangle
    (its new edges run along the rectangle's sides), so a fill drawn from it looks the same
    within the rectangle; what lies outside is no longer written.
    """
    points = [(float(x), float(y)) for x, y in xy]
    for axis, limit, keep_below in (
        (0, box[0], False),
        (0, box[2], True),
        (1, box[1], False),
        (1, box[3], True),
    ):
        if not points:
            break
        points = _clip_edge(points, axis, limit, keep_below)
    return np.array(points, dtype=float).reshape(-1, 2)


def ring_path(frame: Frame, ring: np.ndarray) -> str:
    """One closed ring (``(n, 2)`` [°lon, °lat]) as ``M…L…Z`` in viewBox units, clipped to
    a little beyond the viewBox ("" when fewer than three distinct positions are left)."""
    x, y = frame.project(ring[:, 0], ring[:, 1])
    m = CLIP_MARGIN
    xy = clip_ring(np.column_stack((x, y)), (-m, -m, frame.width + m, frame.height + m))
    if len(xy) < 3:
        return ""
    xy = np.round(simplify_ring(np.vstack((xy, xy[:1])), DRAWN_TOLERANCE), 1)
    moved = np.concatenate(([True], np.any(np.diff(xy, axis=0) != 0, axis=1)))
    xy = xy[moved]
    if len(xy) > 1 and np.array_equal(xy[0], xy[-1]):
        xy = xy[:-1]  # Z closes it
    if len(xy) < 3:
        return ""
    parts = [f"{_n(px)} {_n(py)}" for px, py in xy.tolist()]
    return "M" + "L".join(parts) + "Z"


def outline_path(frame: Frame, geometry: dict[str, Any]) -> str:
    """Every ring of a valid outline as one path (draw with ``fill-rule="evenodd"`` so that
    holes stay open)."""
    return "".join(ring_path(frame, ring) for ring in positions(geometry))


def fingerprint(geometry: dict[str, Any]) -> str:
    """A digest of an outline's coordinates (what a drawn path depends on)."""
    encoded = json.dumps(geometry, separators=(",", ":"), sort_keys=True).encode()
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()


_drawn: OrderedDict[tuple[Frame, str], str] = OrderedDict()


def cached_outline_path(frame: Frame, geometry: dict[str, Any], digest: str) -> str:
    """:func:`outline_path`, remembered for the last :data:`CACHED_PATHS` frames and outlines
    (``digest``: the outline's :func:`fingerprint`). The same outlines are drawn in the same
    frames on every dashboard until an outline changes, and drawing one costs milliseconds."""
    key = (frame, digest)
    found = _drawn.get(key)
    if found is None:
        found = _drawn[key] = outline_path(frame, geometry)
        while len(_drawn) > CACHED_PATHS:
            _drawn.popitem(last=False)
    else:
        _drawn.move_to_end(key)
    return found
