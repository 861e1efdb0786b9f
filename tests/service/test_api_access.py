"""Who may call what: tokens, roles, the error shape, and the endpoints without a token."""

from __future__ import annotations

import datetime as dt
import hashlib

from api_client import ADMIN_TOKEN, Api
from sqlalchemy import select, update

from emission_list.samples import kundulun_list
from service.storage.models import Token

ALL = {"operator", "station", "enterprise"}
OPERATOR = {"operator"}
NOT_STATIONS = {"operator", "enterprise"}

#: Roles that pass the role check of every /api/v1 endpoint (the rest get 403).
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("post", "/api/v1/readings"): {"operator", "station"},
    ("put", "/api/v1/regions/{region_id}"): OPERATOR,
    ("get", "/api/v1/regions"): ALL,
    ("put", "/api/v1/regions/{region_id}/outline"): OPERATOR,
    ("get", "/api/v1/regions/{region_id}/outline"): ALL,
    ("delete", "/api/v1/regions/{region_id}/outline"): OPERATOR,
    ("put", "/api/v1/stations/{station_id}"): OPERATOR,
    ("get", "/api/v1/stations"): ALL,
    ("get", "/api/v1/stations/{station_id}/aqi"): ALL,
    ("get", "/api/v1/regions/{region_id}/aqi"): ALL,
    ("get", "/api/v1/stations/{station_id}/aqi/hourly"): ALL,
    ("get", "/api/v1/stations/{station_id}/aqi/daily"): ALL,
    ("get", "/api/v1/stations/{station_id}/readings"): ALL,
    ("get", "/api/v1/regions/{region_id}/aqi/hourly"): ALL,
    ("get", "/api/v1/regions/{region_id}/aqi/daily"): ALL,
    ("get", "/api/v1/regions/{region_id}/aqi/forecasts"): ALL,
    ("post", "/api/v1/forecasts"): OPERATOR,
    ("get", "/api/v1/alerts/active"): ALL,
    ("get", "/api/v1/alerts"): ALL,
    ("post", "/api/v1/alerts"): OPERATOR,
    ("get", "/api/v1/alerts/proposals"): OPERATOR,
    ("post", "/api/v1/alerts/{region}/approve"): OPERATOR,
    ("get", "/api/v1/list"): OPERATOR,
    ("get", "/api/v1/list/enterprises/{enterprise_id}"): {"operator", "enterprise"},
    ("get", "/api/v1/list/revisions"): OPERATOR,
    ("post", "/api/v1/list/revisions"): OPERATOR,
    ("put", "/api/v1/list/revisions/{number}/enterprises/{enterprise_id}"): OPERATOR,
    ("delete", "/api/v1/list/revisions/{number}/enterprises/{enterprise_id}"): OPERATOR,
    ("get", "/api/v1/list/revisions/{number}/diff"): OPERATOR,
    ("get", "/api/v1/list/revisions/{number}/preview"): OPERATOR,
    ("post", "/api/v1/list/revisions/{number}/publish"): OPERATOR,
    ("get", "/api/v1/enterprises/{enterprise_id}/actions"): {"operator", "enterprise"},
    ("get", "/api/v1/reductions"): OPERATOR,
    ("post", "/api/v1/tokens"): OPERATOR,
    ("get", "/api/v1/tokens"): OPERATOR,
    ("delete", "/api/v1/tokens/{token_id}"): OPERATOR,
    ("post", "/api/v1/subscriptions"): NOT_STATIONS,
    ("get", "/api/v1/subscriptions"): NOT_STATIONS,
    ("get", "/api/v1/subscriptions/{subscription_id}"): NOT_STATIONS,
    ("delete", "/api/v1/subscriptions/{subscription_id}"): NOT_STATIONS,
    ("get", "/api/v1/notices"): OPERATOR,
    ("get", "/api/v1/enterprises/{enterprise_id}/notices"): NOT_STATIONS,
    ("post", "/api/v1/enterprises/{enterprise_id}/notices/{notice_id}/ack"): NOT_STATIONS,
    ("get", "/api/v1/deliveries"): OPERATOR,
    ("post", "/api/v1/deliveries/{delivery_id}/resend"): OPERATOR,
    ("put", "/api/v1/loggers/{mn}"): OPERATOR,
    ("get", "/api/v1/loggers"): OPERATOR,
    ("get", "/api/v1/loggers/{mn}"): OPERATOR,
    ("delete", "/api/v1/loggers/{mn}"): OPERATOR,
    ("get", "/api/v1/alarms"): NOT_STATIONS,
    ("get", "/api/v1/alarms/{alarm_id}"): NOT_STATIONS,
    ("get", "/api/v1/enterprises/{enterprise_id}/alarms"): NOT_STATIONS,
    ("post", "/api/v1/alarms/{alarm_id}/explanation"): {"enterprise"},
    ("post", "/api/v1/alarms/{alarm_id}/verify"): OPERATOR,
    ("post", "/api/v1/alarms/{alarm_id}/close"): OPERATOR,
}


