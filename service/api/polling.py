"""The polling hot path: ``GET /api/v1/enterprises/{id}/actions`` answered before the router.

:class:`PollingFastPath` runs in front of the whole app (:class:`service.api.app.HazeAPI`
calls it before Starlette's own layers). A poll that authenticates, may
read the enterprise and finds it on the board is answered here, 304 or 200, with the headers
and metrics the router path gives it, from a few dictionary look-ups and, for a 200, a body
encoded once per ETag and language (:class:`ActionBodies`). Everything else, and every
refusal (401, 403, 404, 429, 431, a database outage, an error of this code), goes on
through the app, its middlewares and its error handlers, to the route
:func:`service.api.routers.enterprises.get_actions`, which stays declared for the OpenAPI
document: the token is checked (and counted against its rate limit) once, here, and the
router finds the principal or the refusal in the scope (:func:`principal_of_request`), so
those answers are the router's own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.responses import JSONResponse
from starlette.datastructures import QueryParams

from service.api.deps import authenticate
from service.api.header_guard import NOSNIFF, header_bytes
from service.api.language import language_of
from service.api.schemas.actions import EnterpriseActionsOut
from service.metrics import API_PREFIX
from service.runtime import Runtime
from service.services.board import ActionBoard

log = logging.getLogger("haze.api")
ASGIApp = Callable[[dict, Any, Any], Awaitable[None]]
ROUTE = API_PREFIX + "/enterprises/{enterprise_id}/actions"
_HEAD, _TAIL = ROUTE.split("{enterprise_id}")
#: Encoded bodies kept (one per enterprise and language answered since its ETag changed);
#: past this the oldest go first. 0.5-1.1 kB each under the sample's orange warning: about
#: 20 MB at most.
MAX_BODIES = 20_000
CACHE_CONTROL = "private, no-cache"
VARY = "Accept-Language"


def representation_etag(board_etag: str, language: str) -> str:
    """The ETag of an answer: the board's, with the body's language in it."""
    return f'{board_etag[:-1]}.{language}"'


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weakly) or is ``*``."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def answer_headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": VARY}


class ActionBodies:
    """The JSON body of each enterprise's answer in each language, encoded once per ETag."""

    def __init__(self, max_entries: int = MAX_BODIES) -> None:
        self.max_entries = max_entries
        self._bodies: dict[tuple[str, str], tuple[str, bytes]] = {}

    def body(self, board: ActionBoard, enterprise_id: str, etag: str, language: str) -> bytes:
        """The body of the answer whose ETag is ``etag`` (from ``board`` just now)."""
        key = (enterprise_id, language)
        known = self._bodies.get(key)
        if known is not None and known[0] == etag:
            return known[1]
        answer = board.answer(enterprise_id)
        assert answer is not None  # the caller found its ETag on this board
        body = _encode(EnterpriseActionsOut.of(answer, language))  # type: ignore[arg-type]
        if known is None and len(self._bodies) >= self.max_entries:
            del self._bodies[next(iter(self._bodies))]
        self._bodies[key] = (etag, body)
        return body

    def __len__(self) -> int:
        return len(self._bodies)


def _encode(out: EnterpriseActionsOut) -> bytes:
    # What JSONResponse renders (compact, UTF-8 kept), as the route's answers always were.
    return JSONResponse(out.model_dump(mode="json")).body  # type: ignore[return-value]


class PollingFastPath:
    """Answers the polls it can (see the module's docstring); passes on all else."""

    def __init__(self, runtime: Runtime, bodies: ActionBodies) -> None:
        self.runtime = runtime
        self.bodies = bodies
        settings = runtime.settings
        self.max_header_bytes = settings.max_header_bytes
        self.default_language = settings.default_language
        metrics = runtime.metrics
        self._count = {
            status: metrics.requests.labels("GET", ROUTE, str(status)) for status in (200, 304)
        }
        self._latency = metrics.latency.labels(ROUTE)

    async def __call__(self, scope: dict, receive: Any, send: Any, app: ASGIApp) -> None:
        """Answer the request if it is a poll this can answer, else pass it on to ``app``."""
        started = time.perf_counter()
        try:
            answer = await self._answer(scope)
        except Exception:
            log.exception("the polling fast path failed; the router answers")
            answer = None
        if answer is None:
            await app(scope, receive, send)
            return
        status, headers, body = answer
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self._count[status].inc()
        self._latency.observe(time.perf_counter() - started)

    async def _answer(self, scope: dict) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        """The poll's answer (status, headers, body), or None to leave it to the app; the
        principal, or the refusal, of a checked token is left in the scope for the router."""
        path = scope["path"]
        if (
            scope["method"] != "GET"
            or not path.startswith(_HEAD)
            or not path.endswith(_TAIL)
            or header_bytes(scope) > self.max_header_bytes  # HeaderGuard answers 431
        ):
            return None
        enterprise_id = path[len(_HEAD) : -len(_TAIL)]
        if not enterprise_id or "/" in enterprise_id:
            return None
        authorization = if_none_match = accept_language = None
        for name, value in scope["headers"]:  # the first of each, as Request.headers gives
            if name == b"authorization":
                authorization = authorization or value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = if_none_match or value.decode("latin-1")
            elif name == b"accept-language":
                accept_language = accept_language or value.decode("latin-1")
        scheme, _, secret = (authorization or "").partition(" ")
        bearer = secret.strip() if scheme.lower() == "bearer" else None
        client = scope.get("client")
        runtime = self.runtime
        try:
            principal = await authenticate(runtime, bearer, client[0] if client else "")
        except Exception as refusal:  # 401, 429, 503...: the router answers it, as its own
            scope["haze.refusal"] = refusal
            return None
        scope["haze.principal"] = principal
        board = runtime.state.board
        board_etag = board.etag(enterprise_id)
        if (
            principal.role == "station"
            or board_etag is None
            or (principal.role == "enterprise" and principal.enterprise_id != enterprise_id)
        ):
            return None  # 403 or 404, by the router
        query = scope.get("query_string")
        lang = QueryParams(query).get("lang") if query else None
        language = language_of(lang, accept_language, self.default_language)
        etag = representation_etag(board_etag, language)
        headers = [
            (b"etag", etag.encode("latin-1")),
            (b"cache-control", CACHE_CONTROL.encode()),
            (b"vary", VARY.encode()),
        ]
        if etag_matches(if_none_match, etag):
            status, body = 304, b""
        else:
            status = 200
            body = self.bodies.body(board, enterprise_id, etag, language)
            headers.append((b"content-length", str(len(body)).encode()))
            headers.append((b"content-type", b"application/json"))
        headers.append(NOSNIFF)
        return status, headers, body
