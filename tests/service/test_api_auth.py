"""Bearer tokens beyond test_api_access.py: both authentication paths, every endpoint against
bad tokens, the token secret itself, expiry, the cache, scoping and the audit trail."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from collections.abc import AsyncIterator

import fastapi.routing
import pytest
import pytest_asyncio
from api_client import ADMIN_TOKEN, STATION_IDS, Api, served_api
from fastapi import FastAPI
from sqlalchemy import func, select, update

from service import security
from service.api.routers import ack_links
from service.console import app as console
from service.public import routes as public_routes
from service.storage.models import Token
from service.storage.repositories import audit

TOKENS = "/api/v1/tokens"
LOCAL = dt.timezone(dt.timedelta(hours=8))
SECRET = re.compile(r"haze_[A-Za-z0-9_-]{43}")
#: What GET /tokens shows of a token: never ``token`` (the secret) nor ``token_hash``.
LISTED_FIELDS = {
    "id",
    "role",
    "enterprise_id",
    "station_ids",
    "label",
    "created_at",
    "expires_at",
    "revoked_at",
    "created_by",
}


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _actions(api: Api, enterprise_id: str | None = None) -> str:
    return f"/api/v1/enterprises/{enterprise_id or api.enterprise_id}/actions"


def _app_endpoints(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, documented or not."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)  # FastAPI >= 0.130
    routes = contexts(app.routes) if contexts is not None else app.routes
    return {
        (method.lower(), route.path)
        for route in routes
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }


def _documented_endpoints(app: FastAPI) -> set[tuple[str, str]]:
    return {(m, p) for p, ops in app.openapi()["paths"].items() for m in ops}


def _concrete(api: Api, path: str) -> str:
    return (
        path.replace("{region_id}", "150203001")
        .replace("{station_id}", "1502A01")
        .replace("{enterprise_id}", api.enterprise_id)
        .replace("{number}", "1")
        .replace("{token_id}", "no-such-token")
    )


async def _create(api: Api, headers: dict[str, str] | None = None, **body: object) -> dict:
    answer = await api.client.post(TOKENS, json=body, headers=headers or api.as_("operator"))
    assert answer.status_code == 201, answer.text
    return answer.json()


async def _token_id(api: Api, secret: str) -> str:
    async with api.runtime.session_maker() as session:
        return await session.scalar(select(Token.id).where(Token.token_hash == _digest(secret)))


async def _count_tokens(api: Api) -> int:
    async with api.runtime.session_maker() as session:
        return await session.scalar(select(func.count()).select_from(Token))


@pytest_asyncio.fixture
async def uncached_api(seeded_database_url: str) -> AsyncIterator[Api]:
    """The app with ``token_cache_s=0``: every request reads its token's row."""
    async with served_api(seeded_database_url, token_cache_s=0) as found:
        found.secrets["enterprise"] = await found.token(
            "enterprise", enterprise_id=found.enterprise_id
        )
        yield found


async def test_every_route_of_the_app_is_documented_so_the_role_matrix_covers_it(api: Api) -> None:
    # test_api_access.py checks its role matrix against the OpenAPI document; a route left
    # out of the document (include_in_schema=False) would escape it, so compare with the app.
    served = _app_endpoints(api.app)
    documented = _documented_endpoints(api.app)
    api_routes = {(m, p) for m, p in served if p.startswith("/api/v1")}
    assert ("get", "/api/v1/enterprises/{enterprise_id}/actions") in api_routes
    assert api_routes == {(m, p) for m, p in documented if p.startswith("/api/v1")}
    console_pages = {route.path for router in console.ROUTERS for route in router.routes}
    public = {route.path for route in public_routes.router.routes}  # open to anyone
    public |= {route.path for route in ack_links.router.routes}  # the signed link is the key
    outside = {p for _, p in served if not p.startswith("/api/v1")} - console_pages - public
    assert outside == {
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/",
        "/docs",
        "/redoc",
    }


