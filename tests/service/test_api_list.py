"""The list endpoints (``/api/v1/list...``): the published list and its pages, an entry, drafts
and their edits, the diff, the preview (against the scalar reference), publishing with every
error, its effect on each enterprise's actions, stale drafts, who may do what, and the audit
log of every change."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import numpy as np
import pytest
from api_client import ADMIN_TOKEN, Api

from emission_list.catalog import default_catalog
from emission_list.credit_code import make_codes
from emission_list.entries import Enterprise
from emission_list.levels import LIST_POLLUTANTS, Level, Response
from emission_list.reference.evaluator import evaluate_entry, evaluate_list, region_totals
from emission_list.samples import kundulun_list, kundulun_regions
from service.security import create_token
from service.storage.repositories import audit

ENTRIES = kundulun_list().entries
BY_ID = {e.enterprise_id: e for e in ENTRIES}
SORTED_IDS = sorted(BY_ID)
CATALOG = default_catalog()
PARENTS = {r.region_id: r.parent for r in kundulun_regions()}
#: A warning by hand over the whole district, as POST /alerts issues it (full response).
DISTRICT_ORANGE = {"150203": (Level.ORANGE, Response.FULL)}
#: A valid credit code that is not on the sample list.
NEW_ID = next(c for c in map(str, make_codes(np.random.default_rng(20261001), 8)) if c not in BY_ID)
LIST = "/api/v1/list"
REVISIONS = "/api/v1/list/revisions"


def _pick(predicate: Any) -> Enterprise:
    return next(e for e in ENTRIES if predicate(e))


def _orange(entry: Enterprise) -> tuple[float, ...]:
    """The entry's reductions [kg/day] under the district's orange warning (the reference)."""
    return evaluate_entry(entry, CATALOG, PARENTS, DISTRICT_ORANGE).reductions


def _regradable() -> tuple[Enterprise, str]:
    """An enterprise (not the fixture's) and another grade of its industry that changes what
    it must cut at orange."""
    for entry in ENTRIES[1:]:
        for grade in CATALOG.industries[entry.industry].grades:
            if grade != entry.grade:
                other = dataclasses.replace(entry, grade=grade)
                if _orange(other) != _orange(entry) and any(_orange(other)):
                    return entry, grade
    raise AssertionError("no enterprise whose grade matters at orange")


REGRADED, NEW_GRADE = _regradable()
#: An enterprise with a baseline that matters, neither the fixture's nor REGRADED.
DROPPED = _pick(lambda e: e not in (ENTRIES[0], REGRADED) and any(_orange(e)))


def _new_entry(enterprise_id: str = NEW_ID, **changes: Any) -> dict[str, Any]:
    entry = {
        "enterprise_id": enterprise_id,
        "name": "包头测试铸造有限公司",
        "name_en": "Baotou Test Casting Co., Ltd.",
        "region": "150203005",
        "industry": "casting",
        "grade": "C",
        "guaranteed_supply": False,
        "baseline": {"so2": 12.0, "nox": 30.0, "pm": 45.5, "vocs": 8.0},
        "overrides": {},
        "contact": "0472-1234567",
        "lines": [],
    }
    return entry | changes


def _entry_url(number: int, enterprise_id: str) -> str:
    return f"{REVISIONS}/{number}/enterprises/{enterprise_id}"


def _error(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code, error
    assert set(error) == {"code", "message", "messages", "details"}
    assert set(error["messages"]) == {"zh-CN", "en"}
    return error


async def _draft(api: Api, headers: Mapping[str, str] | None = None) -> int:
    answer = await api.client.post(REVISIONS, headers=dict(headers or api.as_("operator")))
    assert answer.status_code == 201, answer.text
    return answer.json()["number"]


async def _put(api: Api, number: int, entry: Mapping[str, Any], **kwargs: Any) -> Any:
    headers = kwargs.pop("headers", None) or api.as_("operator")
    url = _entry_url(number, entry["enterprise_id"])
    return await api.client.put(url, json=dict(entry), headers=headers, **kwargs)


async def _diff(api: Api, number: int) -> dict[str, Any]:
    answer = await api.client.get(f"{REVISIONS}/{number}/diff", headers=api.as_("operator"))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _operator(api: Api) -> tuple[str, dict[str, str]]:
    """A new operator token: its id (the audit log's actor) and headers."""
    async with api.runtime.session_maker() as session:
        token, secret = await create_token(session, "operator", label="list tests")
        token_id = token.id
        await session.commit()
    return token_id, {"Authorization": f"Bearer {secret}"}


async def _warn_district_orange(api: Api) -> None:
    body = {"region": "150203", "level": "orange", "reason": {"en": "test"}}
    answer = await api.client.post("/api/v1/alerts", json=body, headers=api.as_("operator"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["alert"]["level"] == "orange"


def _by_pollutant(values: Sequence[float]) -> dict[str, float]:
    return dict(zip(LIST_POLLUTANTS, values, strict=True))


def _assert_close(got: Mapping[str, float], expected: Sequence[float], what: object) -> None:
    assert set(got) == set(LIST_POLLUTANTS), what
    for pollutant, value in _by_pollutant(expected).items():
        assert got[pollutant] == pytest.approx(value, abs=2e-3), (what, pollutant)


# --- GET /list -------------------------------------------------------------------------------


async def test_the_list_pages_walk_every_enterprise_exactly_once_whatever_the_limit(
    api: Api,
) -> None:
    operator = api.as_("operator")
    for limit in (1, 7, 45, 89, 90, 1000):
        seen: list[dict[str, Any]] = []
        cursor: str | None = None
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
            answer = await api.client.get(LIST, params=params, headers=operator)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            assert set(page) == {"revision", "items", "next_cursor"}
            assert page["revision"] == 1 and 0 < len(page["items"]) <= limit
            seen += page["items"]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
            assert cursor == page["items"][-1]["enterprise_id"]
        assert pages == -(-90 // limit), limit  # no empty last page, even when 90 % limit == 0
        assert [i["enterprise_id"] for i in seen] == SORTED_IDS
    for item in seen:
        entry = BY_ID[item["enterprise_id"]]
        assert item == {
            "enterprise_id": entry.enterprise_id,
            "name": entry.name,
            "region": entry.region,
            "industry": entry.industry,
            "grade": entry.grade,
        }
    default = (await api.client.get(LIST, headers=operator)).json()
    assert len(default["items"]) == 90 and default["next_cursor"] is None  # default limit 100


async def test_the_cursor_is_an_exclusive_lower_bound_on_the_enterprise_id(api: Api) -> None:
    operator = api.as_("operator")
    middle = SORTED_IDS[40]
    after = (await api.client.get(LIST, params={"cursor": middle}, headers=operator)).json()
    assert [i["enterprise_id"] for i in after["items"]] == SORTED_IDS[41:]
    prefix = (await api.client.get(LIST, params={"cursor": "91150203"}, headers=operator)).json()
    assert [i["enterprise_id"] for i in prefix["items"]] == [
        i for i in SORTED_IDS if i > "91150203"
    ]
    past = (await api.client.get(LIST, params={"cursor": "ZZZ"}, headers=operator)).json()
    assert past == {"revision": 1, "items": [], "next_cursor": None}


async def test_list_names_are_in_english_with_lang_en_or_accept_language(api: Api) -> None:
    for request in (
        {"params": {"lang": "en"}, "headers": api.as_("operator")},
        {"headers": api.as_("operator", **{"Accept-Language": "en"})},
    ):
        page = (await api.client.get(LIST, **request)).json()
        assert len(page["items"]) == 90
        assert all(i["name"] == BY_ID[i["enterprise_id"]].name_en for i in page["items"])
        assert all(i["name"].isascii() for i in page["items"])
    chinese = (await api.client.get(LIST, headers=api.as_("operator"))).json()
    assert all(i["name"] == BY_ID[i["enterprise_id"]].name for i in chinese["items"])


async def test_only_operators_read_the_list(api: Api) -> None:
    for role in ("station", "enterprise"):
        refused = await api.client.get(LIST, headers=api.as_(role))
        error = _error(refused, 403, "auth.forbidden")
        assert role in error["messages"]["en"]
    missing = await api.client.get(LIST)
    _error(missing, 401, "auth.missing")
    assert missing.headers["www-authenticate"] == "Bearer"
    invalid = await api.client.get(LIST, headers={"Authorization": "Bearer haze_not-a-token"})
    _error(invalid, 401, "auth.invalid")
    admin = await api.client.get(LIST, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert admin.status_code == 200 and len(admin.json()["items"]) == 90


async def test_a_limit_out_of_range_is_refused_with_422(api: Api) -> None:
    for limit in ("0", "-1", "1001", "ten"):
        answer = await api.client.get(LIST, params={"limit": limit}, headers=api.as_("operator"))
        error = _error(answer, 422, "request.invalid")
        assert [d["loc"] for d in error["details"]] == [["query", "limit"]], limit
        # Who is calling comes before what is asked.
        _error(await api.client.get(LIST, params={"limit": limit}), 401, "auth.missing")
    edge = await api.client.get(LIST, params={"limit": 1000}, headers=api.as_("operator"))
    assert edge.status_code == 200 and len(edge.json()["items"]) == 90


# --- GET /list/enterprises/{id} --------------------------------------------------------------


async def test_an_operator_reads_any_entry_in_full(api: Api) -> None:
    for entry in (ENTRIES[0], REGRADED, ENTRIES[-1]):
        answer = await api.client.get(
            f"{LIST}/enterprises/{entry.enterprise_id}", headers=api.as_("operator")
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"revision": 1, "entry": entry.to_dict()}
    unknown = await api.client.get(f"{LIST}/enterprises/{NEW_ID}", headers=api.as_("operator"))
    error = _error(unknown, 404, "entry.unknown")
    assert NEW_ID in error["messages"]["en"]


async def test_an_enterprise_reads_its_own_entry_and_another_id_looks_unknown(api: Api) -> None:
    own = await api.client.get(
        f"{LIST}/enterprises/{api.enterprise_id}", headers=api.as_("enterprise")
    )
    assert own.status_code == 200 and own.json()["entry"] == BY_ID[api.enterprise_id].to_dict()
    other, unknown = ENTRIES[1].enterprise_id, NEW_ID
    theirs = await api.client.get(f"{LIST}/enterprises/{other}", headers=api.as_("enterprise"))
    absent = await api.client.get(f"{LIST}/enterprises/{unknown}", headers=api.as_("enterprise"))
    for answer, enterprise_id in ((theirs, other), (absent, unknown)):
        error = _error(answer, 404, "entry.unknown")
        # The same answer but for the id itself: nothing tells an existing one apart.
        assert error["messages"]["en"].replace(enterprise_id, "?") == "No entry ? on the list"
        assert error["details"] == []


async def test_a_station_token_may_not_read_an_entry(api: Api) -> None:
    for enterprise_id in (api.enterprise_id, NEW_ID):
        answer = await api.client.get(
            f"{LIST}/enterprises/{enterprise_id}", headers=api.as_("station")
        )
        _error(answer, 403, "auth.forbidden")
    _error(await api.client.get(f"{LIST}/enterprises/{api.enterprise_id}"), 401, "auth.missing")


# --- revisions and drafts --------------------------------------------------------------------


async def test_a_new_draft_copies_the_published_revision(api: Api) -> None:
    token_id, operator = await _operator(api)
    before = (await api.client.get(REVISIONS, headers=operator)).json()["items"]
    assert [(r["number"], r["base"], r["status"], r["entries"]) for r in before] == [
        (1, None, "published", 90)
    ]
    assert before[0]["published_at"] is not None and before[0]["author"] == "sample"
    answer = await api.client.post(REVISIONS, json={"note": "2027 revision"}, headers=operator)
    assert answer.status_code == 201, answer.text
    draft = answer.json()
    assert draft["number"] == 2 and draft["base"] == 1 and draft["status"] == "draft"
    assert draft["entries"] == 90 and draft["published_at"] is None
    assert draft["author"] == token_id and draft["note"] == "2027 revision"
    assert await _diff(api, 2) == {
        "revision": 2,
        "base": 1,
        "added": [],
        "removed": [],
        "changed": {},
    }
    after = (await api.client.get(REVISIONS, headers=operator)).json()["items"]
    assert [(r["number"], r["status"], r["entries"]) for r in after] == [
        (1, "published", 90),
        (2, "draft", 90),
    ]
    without_body = await api.client.post(REVISIONS, headers=operator)
    assert without_body.status_code == 201 and without_body.json()["number"] == 3
    assert without_body.json()["note"] == "" and without_body.json()["base"] == 1
    long_note = await api.client.post(REVISIONS, json={"note": "x" * 2001}, headers=operator)
    _error(long_note, 422, "request.invalid")
    # The published list is what it was.
    page = (await api.client.get(LIST, headers=operator)).json()
    assert page["revision"] == 1 and len(page["items"]) == 90


async def test_adding_and_replacing_entries_in_a_draft(api: Api) -> None:
    number = await _draft(api)
    added = await _put(api, number, _new_entry())
    assert added.status_code == 201, added.text
    assert added.json() == {
        "revision": number,
        "enterprise_id": NEW_ID,
        "created": True,
        "problems": [],
    }
    again = await _put(api, number, _new_entry(grade="B"))
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["problems"] == []
    regraded = REGRADED.to_dict() | {"grade": NEW_GRADE}
    replaced = await _put(api, number, regraded)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == {
        "revision": number,
        "enterprise_id": REGRADED.enterprise_id,
        "created": False,
        "problems": [],
    }
    # The body may leave the id out: the path names the enterprise.
    no_id = {k: v for k, v in DROPPED.to_dict().items() if k != "enterprise_id"}
    kept = await api.client.put(
        _entry_url(number, DROPPED.enterprise_id),
        json=no_id | {"contact": "new desk"},
        headers=api.as_("operator"),
    )
    assert kept.status_code == 200 and kept.json()["enterprise_id"] == DROPPED.enterprise_id
    diff = await _diff(api, number)
    assert diff["added"] == [NEW_ID] and diff["removed"] == []
    assert diff["changed"] == {
        REGRADED.enterprise_id: {"grade": {"old": REGRADED.grade, "new": NEW_GRADE}},
        DROPPED.enterprise_id: {"contact": {"old": DROPPED.contact, "new": "new desk"}},
    }
    revisions = (await api.client.get(REVISIONS, headers=api.as_("operator"))).json()["items"]
    assert revisions[-1]["number"] == number and revisions[-1]["entries"] == 91


#: A valid production line (a new logger: no sample line uses it).
LINE: dict[str, Any] = {
    "line_id": "P1",
    "kind": "production",
    "name": "中频感应电炉",
    "name_en": "Induction furnace",
    "rated_kw": 1800.0,
    "logger": "150203200000000000000ABC",
    "channel": "e101",
    "serves": [],
}


#: Invalid entries a draft keeps: (changes to a good entry, field reported, code).
INVALID_ENTRIES: list[tuple[dict[str, Any], str, str]] = [
    ({"industry": "alchemy"}, "industry", "industry.unknown"),
    ({"region": "150203999"}, "region", "region.unknown"),
    ({"region": "150203"}, "region", "region.not_leaf"),
    ({"grade": "leading"}, "grade", "grade.not_in_industry"),
    ({"baseline": {"so2": -1, "nox": 3, "pm": 4, "vocs": 5}}, "baseline.so2", "baseline.negative"),
    (
        {"baseline": {"so2": "NA", "nox": 3, "pm": 4, "vocs": 5}},
        "baseline.so2",
        "baseline.not_finite",
    ),
    ({"name": ""}, "name", "name.empty"),
    ({"lines": [{**LINE, "rated_kw": -5}]}, "lines.0.rated_kw", "line.rated_kw"),
    (
        {"lines": [LINE, {**LINE, "line_id": "C1", "kind": "control", "channel": "e201"}]},
        "lines.1.serves",
        "line.serves_nothing",
    ),
]


async def test_an_invalid_entry_is_kept_in_the_draft_with_its_problems_listed(api: Api) -> None:
    number = await _draft(api)
    for position, (changes, field, code) in enumerate(INVALID_ENTRIES):
        answer = await _put(api, number, _new_entry(**changes), params={"lang": "en"})
        assert answer.status_code == (201 if position == 0 else 200), answer.text
        body = answer.json()
        assert body["created"] is (position == 0) and body["enterprise_id"] == NEW_ID
        problems = [(p["enterprise_id"], p["field"], p["code"]) for p in body["problems"]]
        assert problems == [(NEW_ID, field, code)], changes
        message = body["problems"][0]["message"]
        assert message and message.isascii()  # in the caller's language
        diff = await _diff(api, number)
        assert diff["added"] == [NEW_ID] and diff["changed"] == {}
    chinese = await _put(api, number, _new_entry(industry="alchemy"))
    assert chinese.json()["problems"][0]["message"] == "未知行业 alchemy"


async def test_lines_are_stored_returned_and_diffed_and_a_taken_channel_is_refused_at_publishing(
    api: Api,
) -> None:
    number = await _draft(api)
    control = {**LINE, "line_id": "C1", "kind": "control", "channel": "e201", "serves": ["P1"]}
    lines = [LINE, control]
    stored = await _put(api, number, _new_entry(lines=lines))
    assert stored.status_code == 201 and stored.json()["problems"] == [], stored.text
    diff = await _diff(api, number)
    assert diff["added"] == [NEW_ID]
    # A change of lines is a change of the entry.
    metered = next(e for e in ENTRIES if e.lines and e.enterprise_id != api.enterprise_id)
    before = [line.to_dict() for line in metered.lines]
    after = [{**before[0], "rated_kw": before[0]["rated_kw"] + 100}, *before[1:]]
    assert (await _put(api, number, metered.to_dict() | {"lines": after})).status_code == 200
    changed = (await _diff(api, number))["changed"]
    assert changed == {metered.enterprise_id: {"lines": {"old": before, "new": after}}}
    # Another entry metered by the same logger channel: kept in the draft, refused at publishing.
    clash = REGRADED.to_dict() | {"lines": [{**LINE, "line_id": "X1"}]}
    assert (await _put(api, number, clash)).json()["problems"] == []  # fine on its own
    refused = await api.client.post(
        f"{REVISIONS}/{number}/publish", params={"lang": "en"}, headers=api.as_("operator")
    )
    error = _error(refused, 422, "revision.invalid")
    (detail,) = error["details"]
    later = max(NEW_ID, REGRADED.enterprise_id)  # entries are validated by credit code
    assert (detail["enterprise_id"], detail["field"], detail["code"]) == (
        later,
        "lines.0.channel",
        "line.channel_taken",
    )
    assert LINE["logger"] in detail["message"]["en"] and "e101" in detail["message"]["zh-CN"]
    await _put(api, number, REGRADED.to_dict())
    published = await api.client.post(f"{REVISIONS}/{number}/publish", headers=api.as_("operator"))
    assert published.status_code == 200, published.text
    entry = await api.client.get(f"{LIST}/enterprises/{NEW_ID}", headers=api.as_("operator"))
    assert entry.json()["entry"]["lines"] == lines


async def test_an_entry_under_a_bad_credit_code_is_kept_with_the_code_problem(api: Api) -> None:
    number = await _draft(api)
    good = NEW_ID
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")  # wrong check character
    answer = await _put(api, number, _new_entry(bad))
    assert answer.status_code == 201, answer.text
    assert [(p["field"], p["code"]) for p in answer.json()["problems"]] == [
        ("enterprise_id", "credit_code.check")
    ]
    assert (await _diff(api, number))["added"] == [bad]


async def test_a_body_id_differing_from_the_path_is_refused_and_nothing_stored(api: Api) -> None:
    number = await _draft(api)
    url = _entry_url(number, REGRADED.enterprise_id)
    body = _new_entry() | {"grade": "B"}
    answer = await api.client.put(url, json=body, headers=api.as_("operator"))
    error = _error(answer, 422, "entry.id_mismatch")
    assert error["details"] == [{"field": "enterprise_id"}]
    assert await _diff(api, number) == {
        "revision": number,
        "base": 1,
        "added": [],
        "removed": [],
        "changed": {},
    }


async def test_an_unreadable_body_is_refused_with_422(api: Api) -> None:
    number = await _draft(api)
    url = _entry_url(number, NEW_ID)
    operator = api.as_("operator")
    not_an_object = await api.client.put(url, json=[_new_entry()], headers=operator)
    assert [d["loc"] for d in _error(not_an_object, 422, "request.invalid")["details"]] == [
        ["body"]
    ]
    broken = await api.client.put(
        url, content=b'{"name": ', headers=operator | {"Content-Type": "application/json"}
    )
    _error(broken, 422, "request.invalid")
    no_body = await api.client.put(url, headers=operator)
    _error(no_body, 422, "request.invalid")
    bad_pollutant = _new_entry(overrides={"red": {"fractions": {"co": 0.5}}})
    unreadable = await api.client.put(url, json=bad_pollutant, headers=operator)
    error = _error(unreadable, 422, "entry.unreadable")
    assert "co" in error["messages"]["en"]
    assert (await _diff(api, number))["added"] == []


async def test_a_published_revision_cannot_change(api: Api) -> None:
    operator = api.as_("operator")
    for answer in (
        await _put(api, 1, _new_entry()),
        await _put(api, 1, REGRADED.to_dict() | {"grade": NEW_GRADE}),
        await api.client.delete(_entry_url(1, REGRADED.enterprise_id), headers=operator),
    ):
        error = _error(answer, 409, "revision.published")
        assert error["messages"]["en"].startswith("Revision 1 is published")
    entry = await api.client.get(f"{LIST}/enterprises/{REGRADED.enterprise_id}", headers=operator)
    assert entry.json()["entry"] == REGRADED.to_dict()
    assert len((await api.client.get(LIST, headers=operator)).json()["items"]) == 90


async def test_an_unknown_revision_answers_404_everywhere(api: Api) -> None:
    operator = api.as_("operator")
    answers = [
        await _put(api, 7, _new_entry()),
        await api.client.delete(_entry_url(7, REGRADED.enterprise_id), headers=operator),
        await api.client.get(f"{REVISIONS}/7/diff", headers=operator),
        await api.client.get(f"{REVISIONS}/7/preview", headers=operator),
        await api.client.post(f"{REVISIONS}/7/publish", headers=operator),
    ]
    for answer in answers:
        error = _error(answer, 404, "revision.unknown")
        assert error["messages"]["en"] == "No list revision 7"
    not_a_number = await api.client.get(f"{REVISIONS}/seven/diff", headers=operator)
    _error(not_a_number, 422, "request.invalid")


async def test_deleting_an_entry_and_deleting_an_absent_one(api: Api) -> None:
    number = await _draft(api)
    url = _entry_url(number, DROPPED.enterprise_id)
    deleted = await api.client.delete(url, headers=api.as_("operator"))
    assert deleted.status_code == 204 and deleted.content == b""
    assert (await _diff(api, number))["removed"] == [DROPPED.enterprise_id]
    again = await api.client.delete(url, headers=api.as_("operator"))
    error = _error(again, 404, "entry.unknown")
    assert DROPPED.enterprise_id in error["messages"]["en"]
    never = await api.client.delete(_entry_url(number, NEW_ID), headers=api.as_("operator"))
    _error(never, 404, "entry.unknown")
    revisions = (await api.client.get(REVISIONS, headers=api.as_("operator"))).json()["items"]
    assert revisions[-1]["entries"] == 89


# --- diff ------------------------------------------------------------------------------------


async def test_the_diff_follows_edits_and_undoing_them_empties_it(api: Api) -> None:
    number = await _draft(api)
    await _put(api, number, _new_entry())
    doubled = {p: 2 * v for p, v in _by_pollutant(REGRADED.baseline).items()}
    changed = REGRADED.to_dict() | {"grade": NEW_GRADE, "baseline": doubled}
    assert (await _put(api, number, changed)).status_code == 200
    delete = await api.client.delete(
        _entry_url(number, DROPPED.enterprise_id), headers=api.as_("operator")
    )
    assert delete.status_code == 204
    diff = await _diff(api, number)
    assert diff["revision"] == number and diff["base"] == 1
    assert diff["added"] == [NEW_ID] and diff["removed"] == [DROPPED.enterprise_id]
    assert diff["changed"] == {
        REGRADED.enterprise_id: {
            "grade": {"old": REGRADED.grade, "new": NEW_GRADE},
            "baseline": {"old": _by_pollutant(REGRADED.baseline), "new": doubled},
        }
    }
    # Undo each edit: the draft is the published revision again.
    await _put(api, number, REGRADED.to_dict())
    await _put(api, number, DROPPED.to_dict())
    await api.client.delete(_entry_url(number, NEW_ID), headers=api.as_("operator"))
    assert await _diff(api, number) == {
        "revision": number,
        "base": 1,
        "added": [],
        "removed": [],
        "changed": {},
    }


async def test_the_first_revision_adds_every_enterprise(api: Api) -> None:
    diff = await _diff(api, 1)
    assert diff == {"revision": 1, "base": None, "added": SORTED_IDS, "removed": [], "changed": {}}


# --- preview ---------------------------------------------------------------------------------


def _assert_preview(
    body: Mapping[str, Any],
    entries: Sequence[Enterprise],
    region: str,
    level: Level,
) -> None:
    own = {region: (level, Response.FULL)}
    results = evaluate_list(entries, CATALOG, PARENTS, own)
    totals = region_totals(entries, results, PARENTS, own)[region]
    under = sorted(
        e.enterprise_id for e in entries if e.region == region or _ancestor(region, e.region)
    )
    assert body["region"] == region and body["level"] == level.label
    assert body["enterprises"] == len(under)
    for part in ("baseline", "required", "minimum", "shortfall"):
        _assert_close(body[part], totals[part], part)
    assert [i["enterprise_id"] for i in body["items"]] == under
    for item in body["items"]:
        expected = results[item["enterprise_id"]]
        assert item["production_cut"] == pytest.approx(expected.production_cut, abs=1e-6)
        _assert_close(item["reductions_kg_per_day"], expected.reductions, item["enterprise_id"])


def _ancestor(region: str, leaf: str) -> bool:
    node = PARENTS[leaf]
    while node is not None:
        if node == region:
            return True
        node = PARENTS[node]
    return False


async def test_the_preview_of_an_unchanged_draft_matches_the_reference(api: Api) -> None:
    number = await _draft(api)
    operator = api.as_("operator")
    url = f"{REVISIONS}/{number}/preview"
    district = await api.client.get(
        url, params={"level": "orange", "region": "150203"}, headers=operator
    )
    assert district.status_code == 200, district.text
    assert district.json()["revision"] == number
    _assert_preview(district.json(), ENTRIES, "150203", Level.ORANGE)
    assert district.json()["required"]["so2"] > 0
    leaf = await api.client.get(
        url, params={"level": "red", "region": "150203013"}, headers=operator
    )
    _assert_preview(leaf.json(), ENTRIES, "150203013", Level.RED)
    assert leaf.json()["enterprises"] == 15
    root = (await api.client.get(url, headers=operator)).json()  # defaults: orange, the root
    assert root["region"] == "150000" and root["level"] == "orange"
    _assert_preview(root, ENTRIES, "150000", Level.ORANGE)
    few = await api.client.get(url, params={"region": "150203", "limit": 5}, headers=operator)
    assert few.json()["enterprises"] == 90 and len(few.json()["items"]) == 5
    assert few.json()["required"] == district.json()["required"]
    # A preview changes nothing in force: nobody has a level.
    actions = await api.client.get(
        f"/api/v1/enterprises/{api.enterprise_id}/actions", headers=operator
    )
    assert actions.json()["level"] == "none" and actions.json()["list_revision"] == 1


async def test_the_preview_reflects_the_drafts_edits(api: Api) -> None:
    number = await _draft(api)
    operator = api.as_("operator")
    url = f"{REVISIONS}/{number}/preview"
    query = {"level": "orange", "region": "150203"}
    before = (await api.client.get(url, params=query, headers=operator)).json()
    biggest = max(ENTRIES, key=lambda e: e.baseline[0])
    removed = await api.client.delete(_entry_url(number, biggest.enterprise_id), headers=operator)
    assert removed.status_code == 204
    await _put(api, number, _new_entry())
    doubled = {p: 2 * v for p, v in _by_pollutant(REGRADED.baseline).items()}
    await _put(api, number, REGRADED.to_dict() | {"baseline": doubled})
    after = (await api.client.get(url, params=query, headers=operator)).json()
    entries = [
        dataclasses.replace(e, baseline=tuple(doubled.values())) if e is REGRADED else e
        for e in ENTRIES
        if e is not biggest
    ] + [Enterprise.from_dict(_new_entry())]
    _assert_preview(after, entries, "150203", Level.ORANGE)
    assert after["enterprises"] == 90  # one out, one in
    assert after["baseline"]["so2"] < before["baseline"]["so2"]
    assert after["required"]["so2"] < before["required"]["so2"]
    assert biggest.enterprise_id not in {i["enterprise_id"] for i in after["items"]}
    # The published revision's preview is unchanged.
    published = await api.client.get(f"{REVISIONS}/1/preview", params=query, headers=operator)
    assert published.json()["required"] == before["required"]


async def test_a_preview_with_a_bad_level_or_an_unknown_region_is_refused(api: Api) -> None:
    number = await _draft(api)
    url = f"{REVISIONS}/{number}/preview"
    operator = api.as_("operator")
    for level in ("purple", "none", "ORANGE", ""):
        answer = await api.client.get(
            url, params={"level": level, "region": "150203"}, headers=operator
        )
        error = _error(answer, 422, "request.invalid")
        assert [d["loc"] for d in error["details"]] == [["query", "level"]]
    unknown = await api.client.get(
        url, params={"level": "orange", "region": "159999"}, headers=operator
    )
    error = _error(unknown, 404, "region.unknown")
    assert "159999" in error["messages"]["en"]
    bad_limit = await api.client.get(url, params={"limit": -1}, headers=operator)
    _error(bad_limit, 422, "request.invalid")


# --- publishing ------------------------------------------------------------------------------


async def test_publishing_an_invalid_draft_reports_every_error_and_publishes_nothing(
    api: Api,
) -> None:
    token_id, operator = await _operator(api)
    number = await _draft(api, operator)
    first = await _put(api, number, _new_entry(industry="alchemy"), headers=operator)
    assert first.status_code == 201
    second = REGRADED.to_dict() | {"region": "150203999", "baseline": {"so2": -3.0}}
    assert (await _put(api, number, second, headers=operator)).status_code == 200
    refused = await api.client.post(
        f"{REVISIONS}/{number}/publish", params={"lang": "en"}, headers=operator
    )
    error = _error(refused, 422, "revision.invalid")
    assert error["message"] == f"Revision {number} has 3 errors and was not published"
    reported = sorted((d["enterprise_id"], d["field"], d["code"]) for d in error["details"])
    assert reported == sorted(
        [
            (NEW_ID, "industry", "industry.unknown"),
            (REGRADED.enterprise_id, "region", "region.unknown"),
            (REGRADED.enterprise_id, "baseline.so2", "baseline.negative"),
        ]
    )
    for detail in error["details"]:
        assert set(detail) == {"index", "enterprise_id", "field", "code", "message"}
        assert set(detail["message"]) == {"zh-CN", "en"}
    revisions = (await api.client.get(REVISIONS, headers=operator)).json()["items"]
    assert [(r["number"], r["status"]) for r in revisions] == [(1, "published"), (number, "draft")]
    assert (await api.client.get(LIST, headers=operator)).json()["revision"] == 1
    async with api.runtime.session_maker() as session:
        published = await audit.recent(session, action="list.publish")
    assert published == []  # a refused publication leaves no trace
    # Fixing both entries lets it through.
    await _put(api, number, _new_entry(), headers=operator)
    await _put(api, number, REGRADED.to_dict(), headers=operator)
    ok = await api.client.post(f"{REVISIONS}/{number}/publish", headers=operator)
    assert ok.status_code == 200 and ok.json()["status"] == "published"
    assert ok.json()["author"] == token_id


async def test_a_valid_draft_publishes_and_becomes_the_list(api: Api) -> None:
    operator = api.as_("operator")
    number = await _draft(api)
    await _put(api, number, _new_entry())
    await api.client.delete(_entry_url(number, DROPPED.enterprise_id), headers=operator)
    answer = await api.client.post(
        f"{REVISIONS}/{number}/publish", json={"effective_from": "2026-12-01"}, headers=operator
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["number"] == number and body["base"] == 1 and body["status"] == "published"
    assert body["entries"] == 90 and body["published_at"] is not None
    assert body["effective_from"] == "2026-12-01"
    page = (await api.client.get(LIST, params={"limit": 1000}, headers=operator)).json()
    assert page["revision"] == number
    assert [i["enterprise_id"] for i in page["items"]] == sorted(
        (set(SORTED_IDS) - {DROPPED.enterprise_id}) | {NEW_ID}
    )
    entry = await api.client.get(f"{LIST}/enterprises/{NEW_ID}", headers=operator)
    assert entry.json() == {"revision": number, "entry": _new_entry()}
    gone = await api.client.get(f"{LIST}/enterprises/{DROPPED.enterprise_id}", headers=operator)
    _error(gone, 404, "entry.unknown")
    # Published means frozen, and the next draft starts from it.
    _error(await _put(api, number, _new_entry(grade="B")), 409, "revision.published")
    again = await api.client.post(f"{REVISIONS}/{number}/publish", headers=operator)
    _error(again, 409, "revision.published")
    following = await api.client.post(REVISIONS, headers=operator)
    assert following.json()["base"] == number and following.json()["entries"] == 90


async def test_publishing_changes_each_enterprises_actions_at_once(api: Api) -> None:
    await _warn_district_orange(api)
    operator = api.as_("operator")
    doubled_id = api.enterprise_id  # the fixture's enterprise: its own token reads the change
    unchanged = _pick(lambda e: e not in (ENTRIES[0], REGRADED, DROPPED) and any(_orange(e)))
    watched = (doubled_id, REGRADED.enterprise_id, DROPPED.enterprise_id, unchanged.enterprise_id)
    before = {}
    for enterprise_id in watched:
        answer = await api.client.get(
            f"/api/v1/enterprises/{enterprise_id}/actions", headers=operator
        )
        assert answer.status_code == 200 and answer.json()["level"] == "orange"
        assert answer.json()["list_revision"] == 1
        before[enterprise_id] = answer
    dropped_token = await api.token("enterprise", enterprise_id=DROPPED.enterprise_id)

    number = await _draft(api)
    own = BY_ID[doubled_id]
    doubled = {p: 2 * v for p, v in _by_pollutant(own.baseline).items()}
    await _put(api, number, own.to_dict() | {"baseline": doubled})
    await _put(api, number, REGRADED.to_dict() | {"grade": NEW_GRADE})
    await api.client.delete(_entry_url(number, DROPPED.enterprise_id), headers=operator)
    await _put(api, number, _new_entry())
    # Nothing moves until the draft is published.
    still = await api.client.get(
        f"/api/v1/enterprises/{doubled_id}/actions",
        headers=operator | {"If-None-Match": before[doubled_id].headers["etag"]},
    )
    assert still.status_code == 304
    published = await api.client.post(f"{REVISIONS}/{number}/publish", headers=operator)
    assert published.status_code == 200 and published.json()["status"] == "published"

    expected = {
        doubled_id: _orange(dataclasses.replace(own, baseline=tuple(doubled.values()))),
        REGRADED.enterprise_id: _orange(dataclasses.replace(REGRADED, grade=NEW_GRADE)),
        unchanged.enterprise_id: _orange(unchanged),
        NEW_ID: _orange(Enterprise.from_dict(_new_entry())),
    }
    after = {}
    for enterprise_id, reductions in expected.items():
        etag = before[enterprise_id].headers["etag"] if enterprise_id in before else '"none"'
        answer = await api.client.get(
            f"/api/v1/enterprises/{enterprise_id}/actions",
            headers=operator | {"If-None-Match": etag},
        )
        assert answer.status_code == 200, (enterprise_id, answer.text)  # the old ETag is stale
        assert answer.headers["etag"] != etag
        body = answer.json()
        assert body["list_revision"] == number and body["level"] == "orange"
        _assert_close(body["reductions_kg_per_day"], reductions, enterprise_id)
        after[enterprise_id] = body["reductions_kg_per_day"]
    reductions_before = {i: a.json()["reductions_kg_per_day"] for i, a in before.items()}
    assert after[REGRADED.enterprise_id] != reductions_before[REGRADED.enterprise_id]
    assert after[unchanged.enterprise_id] == reductions_before[unchanged.enterprise_id]
    for pollutant, value in reductions_before[doubled_id].items():
        assert after[doubled_id][pollutant] == pytest.approx(2 * value, abs=2e-3)
    assert any(reductions_before[doubled_id].values())
    own_view = await api.client.get(
        f"/api/v1/enterprises/{doubled_id}/actions", headers=api.as_("enterprise")
    )
    assert own_view.json()["list_revision"] == number
    assert own_view.json()["reductions_kg_per_day"] == after[doubled_id]
    # The removed enterprise is off the list: 404 for an operator and for its own token.
    for headers in (operator, {"Authorization": f"Bearer {dropped_token}"}):
        gone = await api.client.get(
            f"/api/v1/enterprises/{DROPPED.enterprise_id}/actions", headers=headers
        )
        _error(gone, 404, "enterprise.unknown")


async def test_a_stale_draft_cannot_be_published(api: Api) -> None:
    operator = api.as_("operator")
    first, second = await _draft(api), await _draft(api)
    await _put(api, first, REGRADED.to_dict() | {"grade": NEW_GRADE})
    await api.client.delete(_entry_url(second, DROPPED.enterprise_id), headers=operator)
    ok = await api.client.post(f"{REVISIONS}/{first}/publish", headers=operator)
    assert ok.status_code == 200 and ok.json()["status"] == "published"
    stale = await api.client.post(
        f"{REVISIONS}/{second}/publish", params={"lang": "en"}, headers=operator
    )
    error = _error(stale, 409, "revision.stale")
    assert f"based on revision 1, but revision {first} is now published" in error["message"]
    revisions = (await api.client.get(REVISIONS, headers=operator)).json()["items"]
    assert [(r["number"], r["status"]) for r in revisions] == [
        (1, "published"),
        (first, "published"),
        (second, "draft"),
    ]
    # The first draft's change stands, and the removal in the stale draft did not happen.
    page = (await api.client.get(LIST, params={"limit": 1000}, headers=operator)).json()
    assert page["revision"] == first and len(page["items"]) == 90
    grades = {i["enterprise_id"]: i["grade"] for i in page["items"]}
    assert grades[REGRADED.enterprise_id] == NEW_GRADE and DROPPED.enterprise_id in grades


async def test_only_operators_use_revisions_drafts_and_publishing(api: Api) -> None:
    number = await _draft(api)
    entry_url = _entry_url(number, NEW_ID)
    calls = [
        ("GET", REVISIONS, None),
        ("POST", REVISIONS, None),
        ("PUT", entry_url, _new_entry()),
        ("DELETE", _entry_url(number, DROPPED.enterprise_id), None),
        ("GET", f"{REVISIONS}/{number}/diff", None),
        ("GET", f"{REVISIONS}/{number}/preview", None),
        ("POST", f"{REVISIONS}/{number}/publish", None),
    ]
    for method, url, body in calls:
        for role in ("station", "enterprise"):
            answer = await api.client.request(method, url, json=body, headers=api.as_(role))
            _error(answer, 403, "auth.forbidden")
        _error(await api.client.request(method, url, json=body), 401, "auth.missing")
    # Nothing happened: one draft, unchanged, unpublished.
    revisions = (await api.client.get(REVISIONS, headers=api.as_("operator"))).json()["items"]
    assert [(r["number"], r["status"], r["entries"]) for r in revisions] == [
        (1, "published", 90),
        (number, "draft", 90),
    ]
    assert (await _diff(api, number))["added"] == []
    assert (await api.client.get(LIST, headers=api.as_("operator"))).json()["revision"] == 1


# --- audit -----------------------------------------------------------------------------------


async def test_drafts_edits_and_publishing_are_audited_with_the_operator_as_actor(
    api: Api,
) -> None:
    token_id, operator = await _operator(api)
    number = await _draft(api, operator)
    await _put(api, number, _new_entry(), headers=operator)
    await _put(api, number, REGRADED.to_dict() | {"grade": NEW_GRADE}, headers=operator)
    await api.client.delete(_entry_url(number, DROPPED.enterprise_id), headers=operator)
    refused = await api.client.delete(_entry_url(1, DROPPED.enterprise_id), headers=operator)
    assert refused.status_code == 409
    published = await api.client.post(f"{REVISIONS}/{number}/publish", headers=operator)
    assert published.status_code == 200
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    admin_draft = await _draft(api, admin)
    async with api.runtime.session_maker() as session:
        mine = await audit.recent(session, actor=token_id)
        admins = await audit.recent(session, actor="admin", action="list.draft")
    assert [(e.action, e.target) for e in reversed(mine)] == [
        ("list.draft", f"list/{number}"),
        ("list.entry.add", f"list/{number}/{NEW_ID}"),
        ("list.entry.change", f"list/{number}/{REGRADED.enterprise_id}"),
        ("list.entry.remove", f"list/{number}/{DROPPED.enterprise_id}"),
        ("list.publish", f"list/{number}"),
    ]  # the refused delete on revision 1 left nothing
    assert mine[0].details == {"entries": 90}
    assert [e.target for e in admins] == [f"list/{admin_draft}"]


# --- malformed and invalid entries must never crash the service ------------------------------


def _tolerant_client(api: Api) -> httpx.AsyncClient:
    """A client to the same app that answers a server error as a 500 instead of raising it."""
    transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://haze")


#: Bodies whose values have the wrong shape or type, deeper than the top-level fields.
MALFORMED = [
    {"overrides": {"red": 5}},
    {"overrides": {"red": None}},
    {"overrides": {"red": {"actions": [{"code": "own.stop"}]}}},
    {"baseline": {"so2": {"value": 1}, "nox": 1, "pm": 1, "vocs": 1}},
    {"name": {"zh-CN": "包头测试"}},
    {"lines": "P1"},
    {"lines": [5]},
    {"lines": {"P1": LINE}},
    {"lines": [{**LINE, "name": ["a"]}]},
    {"lines": [{**LINE, "serves": {"P1": 1}}]},
    {"lines": [{**LINE, "rated_kw": {"kw": 1}}]},
    {"lines": [{**LINE, "rated_kw": None, "logger": None}]},
]


async def test_a_malformed_entry_is_refused_or_reported_never_a_server_error(api: Api) -> None:
    number = await _draft(api)
    async with _tolerant_client(api) as client:
        for changes in MALFORMED:
            answer = await client.put(
                _entry_url(number, NEW_ID),
                json=_new_entry(**changes),
                headers=api.as_("operator"),
            )
            assert answer.status_code in (200, 201, 422), (changes, answer.text)
            if answer.status_code == 422:
                assert answer.json()["error"]["code"] == "entry.unreadable", changes
            else:  # kept, but publishing would refuse it: it must say so
                assert answer.json()["problems"] != [], (changes, answer.text)


#: Entries a draft keeps (their problems listed) that cannot be evaluated as they are.
UNEVALUABLE = [
    ({"industry": "alchemy"}, "industry"),
    ({"grade": "Z"}, "grade"),
    ({"region": "150203999"}, "region"),
    ({"guaranteed_supply": [1]}, "guaranteed_supply"),
    ({"overrides": {"red": {"production_cut": [1]}}}, "overrides.red.production_cut"),
]


async def test_previewing_a_draft_with_an_invalid_entry_answers_its_errors_not_a_crash(
    api: Api,
) -> None:
    async with _tolerant_client(api) as client:
        for changes, field in UNEVALUABLE:
            number = await _draft(api)
            stored = await _put(api, number, _new_entry(**changes))
            assert stored.status_code == 201 and stored.json()["problems"] != []
            answer = await client.get(
                f"{REVISIONS}/{number}/preview",
                params={"level": "red", "region": "150203"},
                headers=api.as_("operator"),
            )
            error = _error(answer, 422, "revision.invalid")
            assert (NEW_ID, field) in {(d["enterprise_id"], d["field"]) for d in error["details"]}
