"""The CRC of HJ 212-2017 Annex A (also HJ/T 212-2005 and HJ 212-2025).

Not CRC-16/MODBUS: each step keeps only the register's high byte, XORs the data byte into it
and shifts that 8 times with the reflected polynomial 0xA001. Hence "123456789" gives 0x2F80
(MODBUS: 0x4B37) and the standard's example segment of length 0101 gives 0x1C80.

Since the register after a byte depends only on ``(register >> 8) ^ byte``, one lookup per
byte in a 256-entry table is the whole step (:data:`TABLE`, built by the bitwise definition).
Two bytes at a time go the same way: with ``word`` the next two bytes read little-endian,
``(register >> 8) ^ word`` is the first byte's index XOR-ed in below the second byte, and
:data:`PAIR_TABLE` (65,536 entries, built from :data:`TABLE`) gives the register after both:
half the Python steps per packet, which is what the gateway's per-packet cost is made of.
"""

from __future__ import annotations

import sys

_LITTLE = sys.byteorder == "little"
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


def _pair(index: int) -> int:
    return TABLE[(TABLE[index & 0xFF] >> 8) ^ (index >> 8)]


#: The register after two bytes, indexed by ``(register >> 8) ^ (first | second << 8)``.
PAIR_TABLE: tuple[int, ...] = tuple(_pair(index) for index in range(1 << 16))


def crc16(data: bytes) -> int:
    """The Annex A CRC of ``data`` (the data segment, as bytes on the wire)."""
    pairs = PAIR_TABLE
    register = INITIAL
    even = len(data) & ~1
    for word in memoryview(data[:even]).cast("H") if _LITTLE else _words(data[:even]):
        register = pairs[(register >> 8) ^ word]
    if even != len(data):
        register = TABLE[(register >> 8) ^ data[-1]]
    return register


def _words(data: bytes) -> list[int]:
    return [data[i] | data[i + 1] << 8 for i in range(0, len(data), 2)]


def crc_hex(data: bytes) -> str:
    """The CRC as the 4 upper-case hex digits written after the segment (high byte first)."""
    return f"{crc16(data):04X}"