async def test_every_endpoint_refuses_unknown_revoked_and_expired_tokens_with_a_challenge(
    api: Api,
) -> None:
    revoked = await _create(api, role="operator", label="to revoke")
    assert (await api.client.get("/api/v1/regions", headers=_bearer(revoked["token"]))).is_success
    gone = await api.client.delete(f"{TOKENS}/{revoked['id']}", headers=api.as_("operator"))
    assert gone.status_code == 204
    expired = await api.token("operator")  # never used, so not cached
    async with api.runtime.session_maker() as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await session.execute(
            update(Token).where(Token.token_hash == _digest(expired)).values(expires_at=past)
        )
        await session.commit()
    bad = {
        "unknown": "haze_" + "A" * 43,
        "revoked": revoked["token"],
        "expired": expired,
        "operator secret with a character more": api.secrets["operator"] + "x",
    }
    for method, path in sorted(
        (m, p) for m, p in _documented_endpoints(api.app) if p.startswith("/api/v1")
    ):
        url = _concrete(api, path)
        body = {} if method in ("post", "put") else None
        for what, secret in bad.items():
            answer = await api.client.request(method, url, json=body, headers=_bearer(secret))
            assert answer.status_code == 401, (method, path, what, answer.text)
            assert answer.json()["error"]["code"] == "auth.invalid", (method, path, what)
            assert answer.headers["www-authenticate"] == "Bearer", (method, path, what)


async def test_the_polling_path_and_the_other_endpoints_read_the_header_alike(api: Api) -> None:
    # GET .../actions authenticates without FastAPI's dependency (the hot path); both ways
    # must accept and refuse the same Authorization headers with the same codes.
    secret = api.secrets["operator"]
    cases = {
        f"Bearer {secret}": (200, None),
        f"bearer {secret}": (200, None),
        f"BEARER   {secret}": (200, None),
        f"Basic {base64.b64encode(b'user:pw').decode()}": (401, "auth.missing"),
        "Bearer": (401, "auth.missing"),
        secret: (401, "auth.missing"),
        f"Token {secret}": (401, "auth.missing"),
        "Bearer haze_wrong": (401, "auth.invalid"),
        f"Bearer {secret[:-1]}": (401, "auth.invalid"),
        f"Bearer {secret.upper()}": (401, "auth.invalid"),
    }
    for header, (status, code) in cases.items():
        for url in (_actions(api), "/api/v1/regions"):
            answer = await api.client.get(url, headers={"Authorization": header})
            assert answer.status_code == status, (header, url, answer.text)
            if code is not None:
                assert answer.json()["error"]["code"] == code, (header, url)
                assert answer.headers["www-authenticate"] == "Bearer"


async def test_a_forbidden_role_gets_403_in_its_language_without_a_challenge(api: Api) -> None:
    for url in (TOKENS, _actions(api)):
        answer = await api.client.get(url, headers=api.as_("station", **{"Accept-Language": "en"}))
        assert answer.status_code == 403
        assert "www-authenticate" not in answer.headers
        error = answer.json()["error"]
        assert error["code"] == "auth.forbidden" and error["details"] == []
        assert error["message"] == error["messages"]["en"] and "station" in error["message"]
        assert error["messages"]["zh-CN"] != error["messages"]["en"]
    chinese = await api.client.get(TOKENS, headers=api.as_("enterprise"))
    assert chinese.status_code == 403
    assert chinese.json()["error"]["message"] == chinese.json()["error"]["messages"]["zh-CN"]


async def test_a_secret_is_32_random_bytes_in_base64url_and_never_repeats(api: Api) -> None:
    created = [await _create(api, role="operator", label=f"n{i}") for i in range(4)]
    secrets = [c["token"] for c in created]
    assert len(set(secrets)) == 4
    for token in created:
        secret = token["token"]
        assert SECRET.fullmatch(secret), secret
        raw = base64.urlsafe_b64decode(secret.removeprefix("haze_") + "=")
        assert len(raw) == 32  # 256 bits
        assert token["id"] not in secret and token["id"] != _digest(secret)[:32]
        assert set(token) == LISTED_FIELDS | {"token"}


async def test_listed_tokens_carry_neither_secret_nor_hash(api: Api) -> None:
    created = await _create(api, role="station", station_ids=["1502A02"])
    listed = await api.client.get(TOKENS, headers=api.as_("operator"))
    assert listed.status_code == 200
    assert all(set(t) == LISTED_FIELDS for t in listed.json()["items"])
    assert {t["role"] for t in listed.json()["items"]} == {"operator", "station", "enterprise"}
    known = [created["token"], *api.secrets.values()]
    async with api.runtime.session_maker() as session:
        stored = (await session.scalars(select(Token.token_hash))).all()
    assert len(stored) == len(listed.json()["items"]) == 4
    assert {_digest(s) for s in known} == set(stored)
    for secret in known:
        assert secret not in listed.text and _digest(secret) not in listed.text


