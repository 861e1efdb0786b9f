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
#: The docs pages fetch nothing from another host: the pinned bundles still name some (ReDoc's
#: vendor logo on a CDN, Swagger UI's validator badge), which an offline intranet could not
#: reach and should not be asked for. Scripts and styles stay as the bundles need them
#: (Swagger UI is started by an inline script; ReDoc writes inline styles, searches in a worker).
DOCS_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "worker-src 'self' blob:",
    )
)

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request) -> Response:
    """A browser goes to the console (its sign-in page, or the person's first page); anything
    else gets the way in."""
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/start", status_code=303)
    return JSONResponse(
        {
            "service": TITLE,
            "console": "/start",
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
    page = get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{TITLE} — API",
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
    )
    page.headers["Content-Security-Policy"] = DOCS_POLICY
    return page


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    page = get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{TITLE} — API",
        redoc_js_url=f"{REDOC}/redoc.standalone.js",
        redoc_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
        with_google_fonts=False,
    )
    page.headers["Content-Security-Policy"] = DOCS_POLICY
    return page
