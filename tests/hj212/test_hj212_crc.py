"""The CRC of Annex A against its bitwise definition and the standard's examples."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.hj212.crc import crc16, crc_hex

EXAMPLES = {  # segment -> CRC, from hj212.md (the standard and its Annex C)
    "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
    "CP=&&RtdInterval=30&&": "1C80",
    "QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
    "CP=&&&&": "30C0",
    "QN=20160801085857223;ST=91;CN=9011;PW=123456;MN=010000A8900016F000169DC0;Flag=4;"
    "CP=&&QnRtn=1&&": "1B00",
    "QN=20160801085857223;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;"
    "CP=&&&&": "3240",
}


def bitwise(data: bytes) -> int:
    """Annex A as written: (crc >> 8) ^ byte, then 8 shifts with 0xA001."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ byte
        for _ in range(8):
            lsb = crc & 1
            crc >>= 1
            if lsb:
                crc ^= 0xA001
    return crc


def modbus(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def test_check_value_is_not_modbus() -> None:
    assert crc16(b"123456789") == 0x2F80
    assert modbus(b"123456789") == 0x4B37  # the CRC this one is not


def test_examples_of_the_standard() -> None:
    for segment, expected in EXAMPLES.items():
        assert crc_hex(segment.encode()) == expected
    assert f"{modbus(next(iter(EXAMPLES)).encode()):04X}" == "0759"


def test_empty_segment_keeps_the_initial_value() -> None:
    assert crc16(b"") == 0xFFFF


@given(st.binary(max_size=2048))
def test_table_equals_the_bitwise_definition(data: bytes) -> None:
    assert crc16(data) == bitwise(data)


@given(st.integers(min_value=0, max_value=40), st.binary(min_size=1, max_size=1))
def test_every_length_modulo_8_and_long_data(extra: int, byte: bytes) -> None:
    """The fold works by position modulo 8 and halves the data: each alignment, and data
    longer than the largest segment (beyond the precomputed masks), still give Annex A."""
    for data in (byte * extra, bytes(range(256)) * 20 + byte * extra):
        assert crc16(data) == bitwise(data)