async def test_an_expiry_with_an_offset_is_kept_as_the_same_instant(api: Api) -> None:
    expires = (dt.datetime.now(LOCAL) + dt.timedelta(hours=2)).replace(microsecond=0)
    created = await _create(api, role="operator", expires_at=expires.isoformat())
    assert dt.datetime.fromisoformat(created["expires_at"]) == expires
    listed = await api.client.get(TOKENS, headers=api.as_("operator"))
    (mine,) = [t for t in listed.json()["items"] if t["id"] == created["id"]]
    assert dt.datetime.fromisoformat(mine["expires_at"]) == expires
    async with api.runtime.session_maker() as session:
        row = await session.get(Token, created["id"])
    assert row.expires_at == expires
    works = await api.client.get("/api/v1/regions", headers=_bearer(created["token"]))
    assert works.status_code == 200 and works.json()


async def test_a_cached_token_stops_working_at_its_expiry(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    created = await _create(api, role="operator", expires_at=expires.isoformat())
    headers = _bearer(created["token"])
    assert (await api.client.get("/api/v1/regions", headers=headers)).status_code == 200  # cached
    monkeypatch.setattr(security, "utcnow", lambda: expires + dt.timedelta(seconds=1))
    late = await api.client.get("/api/v1/regions", headers=headers)
    assert late.status_code == 401 and late.json()["error"]["code"] == "auth.invalid"
    polling = await api.client.get(_actions(api), headers=headers)
    assert polling.status_code == 401
    forever = await api.client.get("/api/v1/regions", headers=api.as_("operator"))
    assert forever.status_code == 200  # a token without expiry is unaffected


async def test_without_the_cache_a_revocation_by_another_process_applies_at_once(
    uncached_api: Api,
) -> None:
    api = uncached_api
    headers = api.as_("enterprise")
    assert (await api.client.get(_actions(api), headers=headers)).status_code == 200
    async with api.runtime.session_maker() as session:  # as another process would
        await session.execute(
            update(Token)
            .where(Token.token_hash == _digest(api.secrets["enterprise"]))
            .values(revoked_at=dt.datetime.now(dt.UTC))
        )
        await session.commit()
    refused = await api.client.get(_actions(api), headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "auth.invalid"


async def test_refused_token_bodies_store_nothing(api: Api) -> None:
    before = await _count_tokens(api)
    code = api.enterprise_id
    wrong_check = code[:-1] + ("0" if code[-1] != "0" else "1")
    token_invalid = [
        ({"role": "enterprise", "enterprise_id": wrong_check}, "enterprise_id"),
        ({"role": "enterprise", "enterprise_id": ""}, "enterprise_id"),
        ({"role": "enterprise", "enterprise_id": code, "station_ids": ["1502A01"]}, "station_ids"),
        ({"role": "station", "station_ids": ["1502A01", "NOPE", "ALSO-NOPE"]}, "station_ids"),
    ]
    for body, field in token_invalid:
        answer = await api.client.post(TOKENS, json=body, headers=api.as_("operator"))
        assert answer.status_code == 422, body
        error = answer.json()["error"]
        assert error["code"] == "token.invalid" and error["details"][0]["field"] == field, body
    mixed = await api.client.post(
        TOKENS, json=token_invalid[3][0], headers=api.as_("operator", **{"Accept-Language": "en"})
    )
    assert "ALSO-NOPE" in mixed.json()["error"]["message"]
    assert "1502A01" not in mixed.json()["error"]["message"]
    request_invalid = [
        {"role": "operator", "token": "haze_" + "a" * 43},  # a caller never picks the secret
        {"role": "operator", "token_hash": "0" * 64},
        {"role": "operator", "label": "x" * 201},
        {"role": "station", "station_ids": "1502A01"},
        {},
    ]
    for body in request_invalid:
        answer = await api.client.post(TOKENS, json=body, headers=api.as_("operator"))
        assert answer.status_code == 422, body
        error = answer.json()["error"]
        assert error["code"] == "request.invalid" and error["details"], body
    assert await _count_tokens(api) == before


async def test_repeated_stations_are_stored_once(api: Api) -> None:
    created = await _create(api, role="station", station_ids=["1502A03", "1502A01", "1502A03"])
    assert created["station_ids"] == ["1502A01", "1502A03"]
    async with api.runtime.session_maker() as session:
        row = await session.get(Token, created["id"])
    assert row.station_ids == ["1502A01", "1502A03"] and row.enterprise_id is None


async def test_a_station_token_made_over_the_api_posts_only_for_its_stations(api: Api) -> None:
    created = await _create(api, role="station", station_ids=["1502A02"])
    hour = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    rows = [
        {"station_id": station, "observed_at": hour.isoformat(), "pm25": 80, "pm10": 120}
        for station in ("1502A02", STATION_IDS[0])
    ]
    answer = await api.client.post("/api/v1/readings", json=rows, headers=_bearer(created["token"]))
    assert answer.status_code == 202
    body = answer.json()
    assert body["accepted"] == 1 and [r["index"] for r in body["rejected"]] == [1]
    errors = body["rejected"][0]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("station_id", "station.forbidden")]
    no_tokens = await api.client.get(TOKENS, headers=_bearer(created["token"]))
    assert no_tokens.status_code == 403


async def test_only_an_operator_revokes_and_a_refused_revocation_changes_nothing(
    api: Api,
) -> None:
    enterprise_id = await _token_id(api, api.secrets["enterprise"])
    for role in ("station", "enterprise"):
        answer = await api.client.delete(f"{TOKENS}/{enterprise_id}", headers=api.as_(role))
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "auth.forbidden"
    still = await api.client.get(_actions(api), headers=api.as_("enterprise"))
    assert still.status_code == 200 and still.json()["enterprise_id"] == api.enterprise_id
    async with api.runtime.session_maker() as session:
        assert (await session.get(Token, enterprise_id)).revoked_at is None


async def test_an_operator_revoking_its_own_token_is_locked_out_at_once(api: Api) -> None:
    own = await _token_id(api, api.secrets["operator"])
    await api.token("operator")  # not the last operator token: that one cannot be revoked
    assert (await api.client.get(TOKENS, headers=api.as_("operator"))).status_code == 200
    answer = await api.client.delete(f"{TOKENS}/{own}", headers=api.as_("operator"))
    assert answer.status_code == 204 and answer.content == b""
    locked = await api.client.get(TOKENS, headers=api.as_("operator"))
    assert locked.status_code == 401 and locked.json()["error"]["code"] == "auth.invalid"
    admin = await api.client.get(TOKENS, headers=_bearer(ADMIN_TOKEN))
    assert admin.status_code == 200 and own not in {t["id"] for t in admin.json()["items"]}


async def test_the_admin_token_is_an_operator_that_is_never_stored(api: Api) -> None:
    created = await _create(api, _bearer(ADMIN_TOKEN), role="operator", label="automation")
    assert created["created_by"] == "admin"
    listed = await api.client.get(TOKENS, headers=_bearer(ADMIN_TOKEN))
    assert "admin" not in {t["id"] for t in listed.json()["items"]}
    assert ADMIN_TOKEN not in listed.text
    async with api.runtime.session_maker() as session:
        stored = set((await session.scalars(select(Token.token_hash))).all())
    assert _digest(ADMIN_TOKEN) not in stored
    unknown = await api.client.delete(f"{TOKENS}/admin", headers=_bearer(ADMIN_TOKEN))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "token.unknown"
    for near in (ADMIN_TOKEN[:-1], ADMIN_TOKEN + "0", ADMIN_TOKEN.upper()):
        answer = await api.client.get(TOKENS, headers=_bearer(near))
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "auth.invalid"


async def test_token_changes_are_audited_with_the_operator_that_made_them(api: Api) -> None:
    operator_id = await _token_id(api, api.secrets["operator"])
    created = await _create(api, role="enterprise", enterprise_id=api.enterprise_id, label="EHS")
    assert created["created_by"] == operator_id
    revoked = await api.client.delete(f"{TOKENS}/{created['id']}", headers=_bearer(ADMIN_TOKEN))
    assert revoked.status_code == 204
    async with api.runtime.session_maker() as session:
        entries = await audit.recent(session, target=f"token/{created['id']}")
    assert [(e.action, e.actor) for e in entries] == [
        ("token.revoke", "admin"),
        ("token.create", operator_id),
    ]
    for entry in entries:
        assert created["token"] not in repr(entry.details)
        assert _digest(created["token"]) not in repr(entry.details)


async def test_a_caller_without_a_valid_token_gets_401_even_with_a_malformed_body(
    api: Api,
) -> None:
    # Who is calling comes before what was sent: no parse errors for strangers.
    bodies = [
        ("post", "/api/v1/readings"),
        ("post", "/api/v1/forecasts"),
        ("post", "/api/v1/alerts"),
        ("post", TOKENS),
        ("put", "/api/v1/regions/150203001"),
    ]
    for method, url in bodies:
        for credentials in ({}, _bearer("haze_nope")):
            answer = await api.client.request(
                method,
                url,
                content=b'{"region": ',
                headers=credentials | {"Content-Type": "application/json"},
            )
            assert answer.status_code == 401, (method, url, credentials, answer.text)
            assert answer.headers["www-authenticate"] == "Bearer"
