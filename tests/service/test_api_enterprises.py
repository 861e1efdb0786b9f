"""What an enterprise must do: the actions answer, ETag/304 polling, scoping, reductions."""

from __future__ import annotations

import pytest
from api_client import Api

from emission_list.catalog import default_catalog
from emission_list.i18n import pick
from emission_list.levels import LIST_POLLUTANTS, Level, Response
from emission_list.reference.evaluator import evaluate_list, region_totals
from emission_list.samples import kundulun_list, kundulun_regions


def _url(enterprise_id: str) -> str:
    return f"/api/v1/enterprises/{enterprise_id}/actions"


async def _warn(api: Api, region: str, level: str, source: str = "manual") -> None:
    body = {"region": region, "level": level, "source": source, "reason": {"en": "test"}}
    answer = await api.client.post("/api/v1/alerts", json=body, headers=api.as_("operator"))
    assert answer.status_code == 200, answer.text


def _reference(level: Level, region: str = "150203"):
    parents = {r.region_id: r.parent for r in kundulun_regions()}
    own = {region: (level, Response.FULL)}
    entries = kundulun_list().entries
    results = evaluate_list(entries, default_catalog(), parents, own)
    return results, region_totals(entries, results, parents, own)


async def test_without_a_warning_nothing_is_required(api: Api) -> None:
    answer = await api.client.get(_url(api.enterprise_id), headers=api.as_("enterprise"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["level"] == "none" and body["alert"] is None and body["list_revision"] == 1
    assert body["production_cut"] == 0 and body["actions"] == []
    assert body["reductions_kg_per_day"] == dict.fromkeys(LIST_POLLUTANTS, 0.0)


@pytest.mark.parametrize("level", [Level.YELLOW, Level.ORANGE, Level.RED])
async def test_actions_match_the_scalar_reference_at_every_level(api: Api, level: Level) -> None:
    await _warn(api, "150203", level.label)
    results, _ = _reference(level)
    for entry in kundulun_list().entries[:30]:
        answer = await api.client.get(
            f"{_url(entry.enterprise_id)}?lang=en", headers=api.as_("operator")
        )
        body, expected = answer.json(), results[entry.enterprise_id]
        assert body["level"] == level.label and body["response"] == "full"
        assert body["production_cut"] == pytest.approx(expected.production_cut, abs=1e-6)
        for pollutant, value in zip(LIST_POLLUTANTS, expected.reductions, strict=True):
            assert body["reductions_kg_per_day"][pollutant] == pytest.approx(value, abs=1e-3)
        assert [a["code"] for a in body["actions"]] == [a.code for a in expected.actions]
        assert [a["text"] for a in body["actions"]] == [
            pick(a.text, "en") for a in expected.actions
        ]
        assert body["alert"]["region"] == "150203" and body["alert"]["source"] == "manual"
        assert body["valid_from"] and body["valid_until"] > body["valid_from"]


async def test_polling_with_the_etag_answers_304_until_something_changes(api: Api) -> None:
    headers = api.as_("enterprise")
    first = await api.client.get(_url(api.enterprise_id), headers=headers)
    etag = first.headers["etag"]
    assert first.headers["vary"] == "Accept-Language"
    cached = await api.client.get(
        _url(api.enterprise_id), headers=headers | {"If-None-Match": etag}
    )
    assert cached.status_code == 304 and cached.content == b"" and cached.headers["etag"] == etag
    listed = await api.client.get(
        _url(api.enterprise_id), headers=headers | {"If-None-Match": f'"other", W/{etag}'}
    )
    assert listed.status_code == 304
    await _warn(api, "150203", "orange")
    changed = await api.client.get(
        _url(api.enterprise_id), headers=headers | {"If-None-Match": etag}
    )
    assert changed.status_code == 200 and changed.json()["level"] == "orange"
    assert changed.headers["etag"] != etag
    again = await api.client.get(
        _url(api.enterprise_id), headers=headers | {"If-None-Match": changed.headers["etag"]}
    )
    assert again.status_code == 304


async def test_the_etag_names_the_language_of_the_body(api: Api) -> None:
    await _warn(api, "150203", "orange")
    chinese = await api.client.get(_url(api.enterprise_id), headers=api.as_("enterprise"))
    english = await api.client.get(
        f"{_url(api.enterprise_id)}?lang=en", headers=api.as_("enterprise")
    )
    assert chinese.headers["etag"] != english.headers["etag"]
    assert chinese.json()["actions"][0]["text"] != english.json()["actions"][0]["text"]
    cross = await api.client.get(
        f"{_url(api.enterprise_id)}?lang=en",
        headers=api.as_("enterprise", **{"If-None-Match": chinese.headers["etag"]}),
    )
    assert cross.status_code == 200


async def test_an_enterprise_reads_only_its_own_actions(api: Api) -> None:
    other = kundulun_list().entries[1].enterprise_id
    theirs = await api.client.get(_url(other), headers=api.as_("enterprise"))
    unknown = await api.client.get(_url("91150203MA0000000X"), headers=api.as_("enterprise"))
    # Another enterprise's id answers exactly like an id that is not on the list.
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["error"]["code"] == unknown.json()["error"]["code"] == "enterprise.unknown"
    operator = await api.client.get(_url(other), headers=api.as_("operator"))
    assert operator.status_code == 200 and operator.json()["enterprise_id"] == other
    station = await api.client.get(_url(api.enterprise_id), headers=api.as_("station"))
    assert station.status_code == 403


async def test_a_city_warning_covers_the_enterprises_under_it(api: Api) -> None:
    await _warn(api, "150200", "red", source="joint")
    for entry in kundulun_list().entries[::15]:
        body = (await api.client.get(_url(entry.enterprise_id), headers=api.as_("operator"))).json()
        assert body["level"] == "red" and body["alert"]["region"] == "150200"
        assert body["alert"]["source"] == "joint"


async def test_reductions_against_baseline_and_minimum(api: Api) -> None:
    quiet = await api.client.get("/api/v1/reductions?region=150203", headers=api.as_("operator"))
    assert quiet.status_code == 200 and quiet.json()["level"] == "none"
    assert quiet.json()["required"] == dict.fromkeys(LIST_POLLUTANTS, 0.0)
    await _warn(api, "150203", "orange")
    body = (
        await api.client.get("/api/v1/reductions?region=150203", headers=api.as_("operator"))
    ).json()
    _, totals = _reference(Level.ORANGE)
    expected = totals["150203"]
    for i, pollutant in enumerate(LIST_POLLUTANTS):
        assert body["baseline"][pollutant] == pytest.approx(expected["baseline"][i], abs=1e-3)
        assert body["required"][pollutant] == pytest.approx(expected["required"][i], abs=1e-3)
        # Orange: at least 20 % of the baseline (domain.md, minimum reductions).
        assert body["minimum"][pollutant] == pytest.approx(
            0.2 * body["baseline"][pollutant], rel=1e-6
        )
        shortfall = max(0.0, body["minimum"][pollutant] - body["required"][pollutant])
        assert body["shortfall"][pollutant] == pytest.approx(shortfall, abs=1e-3)
    root = await api.client.get("/api/v1/reductions", headers=api.as_("operator"))
    assert root.json()["region"] == kundulun_regions()[0].region_id
    unknown = await api.client.get("/api/v1/reductions?region=999", headers=api.as_("operator"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "region.unknown"
