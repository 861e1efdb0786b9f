"""The FastAPI application: ``create_app(settings)``.

The lifespan builds the :class:`~service.runtime.Runtime` (engine, bus and consumers, the
action board) and disposes of it; every ``/api/v1`` route needs a bearer token; health,
readiness and metrics do not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from service import errors
from service.body_limit import BodyLimitMiddleware
from service.metrics import API_PREFIX, MetricsMiddleware
from service.routers import enterprises, health, home, lists, places, readings, tokens, warnings
from service.runtime import Runtime
from service.settings import Settings

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


def create_app(settings: Settings, *, consumers: bool = True) -> FastAPI:
    """The API; ``consumers=False`` leaves the readings and forecasts to other processes."""
    runtime = Runtime(settings, consumers=consumers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="Haze Response",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by service.routers.home from the package's own files
        redoc_url=None,
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
    )
    app.state.settings = settings
    app.state.runtime = runtime
    errors.install(app)
    for module in (enterprises, readings, places, warnings, lists, tokens):  # polled first
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(health.router)
    app.include_router(home.router)
    app.mount(home.STATIC_URL, StaticFiles(directory=home.STATIC_DIR), name="static")
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=runtime.metrics)
    return app
