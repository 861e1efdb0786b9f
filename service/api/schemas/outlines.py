"""API models of region outlines (GeoJSON Polygon or MultiPolygon, WGS 84)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from emission_list.outlines import MAX_POSITIONS

#: A position. Its ranges are in the description only: a ``prefixItems`` per coordinate
#: would say them, but schemathesis turns it into a tuple ``items`` that OpenAPI 3.1 refuses.
_POSITION = {
    "type": "array",
    "description": "[longitude, latitude] in degrees (WGS 84): longitude in −180..180, "
    "latitude in −90..90; a third number (altitude) is ignored.",
    "minItems": 2,
    "maxItems": 3,
    "items": {"type": "number"},
}
_RING = {
    "type": "array",
    "description": "A closed ring: at least 4 positions, the last equal to the first.",
    "minItems": 4,
    "items": _POSITION,
}
_POLYGON = {"type": "array", "minItems": 1, "items": _RING}

#: A GeoJSON Polygon or MultiPolygon as documented; the checks are
#: :func:`emission_list.outlines.geometry_problems` (every problem answers 422).
Geometry = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "description": f"A GeoJSON Polygon or MultiPolygon (RFC 7946), WGS 84, at most "
            f"{MAX_POSITIONS} positions in all.",
            "oneOf": [
                {
                    "type": "object",
                    "required": ["type", "coordinates"],
                    "properties": {"type": {"const": "Polygon"}, "coordinates": _POLYGON},
                },
                {
                    "type": "object",
                    "required": ["type", "coordinates"],
                    "properties": {
                        "type": {"const": "MultiPolygon"},
                        "coordinates": {"type": "array", "minItems": 1, "items": _POLYGON},
                    },
                },
            ],
        }
    ),
]


class OutlineIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [[109.78, 40.63], [109.86, 40.63], [109.86, 40.70], [109.78, 40.63]]
                        ],
                    },
                    "source": "survey 2026",
                }
            ]
        },
    )

    geometry: Geometry
    source: str = Field("", max_length=200, description="Where the outline comes from.")


class OutlineOut(BaseModel):
    region_id: str
    geometry: Geometry
    source: str
