"""The action board: answers, ETags and the ids it reports changed."""

import dataclasses
import datetime as dt

import pytest

from emission_list.catalog import default_catalog
from emission_list.levels import Level, Response
from emission_list.lifecycle import RegionAlertState, apply_manual
from emission_list.samples import kundulun_list, kundulun_region_tree
from service.services.board import ActionBoard

TZ = dt.timezone(dt.timedelta(hours=8))
AT = dt.datetime(2026, 12, 5, 9, 0, tzinfo=TZ)
REASON = {"zh-CN": "测试", "en": "test"}


def board() -> ActionBoard:
    return ActionBoard(kundulun_list(), kundulun_region_tree(), default_catalog())


def manual(region: str, level: Level, at: dt.datetime = AT) -> dict[str, RegionAlertState]:
    state, _ = apply_manual(RegionAlertState(region=region), level, Response.FULL, REASON, at)
    return {region: state}


def test_without_warning_nobody_cuts_and_etags_are_stable():
    b = board()
    some = kundulun_list().entries[0].enterprise_id
    answer = b.answer(some)
    assert answer.actions.level is Level.NONE and answer.alert is None
    assert sum(answer.actions.reductions.values()) == 0
    assert b.etag(some) == answer.etag == board().etag(some)
    assert b.answer("91150203MA0000000X") is None and b.etag("nope") is None


def test_a_city_warning_changes_every_enterprise_below_it_and_their_etags():
    b = board()
    ids = [e.enterprise_id for e in kundulun_list().entries]
    before = {i: b.etag(i) for i in ids}
    changed = b.apply_alerts(manual("150200", Level.ORANGE), AT)
    assert sorted(changed) == sorted(ids)
    assert all(b.etag(i) != before[i] for i in ids)
    answer = b.answer(ids[0])
    assert answer.actions.level is Level.ORANGE and answer.alert.region == "150200"
    # Same alerts again: nothing changes.
    assert b.apply_alerts(manual("150200", Level.ORANGE), AT) == []


def test_a_new_alert_end_changes_the_etag_without_changing_the_level():
    b = board()
    one = manual("150203", Level.YELLOW)
    b.apply_alerts(one, AT)
    some = kundulun_list().entries[0].enterprise_id
    first = b.etag(some)
    later = AT + dt.timedelta(hours=1)
    again, _ = apply_manual(one["150203"], Level.YELLOW, Response.FULL, REASON, later)
    changed = b.apply_alerts({"150203": again}, later)
    assert some in changed and b.etag(some) != first
    assert b.answer(some).actions.level is Level.YELLOW


@pytest.mark.parametrize(
    "change", [{"source": "joint"}, {"reason": {"zh-CN": "另一原因", "en": "another reason"}}]
)
def test_an_alerts_source_or_reason_changes_the_etag(change: dict) -> None:
    b = board()
    one = manual("150203", Level.YELLOW)
    b.apply_alerts(one, AT)
    some = kundulun_list().entries[0].enterprise_id
    first, shown = b.etag(some), b.answer(some)
    state = one["150203"]
    other = dataclasses.replace(state, current=dataclasses.replace(state.current, **change))
    b.apply_alerts({"150203": other}, AT)
    assert b.answer(some).alert != shown.alert and b.etag(some) != first


def test_lifting_reports_the_enterprises_and_returns_to_no_cut():
    b = board()
    states = manual("150203", Level.RED)
    b.apply_alerts(states, AT)
    lifted, _ = apply_manual(states["150203"], Level.NONE, None, REASON, AT)
    changed = b.apply_alerts({"150203": lifted}, AT + dt.timedelta(minutes=1))
    assert len(changed) == len(kundulun_list().entries)
    some = kundulun_list().entries[0].enterprise_id
    assert b.answer(some).actions.level is Level.NONE


def test_the_api_answer_carries_level_alert_measures_and_validity_in_both_languages():
    from service.api.schemas.actions import EnterpriseActionsOut

    b = board()
    b.apply_alerts(manual("150203", Level.ORANGE), AT)
    entry = next(e for e in kundulun_list().entries if e.industry == "steel")
    answer = b.answer(entry.enterprise_id)
    zh = EnterpriseActionsOut.of(answer, "zh-CN")
    en = EnterpriseActionsOut.of(answer, "en")
    assert zh.level == en.level == "orange" and zh.alert.region == "150203"
    assert zh.valid_from == AT and zh.valid_until > AT and zh.list_revision == 1
    assert en.reductions_kg_per_day["so2"] == round(answer.actions.reductions["so2"], 3) > 0
    assert [a.code for a in zh.actions] == [a.code for a in en.actions] != []
    assert zh.actions[0].text != en.actions[0].text and zh.alert.reason == "测试"


def test_reductions_of_the_district_meet_the_minimum_at_every_level():
    from service.api.schemas.reductions import RegionReductionsOut

    for level, ratio in ((Level.YELLOW, 0.1), (Level.ORANGE, 0.2), (Level.RED, 0.3)):
        b = board()
        b.apply_alerts(manual("150203", level), AT)
        out = RegionReductionsOut.of(b, "150203")
        assert out.level == level.label and out.response == "full"
        for p in ("so2", "nox", "pm", "vocs"):
            assert out.minimum[p] == pytest.approx(out.baseline[p] * ratio, abs=0.01)
            assert out.required[p] >= out.minimum[p] and out.shortfall[p] == 0
    calm = RegionReductionsOut.of(board(), "150203")
    assert calm.level == "none" and sum(calm.required.values()) == 0
