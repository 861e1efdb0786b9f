"""Fair use and hardening of the API: rate limits per token, bounded request headers and
``Accept-Language``, ``nosniff``/``no-store``, the last operator token, a private data
directory. (Paging of the listings: test_paging.py; a real uvicorn: test_serve.py.)"""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pydantic
import pytest
from api_client import ADMIN_TOKEN, Api, served_api
from sqlalchemy import select, update

from service.api.language import parse_accept_language
from service.errors import HazeError
from service.rate_limit import SWEEP_S, RateLimits
from service.security import hash_secret
from service.settings import Settings
from service.storage.engine import create_engine
from service.storage.models import Token

TOKENS = "/api/v1/tokens"
RATE_HEADERS = {"retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"}


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _assert_rate_limited(answer: object, limit: int) -> None:
    assert answer.status_code == 429, answer.text  # type: ignore[attr-defined]
    headers = answer.headers  # type: ignore[attr-defined]
    error = answer.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "rate.limited" and set(error["messages"]) == {"zh-CN", "en"}
    assert set(headers) >= RATE_HEADERS
    assert headers["ratelimit-limit"] == str(limit) and headers["ratelimit-remaining"] == "0"
    assert 1 <= int(headers["retry-after"]) <= 3600
    assert headers["ratelimit-reset"] == headers["retry-after"]
    assert headers["ratelimit-policy"] == f"{limit};w=3600"


async def test_the_request_over_a_tokens_limit_gets_429_with_retry_after_and_ratelimit_headers(
    seeded_database_url: str,
) -> None:
    async with served_api(
        seeded_database_url, rate_limit_enterprise="3/hour", rate_limit_operator="2/hour"
    ) as api:
        enterprise = _bearer(await api.token("enterprise", enterprise_id=api.enterprise_id))
        other = _bearer(await api.token("enterprise", enterprise_id=api.enterprise_id))
        polled = f"/api/v1/enterprises/{api.enterprise_id}/actions"
        for _ in range(3):
            assert (await api.client.get(polled, headers=enterprise)).status_code == 200
        _assert_rate_limited(await api.client.get(polled, headers=enterprise), 3)
        _assert_rate_limited(await api.client.get("/api/v1/regions", headers=enterprise), 3)
        assert (await api.client.get(polled, headers=other)).status_code == 200  # its own count

        operator = api.as_("operator")  # through the dependencies rather than the hot path
        for _ in range(2):
            assert (await api.client.get("/api/v1/regions", headers=operator)).status_code == 200
        english = await api.client.get("/api/v1/regions?lang=en", headers=operator)
        _assert_rate_limited(english, 2)
        assert english.json()["error"]["message"].startswith("Too many requests")


async def test_requests_without_a_valid_token_are_limited_per_client_address(
    seeded_database_url: str,
) -> None:
    async with served_api(seeded_database_url, rate_limit_anonymous="2/hour") as api:
        unknown = _bearer("haze_" + "x" * 43)
        assert (await api.client.get("/api/v1/regions")).status_code == 401
        assert (await api.client.get("/api/v1/regions", headers=unknown)).status_code == 401
        refused = await api.client.get("/api/v1/regions", headers=unknown)
        assert refused.status_code == 429 and refused.headers["ratelimit-limit"] == "2"
        valid = await api.client.get("/api/v1/regions", headers=api.as_("operator"))
        assert valid.status_code == 200  # a valid token counts against its own limit


async def test_an_invalid_body_counts_once_against_the_limit(seeded_database_url: str) -> None:
    async with served_api(seeded_database_url, rate_limit_operator="2/hour") as api:
        bad = await api.client.post(TOKENS, json={"role": "nobody"}, headers=api.as_("operator"))
        assert bad.status_code == 422
        assert (await api.client.get("/api/v1/regions", headers=api.as_("operator"))).is_success


@pytest.mark.parametrize("value", ["600/minute", "10 per second", "5/hour", "", "0"])
def test_rate_limits_in_settings_are_read_at_startup(value: str) -> None:
    assert Settings(rate_limit_station=value).rate_limit_station == value


@pytest.mark.parametrize("value", ["lots", "-5/minute", "600/fortnight", "0/minute"])
def test_a_rate_limit_that_cannot_be_read_is_refused_at_startup(value: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="rate limit"):
        Settings(rate_limit_enterprise=value)


async def test_headers_above_the_limit_get_431_before_anything_reads_them(api: Api) -> None:
    huge = {"Accept-Language": "en;q=0.5," * 3000, **api.as_("operator")}
    answer = await api.client.get("/api/v1/regions", headers=huge)
    assert answer.status_code == 431, answer.text
    error = answer.json()["error"]
    assert error["code"] == "headers.too_large" and set(error["messages"]) == {"zh-CN", "en"}
    assert error["details"] == [{"max_header_bytes": 16_384}]
    near = {"X-Padding": "p" * 12_000, **api.as_("operator")}
    assert (await api.client.get("/api/v1/regions", headers=near)).status_code == 200


