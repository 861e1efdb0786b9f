"""Enterprise actions and reductions beyond test_api_enterprises.py: every enterprise and every
region against the vectorised evaluator and the scalar reference, the ETag's lifecycle, the
error answers, metrics, readiness and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import httpx
import numpy as np
import pytest
from api_client import ADMIN_TOKEN, Api

from emission_list.catalog import default_catalog
from emission_list.compiler import compile_revision
from emission_list.evaluator import Evaluator
from emission_list.i18n import pick
from emission_list.levels import LIST_POLLUTANTS, Level, Response
from emission_list.reference.evaluator import effective_warning, evaluate_list, region_totals
from emission_list.regions import RegionTree, state_code
from emission_list.samples import kundulun_list, kundulun_regions
from service.commands.process import create_app

Own = Mapping[str, tuple[Level, Response]]

#: Warnings issued by hand, region by region: what each scenario puts in force.
SCENARIOS: dict[str, Own] = {
    # A city-wide yellow with a red subdistrict under it (the enterprise's own, 150203013).
    "city yellow, subdistrict red": {
        "150200": (Level.YELLOW, Response.FULL),
        "150203013": (Level.RED, Response.FULL),
    },
    # An ozone episode: NOx and VOC measures only, no production cut.
    "district orange o3": {"150203": (Level.ORANGE, Response.O3)},
    # The higher level wins even when it orders advice only.
    "district red advisory, subdistrict yellow": {
        "150203": (Level.RED, Response.ADVISORY),
        "150203005": (Level.YELLOW, Response.FULL),
    },
}
#: Domain brief, "Minimum reductions": share of the baseline at each level.
MINIMUM_RATIO = {Level.YELLOW: 0.10, Level.ORANGE: 0.20, Level.RED: 0.30}


def _url(enterprise_id: str) -> str:
    return f"/api/v1/enterprises/{enterprise_id}/actions"


def _parents() -> dict[str, str | None]:
    return {r.region_id: r.parent for r in kundulun_regions()}


async def _warn(api: Api, region: str, level: str, response: str = "full", **extra: str) -> dict:
    body = {"region": region, "level": level, "response": response, "reason": {"en": "test"}}
    answer = await api.client.post("/api/v1/alerts", json=body | extra, headers=api.as_("operator"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _vectorised(own: Own) -> tuple[Evaluator, RegionTree]:
    tree = RegionTree(_parents().items())
    evaluator = Evaluator(compile_revision(kundulun_list(), default_catalog(), tree))
    states = np.zeros(len(tree), dtype=np.int8)
    for region, (level, response) in own.items():
        states[tree.index[region]] = state_code(level, response)
    evaluator.evaluate(states)
    return evaluator, tree


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_every_enterprise_and_region_agree_with_the_evaluator_and_the_reference(
    api: Api, scenario: str
) -> None:
    own = SCENARIOS[scenario]
    for region, (level, response) in own.items():
        await _warn(api, region, level.label, str(response))
    entries = kundulun_list().entries
    parents = _parents()
    reference = evaluate_list(entries, default_catalog(), parents, own)
    totals = region_totals(entries, reference, parents, own)
    evaluator, tree = _vectorised(own)
    assert len(entries) == 90
    for entry in entries:
        answer = await api.client.get(
            f"{_url(entry.enterprise_id)}?lang=en", headers=api.as_("operator")
        )
        assert answer.status_code == 200, answer.text
        body, expected = answer.json(), reference[entry.enterprise_id]
        fast = evaluator.actions_of(evaluator.compiled.row_of[entry.enterprise_id])
        assert body["enterprise_id"] == entry.enterprise_id and body["list_revision"] == 1
        assert body["level"] == expected.level.label == fast.level.label
        assert body["response"] == (None if expected.response is None else str(expected.response))
        assert body["production_cut"] == pytest.approx(expected.production_cut, abs=1e-6)
        assert body["production_cut"] == pytest.approx(fast.production_cut, abs=1e-6)
        for pollutant, value in zip(LIST_POLLUTANTS, expected.reductions, strict=True):
            got = body["reductions_kg_per_day"][pollutant]
            assert got == pytest.approx(value, abs=1e-3), (entry.enterprise_id, pollutant)
            assert got == pytest.approx(fast.reductions[pollutant], abs=1e-3)
        assert body["actions"] == [
            {"code": a.code, "text": pick(a.text, "en"), "pollutants": list(a.pollutants)}
            for a in expected.actions
        ]
        assert [a.code for a in fast.actions] == [a.code for a in expected.actions]
        if expected.response is Response.O3:
            assert body["production_cut"] == 0 and body["reductions_kg_per_day"]["so2"] == 0
            assert body["reductions_kg_per_day"]["pm"] == 0
            assert all({"nox", "vocs"} & set(a["pollutants"]) for a in body["actions"])
        if expected.response is Response.ADVISORY:
            assert body["actions"] == [] and body["production_cut"] == 0
    report = evaluator.region_report()
    for region in parents:
        answer = await api.client.get(
            f"/api/v1/reductions?region={region}", headers=api.as_("operator")
        )
        assert answer.status_code == 200, answer.text
        body, expected = answer.json(), totals[region]
        level, response = effective_warning(region, parents, own)
        assert body["region"] == region and body["level"] == level.label
        assert body["response"] == (None if response is None else str(response))
        i = tree.index[region]
        for part in ("baseline", "required", "minimum", "shortfall"):
            for p, pollutant in enumerate(LIST_POLLUTANTS):
                got = body[part][pollutant]
                assert got == pytest.approx(expected[part][p], abs=2e-3), (region, part, pollutant)
                assert got == pytest.approx(getattr(report, part)[i][p], abs=2e-3)


async def test_each_enterprise_names_the_alert_that_sets_its_level_and_its_validity(
    api: Api,
) -> None:
    own = SCENARIOS["city yellow, subdistrict red"]
    for region, (level, response) in own.items():
        await _warn(api, region, level.label, str(response))
    active = await api.client.get("/api/v1/alerts/active?lang=en", headers=api.as_("operator"))
    alerts = {a["region"]: a for a in active.json()["items"]}
    assert set(alerts) == {"150200", "150203013"}
    for entry in kundulun_list().entries:
        body = (
            await api.client.get(
                f"{_url(entry.enterprise_id)}?lang=en", headers=api.as_("operator")
            )
        ).json()
        source = "150203013" if entry.region == "150203013" else "150200"
        alert = alerts[source]
        assert body["alert"] == {
            "region": source,
            "level": alert["level"],
            "source": "manual",
            "issued_at": body["alert"]["issued_at"],
            "reason": alert["reason"],
        }
        assert dt.datetime.fromisoformat(body["alert"]["issued_at"]) == dt.datetime.fromisoformat(
            alert["issued_at"]
        )
        assert dt.datetime.fromisoformat(body["valid_from"]) == dt.datetime.fromisoformat(
            alert["starts_at"]
        )
        assert dt.datetime.fromisoformat(body["valid_until"]) == dt.datetime.fromisoformat(
            alert["ends_at"]
        )
        assert body["level"] == alert["level"]


async def test_the_minimum_is_the_levels_share_of_the_baseline_for_the_pollutants_it_covers(
    api: Api,
) -> None:
    await _warn(api, "150200", "yellow")
    await _warn(api, "150203013", "red")
    for region, level in (("150200", Level.YELLOW), ("150203", Level.YELLOW)):
        body = (
            await api.client.get(f"/api/v1/reductions?region={region}", headers=api.as_("operator"))
        ).json()
        assert body["level"] == level.label
        for pollutant in LIST_POLLUTANTS:
            baseline = body["baseline"][pollutant]
            assert baseline > 0
            assert body["minimum"][pollutant] == pytest.approx(0.10 * baseline, abs=2e-3)
    red = (
        await api.client.get("/api/v1/reductions?region=150203013", headers=api.as_("operator"))
    ).json()
    assert red["level"] == "red"
    for pollutant in LIST_POLLUTANTS:
        assert red["minimum"][pollutant] == pytest.approx(
            0.30 * red["baseline"][pollutant], abs=2e-3
        )
        assert red["required"][pollutant] > 0
        gap = max(0.0, red["minimum"][pollutant] - red["required"][pollutant])
        assert red["shortfall"][pollutant] == pytest.approx(gap, abs=2e-3)
    await _warn(api, "150200", "none")
    await _warn(api, "150203013", "none")
    await _warn(api, "150203", "orange", "o3")
    ozone = (
        await api.client.get("/api/v1/reductions?region=150203", headers=api.as_("operator"))
    ).json()
    assert ozone["level"] == "orange" and ozone["response"] == "o3"
    for pollutant in ("nox", "vocs"):
        share = MINIMUM_RATIO[Level.ORANGE] * ozone["baseline"][pollutant]
        assert ozone["minimum"][pollutant] == pytest.approx(share, abs=2e-3)
        assert ozone["required"][pollutant] > 0
    assert ozone["minimum"]["so2"] == ozone["minimum"]["pm"] == 0
    assert ozone["required"]["so2"] == ozone["required"]["pm"] == 0


async def test_reductions_are_for_operators_and_name_only_known_regions(api: Api) -> None:
    for role in ("station", "enterprise"):
        answer = await api.client.get("/api/v1/reductions?region=150203", headers=api.as_(role))
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "auth.forbidden"
    anonymous = await api.client.get("/api/v1/reductions?region=150203")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "auth.missing"
    for region in ("999", "", "150203016", "1502030131"):
        answer = await api.client.get(
            "/api/v1/reductions", params={"region": region}, headers=api.as_("operator")
        )
        assert answer.status_code == 404, region
        assert answer.json()["error"]["code"] == "region.unknown"
    leaf = await api.client.get("/api/v1/reductions?region=150203013", headers=api.as_("operator"))
    assert leaf.status_code == 200 and leaf.json()["level"] == "none"
    assert leaf.json()["required"] == dict.fromkeys(LIST_POLLUTANTS, 0.0)
    assert leaf.json()["shortfall"] == dict.fromkeys(LIST_POLLUTANTS, 0.0)


async def test_a_warning_that_does_not_reach_the_enterprise_keeps_its_etag_valid(
    api: Api,
) -> None:
    headers = api.as_("enterprise")
    etag = (await api.client.get(_url(api.enterprise_id), headers=headers)).headers["etag"]
    await _warn(api, "150203001", "red")  # another subdistrict
    await _warn(api, "150100", "orange")  # another city (Hohhot)
    unchanged = await api.client.get(
        _url(api.enterprise_id), headers=headers | {"If-None-Match": etag}
    )
    assert unchanged.status_code == 304 and unchanged.headers["etag"] == etag
    await _warn(api, "150203013", "yellow")  # the enterprise's own subdistrict
    changed = await api.client.get(
        _url(api.enterprise_id), headers=headers | {"If-None-Match": etag}
    )
    assert changed.status_code == 200 and changed.json()["level"] == "yellow"
    assert changed.json()["alert"]["region"] == "150203013"


async def test_a_new_end_or_a_new_reason_at_the_same_level_changes_the_etag(api: Api) -> None:
    headers = api.as_("enterprise", **{"Accept-Language": "en"})
    ends = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)
    await _warn(api, "150203", "orange", ends_at=ends.isoformat())
    first = await api.client.get(_url(api.enterprise_id), headers=headers)
    assert dt.datetime.fromisoformat(first.json()["valid_until"]) == ends
    later = ends + dt.timedelta(days=1)
    await _warn(api, "150203", "orange", ends_at=later.isoformat())
    extended = await api.client.get(
        _url(api.enterprise_id), headers=headers | {"If-None-Match": first.headers["etag"]}
    )
    assert extended.status_code == 200 and extended.json()["level"] == "orange"
    assert dt.datetime.fromisoformat(extended.json()["valid_until"]) == later
    assert extended.headers["etag"] != first.headers["etag"]
    body = {
        "region": "150203",
        "level": "orange",
        "reason": {"en": "a second look at the forecast"},
        "ends_at": later.isoformat(),
    }
    reissued = await api.client.post("/api/v1/alerts", json=body, headers=api.as_("operator"))
    assert reissued.status_code == 200
    renamed = await api.client.get(
        _url(api.enterprise_id), headers=headers | {"If-None-Match": extended.headers["etag"]}
    )
    assert renamed.status_code == 200
    assert renamed.json()["alert"]["reason"] == "a second look at the forecast"


async def test_lifting_the_warning_changes_the_etag_and_clears_the_actions(api: Api) -> None:
    headers = api.as_("enterprise")
    await _warn(api, "150203", "red")
    red = await api.client.get(_url(api.enterprise_id), headers=headers)
    assert red.json()["level"] == "red" and red.json()["actions"]
    await _warn(api, "150203", "none")
    lifted = await api.client.get(
        _url(api.enterprise_id), headers=headers | {"If-None-Match": red.headers["etag"]}
    )
    assert lifted.status_code == 200 and lifted.headers["etag"] != red.headers["etag"]
    body = lifted.json()
    assert body["level"] == "none" and body["response"] is None and body["alert"] is None
    assert body["actions"] == [] and body["production_cut"] == 0
    assert body["reductions_kg_per_day"] == dict.fromkeys(LIST_POLLUTANTS, 0.0)
    assert body["valid_from"] is None and body["valid_until"] is None


async def test_a_304_carries_the_validators_and_no_body(api: Api) -> None:
    headers = api.as_("enterprise")
    first = await api.client.get(_url(api.enterprise_id), headers=headers)
    etag = first.headers["etag"]
    assert first.status_code == 200 and etag.startswith('"') and etag.endswith('"')
    assert first.headers["cache-control"] == "private, no-cache"
    for header in (etag, f"W/{etag}", "*", f'"stale", {etag}'):
        answer = await api.client.get(
            _url(api.enterprise_id), headers=headers | {"If-None-Match": header}
        )
        assert answer.status_code == 304, header
        assert answer.content == b"" and answer.headers["etag"] == etag
        assert answer.headers["cache-control"] == "private, no-cache"
        assert answer.headers["vary"] == "Accept-Language"
    for header in ('"stale"', etag.strip('"'), etag[:-2] + '"', ""):
        answer = await api.client.get(
            _url(api.enterprise_id), headers=headers | {"If-None-Match": header}
        )
        assert answer.status_code == 200, header
        assert answer.json() == first.json()


async def test_the_etag_follows_lang_then_accept_language(api: Api) -> None:
    await _warn(api, "150203", "orange")
    url = _url(api.enterprise_id)
    by_query = await api.client.get(f"{url}?lang=en", headers=api.as_("enterprise"))
    by_header = await api.client.get(
        url, headers=api.as_("enterprise", **{"Accept-Language": "en"})
    )
    chinese = await api.client.get(
        f"{url}?lang=zh-CN", headers=api.as_("enterprise", **{"Accept-Language": "en"})
    )
    default = await api.client.get(url, headers=api.as_("enterprise"))
    assert by_query.headers["etag"] == by_header.headers["etag"]
    assert chinese.headers["etag"] == default.headers["etag"] != by_query.headers["etag"]
    assert by_query.json() == by_header.json() and chinese.json() == default.json()
    assert by_query.json()["actions"][0]["text"].isascii()
    assert not chinese.json()["actions"][0]["text"].isascii()
    cross = await api.client.get(
        url,
        headers=api.as_(
            "enterprise", **{"Accept-Language": "en", "If-None-Match": by_query.headers["etag"]}
        ),
    )
    assert cross.status_code == 304


async def test_polling_checks_the_token_and_its_scope_before_the_etag(api: Api) -> None:
    url = _url(api.enterprise_id)
    etag = (await api.client.get(url, headers=api.as_("operator"))).headers["etag"]
    for headers, status, code in (
        ({"If-None-Match": etag}, 401, "auth.missing"),
        ({"If-None-Match": "*", "Authorization": "Bearer haze_nope"}, 401, "auth.invalid"),
        (api.as_("station", **{"If-None-Match": etag}), 403, "auth.forbidden"),
    ):
        answer = await api.client.get(url, headers=headers)
        assert answer.status_code == status and answer.json()["error"]["code"] == code
    other = kundulun_list().entries[1].enterprise_id
    for header in ("*", etag):
        theirs = await api.client.get(
            _url(other), headers=api.as_("enterprise", **{"If-None-Match": header})
        )
        assert theirs.status_code == 404, header
        assert theirs.json()["error"]["code"] == "enterprise.unknown"
    unknown = await api.client.get(
        _url("91150203MA0000000X"), headers=api.as_("operator", **{"If-None-Match": "*"})
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "enterprise.unknown"


async def test_the_etag_survives_a_restart_of_the_service(api: Api) -> None:
    await _warn(api, "150203", "orange")
    before = await api.client.get(_url(api.enterprise_id), headers=api.as_("enterprise"))
    app = create_app(api.app.state.settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://haze") as client:
            after = await client.get(
                _url(api.enterprise_id),
                headers=api.as_("enterprise", **{"If-None-Match": before.headers["etag"]}),
            )
            fresh = await client.get(_url(api.enterprise_id), headers=api.as_("enterprise"))
    assert after.status_code == 304 and after.headers["etag"] == before.headers["etag"]
    assert fresh.json() == before.json() and fresh.json()["level"] == "orange"


async def test_error_answers_name_the_problem_in_the_callers_language(api: Api) -> None:
    english = api.as_("operator", **{"Accept-Language": "en"})
    missing = await api.client.get("/api/v1/enterprises", headers=english)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "No such path"
    outside = await api.client.get("/no-such-page")
    assert outside.status_code == 404 and outside.json()["error"]["code"] == "not_found"
    wrong = await api.client.delete("/api/v1/reductions", headers=english)
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
    assert wrong.json()["error"] == {
        "code": "method_not_allowed",
        "message": "Method not allowed on this path",
        "messages": {"zh-CN": "此地址不支持该方法", "en": "Method not allowed on this path"},
        "details": [],
    }
    bad = {"region": "150203", "level": "purple", "reason": {"en": "x"}, "ends_at": "tomorrow"}
    invalid = await api.client.post("/api/v1/alerts", json=bad, headers=english)
    assert invalid.status_code == 422
    error = invalid.json()["error"]
    assert error["code"] == "request.invalid" and error["message"] == "The request is not valid"
    assert {tuple(d["loc"]) for d in error["details"]} == {
        ("body", "level"),
        ("body", "ends_at"),
    }
    assert all(d["message"] and d["type"] for d in error["details"])
    broken = await api.client.post(
        "/api/v1/alerts",
        content=b'{"region": "150203",',
        headers=english | {"Content-Type": "application/json"},
    )
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "request.invalid"
    assert broken.json()["error"]["details"][0]["type"] == "json_invalid"
    for answer in (missing, outside, wrong, invalid, broken):
        assert answer.headers["content-type"] == "application/json"
        assert set(answer.json()) == {"error"}
        assert set(answer.json()["error"]) == {"code", "message", "messages", "details"}


async def test_metrics_count_polls_by_route_template_and_status(api: Api) -> None:
    url = _url(api.enterprise_id)
    first = await api.client.get(url, headers=api.as_("enterprise"))
    for _ in range(3):
        cached = await api.client.get(
            url, headers=api.as_("enterprise", **{"If-None-Match": first.headers["etag"]})
        )
        assert cached.status_code == 304
    await api.client.get(
        _url(kundulun_list().entries[1].enterprise_id), headers=api.as_("enterprise")
    )
    metrics = await api.client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    route = 'route="/api/v1/enterprises/{enterprise_id}/actions"'
    samples = dict(
        line.rsplit(" ", 1) for line in metrics.text.splitlines() if line.startswith("haze_")
    )
    assert samples[f'haze_http_requests_total{{method="GET",{route},status="200"}}'] == "1.0"
    assert samples[f'haze_http_requests_total{{method="GET",{route},status="304"}}'] == "3.0"
    assert samples[f'haze_http_requests_total{{method="GET",{route},status="404"}}'] == "1.0"
    assert f"haze_http_request_seconds_count{{{route}}}" in samples
    assert samples["haze_list_revision"] == "1.0"
    assert api.enterprise_id not in metrics.text  # a label per enterprise would explode
    assert ADMIN_TOKEN not in metrics.text


async def test_unmatched_paths_are_counted_under_one_unmatched_label(api: Api) -> None:
    for path in ("/api/v1/nothing-here", "/api/v1/enterprises", "/nowhere"):
        assert (await api.client.get(path)).status_code == 404
    metrics = (await api.client.get("/metrics")).text
    counted = [
        line
        for line in metrics.splitlines()
        if line.startswith("haze_http_requests_total") and 'status="404"' in line
    ]
    assert counted == ['haze_http_requests_total{method="GET",route="unmatched",status="404"} 3.0']


async def test_health_and_readiness_answer_without_a_token(api: Api) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        with_bad_token = await api.client.get(path, headers={"Authorization": "Bearer haze_nope"})
        assert with_bad_token.status_code == 200, path
    ready = (await api.client.get("/readyz")).json()
    assert ready == {"status": "ready", "checks": {"board": True, "database": True}}
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}


#: Every endpoint the issue names, with its method.
ISSUE_ENDPOINTS = {
    ("post", "/api/v1/readings"),
    ("put", "/api/v1/stations/{station_id}"),
    ("get", "/api/v1/stations"),
    ("get", "/api/v1/stations/{station_id}/aqi"),
    ("put", "/api/v1/regions/{region_id}"),
    ("get", "/api/v1/regions"),
    ("post", "/api/v1/forecasts"),
    ("get", "/api/v1/alerts/active"),
    ("get", "/api/v1/alerts"),
    ("post", "/api/v1/alerts"),
    ("get", "/api/v1/list"),
    ("get", "/api/v1/list/enterprises/{enterprise_id}"),
    ("get", "/api/v1/list/revisions"),
    ("post", "/api/v1/list/revisions"),
    ("put", "/api/v1/list/revisions/{number}/enterprises/{enterprise_id}"),
    ("delete", "/api/v1/list/revisions/{number}/enterprises/{enterprise_id}"),
    ("get", "/api/v1/list/revisions/{number}/diff"),
    ("get", "/api/v1/list/revisions/{number}/preview"),
    ("post", "/api/v1/list/revisions/{number}/publish"),
    ("get", "/api/v1/enterprises/{enterprise_id}/actions"),
    ("get", "/api/v1/reductions"),
    ("post", "/api/v1/tokens"),
    ("get", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{token_id}"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
}
#: Request bodies the issue's users write by hand: each needs an example.
EXAMPLE_BODIES = [
    ("post", "/api/v1/readings"),
    ("post", "/api/v1/forecasts"),
    ("post", "/api/v1/alerts"),
    ("post", "/api/v1/tokens"),
    ("put", "/api/v1/stations/{station_id}"),
    ("put", "/api/v1/regions/{region_id}"),
    ("put", "/api/v1/list/revisions/{number}/enterprises/{enterprise_id}"),
]


def _has_example(document: dict, media: dict) -> bool:
    if media.get("example") is not None or media.get("examples"):
        return True
    schema = media["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return bool(schema.get("examples") or schema.get("example"))


async def test_the_openapi_document_lists_the_issues_endpoints_with_security_and_examples(
    api: Api,
) -> None:
    answer = await api.client.get("/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    operations = {(m, p): op for p, ops in document["paths"].items() for m, op in ops.items()}
    assert set(operations) >= ISSUE_ENDPOINTS, ISSUE_ENDPOINTS - set(operations)
    assert document["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["HTTPBearer"]["description"],
    }
    for (method, path), operation in operations.items():
        secured = operation.get("security") == [{"HTTPBearer": []}]
        assert secured == path.startswith("/api/v1"), (method, path)
    for key in EXAMPLE_BODIES:
        media = operations[key]["requestBody"]["content"]["application/json"]
        assert _has_example(document, media), key
    polling = operations[("get", "/api/v1/enterprises/{enterprise_id}/actions")]
    assert "304" in polling["responses"] and "200" in polling["responses"]
    assert {p["name"] for p in polling["parameters"]} >= {"enterprise_id", "If-None-Match", "lang"}
    created = operations[("post", "/api/v1/tokens")]["responses"]["201"]
    schema = created["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "token" in document["components"]["schemas"][schema]["properties"]
    listed = operations[("get", "/api/v1/tokens")]["responses"]["200"]
    page = listed["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    page_properties = document["components"]["schemas"][page]["properties"]
    assert set(page_properties) == {"items", "next_cursor"}
    item = page_properties["items"]["items"]["$ref"].rsplit("/", 1)[1]
    properties = document["components"]["schemas"][item]["properties"]
    assert "token" not in properties and "token_hash" not in properties


async def test_the_openapi_document_describes_the_404_and_409_answers_the_issue_names(
    api: Api,
) -> None:
    document = (await api.client.get("/openapi.json")).json()
    entry = "/api/v1/list/revisions/{number}/enterprises/{enterprise_id}"
    expected = {
        ("get", "/api/v1/enterprises/{enterprise_id}/actions"): "404",  # another id: 404
        ("get", "/api/v1/reductions"): "404",  # unknown region
        ("delete", "/api/v1/tokens/{token_id}"): "404",  # unknown token
        ("put", entry): "409",  # draft only: 409 on a published revision
        ("delete", entry): "409",
    }
    missing = [
        (method, path, status)
        for (method, path), status in expected.items()
        if status not in document["paths"][path][method]["responses"]
    ]
    assert missing == []
    error = document["paths"]["/api/v1/tokens/{token_id}"]["delete"]["responses"]["404"]
    assert error["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
