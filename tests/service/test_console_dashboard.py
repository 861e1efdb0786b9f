"""The operators' dashboard over ASGI on both databases."""

from __future__ import annotations

from api_client import Api
from console_client import console_visitor


async def test_the_dashboard_renders(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = await visitor.get("/dashboard")
        assert page.status_code == 200, page.text
        open("/tmp/dash/page.html", "w").write(page.text)
