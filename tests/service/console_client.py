"""A signed-in console visitor over ASGI, for page tests on both databases.

``async with console_visitor(api, secret) as visitor`` signs in as a browser would (the
sign-in page sets the CSRF cookie, the form posts the token) and keeps the cookies;
``visitor.get(path)`` asks for HTML, ``visitor.post(path, data)`` adds the CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from api_client import Api

HTML = {"Accept": "text/html"}
_CSRF = re.compile(r'name="csrftoken" value="([^"]+)"')


@dataclass
class Visitor:
    client: httpx.AsyncClient
    csrf: str

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, headers=HTML, **kwargs)

    async def post(
        self, path: str, data: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        form = {"csrftoken": self.csrf, **(data or {})}
        return await self.client.post(path, data=form, headers=HTML, **kwargs)

    async def htmx(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**HTML, "HX-Request": "true", "X-CSRFToken": self.csrf}
        return await self.client.request(method, path, headers=headers, **kwargs)


@asynccontextmanager
async def console_visitor(api: Api, secret: str) -> AsyncIterator[Visitor]:
    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://haze") as client:
        page = await client.get("/signin", headers=HTML)
        found = _CSRF.search(page.text)
        assert found, page.text
        csrf = found.group(1)
        signed = await client.post(
            "/signin", data={"csrftoken": csrf, "token": secret}, headers=HTML
        )
        assert signed.status_code == 303, signed.text
        yield Visitor(client, csrf)
