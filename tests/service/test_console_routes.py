"""Every console page: who may open it without signing in, and what a state change needs."""

from __future__ import annotations

import re

from api_client import Api
from console_client import HTML, console_visitor

from service.console import app as console
from service.public import routes as public_routes

#: The only pages open without a session: signing in, choosing a language, the way in.
PUBLIC = {"/signin", "/language", "/start"}
#: The public warnings (service.public, not a console router): open to anyone, GET only.
OPEN_WARNINGS = {"/public", "/cap/alerts.atom", "/cap/alerts/{alert_id}.xml"}


def _pages() -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for router in console.ROUTERS
        for route in router.routes
        for method in getattr(route, "methods", ()) or ()
        if method != "HEAD"
    )


def _concrete(api: Api, path: str) -> str:
    values = {
        "enterprise_id": api.enterprise_id,
        "station_id": "1502A01",
        "region_id": "150203",
        "region": "150203",
        "number": "1",
        "token_id": "no-such-token",
        "alarm_id": "999999",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), path)


async def test_every_page_but_the_way_in_needs_a_session(api: Api) -> None:
    pages = _pages()
    assert len(pages) > 10
    for method, path in pages:
        if path in PUBLIC:
            continue
        answer = await api.client.request(method, _concrete(api, path), headers=HTML)
        if method == "GET":
            assert answer.status_code == 303, (method, path, answer.status_code)
            assert answer.headers["location"].startswith("/signin"), (method, path)
        else:  # an unsafe request without a session has no CSRF binding either
            assert answer.status_code in (303, 403), (method, path, answer.status_code)


async def test_every_state_change_refuses_a_missing_csrf_token(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        for method, path in _pages():
            if method == "GET":
                continue
            answer = await visitor.client.request(method, _concrete(api, path), headers=HTML)
            assert answer.status_code == 403, (method, path, answer.status_code)
            assert "csrf.invalid" in answer.text, (method, path)


async def test_an_enterprise_session_may_open_only_its_own_pages(api: Api) -> None:
    async with console_visitor(api, api.secrets["enterprise"]) as visitor:
        for method, path in _pages():
            if method != "GET" or path in PUBLIC or path == "/signin":
                continue
            answer = await visitor.get(_concrete(api, path))
            own = "{enterprise_id}" in path
            expected = (200,) if own else (403, 404)
            assert answer.status_code in expected, (path, answer.status_code)


async def test_the_public_warnings_are_open_without_a_session_or_a_token(api: Api) -> None:
    routes = {
        (method, route.path)
        for route in public_routes.router.routes
        for method in getattr(route, "methods", ()) or ()
        if method != "HEAD"
    }
    assert routes == {("GET", path) for path in OPEN_WARNINGS}
    assert not OPEN_WARNINGS & {path for _, path in _pages()}  # none is a console page
    for path in OPEN_WARNINGS:
        answer = await api.client.get(_concrete(api, path), headers=HTML)
        expected = 404 if "{" in path else 200  # no alert "x": not found, not a sign-in
        assert answer.status_code == expected, (path, answer.status_code)
