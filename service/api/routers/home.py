"""``/``, ``/docs`` and ``/redoc``: where a newcomer lands, and the API documentation served
from files the package ships (``service/api/static/``), so that it works without internet."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
STATIC_URL = "/static"
SWAGGER_UI = f"{STATIC_URL}/swagger-ui-5.35.0"
REDOC = f"{STATIC_URL}/redoc-2.5.4"
TITLE = "Haze Response"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request) -> Response:
    """A browser goes to the interactive documentation; anything else gets the way in."""
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/docs", status_code=307)
    return JSONResponse(
        {
            "service": TITLE,
            "api": "/api/v1",
            "docs": "/docs",
            "redoc": "/redoc",
            "openapi": "/openapi.json",
            "health": "/healthz",
            "ready": "/readyz",
        }
    )


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{TITLE} — API",
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
    )


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{TITLE} — API",
        redoc_js_url=f"{REDOC}/redoc.standalone.js",
        redoc_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
        with_google_fonts=False,
    )
