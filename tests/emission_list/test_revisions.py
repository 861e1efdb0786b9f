"""List revisions: snapshots, validation of every field, publishing, diffs, the annual date."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pytest

from emission_list.catalog import Action, default_catalog
from emission_list.credit_code import check_character, make_codes
from emission_list.entries import Enterprise, MeasureOverride
from emission_list.i18n import is_bilingual, text
from emission_list.revisions import (
    MESSAGES,
    FieldError,
    Revision,
    RevisionError,
    RevisionStatus,
    annual_in_force_from,
    annual_revision_due,
    diff,
    validate_entries,
    validate_entry,
    validate_revision,
)

CATALOG = default_catalog()
LEAVES = frozenset({"150203001", "150203002", "150203003"})
REGIONS = LEAVES | {"150000", "150200", "150203"}
C1, C2, C3, C4 = make_codes(np.random.default_rng(11), 4).tolist()
OCT_1 = datetime.date(2025, 10, 1)


def entry(code: str, **kw) -> Enterprise:
    args = {
        "enterprise_id": code,
        "name": "示例企业",
        "name_en": "Sample enterprise",
        "region": "150203001",
        "industry": "coating",
        "grade": "B",
        "baseline": (0.0, 5.0, 2.0, 80.0),
    }
    return Enterprise(**{**args, **kw})


def draft(*entries: Enterprise) -> Revision:
    return Revision(1, None, "draft", OCT_1, "operator", "annual revision 2025", entries)


def codes_of(errors: list[FieldError]) -> set[tuple[int, str, str]]:
    return {(e.index, e.field, e.code) for e in errors}


def test_messages_cover_every_code_in_both_languages():
    required = {
        "credit_code.length",
        "credit_code.charset",
        "credit_code.check",
        "duplicate_id",
        "name.empty",
        "region.unknown",
        "region.not_leaf",
        "industry.unknown",
        "grade.unknown",
        "grade.not_in_industry",
        "baseline.negative",
        "baseline.not_finite",
        "baseline.shape",
        "override.level",
        "override.fraction_range",
        "override.cut_range",
    }
    assert required <= set(MESSAGES)
    assert all(is_bilingual(m) for m in MESSAGES.values())


def test_a_good_entry_has_no_errors():
    assert validate_entry(entry(C1), CATALOG, LEAVES) == []
    assert validate_revision(draft(entry(C1), entry(C2)), CATALOG, LEAVES) == []


def test_every_bad_field_of_every_entry_is_reported():
    bad_check = C2[:17] + ("0" if C2[17] != "0" else "1")
    entries = [
        entry(C1),  # fine
        entry(
            "91150203MA0OOO0001",  # O is never used
            name=" ",
            region="150203",  # a district, not a leaf
            industry="coating",
            grade="A+",  # coating has no A+
            baseline=(1.0, -2.0, float("nan"), float("inf")),
        ),
        entry(
            bad_check,
            region="990000001",
            industry="shipbuilding",
            grade="E",
            baseline=(1.0, 2.0, 3.0),
            guaranteed_supply="sometimes",  # type: ignore[arg-type]
        ),
        entry(
            "9115020",
            overrides={
                "blue": MeasureOverride(production_cut=0.1),
                "red": MeasureOverride(production_cut=1.5, fractions=(0.1, -0.1, None, 2.0)),
                "orange": MeasureOverride(
                    fractions=(0.1, 0.2), actions=(Action("x", {"zh-CN": "停"}, ("co",)),)
                ),
            },
        ),
    ]
    errors = validate_entries(entries, CATALOG, LEAVES, regions=REGIONS)
    assert codes_of(errors) == {
        (1, "enterprise_id", "credit_code.charset"),
        (1, "name", "name.empty"),
        (1, "region", "region.not_leaf"),
        (1, "grade", "grade.not_in_industry"),
        (1, "baseline.nox", "baseline.negative"),
        (1, "baseline.pm", "baseline.not_finite"),
        (1, "baseline.vocs", "baseline.not_finite"),
        (2, "enterprise_id", "credit_code.check"),
        (2, "region", "region.unknown"),
        (2, "industry", "industry.unknown"),
        (2, "grade", "grade.unknown"),
        (2, "baseline", "baseline.shape"),
        (2, "guaranteed_supply", "guaranteed_supply.type"),
        (3, "enterprise_id", "credit_code.length"),
        (3, "overrides.blue", "override.level"),
        (3, "overrides.red.production_cut", "override.cut_range"),
        (3, "overrides.red.fractions.nox", "override.fraction_range"),
        (3, "overrides.red.fractions.vocs", "override.fraction_range"),
        (3, "overrides.orange.fractions", "override.shape"),
        (3, "overrides.orange.actions.0", "override.action_text"),
        (3, "overrides.orange.actions.0", "override.action_pollutants"),
    }
    assert len(errors) == 21
    for error in errors:
        assert error.enterprise_id == entries[error.index].enterprise_id
        assert is_bilingual(error.message)
        assert "{" not in error.message["zh-CN"] + error.message["en"]
        assert json.dumps(error.to_dict(), ensure_ascii=False)
    by_code = {e.code: e for e in errors}
    expected_check = check_character(bad_check[:17])
    assert f"{expected_check}" in by_code["credit_code.check"].message["en"]
    assert "O" in by_code["credit_code.charset"].message["zh-CN"]
    assert "A+" in by_code["grade.not_in_industry"].message["en"]
    assert "红色预警" in by_code["override.cut_range"].message["zh-CN"]


def test_region_not_leaf_needs_the_full_region_list():
    e = entry(C1, region="150203")
    assert codes_of(validate_entry(e, CATALOG, LEAVES)) == {(0, "region", "region.unknown")}
    got = validate_entry(e, CATALOG, LEAVES, 5, regions=REGIONS)
    assert codes_of(got) == {(5, "region", "region.not_leaf")}


def test_duplicates_are_reported_at_each_later_index():
    entries = [entry(C1), entry(C2), entry(C1, name="重复"), entry(C1, grade="C")]
    errors = validate_entries(entries, CATALOG, LEAVES)
    assert codes_of(errors) == {
        (2, "enterprise_id", "duplicate_id"),
        (3, "enterprise_id", "duplicate_id"),
    }
    assert "entry 1" in errors[0].message["en"] and "第 1 条" in errors[0].message["zh-CN"]


def test_a_revision_refuses_duplicate_ids():
    with pytest.raises(RevisionError) as info:
        draft(entry(C1), entry(C2), entry(C1, grade="C"))
    assert info.value.code == "duplicate_id"
    assert [(e.enterprise_id, e.code) for e in info.value.errors] == [(C1, "duplicate_id")]
    assert is_bilingual(info.value.message)


def test_revision_keeps_entries_sorted_and_looks_them_up():
    r = draft(entry(C3), entry(C1), entry(C2))
    assert r.ids == tuple(sorted((C1, C2, C3)))
    assert [e.enterprise_id for e in r.entries] == sorted((C1, C2, C3))
    assert r.entry(C2) == entry(C2) and r.entry(C4) is None
    assert len(r) == 3 and r.is_draft


def test_draft_edits_make_new_snapshots():
    r = draft(entry(C1))
    r2 = r.with_entry(entry(C2)).with_entry(entry(C1, grade="C"))
    assert r.entry(C1).grade == "B" and len(r) == 1  # the original is untouched
    assert r2.entry(C1).grade == "C" and r2.ids == tuple(sorted((C1, C2)))
    r3 = r2.without_entry(C1)
    assert r3.ids == (C2,)
    with pytest.raises(RevisionError) as info:
        r3.without_entry(C1)
    assert info.value.code == "entry.unknown"
    assert r.with_entries([entry(C3), entry(C3, grade="D")]).entry(C3).grade == "D"


def test_publishing_freezes():
    published = draft(entry(C1)).publish()
    assert published.status == "published" and not published.is_draft
    assert published.effective_from == OCT_1
    for edit in (
        lambda: published.with_entry(entry(C2)),
        lambda: published.without_entry(C1),
        lambda: published.publish(),
        lambda: published.with_entries([]),
    ):
        with pytest.raises(RevisionError) as info:
            edit()
        assert info.value.code == "revision.published"
        assert is_bilingual(info.value.message)
    assert draft().publish(datetime.date(2025, 12, 1)).effective_from == datetime.date(2025, 12, 1)
    with pytest.raises(ValueError):
        Revision(1, None, "archived", OCT_1, "a", "b")  # type: ignore[arg-type]


def test_new_draft_carries_entries_and_base():
    published = draft(entry(C1), entry(C2)).publish()
    nxt = published.new_draft(2, "another operator", "C2 regraded", datetime.date(2026, 1, 15))
    assert (nxt.number, nxt.base, nxt.status) == (2, 1, "draft")
    assert (nxt.author, nxt.note) == ("another operator", "C2 regraded")
    assert nxt.effective_from == datetime.date(2026, 1, 15)
    assert nxt.entries == published.entries
    assert nxt.with_entry(entry(C2, grade="A")).entry(C2).grade == "A"
    with pytest.raises(RevisionError) as info:
        published.new_draft(1, "x", "y", OCT_1)
    assert info.value.code == "revision.number"


def test_diff_reports_added_removed_and_changed_fields():
    old = draft(entry(C1), entry(C2), entry(C3))
    new = (
        old.publish()
        .new_draft(2, "op", "adjust", datetime.date(2026, 1, 1))
        .without_entry(C3)
        .with_entry(entry(C4))
        .with_entry(
            entry(
                C1,
                grade="C",
                baseline=(0.0, 5.0, 2.5, 80.0),
                overrides={"red": MeasureOverride(production_cut=0.7)},
            )
        )
    )
    d = diff(old, new)
    assert d.added == (C4,) and d.removed == (C3,)
    assert set(d.changed) == {C1}
    assert list(d.changed[C1]) == ["grade", "baseline", "overrides"]
    assert d.changed[C1]["grade"] == ("B", "C")
    assert d.changed[C1]["baseline"][1]["pm"] == 2.5
    assert d.changed[C1]["overrides"] == ({}, {"red": {"production_cut": 0.7}})
    assert not d.is_empty
    assert diff(old, old).is_empty
    assert diff(new, old).added == (C3,) and diff(new, old).removed == (C4,)


def test_diff_sees_a_changed_override_only():
    a = draft(entry(C1, overrides={"red": MeasureOverride(fractions={"vocs": 0.9})}))
    b = draft(entry(C1, overrides={"red": MeasureOverride(fractions={"vocs": 0.95})}))
    d = diff(a, b)
    assert list(d.changed[C1]) == ["overrides"]
    old, new = d.changed[C1]["overrides"]
    assert old["red"]["fractions"] == {"vocs": 0.9} and new["red"]["fractions"] == {"vocs": 0.95}


def test_status_enum_and_bilingual_notes():
    r = Revision(3, 2, RevisionStatus.DRAFT, OCT_1, "op", text("年度修订", "annual revision"))
    assert r.status == "draft" and r.status is RevisionStatus.DRAFT and r.is_draft
    assert Revision(3, 2, "published", OCT_1, "op", "").status is RevisionStatus.PUBLISHED
    assert r.publish().status == RevisionStatus.PUBLISHED
    assert hash(r) == hash(Revision.from_dict(json.loads(json.dumps(r.to_dict()))))
    assert Revision.from_dict(r.to_dict()).note == {"zh-CN": "年度修订", "en": "annual revision"}


def test_json_round_trip():
    r = draft(
        entry(C1),
        entry(
            C2,
            overrides={
                "orange": MeasureOverride(0.4, actions=(Action("a", text("停", "Stop"), ("pm",)),))
            },
        ),
    ).publish()
    again = Revision.from_dict(json.loads(json.dumps(r.to_dict(), ensure_ascii=False)))
    assert again == r and diff(r, again).is_empty


@pytest.mark.parametrize(
    ("today", "due", "in_force"),
    [
        (datetime.date(2025, 1, 15), datetime.date(2025, 9, 30), datetime.date(2025, 10, 1)),
        (datetime.date(2025, 9, 30), datetime.date(2025, 9, 30), datetime.date(2025, 10, 1)),
        (datetime.date(2025, 10, 1), datetime.date(2026, 9, 30), datetime.date(2026, 10, 1)),
        (datetime.date(2025, 12, 31), datetime.date(2026, 9, 30), datetime.date(2026, 10, 1)),
    ],
)
def test_annual_revision_due_by_end_of_september_in_force_from_october(today, due, in_force):
    assert annual_revision_due(today) == due
    assert annual_in_force_from(today) == in_force


def test_annual_dates_are_configurable():
    today = datetime.date(2025, 7, 1)
    assert annual_revision_due(today, due=(6, 30)) == datetime.date(2026, 6, 30)
    assert annual_in_force_from(today, due=(11, 30), in_force=(1, 1)) == datetime.date(2026, 1, 1)
