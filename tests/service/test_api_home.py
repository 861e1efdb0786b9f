"""``/`` leads the way in; ``/docs`` and ``/redoc`` load nothing from outside the service."""

from __future__ import annotations

import re

import pytest
from api_client import Api


async def test_the_root_leads_a_browser_to_the_console(api: Api) -> None:
    answer = await api.client.get("/", headers={"Accept": "application/json"})
    assert answer.status_code == 200
    assert answer.json()["docs"] == "/docs" and answer.json()["api"] == "/api/v1"
    browser = await api.client.get("/", headers={"Accept": "text/html,*/*"})
    assert browser.status_code == 303 and browser.headers["location"] == "/start"
    start = await api.client.get("/start")
    assert start.status_code == 303 and start.headers["location"] == "/signin"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_load_their_scripts_and_styles_from_the_service(api: Api, page: str) -> None:
    html = (await api.client.get(page)).text
    assert "openapi.json" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets), html
    for asset in assets:
        assert asset.startswith("/static/"), f"{page} loads {asset} from outside"
        fetched = await api.client.get(asset)
        assert fetched.status_code == 200 and len(fetched.content) > 500, asset
    assert "googleapis" not in html and "cdn." not in html


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_browser_is_told_to_fetch_nothing_from_other_hosts(api: Api, page: str) -> None:
    """The pinned bundles themselves name outside hosts (ReDoc's vendor logo on a CDN, Swagger
    UI's validator badge): the page's policy keeps the browser from asking for them."""
    policy = (await api.client.get(page)).headers.get("content-security-policy", "")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    for kind in ("default-src", "img-src", "connect-src", "font-src"):
        assert directives.get(kind, "").split()[0] == "'self'", (kind, policy)
        assert "http" not in directives[kind], policy
