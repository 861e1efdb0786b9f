"""Every listing pages the same way: ``{"items", "next_cursor"}``, ``?limit=`` (default 100,
at most 1000) and ``?cursor=`` (the ``next_cursor`` of the page before)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from api_client import Api

from emission_list.samples import kundulun_regions, kundulun_stations
from service.storage.models import Token
from service.storage.repositories import tokens

TOKENS = "/api/v1/tokens"
REVISIONS = "/api/v1/list/revisions"


async def _walk(api: Api, url: str, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Every item of a listing, a page of ``limit`` at a time; checks each page's shape."""
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        query = {"limit": limit, **params} | ({"cursor": cursor} if cursor else {})
        answer = await api.client.get(url, params=query, headers=api.as_("operator"))
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= limit
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
        assert len(page["items"]) == limit
    raise AssertionError("the cursor never ended")


@pytest.mark.parametrize(
    ("url", "key", "expected"),
    [
        ("/api/v1/regions", "region_id", sorted(r.region_id for r in kundulun_regions())),
        ("/api/v1/stations", "station_id", sorted(s.station_id for s in kundulun_stations())),
    ],
)
async def test_places_page_by_id(api: Api, url: str, key: str, expected: list[str]) -> None:
    whole = (await api.client.get(url, headers=api.as_("operator"))).json()
    assert [i[key] for i in whole["items"]] == expected and whole["next_cursor"] is None
    for limit in (1, 4, len(expected), 1000):
        assert [i[key] for i in await _walk(api, url, limit)] == expected


async def test_stations_of_a_region_page_within_it(api: Api) -> None:
    region = kundulun_stations()[0].region
    expected = sorted(s.station_id for s in kundulun_stations() if s.region == region)
    items = await _walk(api, "/api/v1/stations", 1, region=region)
    assert [i["station_id"] for i in items] == expected


async def test_revisions_page_by_number(api: Api) -> None:
    for _ in range(4):
        assert (await api.client.post(REVISIONS, headers=api.as_("operator"))).status_code == 201
    for limit in (1, 2, 5, 100):
        assert [r["number"] for r in await _walk(api, REVISIONS, limit)] == [1, 2, 3, 4, 5]
    refused = await api.client.get(REVISIONS, params={"cursor": "two"}, headers=api.as_("operator"))
    assert refused.status_code == 422


async def test_tokens_page_in_the_order_they_were_made_even_when_made_at_the_same_instant(
    api: Api,
) -> None:
    same = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    async with api.runtime.session_maker() as session:
        for i in range(5):
            await tokens.add(
                session,
                Token(
                    id=uuid.uuid4().hex,
                    role="operator",
                    token_hash=f"{i:064x}",
                    station_ids=[],
                    label=f"same instant {i}",
                    created_at=same,
                ),
            )
        await session.commit()
    whole = (await api.client.get(TOKENS, headers=api.as_("operator"))).json()["items"]
    assert len(whole) == 8  # the first operator's, the station's, the enterprise's and these
    for limit in (1, 2, 3, 8):
        assert await _walk(api, TOKENS, limit) == whole
    listed = [(t["created_at"], t["id"]) for t in whole]
    assert [dt.datetime.fromisoformat(c) for c, _ in listed] == sorted(
        dt.datetime.fromisoformat(c) for c, _ in listed
    )
    assert [i for c, i in listed if c.startswith("2026-01-01")] == sorted(
        i for c, i in listed if c.startswith("2026-01-01")
    )


@pytest.mark.parametrize("url", ["/api/v1/regions", "/api/v1/stations", TOKENS, REVISIONS])
async def test_a_page_holds_at_least_one_and_at_most_1000(api: Api, url: str) -> None:
    for limit in (0, 1001):
        answer = await api.client.get(url, params={"limit": limit}, headers=api.as_("operator"))
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "request.invalid"


async def test_a_revisions_cursor_beyond_the_integer_range_is_refused(api: Api) -> None:
    """Found by the fuzzer after the listings were paged: 2**45 reached PostgreSQL (500)."""
    for cursor in (2**31, 2**45, -1):
        answer = await api.client.get(
            "/api/v1/list/revisions", params={"cursor": cursor}, headers=api.as_("operator")
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "request.invalid"
