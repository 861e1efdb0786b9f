"""``/regions/{id}/outline``: a region's GeoJSON outline, drawn on the console's map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from emission_list.i18n import text
from emission_list.outlines import geometry_problems
from service.api.deps import OperatorDep, PrincipalDep, SessionDep
from service.api.schemas.outlines import OutlineIn, OutlineOut
from service.api.text_guard import TextGuard
from service.errors import ERROR_RESPONSES, HazeError, not_found
from service.storage.repositories import audit, outlines, regions

router = APIRouter(tags=["places"], responses=ERROR_RESPONSES, dependencies=[TextGuard])

RegionId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_.-]+$")]


def _no_region(region_id: str) -> HazeError:
    return not_found("region.unknown", f"未知区域 {region_id}", f"Unknown region {region_id}")


async def _missing(session: SessionDep, region_id: str) -> HazeError:
    """Why a region has no outline to answer: no such region, or none set."""
    if await regions.get(session, region_id) is None:
        return _no_region(region_id)
    message = text(f"区域 {region_id} 没有轮廓", f"Region {region_id} has no outline")
    return HazeError(404, "outline.none", message)


@router.put(
    "/regions/{region_id}/outline",
    response_model=OutlineOut,
    responses={201: {"model": OutlineOut, "description": "Created."}},
)
async def put_outline(
    region_id: RegionId,
    body: OutlineIn,
    operator: OperatorDep,
    session: SessionDep,
    response: Response,
) -> OutlineOut:
    """Set a region's outline: a GeoJSON Polygon or MultiPolygon in WGS 84 (every ring
    closed, longitudes in −180..180, latitudes in −90..90). Every problem is in the 422's
    details, the first one's code as the error's."""
    if await regions.get(session, region_id) is None:
        raise _no_region(region_id)
    problems = geometry_problems(body.geometry)
    if problems:
        first = problems[0]
        raise HazeError(422, first.code, first.message, [p.detail() for p in problems])
    geometry = {"type": body.geometry["type"], "coordinates": body.geometry["coordinates"]}
    created = await outlines.put(session, region_id, geometry, body.source)
    await audit.record(session, operator.token_id, "region.outline", f"region/{region_id}")
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return OutlineOut(region_id=region_id, geometry=geometry, source=body.source)


@router.get("/regions/{region_id}/outline", response_model=OutlineOut)
async def get_outline(region_id: RegionId, _: PrincipalDep, session: SessionDep) -> OutlineOut:
    """A region's outline (404 when the region has none)."""
    found = await outlines.get(session, region_id)
    if found is None:
        raise await _missing(session, region_id)
    return OutlineOut(region_id=region_id, geometry=found.geometry, source=found.source)


@router.delete("/regions/{region_id}/outline", status_code=status.HTTP_204_NO_CONTENT)
async def delete_outline(
    region_id: RegionId, operator: OperatorDep, session: SessionDep
) -> Response:
    """Remove a region's outline (404 when it had none)."""
    if not await outlines.remove(session, region_id):
        raise await _missing(session, region_id)
    await audit.record(session, operator.token_id, "region.outline.remove", f"region/{region_id}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
