"""Registering HJ 212 data loggers: ``PUT/GET/DELETE /api/v1/loggers/{mn}`` (operators)."""

from __future__ import annotations

import hashlib

from api_client import Api

MN = "010000A8900016F000169DC0"


async def _put(api: Api, mn: str, role: str = "operator", **body: object):
    return await api.client.put(f"/api/v1/loggers/{mn}", json=body, headers=api.as_(role))


async def test_a_station_logger_is_registered_replaced_and_removed(api: Api) -> None:
    made = await _put(
        api, MN, kind="station", station_id="1502A01", password="123456", units={"a34004": "ug/m3"}
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["units"] == {"a34004": "µg/m³"}
    assert body["effective_units"]["a34004"] == "µg/m³"
    assert body["effective_units"]["a34002"] == "ng/m³"  # Table B.2 where none is given
    assert "password" not in made.text and "123456" not in made.text
    assert api.runtime.loggers.lookup(MN).password_matches("123456")  # the gateway sees it

    again = await _put(api, MN, kind="station", station_id="1502A03", password="654321")
    assert again.status_code == 200 and again.json()["station_id"] == "1502A03"
    found = api.runtime.loggers.lookup(MN)
    assert found.owner == "1502A03" and not found.password_matches("123456")
    assert found.password_sha256 == hashlib.sha256(b"654321").digest()

    listed = await api.client.get(
        "/api/v1/loggers?kind=station&owner=1502A03&limit=100", headers=api.as_("operator")
    )
    found = listed.json()["items"]  # the sample's own station loggers are registered too
    assert MN in [item["mn"] for item in found]
    assert {(item["kind"], item["station_id"]) for item in found} == {("station", "1502A03")}
    gone = await api.client.delete(f"/api/v1/loggers/{MN}", headers=api.as_("operator"))
    assert gone.status_code == 204 and api.runtime.loggers.lookup(MN) is None
    missing = await api.client.get(f"/api/v1/loggers/{MN}", headers=api.as_("operator"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "logger.unknown"


async def test_an_enterprise_logger_names_a_listed_enterprise(api: Api) -> None:
    made = await _put(
        api, "LD130102000412", kind="cems", enterprise_id=api.enterprise_id, password="1"
    )
    assert made.status_code == 201 and made.json()["enterprise_id"] == api.enterprise_id
    unlisted = await _put(api, "X1", kind="meter", enterprise_id="911502000000000000", password="1")
    assert unlisted.status_code == 422 and unlisted.json()["error"]["code"] == "logger.owner"
    crossed = await _put(api, "X2", kind="meter", station_id="1502A01", password="1")
    assert crossed.json()["error"]["code"] == "logger.owner"
    no_station = await _put(api, "X3", kind="station", station_id="NOPE", password="1")
    assert no_station.json()["error"]["code"] == "logger.owner"
    bad_unit = await _put(
        api, "X4", kind="station", station_id="1502A01", password="1", units={"a34004": "furlong"}
    )
    assert bad_unit.status_code == 422
    semicolon = await _put(api, "X5", kind="station", station_id="1502A01", password="1;2")
    assert semicolon.status_code == 422


async def test_only_operators_register_loggers(api: Api) -> None:
    for role in ("station", "enterprise"):
        refused = await _put(api, MN, role, kind="station", station_id="1502A01", password="1")
        assert refused.status_code == 403
        listed = await api.client.get("/api/v1/loggers", headers=api.as_(role))
        assert listed.status_code == 403