def _api_endpoints(api: Api) -> set[tuple[str, str]]:
    paths = api.app.openapi()["paths"]
    return {(m, p) for p, ops in paths.items() if p.startswith("/api/v1") for m in ops}


def _concrete(api: Api, path: str) -> str:
    return (
        path.replace("{region_id}", "150203999")
        .replace("{station_id}", "1502A01")
        .replace("{enterprise_id}", api.enterprise_id)
        .replace("{number}", "1")
        .replace("{token_id}", "no-such-token")
        .replace("{region}", "150203")
        .replace("{subscription_id}", "sub_none")
        .replace("{notice_id}", "1")
        .replace("{delivery_id}", "1")
    )


async def test_every_endpoint_needs_a_token_and_admits_exactly_its_roles(api: Api) -> None:
    assert _api_endpoints(api) == set(ALLOWED), "an endpoint is missing from the role matrix"
    for (method, path), allowed in ALLOWED.items():
        url = _concrete(api, path)
        body = {} if method in ("post", "put") else None
        anonymous = await api.client.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.json()["error"]["code"] == "auth.missing"
        for role in ALL:
            answer = await api.client.request(method, url, json=body, headers=api.as_(role))
            if role in allowed:
                assert answer.status_code not in (401, 403), (method, path, role, answer.text)
            else:
                assert answer.status_code == 403, (method, path, role)
                assert answer.json()["error"]["code"] == "auth.forbidden"


