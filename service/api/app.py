"""The FastAPI application on a process's runtime: ``create_api(runtime)``.

The lifespan starts the :class:`~service.runtime.Runtime` (engine, bus and the consumers
the composition root attached, the action board) and stops it; every ``/api/v1`` route
needs a bearer token; health, readiness and metrics do not. The app with its consumers is
made by :func:`service.commands.process.create_app`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from service import errors
from service.api.body_limit import BodyLimitMiddleware
from service.api.deps import principal_of_request
from service.api.header_guard import HeaderGuardMiddleware
from service.api.polling import ActionBodies, PollingFastPath
from service.api.routers import (
    ack_links,
    alarms,
    enterprises,
    health,
    history,
    home,
    lists,
    loggers,
    notices,
    outlines,
    places,
    readings,
    tokens,
    warnings,
)
from service.console import app as console
from service.metrics import API_PREFIX, MetricsMiddleware
from service.public import routes as public
from service.runtime import Runtime

DESCRIPTION = """
Heavy-pollution-weather emergency response for a district environment bureau.

* **Operators** keep the emission-reduction list (drafts, diff, preview, publish), issue or
  lift warnings, post forecasts, and manage tokens.
* **Stations** post hourly readings for their own stations.
* **Enterprises** poll `GET /api/v1/enterprises/{id}/actions` with `If-None-Match`: 304
  while nothing changed.

Every `/api/v1` call needs `Authorization: Bearer <token>`. Texts come in Simplified Chinese
(`zh-CN`, the default) or English: send `Accept-Language: en` or `?lang=en`. Every error is
`{"error": {"code", "message", "messages", "details"}}`.
"""


class HazeAPI(FastAPI):
    """FastAPI with the polling fast path in front of everything (:mod:`service.api.polling`):
    the polls it answers skip the layers of Starlette and FastAPI, which cost more than the
    answer; all else, refusals included, goes through them as usual."""

    polling: PollingFastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.polling is not None and scope["type"] == "http":
            await self.polling(scope, receive, send, super().__call__)
        else:
            await super().__call__(scope, receive, send)


def create_api(runtime: Runtime) -> FastAPI:
    """The API served by ``runtime``'s process."""
    settings = runtime.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = HazeAPI(
        title="Haze Response",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by service.api.routers.home from the package's own files
        redoc_url=None,
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.action_bodies = bodies = ActionBodies()
    errors.install(app, principal_of_request)
    # the polled routers first
    routers = (
        enterprises,
        readings,
        places,
        outlines,
        history,
        warnings,
        lists,
        tokens,
        notices,
        loggers,
        alarms,
    )
    for module in routers:
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(ack_links.router)
    app.include_router(health.router)
    app.include_router(home.router)
    app.include_router(public.router)  # CAP documents, their feed, /public: no token
    app.mount(home.STATIC_URL, StaticFiles(directory=home.STATIC_DIR), name="static")
    console.install(app, runtime)
    uploads = [(path, settings.console_upload_bytes) for path in console.UPLOAD_PATHS]
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, path_limits=uploads)
    app.add_middleware(
        HeaderGuardMiddleware,
        max_header_bytes=settings.max_header_bytes,
        language=settings.default_language,
    )
    app.add_middleware(MetricsMiddleware, metrics=runtime.metrics)
    if settings.polling_fast_path:
        app.polling = PollingFastPath(runtime, bodies)
    return app
