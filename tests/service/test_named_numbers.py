"""Numbers by name stored as bare arrays: the layout is picked by the names, read back by length."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from emission_list.aqi import POLLUTANTS
from emission_list.rolling import WINDOW_COLUMNS
from service.storage.models import MEAN_VALUES
from service.storage.types import NamedNumbers

numbers = st.one_of(st.none(), st.floats(allow_infinity=False))


@given(
    layout=st.sampled_from([POLLUTANTS, WINDOW_COLUMNS]),
    values=st.lists(numbers, min_size=7, max_size=7),
    dialect=st.sampled_from([postgresql.dialect(), sqlite.dialect()]),
)
def test_a_mapping_comes_back_with_every_name_of_its_layout(
    layout: tuple[str, ...], values: list[float | None], dialect: object
) -> None:
    given_values = dict(zip(layout, values, strict=False))
    del given_values[layout[1]]  # a name left out comes back as null
    stored = MEAN_VALUES.process_bind_param(given_values, dialect)
    assert len(stored) == len(layout)
    back = MEAN_VALUES.process_result_value(stored, dialect)
    assert list(back) == list(layout)
    for name in layout:
        sent = given_values.get(name)
        if sent is None or math.isnan(sent):
            assert back[name] is None
        else:
            assert back[name] == sent


def test_names_of_no_layout_and_arrays_of_no_length_are_refused() -> None:
    dialect = postgresql.dialect()
    with pytest.raises(ValueError, match="no layout holds"):
        MEAN_VALUES.process_bind_param({"so2": 1.0, "o3_8h": 2.0}, dialect)
    with pytest.raises(ValueError, match="fits no layout"):
        MEAN_VALUES.process_result_value([1.0, 2.0], dialect)
    with pytest.raises(ValueError, match="distinct lengths"):
        NamedNumbers(("a", "b"), ("c", "d"))
    assert MEAN_VALUES.process_bind_param(None, dialect) is None
