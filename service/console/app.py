"""Installing the console into the API's application: its pages, files, errors and CSRF."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from emission_list.i18n import Text
from service.console import auth, csrf
from service.console.routers import (
    alarms,
    dashboard,
    enterprises,
    lists,
    notices,
    revisions,
    signin,
    stations,
    tokens,
    warnings,
)
from service.console.templating import environment, render
from service.runtime import Runtime

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS_URL = "/assets"
#: The console's page routers, in the order their paths are matched.
ROUTERS = tuple(
    module.router
    for module in (
        signin,
        dashboard,
        stations,
        lists,
        enterprises,
        notices,
        alarms,
        revisions,
        warnings,
        tokens,
    )
)
#: Paths (regular expressions) whose bodies may be as large as HAZE_CONSOLE_UPLOAD_BYTES.
UPLOAD_PATHS = revisions.UPLOAD_PATHS


def asset(name: str) -> str:
    """The URL of a file of ``static/`` (names carry their version where they have one)."""
    return f"{ASSETS_URL}/{name}"


environment.globals["asset"] = asset


def error_page(
    request: Request,
    status: int,
    code: str,
    message: Text,
    details: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    context = {"status": status, "code": code, "message": message, "details": list(details)}
    return render(request, "error.html", context, status=status, headers=headers)


def install(app: FastAPI, runtime: Runtime) -> None:
    """Add the console's pages, files and error pages to ``app``."""
    for router in ROUTERS:  # every console route checks CSRF (service.console.csrf)
        app.include_router(router, dependencies=[Depends(csrf.check)])
    app.mount(ASSETS_URL, StaticFiles(directory=STATIC_DIR), name="assets")
    app.state.error_page = error_page

    @app.exception_handler(auth.SignInRequired)
    async def _sign_in(request: Request, exc: auth.SignInRequired) -> Response:
        target = auth.signin_url(exc.next_path)
        if request.headers.get("hx-request"):
            return Response(status_code=200, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
