"""CP's fast path (one split, shapes remembered, values read by index) against the item-by-item
parse on any CP, and the readings the sink takes against the values mapping."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.hj212.cp import _parse_items, parse_cp

NAMES = ["DataTime", "a21026-Avg", "a21026-ZsAvg", "a21026-Flag", "02-Rtd", "02-Flag",
         "e101-Avg", "e101-Cou", "S01-Avg", "LA-Rtd", "Info", "", "a19001-Avg"]  # fmt: skip
VALUES = ["5", "1.25", "N", "", "氮氧化物", "x=y", " 7 "]

item = st.one_of(
    st.tuples(st.sampled_from(NAMES), st.sampled_from(VALUES)).map(lambda nv: "=".join(nv)),
    st.sampled_from(NAMES),  # an item without '='
    st.just(""),  # an empty item
    st.just(" a21026-Avg = 3 "),
)
cps = st.lists(st.tuples(item, st.sampled_from([";", ","])), max_size=12).map(
    lambda items: "".join(text + separator for text, separator in items)[:-1]
)


def _either(parse, cp: str):
    try:
        return parse(cp)
    except ValueError as exc:
        return ("error", str(exc))


@given(cps)
def test_the_fast_path_gives_what_the_item_by_item_parse_gives(cp: str) -> None:
    slow = _either(_parse_items, cp)
    fast = _either(parse_cp, cp)
    if slow[0] == "error":
        assert fast == slow
        return
    fields, values, original = fast
    assert (fields, values.mapping(), original) == slow
    assert list(fields) == list(slow[0]) and list(values.mapping()) == list(slow[1])
    again = _either(parse_cp, cp)  # the second time the shape is remembered
    assert (again[0], again[1].mapping(), again[2]) == slow


@given(cps, st.sampled_from(["Avg", "Rtd", "Cou"]))
def test_readings_are_the_values_by_suffix(cp: str, suffix: str) -> None:
    parsed = _either(parse_cp, cp)
    if parsed[0] == "error":
        return
    mapping = parsed[1].mapping()
    expected = [
        (code, items.get(suffix), items.get("Zs" + suffix), items.get("Flag"))
        for code, items in mapping.items()
    ]
    assert parse_cp(cp)[1].readings(suffix) == expected  # read before any mapping is built
    assert parsed[1].readings(suffix) == expected