def test_accept_language_is_read_only_in_its_first_entries() -> None:
    assert parse_accept_language("fr, de;q=0.9, en;q=0.8") == "en"
    assert parse_accept_language("fr," * 20 + "en") is None  # past the first 16 entries
    assert parse_accept_language("x" * 300 + ",en") is None  # past the first 256 characters
    assert parse_accept_language("fr;q=0.9," * 2_000_000 + "en") is None


async def test_every_answer_is_nosniff_and_a_new_tokens_secret_is_never_cached(api: Api) -> None:
    created = await api.client.post(TOKENS, json={"role": "operator"}, headers=api.as_("operator"))
    assert created.status_code == 201 and "token" in created.json()
    assert created.headers["cache-control"] == "no-store"
    assert created.headers["x-content-type-options"] == "nosniff"
    for answer in (
        await api.client.get("/api/v1/regions", headers=api.as_("operator")),
        await api.client.get("/api/v1/regions"),
        await api.client.get("/healthz"),
        await api.client.get("/nowhere"),
    ):
        assert answer.headers["x-content-type-options"] == "nosniff", answer.url


async def _stored_id(api: Api, secret: str) -> str:
    async with api.runtime.session_maker() as session:
        statement = select(Token.id).where(Token.token_hash == hash_secret(secret))
        return (await session.execute(statement)).scalar_one()


async def test_the_last_usable_operator_token_cannot_be_revoked(api: Api) -> None:
    first = await _stored_id(api, api.secrets["operator"])
    for headers in (api.as_("operator"), _bearer(ADMIN_TOKEN)):  # HAZE_ADMIN_TOKEN: no count
        refused = await api.client.delete(f"{TOKENS}/{first}", headers=headers)
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert error["code"] == "token.last_operator" and set(error["messages"]) == {"zh-CN", "en"}
    assert (await api.client.get(TOKENS, headers=api.as_("operator"))).status_code == 200

    expired = await _stored_id(api, await api.token("operator"))
    async with api.runtime.session_maker() as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        await session.execute(update(Token).where(Token.id == expired).values(expires_at=past))
        await session.commit()
    again = await api.client.delete(f"{TOKENS}/{first}", headers=api.as_("operator"))
    assert again.status_code == 409  # an expired operator token does not count

    second = await api.client.post(TOKENS, json={"role": "operator"}, headers=api.as_("operator"))
    revoked = await api.client.delete(f"{TOKENS}/{first}", headers=api.as_("operator"))
    assert revoked.status_code == 204
    headers = _bearer(second.json()["token"])
    last = await api.client.delete(f"{TOKENS}/{second.json()['id']}", headers=headers)
    assert last.status_code == 409 and last.json()["error"]["code"] == "token.last_operator"
    station = await _stored_id(api, api.secrets["station"])
    assert (await api.client.delete(f"{TOKENS}/{station}", headers=headers)).status_code == 204
    assert (await api.client.get(TOKENS, headers=headers)).status_code == 200


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_embedded_database_and_its_folder_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    fresh = Settings(data_dir=tmp_path / "fresh")
    engine = create_engine(fresh)
    await engine.dispose()
    assert _mode(tmp_path / "fresh") == 0o700 and _mode(tmp_path / "fresh" / "haze.db") == 0o600

    old = tmp_path / "old"
    old.mkdir(mode=0o755)
    for name in ("haze.db", "haze.db-wal"):
        (old / name).write_bytes(b"")
        os.chmod(old / name, 0o644)
    os.chmod(old, 0o755)
    engine = create_engine(Settings(data_dir=old))
    await engine.dispose()
    assert _mode(old) == 0o700
    assert _mode(old / "haze.db") == 0o600 and _mode(old / "haze.db-wal") == 0o600


def test_the_rate_limit_store_sweeps_every_few_seconds_rather_than_every_10_ms() -> None:
    limits = RateLimits({"enterprise": "5/minute"})
    for i in range(100):
        limits.check("enterprise", f"token-{i}")
    timer = limits.storage.timer
    try:
        assert timer.is_alive() and timer.daemon and timer.interval == SWEEP_S
    finally:
        timer.cancel()
    timer.function()  # a sweep keeps what is still inside its window
    with pytest.raises(HazeError) as refused:
        for _ in range(6):
            limits.check("enterprise", "token-0")
    assert refused.value.status == 429 and refused.value.headers["RateLimit-Limit"] == "5"
