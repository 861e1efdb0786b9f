"""Unified social credit codes (统一社会信用代码, GB 32100-2015): check, validate, generate.

An enterprise on the list is keyed by its 18-character code. Character by character:

======  ==========================================================================
chars   meaning
======  ==========================================================================
1       registering authority (登记管理部门): ``9`` market regulation (工商), ``5``
        civil affairs, ``1`` establishment offices, ``Y`` others, ...
2       entity type (机构类别) within that authority: for ``9``, ``1`` enterprise,
        ``2`` individual business, ``3`` farmers' co-operative
3-8     administrative division code of the registering authority (GB/T 2260), e.g.
        ``150203`` Kundulun District of Baotou. An enterprise may be registered
        outside the district it operates in, so nothing here requires a given code.
9-17    organisation code (主体标识码, GB 11714): eight characters and their own
        GB 11714 check character. Codes issued since 2015 usually start ``MA``.
18      check character over characters 1-17 (below)
======  ==========================================================================

Every character comes from :data:`CHARSET` (digits and capitals without I, O, S, V, Z, which
read like 1, 0, 5, U and 2). Each character is valued by its index in :data:`CHARSET`; with
the weights :data:`WEIGHTS` on characters 1-17,

    check = 31 − (Σ valueᵢ · weightᵢ mod 31),  and 31 becomes 0,

and the check character is ``CHARSET[check]``. The weights are 3ⁱ mod 31 for i = 0..16.

References
----------
GB 32100-2015, 法人和其他组织统一社会信用代码编码规则, clauses 4 (code structure) and 5
(check character). GB 11714-1997, 全国组织机构代码编制规则, clause 5 (organisation code check).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

#: The 31 characters of the code, in value order (no I, O, S, V, Z).
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Weights of characters 1-17 in the check sum (3**i mod 31).
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: Letters the code never uses.
BANNED = "IOSVZ"
LENGTH = 18

#: Error codes of :func:`validate`, in the order they are reported.
ERROR_LENGTH = "credit_code.length"
ERROR_CHARSET = "credit_code.charset"
ERROR_CHECK = "credit_code.check"

_VALUE = {c: i for i, c in enumerate(CHARSET)}
# Code point -> value, -1 for characters outside the charset (ASCII only; others map to -1).
_LUT = np.full(128, -1, dtype=np.int64)
_LUT[[ord(c) for c in CHARSET]] = np.arange(len(CHARSET))
_CHARSET_BYTES = np.frombuffer(CHARSET.encode("ascii"), dtype=np.uint8)
_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)

# GB 11714 organisation code: digits 0-9 and letters A-Z valued 10-35 (the full alphabet).
_ORG_WEIGHTS = np.array((3, 7, 9, 10, 5, 8, 4, 2), dtype=np.int64)
_ORG_LUT = np.full(128, -1, dtype=np.int64)
_ORG_LUT[ord("0") : ord("9") + 1] = np.arange(10)
_ORG_LUT[ord("A") : ord("Z") + 1] = np.arange(10, 36)
_ORG_CHECK_BYTES = np.frombuffer(b"0123456789X0", dtype=np.uint8)  # 11 - (sum mod 11)


def _check_value_from_sum(total: np.ndarray) -> np.ndarray:
    return (31 - total % 31) % 31


def _check_value(values: np.ndarray) -> np.ndarray:
    """Check values (0..30) of rows of 17 character values."""
    return _check_value_from_sum(values @ _WEIGHTS)


def check_character(first17: str) -> str:
    """Check character (character 18) of a unified social credit code.

    Parameters
    ----------
    first17
        Characters 1-17 of the code, all from :data:`CHARSET`.

    Returns
    -------
    str
        One character of :data:`CHARSET`.

    Raises
    ------
    ValueError
        When ``first17`` is not 17 characters of :data:`CHARSET`.

    References
    ----------
    GB 32100-2015, clause 5.
    """
    if len(first17) != LENGTH - 1 or any(c not in _VALUE for c in first17):
        raise ValueError(f"expected 17 characters of {CHARSET}, got {first17!r}")
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def validate(code: object) -> list[str]:
    """Every problem of a code, as stable error codes.

    Returns
    -------
    list of str
        Empty when valid; otherwise any of ``credit_code.length`` (not 18 characters),
        ``credit_code.charset`` (a character outside :data:`CHARSET`, such as a lower-case
        letter or one of the never-used I, O, S, V, Z) and ``credit_code.check`` (the 18th
        character does not match; only tested when length and charset are right).
    """
    if not isinstance(code, str):
        return [ERROR_LENGTH, ERROR_CHARSET]
    errors = []
    if len(code) != LENGTH:
        errors.append(ERROR_LENGTH)
    if any(c not in _VALUE for c in code):
        errors.append(ERROR_CHARSET)
    if not errors and check_character(code[:17]) != code[17]:
        errors.append(ERROR_CHECK)
    return errors


def is_valid(code: object) -> bool:
    """True when ``code`` is a well-formed unified social credit code with a correct check."""
    return not validate(code)


def _as_str_array(codes: Iterable[object] | np.ndarray) -> np.ndarray:
    arr = np.asarray(codes)
    if arr.dtype.kind == "U":
        return arr
    if arr.dtype.kind == "S":
        return np.char.decode(arr, "ascii", errors="replace")
    # Objects (None, NaN, numbers) become their str(), which is never a valid code.
    return arr.astype(str)


def is_valid_array(codes: Iterable[object] | np.ndarray) -> np.ndarray:
    """Vectorised :func:`is_valid`.

    Parameters
    ----------
    codes
        Array-like of codes, any shape; non-strings (None, NaN) are invalid.

    Returns
    -------
    numpy.ndarray
        Boolean array of the same shape.
    """
    arr = _as_str_array(codes)
    flat = arr.ravel()
    ok = np.char.str_len(flat) == LENGTH
    points = flat[ok].astype(f"<U{LENGTH}").view(np.uint32).reshape(-1, LENGTH)
    values = np.where(points < 128, _LUT[np.minimum(points, 127)], -1)
    good = (values >= 0).all(axis=1)
    good &= _check_value(np.where(values[:, :17] >= 0, values[:, :17], 0)) == values[:, 17]
    ok[ok] = good
    return ok.reshape(arr.shape)


def organisation_check_character(first8: str) -> str:
    """GB 11714 check character (character 9) of an organisation code (characters 9-17).

    ``first8`` holds digits and capitals (A-Z valued 10-35); the check is
    11 − (Σ valueᵢ · weightᵢ mod 11) with weights 3, 7, 9, 10, 5, 8, 4, 2, where 10 is written
    ``X`` and 11 is written ``0``. :func:`is_valid` does not require it (GB 32100 checks only
    character 18); :func:`make_codes` honours it so synthetic codes look real.

    References
    ----------
    GB 11714-1997, clause 5.
    """
    if len(first8) != 8 or any(c not in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" for c in first8):
        raise ValueError(f"expected 8 digits or capitals, got {first8!r}")
    points = np.frombuffer(first8.encode("ascii"), dtype=np.uint8)
    return chr(_ORG_CHECK_BYTES[11 - int(_ORG_LUT[points] @ _ORG_WEIGHTS) % 11])


def make_codes(
    rng: np.random.Generator,
    n: int,
    division: str = "150203",
    *,
    prefix: str = "91",
    org_prefix: str = "MA",
) -> np.ndarray:
    """Distinct random valid codes, vectorised.

    Parameters
    ----------
    rng
        Random generator (the only source of randomness).
    n
        How many codes.
    division
        Characters 3-8, the six-digit division code of the registering authority.
    prefix
        Characters 1-2: ``91`` is an enterprise registered with market regulation.
    org_prefix
        Fixed start of the organisation code (``MA`` as issued since 2015); the rest of its
        first eight characters is random from :data:`CHARSET` and the ninth is its GB 11714
        check character.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` array of dtype ``<U18``, all different, in random order.

    Raises
    ------
    ValueError
        On a malformed prefix or division, or when ``n`` exceeds the number of distinct codes.
    """
    head = prefix + division + org_prefix
    if len(prefix) != 2 or len(division) != 6 or len(org_prefix) > 8:
        raise ValueError("prefix must be 2 characters, division 6, org_prefix at most 8")
    if any(c not in _VALUE for c in head):
        raise ValueError(f"prefix, division and org_prefix must use {CHARSET}")
    free = 8 - len(org_prefix)
    space = len(CHARSET) ** free
    if n < 0 or n > space:
        raise ValueError(f"n must be between 0 and {space}")

    # Distinct random integers in [0, space), one per code: draw, then redraw later repeats.
    if 4 * n >= space:
        keys = rng.choice(space, size=n, replace=False).astype(np.int64)
    else:
        keys = rng.integers(0, space, size=n, dtype=np.int64)
        while True:
            order = np.argsort(keys, kind="stable")
            repeat = np.zeros(n, dtype=bool)
            repeat[order[1:]] = keys[order[1:]] == keys[order[:-1]]
            todo = np.flatnonzero(repeat)
            if not len(todo):
                break
            keys[todo] = rng.integers(0, space, size=len(todo), dtype=np.int64)
    # Their base-31 digits, most significant first, are the free characters' charset indices.
    digits = np.empty((n, free), dtype=np.int64)
    for position in range(free - 1, -1, -1):
        keys, digits[:, position] = np.divmod(keys, 31)

    # Character 17 is the GB 11714 check of characters 9-16; character 18 the GB 32100 check.
    org_head = np.frombuffer(org_prefix.encode("ascii"), dtype=np.uint8)
    org_sum = _ORG_LUT[org_head] @ _ORG_WEIGHTS[: len(org_prefix)]
    org_sum = org_sum + _ORG_LUT[_CHARSET_BYTES][digits] @ _ORG_WEIGHTS[len(org_prefix) :]
    org_check = _ORG_CHECK_BYTES[11 - org_sum % 11]
    total = sum(_VALUE[c] * w for c, w in zip(head, WEIGHTS, strict=False))
    total = total + digits @ _WEIGHTS[len(head) : 16] + _LUT[org_check] * WEIGHTS[16]

    # Build the strings as UCS-4 code points and view them as '<U18' without copying.
    chars = np.empty((n, LENGTH), dtype="<u4")
    chars[:, : len(head)] = [ord(c) for c in head]
    chars[:, len(head) : 16] = _CHARSET_BYTES[digits]
    chars[:, 16] = org_check
    chars[:, 17] = _CHARSET_BYTES[_check_value_from_sum(total)]
    return chars.view(f"<U{LENGTH}").ravel()
