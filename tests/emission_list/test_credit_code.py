"""Unified social credit codes (GB 32100-2015): check character, validation, generation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emission_list.credit_code import (
    CHARSET,
    WEIGHTS,
    check_character,
    is_valid,
    is_valid_array,
    make_codes,
    organisation_check_character,
    validate,
)

# A published example (GB 32100-2015 explanatory material): Fuzhou, organisation M000100Y4.
PUBLIC_EXAMPLE = "91350100M000100Y43"


def test_charset_and_weights_are_the_standards():
    assert len(CHARSET) == 31
    assert not set("IOSVZ") & set(CHARSET)
    assert tuple(3**i % 31 for i in range(17)) == WEIGHTS


def test_check_character_by_hand_digits_only():
    # values 9,1,1,5,0,2,0,3,0,0,0,0,0,0,0,0,1 with weights 1,3,9,27,19,26,16,17,...,28:
    # 9 + 3 + 9 + 135 + 52 + 51 + 28 = 287; 287 mod 31 = 8; 31 - 8 = 23 -> CHARSET[23] = "P".
    assert check_character("91150203000000001") == "P"
    assert is_valid("91150203000000001P")


def test_check_character_by_hand_with_letters():
    # M = 21, Y = 30: 9 + 3 + 27 + 135 + 26 + 21*20 + 1*8 + 30*30 + 4*28 = 1640;
    # 1640 mod 31 = 28; 31 - 28 = 3 -> "3", the published example's check character.
    assert check_character(PUBLIC_EXAMPLE[:17]) == "3"
    assert is_valid(PUBLIC_EXAMPLE)
    assert validate(PUBLIC_EXAMPLE) == []


def test_check_31_becomes_0():
    # Sum 0 -> 31 - 0 = 31 -> 0.
    assert check_character("0" * 17) == "0"
    assert is_valid("0" * 18)


def test_organisation_code_check_by_hand():
    # GB 11714: M=22, Y=34: 22*3 + 1*5 + 34*2 = 139; 139 mod 11 = 7; 11 - 7 = 4.
    assert organisation_check_character("M000100Y") == "4"
    # All zeros: 11 - 0 = 11, written "0". "00000006": 6*2 = 12, 12 mod 11 = 1, 11 - 1 = 10 -> "X".
    assert organisation_check_character("00000000") == "0"
    assert organisation_check_character("00000006") == "X"


@pytest.mark.parametrize("code", [PUBLIC_EXAMPLE, "91150203000000001P"])
def test_every_single_character_change_is_detected(code):
    for position in range(18):
        for replacement in CHARSET + "IOSVZ" + "a":
            if replacement == code[position]:
                continue
            mutated = code[:position] + replacement + code[position + 1 :]
            assert not is_valid(mutated), mutated
            expected = ["credit_code.check"] if replacement in CHARSET else ["credit_code.charset"]
            assert validate(mutated) == expected


@pytest.mark.parametrize("banned", [*"IOSVZ", "i", "o", "-", " ", "０"])
def test_banned_characters_are_charset_errors(banned):
    code = PUBLIC_EXAMPLE[:9] + banned + PUBLIC_EXAMPLE[10:]
    assert validate(code) == ["credit_code.charset"]


def test_length_errors():
    assert validate(PUBLIC_EXAMPLE[:17]) == ["credit_code.length"]
    assert validate(PUBLIC_EXAMPLE + "0") == ["credit_code.length"]
    assert validate("") == ["credit_code.length"]
    assert validate("abc") == ["credit_code.length", "credit_code.charset"]
    assert validate(None) == ["credit_code.length", "credit_code.charset"]


@pytest.mark.parametrize("bad", ["", "9135010", "91350100M000100Y43", "9135010OM000100Y4"])
def test_check_character_refuses_bad_input(bad):
    with pytest.raises(ValueError):
        check_character(bad)


def test_make_codes_are_valid_distinct_and_shaped():
    rng = np.random.default_rng(7)
    codes = make_codes(rng, 5000)
    assert codes.shape == (5000,) and codes.dtype == np.dtype("<U18")
    assert len(set(codes.tolist())) == 5000
    assert is_valid_array(codes).all()
    for code in codes[:200].tolist():
        assert is_valid(code)
        assert code.startswith("91150203MA")
        assert organisation_check_character(code[8:16]) == code[16]


def test_make_codes_fills_a_small_space_exactly():
    # 3 free characters: 31**3 codes; asking for all of them gives each once.
    codes = make_codes(np.random.default_rng(1), 31**3, "150205", org_prefix="MA000")
    assert len(set(codes.tolist())) == 31**3
    assert is_valid_array(codes).all()
    with pytest.raises(ValueError):
        make_codes(np.random.default_rng(1), 31**3 + 1, org_prefix="MA000")


def test_make_codes_refuses_bad_prefixes():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        make_codes(rng, 3, division="15020")
    with pytest.raises(ValueError):
        make_codes(rng, 3, division="15O203")
    with pytest.raises(ValueError):
        make_codes(rng, 3, prefix="9")
    assert make_codes(rng, 0).shape == (0,)


def test_make_codes_is_reproducible():
    a = make_codes(np.random.default_rng(3), 100)
    b = make_codes(np.random.default_rng(3), 100)
    assert a.tolist() == b.tolist()


def test_is_valid_array_handles_shapes_and_non_strings():
    arr = np.array([[PUBLIC_EXAMPLE, "x"], ["91150203000000001P", PUBLIC_EXAMPLE.lower()]])
    assert is_valid_array(arr).tolist() == [[True, False], [True, False]]
    mixed = np.array([PUBLIC_EXAMPLE, None, float("nan"), 12], dtype=object)
    assert is_valid_array(mixed).tolist() == [True, False, False, False]
    assert is_valid_array(np.array([PUBLIC_EXAMPLE.encode()])).tolist() == [True]
    assert is_valid_array([]).shape == (0,)
    assert is_valid_array(["Ü" * 18, PUBLIC_EXAMPLE + "  "]).tolist() == [False, False]


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 300),
    division=st.text(alphabet="0123456789", min_size=6, max_size=6),
)
def test_make_codes_always_valid(seed, n, division):
    codes = make_codes(np.random.default_rng(seed), n, division)
    assert len(codes) == n == len(set(codes.tolist()))
    assert all(is_valid(c) and c[2:8] == division for c in codes.tolist())
    assert is_valid_array(codes).all()


near_codes = st.builds(
    lambda base, edits: _apply(base, edits),
    st.sampled_from([PUBLIC_EXAMPLE, "91150203000000001P", "0" * 18]),
    st.lists(st.tuples(st.integers(0, 19), st.sampled_from(CHARSET + "IOSVZa")), max_size=3),
)


def _apply(code: str, edits: list[tuple[int, str]]) -> str:
    for position, char in edits:
        code = code[:position] + char + code[position + 1 :]
    return code


@settings(max_examples=200, deadline=None)
@given(st.lists(near_codes | st.text(alphabet=CHARSET + "IOSVZa", max_size=20), max_size=30))
def test_vectorised_equals_scalar(codes):
    assert is_valid_array(np.array(codes, dtype=str)).tolist() == [is_valid(c) for c in codes]


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=CHARSET, min_size=17, max_size=17))
def test_appending_the_check_character_always_validates(first17):
    code = first17 + check_character(first17)
    assert is_valid(code) and is_valid_array([code]).all()
    total = sum(CHARSET.index(c) * w for c, w in zip(code, WEIGHTS, strict=False))
    assert (total + CHARSET.index(code[17])) % 31 == 0
