"""Region outlines in the core: the GeoJSON checks, and Douglas–Peucker against its plain
scalar reference (by hand, then on random rings)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emission_list.outlines import (
    MAX_PROBLEMS,
    bounds,
    geometry_problems,
    simplify_geometry,
    simplify_ring,
)
from emission_list.reference import outlines as reference

SQUARE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]


def test_a_valid_polygon_and_multipolygon_have_no_problem() -> None:
    assert geometry_problems({"type": "Polygon", "coordinates": [SQUARE]}) == []
    hole = [[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.2, 0.2]]
    multi = {
        "type": "MultiPolygon",
        "coordinates": [[SQUARE, hole], [SQUARE]],
        "bbox": [0, 0, 1, 1],
    }
    assert geometry_problems(multi) == []
    with_altitude = [[x, y, 1000] for x, y in SQUARE]
    assert geometry_problems({"type": "Polygon", "coordinates": [with_altitude]}) == []


@pytest.mark.parametrize(
    ("geometry", "code", "path"),
    [
        (None, "outline.type", "geometry"),
        ({"type": "LineString", "coordinates": SQUARE}, "outline.type", "type"),
        ({"type": "Polygon"}, "outline.polygon", "coordinates"),
        ({"type": "Polygon", "coordinates": [SQUARE[:3]]}, "outline.ring_short", "coordinates[0]"),
        (
            {"type": "Polygon", "coordinates": [[*SQUARE[:-1], [0.5, 0.5]]]},
            "outline.ring_open",
            "coordinates[0]",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0], [1, 1], [0, 0]]]},
            "outline.ring_degenerate",
            "coordinates[0]",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 91], *SQUARE[1:-1], [0, 91]]]},
            "outline.range",
            "coordinates[0][0]",
        ),
        (
            {"type": "Polygon", "coordinates": [[[-180.5, 0], *SQUARE[1:-1], [-180.5, 0]]]},
            "outline.range",
            "coordinates[0][0]",
        ),
        (
            {"type": "Polygon", "coordinates": [[[10**400, 0], *SQUARE[1:]]]},
            "outline.position",
            "coordinates[0][0]",
        ),
        (
            {"type": "Polygon", "coordinates": [[[float("inf"), 0], *SQUARE[1:]]]},
            "outline.position",
            "coordinates[0][0]",
        ),
        (
            {"type": "Polygon", "coordinates": [[[False, 0], *SQUARE[1:]]]},
            "outline.position",
            "coordinates[0][0]",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0], *SQUARE[1:]]]},
            "outline.position",
            "coordinates[0][0]",
        ),
        ({"type": "MultiPolygon", "coordinates": [[]]}, "outline.polygon", "coordinates[0]"),
    ],
)
def test_each_kind_of_problem_is_named_with_where_it_is(geometry, code, path) -> None:
    problems = geometry_problems(geometry)
    assert (problems[0].code, problems[0].path) == (code, path)
    assert problems[0].message["zh-CN"] and problems[0].message["en"]


def test_problems_are_capped_and_the_size_is_bounded() -> None:
    ring = [[500, 0]] * 100
    assert len(geometry_problems({"type": "Polygon", "coordinates": [ring]})) == MAX_PROBLEMS
    big = [[i * 1e-4, (i % 2) * 1e-3] for i in range(99)] + [[0.0, 0.0]]
    problems = geometry_problems({"type": "Polygon", "coordinates": [big]}, max_positions=50)
    assert [p.code for p in problems] == ["outline.too_large"]


_json = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.sampled_from(["type", "coordinates", "x"]), inner, max_size=3)
    ),
    max_leaves=40,
)


@settings(max_examples=300)
@given(_json, st.sampled_from(["Polygon", "MultiPolygon"]))
def test_any_json_is_checked_without_raising(value, kind) -> None:
    for candidate in (value, {"type": kind, "coordinates": value}):
        problems = geometry_problems(candidate)
        assert all(p.code.startswith("outline.") for p in problems)


def test_douglas_peucker_by_hand() -> None:
    line = np.array([[0, 0], [1, 0.05], [2, -0.05], [3, 2], [4, 0]], dtype=float)
    assert simplify_ring(line, 0.1).tolist() == [[0, 0], [2, -0.05], [3, 2], [4, 0]]
    assert simplify_ring(line, 3).tolist() == [[0, 0], [4, 0]]
    # A closed ring splits first at the position farthest from its start.
    ring = np.array(SQUARE)
    assert simplify_ring(ring, 0.1).tolist() == SQUARE
    assert simplify_ring(ring, 1.2).tolist() == [[0, 0], [1, 1], [0, 0]]
    assert simplify_ring(ring, 1.5).tolist() == [[0, 0], [0, 0]]


_coordinate = st.floats(-50, 50, allow_nan=False, width=32).map(float)
_points = st.lists(st.tuples(_coordinate, _coordinate), min_size=0, max_size=60)


@settings(max_examples=400)
@given(_points, st.floats(0, 20, allow_nan=False))
def test_douglas_peucker_matches_the_scalar_reference(points, tolerance) -> None:
    kept = simplify_ring(np.array(points, dtype=float).reshape(-1, 2), tolerance)
    assert [tuple(p) for p in kept.tolist()] == reference.simplify(points, tolerance)


@settings(max_examples=200)
@given(_points.filter(lambda p: len(p) >= 2), st.floats(0, 20, allow_nan=False))
def test_every_dropped_position_lies_within_the_tolerance(points, tolerance) -> None:
    kept = simplify_ring(np.array(points), tolerance).tolist()
    index = 0
    for first, last in itertools.pairwise(kept):
        start = points.index(tuple(first), index)
        end = points.index(tuple(last), start + 1) if last != first else start + 1
        for p in points[start + 1 : end]:
            assert reference.squared_distance(p, tuple(first), tuple(last)) <= tolerance**2 * (
                1 + 1e-9
            )
        index = end


def test_a_ring_smaller_than_the_tolerance_is_dropped_and_bounds_cover_the_rest() -> None:
    tiny = [[5.0, 5.0], [5.001, 5.0], [5.001, 5.001], [5.0, 5.0]]
    geometry = {"type": "MultiPolygon", "coordinates": [[SQUARE], [tiny]]}
    simplified = simplify_geometry(geometry, 0.01)
    assert simplified == {"type": "MultiPolygon", "coordinates": [[SQUARE]]}
    assert simplify_geometry({"type": "Polygon", "coordinates": [tiny]}, 0.01) is None
    assert bounds([geometry]) == (0.0, 0.0, 5.001, 5.001)
    assert bounds([]) is None
