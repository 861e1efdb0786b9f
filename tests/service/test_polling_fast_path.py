"""The polling fast path (service/api/polling.py) against the router it stands in front of:
the same bytes for every answer, refusals left to the route, tokens revoked or expired
refused at once, the encoded bodies following the ETag."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable

import httpx
import pytest
from api_client import STATION_IDS, Api, served_api
from sqlalchemy import update

from emission_list.samples import kundulun_list
from service import security
from service.api import polling
from service.api.polling import PollingFastPath
from service.storage.models import Token

ENTERPRISES = [entry.enterprise_id for entry in kundulun_list().entries]
UNKNOWN = "91150203MA0000000X"
LIMIT = 15  # requests per minute of an enterprise token here (more than "enterprise" sends)
TIME_DEPENDENT = {"retry-after", "ratelimit-reset"}  # seconds from now: may differ by one


def _url(enterprise_id: str) -> str:
    return f"/api/v1/enterprises/{enterprise_id}/actions"


def _bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}


def _wire(answer: httpx.Response) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """What the client got: status, the headers in order and the body."""
    return answer.status_code, list(answer.headers.raw), answer.content


def _spy(monkeypatch: pytest.MonkeyPatch, polling: PollingFastPath) -> list[int | None]:
    """The status of each request the fast path answered (None: left to the router)."""
    seen: list[int | None] = []
    answer: Callable[[dict], Awaitable[object]] = polling._answer

    async def recorded(scope: dict) -> object:
        found = await answer(scope)
        seen.append(None if found is None else found[0])  # type: ignore[index]
        return found

    monkeypatch.setattr(polling, "_answer", recorded)
    return seen


async def _tokens(api: Api) -> dict[str, str]:
    """Secrets of each kind the cases need, stored in the shared database."""
    secrets = {
        "operator": api.secrets["operator"],
        "enterprise": await api.token("enterprise", enterprise_id=ENTERPRISES[0]),
        "limited": await api.token("enterprise", enterprise_id=ENTERPRISES[0]),
        "station": await api.token("station", station_ids=STATION_IDS),
        "revoked": await api.token("operator"),
        "expired": await api.token("operator"),
    }
    async with api.runtime.session_maker() as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        for what, column in (("expired", Token.expires_at), ("revoked", Token.revoked_at)):
            digest = hashlib.sha256(secrets[what].encode()).hexdigest()
            await session.execute(
                update(Token).where(Token.token_hash == digest).values({column: past})
            )
        await session.commit()
    return secrets


def _cases(secrets: dict[str, str], etag: str) -> list[tuple[str, str, dict[str, str]]]:
    """(what, url, headers) of every kind of poll."""
    mine, theirs = _url(ENTERPRISES[0]), _url(ENTERPRISES[1])
    enterprise = secrets["enterprise"]
    return [
        ("200", mine, _bearer(enterprise)),
        ("200 en by query", mine + "?lang=en", _bearer(enterprise)),
        ("200 en by header", mine, _bearer(enterprise, **{"Accept-Language": "en;q=0.9"})),
        ("200 on a stale etag", mine, _bearer(enterprise, **{"If-None-Match": '"stale"'})),
        ("304", mine, _bearer(enterprise, **{"If-None-Match": etag})),
        ("304 weak", mine, _bearer(enterprise, **{"If-None-Match": f'"x", W/{etag}'})),
        ("304 star", mine, _bearer(enterprise, **{"If-None-Match": "*"})),
        ("200 to an operator", theirs, _bearer(secrets["operator"])),
        ("401 missing", mine, {"If-None-Match": etag}),
        ("401 not bearer", mine, {"Authorization": f"Basic {enterprise}"}),
        ("401 unknown", mine, _bearer("haze_" + "A" * 43)),
        ("401 revoked", mine, _bearer(secrets["revoked"])),
        ("401 expired", mine, _bearer(secrets["expired"])),
        ("403 station", mine, _bearer(secrets["station"], **{"If-None-Match": "*"})),
        ("404 another's", theirs, _bearer(enterprise, **{"If-None-Match": "*"})),
        ("404 unknown", _url(UNKNOWN), _bearer(secrets["operator"])),
        ("431", mine, _bearer(enterprise, **{"X-Big": "x" * 20_000})),
        *[(f"limited {i}", mine, _bearer(secrets["limited"])) for i in range(LIMIT + 1)],
    ]


async def test_the_fast_path_answers_byte_for_byte_as_the_router_does(
    seeded_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = {"rate_limit_enterprise": f"{LIMIT}/minute"}
    async with served_api(seeded_database_url, **limits) as fast:
        assert fast.app.polling is not None
        warned = await fast.client.post(
            "/api/v1/alerts",
            json={"region": "150203", "level": "orange", "reason": {"en": "test"}},
            headers=_bearer(fast.secrets["operator"]),
        )
        assert warned.status_code == 200, warned.text
        secrets = await _tokens(fast)
        first = await fast.client.get(_url(ENTERPRISES[0]), headers=_bearer(secrets["operator"]))
        cases = _cases(secrets, first.headers["etag"])
        answered = _spy(monkeypatch, fast.app.polling)
        by_fast = [await fast.client.get(url, headers=headers) for _, url, headers in cases]
    # Started after the warning, on the same database: the same board, tokens and limits.
    async with served_api(seeded_database_url, polling_fast_path=False, **limits) as routed:
        assert routed.app.polling is None
        by_router = [await routed.client.get(url, headers=headers) for _, url, headers in cases]

    for (what, _, _), ours, theirs in zip(cases, by_fast, by_router, strict=True):
        if ours.status_code == 429:
            assert theirs.status_code == 429, what
            assert ours.json()["error"]["code"] == theirs.json()["error"]["code"] == "rate.limited"
            same = [(k, v) for k, v in ours.headers.raw if k.decode() not in TIME_DEPENDENT]
            assert same == [
                (k, v) for k, v in theirs.headers.raw if k.decode() not in TIME_DEPENDENT
            ]
        else:
            assert _wire(ours) == _wire(theirs), what
    statuses = [answer.status_code for answer in by_fast]
    expected = [int(what[:3]) for what, _, _ in cases[: -LIMIT - 1]]
    assert statuses == expected + [200] * LIMIT + [429]
    assert by_fast[0].json()["enterprise_id"] == ENTERPRISES[0]
    assert by_fast[0].json()["level"] == "orange" and by_fast[0].json()["actions"]
    assert by_fast[1].json()["actions"][0]["text"] != by_fast[0].json()["actions"][0]["text"]
    assert by_fast[1].content == by_fast[2].content  # English either way
    # The fast path answered the 200s and 304s itself and left every refusal to the router
    # (the 431 before its token check).
    assert answered == [s if s in (200, 304) else None for s in statuses]


async def test_a_token_revoked_through_this_process_stops_polling_at_once(api: Api) -> None:
    url = _url(api.enterprise_id)
    made = await api.client.post(
        "/api/v1/tokens",
        json={"role": "enterprise", "enterprise_id": api.enterprise_id},
        headers=api.as_("operator"),
    )
    assert made.status_code == 201, made.text
    headers = _bearer(made.json()["token"])
    first = await api.client.get(url, headers=headers)
    assert first.status_code == 200  # and the token is now cached
    again = await api.client.get(url, headers=headers | {"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    gone = await api.client.delete(
        f"/api/v1/tokens/{made.json()['id']}", headers=api.as_("operator")
    )
    assert gone.status_code == 204
    for extra in ({}, {"If-None-Match": first.headers["etag"]}):
        refused = await api.client.get(url, headers=headers | extra)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "auth.invalid"


async def test_a_token_revoked_by_another_process_polls_on_for_the_token_cache_s_at_most(
    api: Api,
) -> None:
    clock = [1000.0]
    api.runtime.auth.clock = lambda: clock[0]
    cache_s = api.runtime.settings.token_cache_s
    assert cache_s == 300  # HAZE_TOKEN_CACHE_S's default, the bound the docs state
    secret = await api.token("enterprise", enterprise_id=api.enterprise_id)
    url, headers = _url(api.enterprise_id), _bearer(secret, **{"If-None-Match": "*"})
    assert (await api.client.get(url, headers=headers)).status_code == 304  # now cached
    async with api.runtime.session_maker() as session:  # as another process would
        digest = hashlib.sha256(secret.encode()).hexdigest()
        revoked = dt.datetime.now(dt.UTC)
        await session.execute(
            update(Token).where(Token.token_hash == digest).values(revoked_at=revoked)
        )
        await session.commit()
    clock[0] += cache_s - 1
    assert (await api.client.get(url, headers=headers)).status_code == 304  # still trusted
    clock[0] += 1
    refused = await api.client.get(url, headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "auth.invalid"


async def test_a_cached_token_stops_polling_at_its_expiry(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    secret = await api.token("enterprise", enterprise_id=api.enterprise_id, expires_at=expires)
    url = _url(api.enterprise_id)
    first = await api.client.get(url, headers=_bearer(secret))
    assert first.status_code == 200  # cached
    monkeypatch.setattr(security, "utcnow", lambda: expires + dt.timedelta(seconds=1))
    late = await api.client.get(url, headers=_bearer(secret, **{"If-None-Match": "*"}))
    assert late.status_code == 401 and late.json()["error"]["code"] == "auth.invalid"


async def test_the_encoded_bodies_follow_the_etag_and_stay_within_their_bound(api: Api) -> None:
    bodies = api.app.state.action_bodies
    bodies.max_entries = 3
    operator = api.as_("operator")
    before = {e: await api.client.get(_url(e), headers=operator) for e in ENTERPRISES[:5]}
    assert len(bodies) == 3  # the oldest went
    warned = await api.client.post(
        "/api/v1/alerts",
        json={"region": "150203", "level": "red", "reason": {"en": "test"}},
        headers=operator,
    )
    assert warned.status_code == 200, warned.text
    for enterprise_id, old in before.items():
        new = await api.client.get(_url(enterprise_id), headers=operator)
        assert new.headers["etag"] != old.headers["etag"]
        assert new.json()["level"] == "red" and old.json()["level"] != "red"
        assert new.json()["enterprise_id"] == enterprise_id
    assert len(bodies) == 3


async def test_a_failure_in_the_fast_path_leaves_the_poll_to_the_router(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, headers = _url(api.enterprise_id), api.as_("enterprise")
    expected = await api.client.get(url, headers=headers)

    def broken(scope: dict) -> int:
        raise RuntimeError("a bug of the fast path")

    monkeypatch.setattr(polling, "header_bytes", broken)
    answered = await api.client.get(url, headers=headers)
    assert _wire(answered) == _wire(expected)
