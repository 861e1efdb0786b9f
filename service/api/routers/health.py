"""``/healthz``, ``/readyz`` and ``/metrics``: for the orchestrator and Prometheus, no token."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text as sql

from service.api.deps import RuntimeDep
from service.metrics import render
from service.runtime import Runtime

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


async def _database_answers(runtime: Runtime) -> bool:
    try:
        async with asyncio.timeout(runtime.settings.ready_timeout_s):
            async with runtime.session_maker() as session:
                await session.execute(sql("SELECT 1"))
    except Exception:  # any failure means not ready
        return False
    return True


@router.get(
    "/readyz",
    responses={503: {"description": "Database or broker unreachable, or not started."}},
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """The database answers, the action board is built and, with Kafka configured, the broker
    answers a metadata request (each within ``HAZE_READY_TIMEOUT_S``)."""
    checks = {"board": runtime.current is not None, "database": await _database_answers(runtime)}
    if runtime.kafka is not None:
        checks["broker"] = await runtime.kafka.ready(runtime.settings.ready_timeout_s)
    ready = all(checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus text format."""
    content, media_type = render(runtime.metrics)
    return Response(content, media_type=media_type)
