"""``/`` leads the way in; ``/docs`` and ``/redoc`` load nothing from outside the service."""

from __future__ import annotations

import re

import pytest
from api_client import Api


async def test_the_root_leads_to_the_docs(api: Api) -> None:
    answer = await api.client.get("/", headers={"Accept": "application/json"})
    assert answer.status_code == 200
    assert answer.json()["docs"] == "/docs" and answer.json()["api"] == "/api/v1"
    browser = await api.client.get("/", headers={"Accept": "text/html,*/*"})
    assert browser.status_code == 307 and browser.headers["location"] == "/docs"


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
