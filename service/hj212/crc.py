"""The CRC of HJ 212-2017 Annex A (also HJ/T 212-2005 and HJ 212-2025).

Not CRC-16/MODBUS: each step keeps only the register's high byte, XORs the data byte into it
and shifts that 8 times with the reflected polynomial 0xA001. Hence "123456789" gives 0x2F80
(MODBUS: 0x4B37) and the standard's example segment of length 0101 gives 0x1C80.

Since the register after a byte depends only on ``(register >> 8) ^ byte``, one lookup per
byte in a 256-entry table is the whole step (:data:`TABLE`, built by the bitwise definition).
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


def crc16(data: bytes) -> int:
    """The Annex A CRC of ``data`` (the data segment, as bytes on the wire)."""
    table = TABLE
    register = INITIAL
    for byte in data:
        register = table[(register >> 8) ^ byte]
    return register


def crc_hex(data: bytes) -> str:
    """The CRC as the 4 upper-case hex digits written after the segment (high byte first)."""
    return f"{crc16(data):04X}"
