"""``/healthz``, ``/readyz`` and ``/metrics``: for the orchestrator and Prometheus, no token."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text as sql

from service.api.deps import RuntimeDep
from service.metrics import render

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Database unreachable or not started."}})
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """The database answers and the action board is built."""
    checks = {"board": runtime.current is not None, "database": False}
    try:
        async with runtime.session_maker() as session:
            await session.execute(sql("SELECT 1"))
        checks["database"] = True
    except Exception:  # any failure means not ready
        pass
    ready = all(checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus text format."""
    content, media_type = render(runtime.metrics)
    return Response(content, media_type=media_type)
