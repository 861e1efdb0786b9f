"""Refuse request bodies above ``HAZE_MAX_BODY_BYTES`` with 413, declared or streamed.

A path may have a limit of its own (the console's list import takes files of
``HAZE_CONSOLE_UPLOAD_BYTES``): ``path_limits`` pairs a regular expression the whole path must
match with its limit. The refusal is :class:`~service.errors.BodyTooLarge`: raised where the
body is read, it becomes the one error shape (or the console's error page); raised while a
middleware inside this one reads the body (the console's CSRF check reads a form before any
page runs), it is answered here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request

from service.errors import BodyTooLarge, too_large_response


class BodyLimitMiddleware:
    def __init__(
        self, app: Any, max_bytes: int, path_limits: Sequence[tuple[str, int]] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = [(re.compile(pattern), limit) for pattern, limit in path_limits]

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.path_limits:
            if pattern.fullmatch(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD"):  # no body to limit on the polling path
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            scope["haze.body_too_large"] = True
        seen = 0
        started = False

        async def limited() -> Any:
            nonlocal seen
            if scope.get("haze.body_too_large"):
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except BodyTooLarge as exc:
            if started:
                raise
            await too_large_response(Request(scope), exc)(scope, receive, send)
