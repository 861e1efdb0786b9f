"""The list over the API: reading it, drafts, entry edits, diff, preview, publishing."""

from __future__ import annotations

import numpy as np
from api_client import Api

from emission_list.credit_code import make_codes
from emission_list.samples import kundulun_list
from service.repositories import audit

ENTRIES = kundulun_list().entries
NEW_ID = str(make_codes(np.random.default_rng(4242), 1)[0])


def _entry(**changes: object) -> dict:
    return ENTRIES[5].to_dict() | {"enterprise_id": NEW_ID, "name": "包头新厂"} | changes


async def _draft(api: Api) -> int:
    answer = await api.client.post("/api/v1/list/revisions", headers=api.as_("operator"))
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "draft" and body["base"] == 1 and body["entries"] == len(ENTRIES)
    return body["number"]


def _entry_url(number: int, enterprise_id: str) -> str:
    return f"/api/v1/list/revisions/{number}/enterprises/{enterprise_id}"


async def test_the_published_list_pages_through_every_enterprise_once(api: Api) -> None:
    seen, cursor = [], None
    while True:
        query = "limit=25" + (f"&cursor={cursor}" if cursor else "")
        page = (await api.client.get(f"/api/v1/list?{query}", headers=api.as_("operator"))).json()
        assert page["revision"] == 1 and len(page["items"]) <= 25
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i["enterprise_id"] for i in seen] == sorted(e.enterprise_id for e in ENTRIES)
    first = next(e for e in ENTRIES if e.enterprise_id == seen[0]["enterprise_id"])
    assert seen[0] == {
        "enterprise_id": first.enterprise_id,
        "name": first.name,
        "region": first.region,
        "industry": first.industry,
        "grade": first.grade,
    }
    english = await api.client.get("/api/v1/list?limit=1&lang=en", headers=api.as_("operator"))
    assert english.json()["items"][0]["name"] == first.name_en
    bad = await api.client.get("/api/v1/list?limit=0", headers=api.as_("operator"))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "request.invalid"


async def test_an_enterprise_reads_its_own_entry_and_nothing_else(api: Api) -> None:
    own = await api.client.get(
        f"/api/v1/list/enterprises/{api.enterprise_id}", headers=api.as_("enterprise")
    )
    assert own.status_code == 200 and own.json()["entry"] == ENTRIES[0].to_dict()
    other = ENTRIES[1].enterprise_id
    theirs = await api.client.get(
        f"/api/v1/list/enterprises/{other}", headers=api.as_("enterprise")
    )
    unknown = await api.client.get(
        f"/api/v1/list/enterprises/{NEW_ID}", headers=api.as_("operator")
    )
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["error"]["code"] == unknown.json()["error"]["code"] == "entry.unknown"


async def test_draft_edits_diff_and_refusals(api: Api) -> None:
    number = await _draft(api)
    operator = api.as_("operator")
    added = await api.client.put(_entry_url(number, NEW_ID), json=_entry(), headers=operator)
    assert added.status_code == 201 and added.json()["created"] and added.json()["problems"] == []
    changed_id = ENTRIES[2].enterprise_id
    regraded = ENTRIES[2].to_dict() | {"grade": "A" if ENTRIES[2].grade != "A" else "B"}
    replaced = await api.client.put(_entry_url(number, changed_id), json=regraded, headers=operator)
    assert replaced.status_code == 200 and not replaced.json()["created"]
    removed_id = ENTRIES[3].enterprise_id
    removed = await api.client.delete(_entry_url(number, removed_id), headers=operator)
    assert removed.status_code == 204
    diff = (await api.client.get(f"/api/v1/list/revisions/{number}/diff", headers=operator)).json()
    assert diff["added"] == [NEW_ID] and diff["removed"] == [removed_id]
    assert diff["changed"][changed_id]["grade"] == {
        "old": ENTRIES[2].grade,
        "new": regraded["grade"],
    }
    # Absent entry, mismatched id, bad values (kept, listed), not an object, unknown or
    # published revision.
    absent = await api.client.delete(_entry_url(number, removed_id), headers=operator)
    assert absent.status_code == 404 and absent.json()["error"]["code"] == "entry.unknown"
    mismatch = await api.client.put(_entry_url(number, changed_id), json=_entry(), headers=operator)
    assert mismatch.status_code == 422 and mismatch.json()["error"]["code"] == "entry.id_mismatch"
    not_a_number = await api.client.put(
        _entry_url(number, NEW_ID), json=_entry(baseline="lots"), headers=operator
    )
    assert not_a_number.status_code == 200
    assert {p["field"].split(".")[0] for p in not_a_number.json()["problems"]} == {"baseline"}
    not_an_object = await api.client.put(_entry_url(number, NEW_ID), json=[1], headers=operator)
    assert not_an_object.status_code == 422
    unknown = await api.client.put(_entry_url(99, NEW_ID), json=_entry(), headers=operator)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "revision.unknown"
    published = await api.client.put(_entry_url(1, NEW_ID), json=_entry(), headers=operator)
    assert (
        published.status_code == 409 and published.json()["error"]["code"] == "revision.published"
    )
    gone = await api.client.delete(_entry_url(1, api.enterprise_id), headers=operator)
    assert gone.status_code == 409
    revisions = (await api.client.get("/api/v1/list/revisions", headers=operator)).json()
    assert [(r["number"], r["status"]) for r in revisions] == [(1, "published"), (number, "draft")]


