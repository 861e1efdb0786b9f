"""The console's tokens page over ASGI on PostgreSQL: create (the secret shown once),
list (never a secret or a hash), revoke (the last operator token refused with the reason)."""

from __future__ import annotations

import re

import pytest
from api_client import Api
from console_client import console_visitor
from sqlalchemy import select

from service.security import hash_secret
from service.storage.models import AuditEntry, Token

#: The pages' queries on PostgreSQL (the embedded SQLite default is what the browser tests
#: in tests/console/ run on); both databases would double this module's time for little.
pytestmark = pytest.mark.parametrize("seeded_database_url", ["postgresql"], indirect=True)


def _secret_on(page: str) -> str:
    found = re.search(r'<code id="secret" class="secret"[^>]*>(haze_[^<]+)</code>', page)
    assert found, page
    return found.group(1)


async def test_a_token_made_on_the_page_is_shown_once_and_works(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        made = await visitor.post(
            "/tokens",
            {"role": "enterprise", "enterprise_id": api.enterprise_id, "label": "环保专员"},
        )
        assert made.status_code == 200
        assert made.headers["cache-control"] == "no-store"
        assert "离开本页后将无法再次查看此令牌" in made.text
        secret = _secret_on(made.text)
        listed = await visitor.get("/tokens")
    actions = await api.client.get(
        f"/api/v1/enterprises/{api.enterprise_id}/actions",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert actions.status_code == 200
    assert "环保专员" in listed.text and api.enterprise_id in listed.text
    assert secret not in listed.text and hash_secret(secret) not in listed.text
    async with api.runtime.session_maker() as session:
        token = await session.scalar(select(Token).where(Token.label == "环保专员"))
        audited = await session.scalar(
            select(AuditEntry).where(AuditEntry.target == f"token/{token.id}")
        )
    assert token.role == "enterprise" and audited.action == "token.create"


async def test_the_list_never_shows_a_secret_or_hash(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = await visitor.get("/tokens")
    assert page.status_code == 200
    for role in ("operator", "enterprise", "station"):
        assert api.secrets[role] not in page.text
        assert hash_secret(api.secrets[role]) not in page.text
    assert page.text.count('action="/tokens/') >= 3  # a revoke button per usable token


async def test_a_station_token_names_known_stations(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        made = await visitor.post("/tokens", {"role": "station", "station_ids": "1502A01, 1502A03"})
        secret = _secret_on(made.text)
        wrong = await visitor.post("/tokens", {"role": "station", "station_ids": "NOPE1"})
    async with api.runtime.session_maker() as session:
        token = await session.scalar(select(Token).where(Token.token_hash == hash_secret(secret)))
    assert token.station_ids == ["1502A01", "1502A03"]
    assert wrong.status_code == 422
    assert re.search(r'id="station_ids"[^>]*aria-invalid="true"', wrong.text)
    assert '<p id="station_ids-problem" class="field-error">未知站点 NOPE1</p>' in wrong.text


async def test_problems_are_shown_beside_their_fields(api: Api) -> None:
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        no_code = await visitor.post("/tokens", {"role": "enterprise", "label": "x"})
        past = await visitor.post(
            "/tokens", {"role": "operator", "expires_at": "2020-01-01T00:00", "label": "old"}
        )
    assert no_code.status_code == 422
    assert re.search(r'id="enterprise_id"[^>]*aria-invalid="true"', no_code.text)
    assert "企业令牌需要有效的统一社会信用代码" in no_code.text
    assert 'value="x"' in no_code.text  # what was typed is kept
    assert past.status_code == 422 and "过期时间已过" in past.text
    async with api.runtime.session_maker() as session:
        labels = set((await session.scalars(select(Token.label))).all())
    assert not labels & {"x", "old"}


async def test_revoking_a_token_on_the_page_stops_it_at_once(api: Api) -> None:
    secret = await api.token("enterprise", enterprise_id=api.enterprise_id, label="to revoke")
    async with api.runtime.session_maker() as session:
        token_id = await session.scalar(select(Token.id).where(Token.label == "to revoke"))
    headers = {"Authorization": f"Bearer {secret}"}
    url = f"/api/v1/enterprises/{api.enterprise_id}/actions"
    assert (await api.client.get(url, headers=headers)).status_code == 200
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        page = await visitor.get("/tokens")
        form = page.text.split(f'action="/tokens/{token_id}/revoke"')[1].split("</form>")[0]
        assert "data-confirm=" in form and "确认吊销令牌“to revoke”" in form
        answer = await visitor.post(f"/tokens/{token_id}/revoke")
        assert answer.status_code == 303
        after = await visitor.get(answer.headers["location"])
    assert "令牌已吊销" in after.text and "已于" in after.text
    assert (await api.client.get(url, headers=headers)).status_code == 401


async def test_the_last_operator_token_is_not_revoked_and_the_page_says_why(api: Api) -> None:
    async with api.runtime.session_maker() as session:
        operators = (await session.scalars(select(Token).where(Token.role == "operator"))).all()
    (only,) = operators
    async with console_visitor(api, api.secrets["operator"]) as visitor:
        answer = await visitor.post(f"/tokens/{only.id}/revoke")
        assert answer.status_code == 409
        assert "这是最后一个有效的操作员令牌" in answer.text
        assert (await visitor.get("/tokens")).status_code == 200  # still signed in


async def test_only_operators_open_the_tokens_page(api: Api) -> None:
    async with console_visitor(api, api.secrets["enterprise"]) as visitor:
        assert (await visitor.get("/tokens")).status_code == 403
        refused = await visitor.post("/tokens", {"role": "operator", "label": "sneaky"})
        assert refused.status_code == 403
    async with api.runtime.session_maker() as session:
        assert await session.scalar(select(Token).where(Token.label == "sneaky")) is None
