"""The dashboard's two maps: the area among its neighbours, and the focus with its stations.

``digests`` (region id -> :func:`service.console.svg_map.fingerprint` of its outline) is
shared by the maps of one page, so that each outline is digested once.

Every outlined region whose outline meets the map's box is drawn, parents before children
(so a district lies on its city, the city on its province); stations inside the box are
points on top.
"""

from __future__ import annotations

from dataclasses import dataclass

from emission_list.outlines import bounds
from service.console import svg_map
from service.console.dashboard_model import Dashboard, RegionStatus, StationStatus

#: Map sizes in viewBox units.
OVERVIEW_SIZE = (560.0, 420.0)
CLOSEUP_SIZE = (560.0, 480.0)


@dataclass(frozen=True)
class Shape:
    status: RegionStatus
    d: str
    focus: bool


@dataclass(frozen=True)
class Point:
    station: StationStatus
    x: float
    y: float


@dataclass(frozen=True)
class MapView:
    key: str  # "overview" or "closeup": names its texts and element ids
    view_box: str
    width: float
    height: float
    shapes: list[Shape]
    points: list[Point]


def _meets(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _draw(
    dashboard: Dashboard,
    key: str,
    box: tuple[float, ...],
    size: tuple[float, float],
    digests: dict[str, str],
) -> MapView:
    frame = svg_map.fit(box, width=size[0], max_height=size[1])
    view = (frame.west, frame.south, frame.east, frame.north)
    shapes = []
    for region_id in dashboard.drawn_order:
        outline = dashboard.outlines[region_id]
        outline_box = bounds([outline.geometry])
        if outline_box is None or not _meets(outline_box, view):
            continue
        if region_id not in digests:
            digests[region_id] = svg_map.fingerprint(outline.geometry)
        d = svg_map.cached_outline_path(frame, outline.geometry, digests[region_id])
        if d:
            status = dashboard.statuses[region_id]
            shapes.append(Shape(status, d, region_id == dashboard.focus.region_id))
    points = [
        Point(s, *frame.point(s.lon, s.lat))
        for s in dashboard.stations
        if frame.contains(s.lon, s.lat)
    ]
    return MapView(key, frame.view_box, frame.width, frame.height, shapes, points)


def overview_map(dashboard: Dashboard, digests: dict[str, str]) -> MapView | None:
    """The area (the city) and its siblings, as far as they have outlines."""
    box = bounds(
        [dashboard.outlines[r].geometry for r in dashboard.overview_ids if r in dashboard.outlines]
    )
    if box is None:
        return None
    return _draw(dashboard, "overview", svg_map.padded(box, 0.02), OVERVIEW_SIZE, digests)


def closeup_map(dashboard: Dashboard, digests: dict[str, str]) -> MapView | None:
    """The focus (the district) and the area's stations."""
    focus = dashboard.outlines.get(dashboard.focus.region_id)
    box = svg_map.union(
        (
            None if focus is None else bounds([focus.geometry]),
            svg_map.points_box((s.lon, s.lat) for s in dashboard.stations),
        )
    )
    if box is None:
        return None
    return _draw(dashboard, "closeup", svg_map.padded(box, 0.06), CLOSEUP_SIZE, digests)