async def test_an_invalid_entry_is_kept_in_the_draft_and_publishing_lists_every_error(
    api: Api,
) -> None:
    number = await _draft(api)
    operator = api.as_("operator")
    bad_industry = await api.client.put(
        _entry_url(number, NEW_ID), json=_entry(industry="alchemy"), headers=operator
    )
    assert bad_industry.status_code == 201
    assert [p["field"] for p in bad_industry.json()["problems"]] == ["industry"]
    second = ENTRIES[4].to_dict() | {"region": "150203999"}
    await api.client.put(
        _entry_url(number, ENTRIES[4].enterprise_id), json=second, headers=operator
    )
    refused = await api.client.post(f"/api/v1/list/revisions/{number}/publish", headers=operator)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "revision.invalid"
    reported = {(d["enterprise_id"], d["field"]) for d in error["details"]}
    assert reported == {(NEW_ID, "industry"), (ENTRIES[4].enterprise_id, "region")}
    still = (await api.client.get("/api/v1/list/revisions", headers=operator)).json()
    assert still[-1]["status"] == "draft"


async def test_preview_shows_what_the_draft_would_require(api: Api) -> None:
    number = await _draft(api)
    operator = api.as_("operator")
    url = f"/api/v1/list/revisions/{number}/preview?level=orange&region=150203"
    before = (await api.client.get(url, headers=operator)).json()
    assert before["enterprises"] == len(ENTRIES) and before["level"] == "orange"
    assert before["required"]["so2"] > 0
    biggest = max(ENTRIES, key=lambda e: e.baseline[0])
    await api.client.delete(_entry_url(number, biggest.enterprise_id), headers=operator)
    after = (await api.client.get(url, headers=operator)).json()
    assert after["enterprises"] == len(ENTRIES) - 1
    assert after["baseline"]["so2"] == round(before["baseline"]["so2"] - biggest.baseline[0], 3)
    assert after["required"]["so2"] < before["required"]["so2"]
    assert biggest.enterprise_id not in {i["enterprise_id"] for i in after["items"]}
    # The published list and the board are untouched by a preview.
    actions = await api.client.get(
        f"/api/v1/enterprises/{biggest.enterprise_id}/actions", headers=operator
    )
    assert actions.json()["level"] == "none"
    bad_level = await api.client.get(url.replace("orange", "purple"), headers=operator)
    assert bad_level.status_code == 422
    bad_region = await api.client.get(url.replace("150203", "999999"), headers=operator)
    assert bad_region.status_code == 404 and bad_region.json()["error"]["code"] == "region.unknown"


async def test_publishing_changes_the_actions_at_once(api: Api) -> None:
    operator = api.as_("operator")
    warn = {"region": "150203", "level": "orange", "reason": {"en": "test"}}
    assert (await api.client.post("/api/v1/alerts", json=warn, headers=operator)).status_code == 200
    target, dropped = ENTRIES[0], ENTRIES[1]
    before = await api.client.get(
        f"/api/v1/enterprises/{target.enterprise_id}/actions", headers=operator
    )
    number = await _draft(api)
    doubled = target.to_dict() | {
        "baseline": {
            p: 2 * v for p, v in zip(("so2", "nox", "pm", "vocs"), target.baseline, strict=True)
        }
    }
    await api.client.put(_entry_url(number, target.enterprise_id), json=doubled, headers=operator)
    await api.client.delete(_entry_url(number, dropped.enterprise_id), headers=operator)
    published = await api.client.post(
        f"/api/v1/list/revisions/{number}/publish",
        json={"effective_from": "2026-10-01"},
        headers=operator,
    )
    assert published.status_code == 200
    assert (
        published.json()["status"] == "published"
        and published.json()["effective_from"] == "2026-10-01"
    )
    after = await api.client.get(
        f"/api/v1/enterprises/{target.enterprise_id}/actions",
        headers=operator | {"If-None-Match": before.headers["etag"]},
    )
    assert after.status_code == 200 and after.json()["list_revision"] == number
    assert after.headers["etag"] != before.headers["etag"]
    for pollutant, value in before.json()["reductions_kg_per_day"].items():
        assert after.json()["reductions_kg_per_day"][pollutant] == round(2 * value, 3)
    gone = await api.client.get(
        f"/api/v1/enterprises/{dropped.enterprise_id}/actions", headers=operator
    )
    assert gone.status_code == 404
    listing = (await api.client.get("/api/v1/list?limit=1000", headers=operator)).json()
    assert listing["revision"] == number and len(listing["items"]) == len(ENTRIES) - 1
    async with api.runtime.session_maker() as session:
        entries = await audit.recent(session, target=f"list/{number}")
        actions = {e.action for e in await audit.recent(session, limit=1000)}
    tokens = (await api.client.get("/api/v1/tokens", headers=operator)).json()
    operator_id = next(t["id"] for t in tokens if t["label"] == "first operator")
    assert {e.actor for e in entries} == {operator_id}
    assert {"list.draft", "list.entry.change", "list.entry.remove", "list.publish"} <= actions


async def test_a_stale_draft_cannot_undo_a_newer_publication(api: Api) -> None:
    operator = api.as_("operator")
    first, second = await _draft(api), await _draft(api)
    ok = await api.client.post(f"/api/v1/list/revisions/{first}/publish", headers=operator)
    assert ok.status_code == 200
    stale = await api.client.post(f"/api/v1/list/revisions/{second}/publish", headers=operator)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "revision.stale"