async def test_a_missing_or_unknown_token_is_401_with_a_bearer_challenge(api: Api) -> None:
    url = f"/api/v1/enterprises/{api.enterprise_id}/actions"
    missing = await api.client.get(url)
    unknown = await api.client.get(url, headers={"Authorization": "Bearer haze_not-a-token"})
    basic = await api.client.get(url, headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert [r.status_code for r in (missing, unknown, basic)] == [401, 401, 401]
    assert unknown.json()["error"]["code"] == "auth.invalid"
    assert missing.headers["www-authenticate"] == "Bearer"


async def test_the_admin_token_is_an_operator(api: Api) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    answer = await api.client.get("/api/v1/list/revisions", headers=headers)
    assert answer.status_code == 200 and answer.json()["items"][0]["number"] == 1


async def test_a_created_token_is_shown_once_stored_hashed_and_works(api: Api) -> None:
    body = {"role": "enterprise", "enterprise_id": api.enterprise_id, "label": "EHS desk"}
    created = await api.client.post("/api/v1/tokens", json=body, headers=api.as_("operator"))
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("haze_") and len(secret) >= len("haze_") + 43  # >= 256 bits
    listed = await api.client.get("/api/v1/tokens", headers=api.as_("operator"))
    digest = hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in listed.text and digest not in listed.text
    assert created.json()["id"] in {t["id"] for t in listed.json()["items"]}
    async with api.runtime.session_maker() as session:
        row = await session.get(Token, created.json()["id"])
        stored = [t.token_hash for t in (await session.scalars(select(Token))).all()]
    assert row.token_hash == digest and secret not in stored
    headers = {"Authorization": f"Bearer {secret}"}
    own = await api.client.get(f"/api/v1/enterprises/{api.enterprise_id}/actions", headers=headers)
    assert own.status_code == 200


async def test_a_revoked_token_stops_at_once_even_while_cached(api: Api) -> None:
    body = {"role": "enterprise", "enterprise_id": api.enterprise_id}
    created = await api.client.post("/api/v1/tokens", json=body, headers=api.as_("operator"))
    token_id, secret = created.json()["id"], created.json()["token"]
    headers = {"Authorization": f"Bearer {secret}"}
    url = f"/api/v1/enterprises/{api.enterprise_id}/actions"
    assert (await api.client.get(url, headers=headers)).status_code == 200  # now cached
    revoked = await api.client.delete(f"/api/v1/tokens/{token_id}", headers=api.as_("operator"))
    assert revoked.status_code == 204
    assert (await api.client.get(url, headers=headers)).status_code == 401
    again = await api.client.delete(f"/api/v1/tokens/{token_id}", headers=api.as_("operator"))
    assert again.status_code == 204  # revoking twice is harmless
    listed = await api.client.get("/api/v1/tokens", headers=api.as_("operator"))
    assert token_id not in {t["id"] for t in listed.json()["items"]}
    everything = await api.client.get(
        "/api/v1/tokens?include_revoked=true", headers=api.as_("operator")
    )
    assert any(t["id"] == token_id and t["revoked_at"] for t in everything.json()["items"])
    gone = await api.client.delete("/api/v1/tokens/nope", headers=api.as_("operator"))
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "token.unknown"


async def test_an_expired_token_is_refused(api: Api) -> None:
    secret = await api.token("operator")
    async with api.runtime.session_maker() as session:
        digest = hashlib.sha256(secret.encode()).hexdigest()
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        await session.execute(
            update(Token).where(Token.token_hash == digest).values(expires_at=past)
        )
        await session.commit()
    answer = await api.client.get("/api/v1/regions", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "auth.invalid"


async def test_token_bodies_that_make_no_sense_are_refused(api: Api) -> None:
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    cases = [
        ({"role": "enterprise", "enterprise_id": "not-a-credit-code"}, "enterprise_id"),
        ({"role": "enterprise"}, "enterprise_id"),
        ({"role": "station"}, "station_ids"),
        ({"role": "station", "station_ids": ["NOPE"]}, "station_ids"),
        ({"role": "operator", "enterprise_id": api.enterprise_id}, "enterprise_id"),
        ({"role": "operator", "station_ids": ["1502A01"]}, "station_ids"),
        ({"role": "operator", "expires_at": past}, "expires_at"),
    ]
    for body, field in cases:
        answer = await api.client.post("/api/v1/tokens", json=body, headers=api.as_("operator"))
        assert answer.status_code == 422, body
        error = answer.json()["error"]
        assert error["code"] == "token.invalid" and error["details"][0]["field"] == field
    for body in ({"role": "admin"}, {"role": "operator", "expires_at": "2027-01-01T00:00:00"}):
        answer = await api.client.post("/api/v1/tokens", json=body, headers=api.as_("operator"))
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "request.invalid"
    station = {"role": "station", "station_ids": ["1502A02"], "expires_at": future}
    answer = await api.client.post("/api/v1/tokens", json=station, headers=api.as_("operator"))
    assert answer.status_code == 201 and answer.json()["station_ids"] == ["1502A02"]


async def test_every_error_has_the_one_shape_in_both_languages(api: Api) -> None:
    headers = api.as_("operator")
    answers = {
        404: await api.client.get("/api/v1/no-such-thing", headers=headers),
        405: await api.client.patch("/api/v1/regions", headers=headers),
        422: await api.client.post(
            "/api/v1/forecasts",
            content=b"{not json",
            headers=headers | {"Content-Type": "application/json"},
        ),
    }
    codes = {404: "not_found", 405: "method_not_allowed", 422: "request.invalid"}
    for status, answer in answers.items():
        assert answer.status_code == status
        error = answer.json()["error"]
        assert error["code"] == codes[status]
        assert (
            set(error["messages"]) == {"zh-CN", "en"}
            and error["message"] == error["messages"]["zh-CN"]
        )
        assert isinstance(error["details"], list)
    assert answers[422].json()["error"]["details"], "a validation error says what is wrong"
    english = await api.client.get("/api/v1/regions", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert english.json()["error"]["message"] == "A bearer token is required"
    chinese = await api.client.get("/api/v1/regions?lang=zh", headers={"Accept-Language": "en"})
    assert chinese.json()["error"]["message"].startswith("需要")


async def test_bodies_over_the_limit_answer_413(api: Api) -> None:
    big = b"[" + b"{}," * 400_000 + b"{}]"  # 1.2 MB > the 1 MiB default
    answer = await api.client.post(
        "/api/v1/readings",
        content=big,
        headers=api.as_("operator", **{"Content-Type": "application/json"}),
    )
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "body.too_large"

    async def chunks():
        for _ in range(12):
            yield b" " * 100_000  # streamed without a Content-Length

    streamed = await api.client.post(
        "/api/v1/readings",
        content=chunks(),
        headers=api.as_("operator", **{"Content-Type": "application/json"}),
    )
    assert streamed.status_code == 413


async def test_health_readiness_and_metrics_need_no_token(api: Api) -> None:
    await api.client.get("/api/v1/regions", headers=api.as_("station"))
    health = await api.client.get("/healthz")
    ready = await api.client.get("/readyz")
    metrics = await api.client.get("/metrics")
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200 and ready.json()["checks"] == {"board": True, "database": True}
    assert (
        'haze_http_requests_total{method="GET",route="/api/v1/regions",status="200"}'
        in metrics.text
    )
    enterprises = len(kundulun_list().entries)
    assert f"haze_list_enterprises {float(enterprises)}" in metrics.text


async def test_the_openapi_document_describes_security_and_examples(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    schemas = document["components"]["schemas"]
    for name in ("ForecastIn", "ManualAlertIn", "TokenIn", "RegionIn", "StationIn"):
        assert schemas[name].get("examples"), name
    readings = document["paths"]["/api/v1/readings"]["post"]["requestBody"]["content"]
    body = readings["application/json"]
    assert body["schema"]["items"]["title"] == "ReadingIn" and body["example"][0]["station_id"]
    entry = document["paths"]["/api/v1/list/revisions/{number}/enterprises/{enterprise_id}"]
    assert entry["put"]["requestBody"]["content"]["application/json"]["schema"]["examples"]
    assert "ErrorOut" in schemas
