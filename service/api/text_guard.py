"""Refuse text no database can store: NUL characters and lone UTF-16 surrogates.

PostgreSQL refuses the byte 0x00 in text (asyncpg raises), SQLite stores it silently, and a
lone surrogate (``"\\ud800"`` in JSON) cannot even be encoded as UTF-8: each was a 500. The
dependency :data:`TextGuard` looks at the request's path, its query and its JSON body, and
answers 422 ``request.invalid_text`` naming where (after the caller's token is checked, so
an unauthenticated caller still gets its 401). The body is scanned for ``\\u0000`` and
surrogate escapes first, so an ordinary body is not decoded twice.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request

from emission_list.i18n import text
from service.errors import HazeError

_SUSPECT_BODY = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})|\x00")
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


def bad_text(value: object, where: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where in ``value`` (a JSON value) a NUL or a lone surrogate is, or None."""
    if isinstance(value, str):
        return where if _BAD_CHAR.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = bad_text(key, (*where, str(key))) or bad_text(item, (*where, str(key)))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = bad_text(item, (*where, str(index)))
            if found is not None:
                return found
    return None


async def _bad_in_request(request: Request) -> tuple[str, ...] | None:
    if _BAD_CHAR.search(request.url.path):
        return ("path",)
    query = request.scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if _BAD_CHAR.search(name) or _BAD_CHAR.search(value):
            return ("query", name)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    body = await request.body()  # already read and kept by FastAPI
    if not _SUSPECT_BODY.search(body):
        return None
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        return None  # not JSON: the body's own validation answers
    found = bad_text(parsed)
    return None if found is None else ("body", *found)


def _printable(part: str) -> str:
    """``part`` as it can be answered: a surrogate as ?, a NUL as its JSON escape."""
    return part.encode("utf-8", "replace").decode("utf-8")


async def refuse_bad_text(request: Request) -> None:
    where = await _bad_in_request(request)
    if where is None:
        return
    from service.api.deps import principal_of_request

    await principal_of_request(request)  # who is calling comes first
    raise HazeError(
        422,
        "request.invalid_text",
        text(
            "请求含有无法保存的字符（NUL 或孤立的代理码位）",
            "The request holds characters that cannot be stored (NUL or a lone surrogate)",
        ),
        [{"loc": [_printable(part) for part in where], "type": "invalid_text"}],
    )


#: Router dependency: every route of the router refuses NUL and lone surrogates.
TextGuard = Depends(refuse_bad_text)
