"""What the console draws: the map projection and fitting against a plain scalar
reference, the clipping of outlines, and the hourly chart's runs, gaps and day ticks."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from service.console.charts import Hour, forecast_bars, hourly_chart
from service.console.svg_map import clip_ring, fit, outline_path, ring_path

LOCAL = dt.timezone(dt.timedelta(hours=8))


def _reference_xy(box, width, max_height, margin, lon, lat) -> tuple[float, float]:
    """Equirectangular at the box's mean latitude, fitted and centred, one point at a time."""
    west, south, east, north = box
    k = math.cos(math.radians((south + north) / 2))
    scale = min(
        (width - 2 * margin) / ((east - west) * k), (max_height - 2 * margin) / (north - south)
    )
    left = (width - (east - west) * k * scale) / 2
    return left + (lon - west) * k * scale, margin + (north - lat) * scale


_box = st.tuples(
    st.floats(-170, 160), st.floats(-70, 60), st.floats(0.05, 10), st.floats(0.05, 10)
).map(lambda b: (b[0], b[1], b[0] + b[2], b[1] + b[3]))


@settings(max_examples=300)
@given(_box, st.floats(200, 1200), st.floats(150, 900), st.floats(0, 1), st.floats(0, 1))
def test_the_projection_matches_the_scalar_reference(box, width, max_height, u, v) -> None:
    frame = fit(box, width=width, max_height=max_height, margin=10)
    lon, lat = box[0] + u * (box[2] - box[0]), box[1] + v * (box[3] - box[1])
    x, y = frame.project(np.array([lon]), np.array([lat]))
    rx, ry = _reference_xy(box, width, max_height, 10, lon, lat)
    assert math.isclose(x[0], rx, rel_tol=1e-9, abs_tol=1e-7)
    assert math.isclose(y[0], ry, rel_tol=1e-9, abs_tol=1e-7)
    # The box fits inside the margins, touching two opposite ones; north is up.
    corners_x, corners_y = frame.project(np.array(box[::2]), np.array(box[1::2]))
    assert corners_x.min() >= 10 - 1e-6 and corners_x.max() <= width - 10 + 1e-6
    assert corners_y.min() >= 10 - 1e-6 and corners_y.max() <= frame.height - 10 + 1e-6
    assert corners_y[0] > corners_y[1]
    touches = math.isclose(corners_x.max() - corners_x.min(), width - 20, rel_tol=1e-9)
    touches |= math.isclose(frame.height, max_height, rel_tol=1e-9)
    assert touches and frame.height <= max_height + 1e-6


def test_a_degree_of_longitude_is_shorter_by_the_cosine_of_the_latitude() -> None:
    frame = fit((109.0, 40.0, 111.0, 42.0), width=800, max_height=800)
    x, y = frame.project(np.array([109.0, 110.0, 109.0]), np.array([41.0, 41.0, 42.0]))
    assert math.isclose((x[1] - x[0]) / (y[0] - y[2]), math.cos(math.radians(41.0)))


def _inside(point, ring) -> bool:
    """Even-odd rule, one edge at a time."""
    x, y = point
    inside = False
    if not ring:
        return inside
    for (x1, y1), (x2, y2) in zip(ring, [*ring[1:], ring[0]], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.floats(0, 2 * math.pi), st.floats(5, 80)), min_size=3, max_size=30),
    st.lists(st.tuples(st.floats(1, 99), st.floats(1, 59)), min_size=1, max_size=20),
)
def test_clipping_keeps_the_area_inside_the_box(polar, probes) -> None:
    """A star-shaped ring around (50, 30), clipped to 0..100 x 0..60: every point strictly
    inside the box is inside the clipped ring exactly when it is inside the original."""
    polar = sorted(polar)
    assume(len({a for a, _ in polar}) == len(polar))
    ring = [(50 + r * math.cos(a), 30 + r * math.sin(a)) for a, r in polar]
    clipped = clip_ring(np.array(ring), (0.0, 0.0, 100.0, 60.0))
    assert clipped.size == 0 or (clipped[:, 0].min() >= -1e-9 and clipped[:, 0].max() <= 100 + 1e-9)
    clipped_ring = [tuple(p) for p in clipped.tolist()]
    for probe in probes:
        near_edge = any(
            abs((x2 - x1) * (probe[1] - y1) - (y2 - y1) * (probe[0] - x1)) < 1e-6
            for (x1, y1), (x2, y2) in zip(ring, [*ring[1:], ring[0]], strict=True)
        )
        assume(not near_edge)
        assert _inside(probe, clipped_ring) == _inside(probe, ring)


def test_paths_are_short_and_closed() -> None:
    frame = fit((0.0, 0.0, 1.0, 1.0), width=100, max_height=100, margin=0)
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=float)
    assert ring_path(frame, square) == "M0 100L100 100L100 0L0 0Z"
    far = np.array([[5, 5], [6, 5], [6, 6], [5, 5]], dtype=float)
    assert ring_path(frame, far) == ""  # nothing of it lies in the view
    geometry = {"type": "MultiPolygon", "coordinates": [[square.tolist()]]}
    assert outline_path(frame, geometry) == ring_path(frame, square)


def _hours(n: int) -> list[dt.datetime]:
    start = dt.datetime(2026, 12, 1, 1, tzinfo=LOCAL)  # the first hour of 1 December
    return [start + dt.timedelta(hours=h) for h in range(n)]


def test_the_hourly_chart_breaks_its_line_at_missing_hours_and_ticks_at_midnight() -> None:
    hours = _hours(48)
    values = {h: Hour(100 + i, 3, "pm25") for i, h in enumerate(hours) if i not in (10, 11, 30)}
    values[hours[20]] = Hour(None)  # a stored hour without a valid AQI is a gap too
    chart = hourly_chart(hours, values)
    assert [len(run.split()) for run in chart.runs] == [10, 8, 9, 17]
    assert len(chart.gaps) == 3 and len(chart.points) == 44
    step = (chart.plot_right - chart.plot_left) / 48
    # 2 December starts where the hour ending at midnight (the 24th) ends.
    assert [(t.day, t.x) for t in chart.ticks] == [
        (dt.date(2026, 12, 2), round(chart.plot_left + 24 * step, 1))
    ]
    assert [b.high for b in chart.bands] == [50, 100, 150, 200]  # up to the largest AQI's band
    assert all(chart.plot_top <= p.y <= chart.baseline for p in chart.points)


def test_forecast_bars_are_proportional_and_mark_the_counted_days() -> None:
    days = [(dt.date(2026, 12, d), aqi, "pm25") for d, aqi in ((3, 120), (4, 240), (5, 480))]
    chart = forecast_bars(days, [dt.date(2026, 12, 4), dt.date(2026, 12, 5)])
    assert [b.counted for b in chart.bars] == [False, True, True]
    assert [b.category for b in chart.bars] == [3, 5, 6]
    ratios = [b.height / aqi for b, (_, aqi, _) in zip(chart.bars, days, strict=True)]
    assert all(math.isclose(r, ratios[0], rel_tol=2e-3) for r in ratios)  # heights to 0.1
    assert [line.value for line in chart.lines] == [150, 200, 300]
