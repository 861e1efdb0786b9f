"""The operators' dashboard."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.console.auth import OperatorViewDep
from service.console.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
async def dashboard(request: Request, viewer: OperatorViewDep) -> Response:
    return render(request, "dashboard.html", {})
