"""The CRC of HJ 212-2017 Annex A (also HJ/T 212-2005 and HJ 212-2025).

Not CRC-16/MODBUS: each step keeps only the register's high byte, XORs the data byte into it
and shifts that 8 times with the reflected polynomial 0xA001. Hence "123456789" gives 0x2F80
(MODBUS: 0x4B37) and the standard's example segment of length 0101 gives 0x1C80.

How it is computed without a Python step per byte. The register after a byte depends only on
``h ^ byte`` where ``h`` is the register's high byte (:data:`TABLE`, built by the bitwise
definition), so the state is that byte: ``h' = U(h ^ b)`` with ``U = TABLE >> 8``, a linear map
of GF(2)^8. ``U`` happens to satisfy ``U^8 = I`` (its characteristic polynomial is
``x^8 + 1``), so after ``n`` bytes ``h = U^n(0xFF) ^ XOR_j U^(n - j)(b_j)`` depends on each
byte only through its position modulo 8: XOR-folding the data into 8 bytes (one big ``int``,
halved until 64 bits are left: C speed) and 8 table lookups give ``h``; the register itself
is ``TABLE[U^-1(h)]`` (:data:`_FINAL`). No CRC-8 library can stand in for ``U``: a CRC-8
step over a byte is ``x^8`` modulo its polynomial, never similar to this unipotent ``U``.
``tests/hj212/test_hj212_crc.py`` checks it against the bitwise definition.
"""

from __future__ import annotations

POLYNOMIAL = 0xA001
INITIAL = 0xFFFF


def _shift8(register: int) -> int:
    for _ in range(8):
        lsb = register & 1
        register >>= 1
        if lsb:
            register ^= POLYNOMIAL
    return register


#: The register after a byte, indexed by ``(register >> 8) ^ byte``.
TABLE: tuple[int, ...] = tuple(_shift8(index) for index in range(256))

_U = tuple(entry >> 8 for entry in TABLE)


def _u_power(exponent: int, value: int) -> int:
    for _ in range(exponent):
        value = _U[value]
    return value


if any(_u_power(8, value) != value for value in range(256)):  # pragma: no cover
    raise AssertionError("the Annex A step is no longer of order 8: the fold does not apply")

_U_INVERSE = {_U[value]: value for value in range(256)}
#: The register from its high byte after the last step.
_FINAL = tuple(TABLE[_U_INVERSE[high]] for high in range(256))
#: ``U^r(0xFF)``: the initial high byte carried through ``r`` steps (``r = n mod 8``).
_START = tuple(_u_power(r, INITIAL >> 8) for r in range(8))
#: Slot ``k`` of the fold (bytes at positions ``≡ k mod 8`` of the data front-padded to a
#: multiple of 8) went through ``U^((8 - k) mod 8)``.
_S0, _S1, _S2, _S3, _S4, _S5, _S6, _S7 = (
    tuple(_u_power((8 - slot) % 8, value) for value in range(256)) for slot in range(8)
)
#: ``_MASKS[w]`` keeps the low ``w`` 64-bit words (enough for a segment of 1024 bytes).
_MASKS = tuple((1 << (64 * words)) - 1 for words in range(132))
_MASKED_WORDS = len(_MASKS)


def crc16(data: bytes) -> int:
    """The Annex A CRC of ``data`` (the data segment, as bytes on the wire)."""
    size = len(data)
    if not size:
        return INITIAL
    pad = -size & 7
    folded = int.from_bytes(data, "little") << (pad << 3)
    words = (size + pad) >> 3
    masks = _MASKS
    while words > 1:
        half = (words + 1) >> 1
        mask = masks[half] if half < _MASKED_WORDS else (1 << (64 * half)) - 1
        folded = (folded >> (half << 6)) ^ (folded & mask)
        words = half
    s = folded.to_bytes(8, "little")
    high = (
        _START[size & 7]
        ^ _S0[s[0]] ^ _S1[s[1]] ^ _S2[s[2]] ^ _S3[s[3]]
        ^ _S4[s[4]] ^ _S5[s[5]] ^ _S6[s[6]] ^ _S7[s[7]]
    )  # fmt: skip
    return _FINAL[high]


def crc_hex(data: bytes) -> str:
    """The CRC as the 4 upper-case hex digits written after the segment (high byte first)."""
    return f"{crc16(data):04X}"
