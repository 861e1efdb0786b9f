"""An entry's metered lines: reading, JSON round trip, every bad field reported, channel clashes
across the list, and a change of lines in the revision diff."""

from __future__ import annotations

import dataclasses
import datetime
import math

import pytest

from emission_list.catalog import default_catalog
from emission_list.entries import Enterprise
from emission_list.i18n import LANGUAGES
from emission_list.lines import LINE_MESSAGES, Line, read_lines
from emission_list.revisions import Revision, diff, validate_revision
from emission_list.samples import kundulun_list, kundulun_region_tree
from emission_list.validation import validate_entries

TREE = kundulun_region_tree()
CATALOG = default_catalog()
MN = "010000A8900016F000169DC0"


def _lines() -> list[dict]:
    return [
        {
            "line_id": "P1",
            "kind": "production",
            "name": "1号窑",
            "name_en": "Kiln No. 1",
            "rated_kw": 640,
            "logger": MN,
            "channel": "e101",
        },
        {
            "line_id": "C1",
            "kind": "control",
            "name": "1号窑除尘",
            "name_en": "Dust removal of kiln No. 1",
            "rated_kw": "185.5",
            "logger": MN,
            "channel": "e201",
            "serves": ["P1"],
        },
    ]


def _entry(lines: object, **changes: object) -> Enterprise:
    base = next(e for e in kundulun_list().entries if e.industry == "lime")
    data = base.to_dict() | {"lines": lines} | changes
    return Enterprise.from_dict(data)


def _problems(entries: list[Enterprise]) -> list[tuple[int, str, str]]:
    errors = validate_entries(entries, CATALOG, TREE.leaves, regions=TREE.ids)
    return [(e.index, e.field, e.code) for e in errors]


def test_lines_read_from_json_and_round_trip() -> None:
    entry = _entry(_lines())
    assert entry.lines[1] == Line(
        "C1", "control", "1号窑除尘", "Dust removal of kiln No. 1", 185.5, MN, "e201", ("P1",)
    )
    assert entry.lines[0].serves == () and entry.lines[0].rated_kw == 640.0
    assert Enterprise.from_dict(entry.to_dict()) == entry
    assert entry.to_dict()["lines"][1]["serves"] == ["P1"]
    assert _problems([entry]) == []


def test_an_entry_without_lines_reads_and_writes_an_empty_list() -> None:
    data = kundulun_list().entries[0].to_dict()
    data.pop("lines")
    entry = Enterprise.from_dict(data)
    assert entry.lines == () and entry.to_dict()["lines"] == []


def test_serves_may_be_one_text_and_kind_any_case() -> None:
    (line,) = read_lines([{**_lines()[1], "serves": "P1, P2", "kind": "Control"}])
    assert line.serves == ("P1", "P2") and line.kind == "control" and line.is_control


@pytest.mark.parametrize(
    "value", ["P1", {"line_id": "P1"}, 3, ["P1"], [3], [["P1"]], [{"serves": {"P1": 1}}]]
)
def test_lines_that_are_not_a_list_of_objects_are_refused(value: object) -> None:
    with pytest.raises(TypeError):
        read_lines(value)


def test_every_bad_field_of_every_line_is_reported_at_once() -> None:
    lines = _lines()
    lines[0] |= {"rated_kw": 0, "channel": "e-101"}
    lines[1] |= {"kind": "cleaning", "serves": ["P9"]}
    lines += [
        {**_lines()[0], "channel": "e102", "rated_kw": "NA", "logger": "bad MN"},  # P1 again
        {**_lines()[1], "line_id": "", "name": "", "channel": "e202", "serves": []},
        {**_lines()[1], "line_id": "C3", "channel": "e203", "serves": ["C1", "P1"]},
        {**_lines()[0], "line_id": "P2", "channel": "e103", "serves": ["P1"]},
    ]
    found = _problems([_entry(lines)])
    assert found == [
        (0, "lines.0.rated_kw", "line.rated_kw"),
        (0, "lines.0.channel", "line.channel"),
        (0, "lines.1.kind", "line.kind"),
        (0, "lines.2.line_id", "line.id_duplicate"),
        (0, "lines.2.rated_kw", "line.rated_kw"),
        (0, "lines.2.logger", "line.logger"),
        (0, "lines.3.line_id", "line.id_empty"),
        (0, "lines.3.name", "line.name_empty"),
        (0, "lines.3.serves", "line.serves_nothing"),
        (0, "lines.4.serves", "line.serves_unknown"),  # C1 is a control line
        (0, "lines.5.serves", "line.serves_on_production"),
    ]
    # A line of unknown kind is not checked as a control line: P9 is not reported.
    errors = validate_entries([_entry(lines)], CATALOG, TREE.leaves, regions=TREE.ids)
    by_field = {e.field: e.message for e in errors}
    serves = by_field["lines.4.serves"]
    assert "C1" in serves["en"] and "治污线 C3" in serves["zh-CN"]
    assert "nan" in by_field["lines.2.rated_kw"]["en"]


def test_every_line_message_is_bilingual_and_fills_its_fields() -> None:
    for code, message in LINE_MESSAGES.items():
        assert set(message) == set(LANGUAGES), code
        fields = {name for lang in LANGUAGES for name in _names(message[lang])}
        for lang in LANGUAGES:
            assert _names(message[lang]) == fields, code


def _names(template: str) -> set[str]:
    import string

    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_a_logger_channel_metering_two_lines_is_reported_by_index_across_the_list() -> None:
    entries = list(kundulun_list().entries[:3])
    entries[0] = dataclasses.replace(entries[0], lines=read_lines(_lines()))
    other = [{**_lines()[0], "line_id": "X1", "channel": "e201"}]  # C1's channel on the same MN
    entries[2] = dataclasses.replace(entries[2], lines=read_lines(other))
    found = [p for p in _problems(entries) if p[2] == "line.channel_taken"]
    assert found == [(2, "lines.0.channel", "line.channel_taken")]
    errors = validate_entries(entries, CATALOG, TREE.leaves, regions=TREE.ids)
    (taken,) = [e for e in errors if e.code == "line.channel_taken"]
    assert taken.enterprise_id == entries[2].enterprise_id
    assert "C1" in taken.message["en"] and "entry 1" in taken.message["en"]
    # The same channel on another logger is another meter.
    other[0]["logger"] = "LD130102000412"
    entries[2] = dataclasses.replace(entries[2], lines=read_lines(other))
    assert [p for p in _problems(entries) if p[2] == "line.channel_taken"] == []


def test_a_revision_with_lines_validates_and_its_diff_shows_the_change_of_lines() -> None:
    old = kundulun_list()
    entry = next(e for e in old.entries if e.lines)
    draft = old.new_draft(2, "t", "", datetime.date(2027, 10, 1))
    changed = [line.to_dict() for line in entry.lines]
    changed[0]["rated_kw"] = changed[0]["rated_kw"] * 2
    new = draft.with_entry(dataclasses.replace(entry, lines=read_lines(changed)))
    assert validate_revision(new, CATALOG, TREE.leaves, regions=TREE.ids) == []
    found = diff(old, new)
    assert list(found.changed) == [entry.enterprise_id]
    before, after = found.changed[entry.enterprise_id]["lines"]
    assert before[0]["rated_kw"] * 2 == after[0]["rated_kw"] and before[1:] == after[1:]
    assert isinstance(Revision.from_dict(new.to_dict()).entry(entry.enterprise_id).lines[0], Line)
    assert not math.isnan(after[0]["rated_kw"])
