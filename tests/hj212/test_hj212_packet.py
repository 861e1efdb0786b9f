"""Parsing packets: the examples of hj212.md, every refusal reason, the lenient cases, the
2005 codes and the frame splitter."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.hj212 import codes
from service.hj212.build import build, frame
from service.hj212.crc import crc_hex
from service.hj212.packet import REASONS, FrameSplitter, PacketError, parse_frame

STANDARD = (
    b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
    b"CP=&&RtdInterval=30&&1C80\r\n"
)
ANNEX_C = [
    b"##0087QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
    b"CP=&&&&30C0\r\n",
    b"##0094QN=20160801085857223;ST=91;CN=9011;PW=123456;MN=010000A8900016F000169DC0;Flag=4;"
    b"CP=&&QnRtn=1&&1B00\r\n",
    b"##0087QN=20160801085857223;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;"
    b"CP=&&&&3240\r\n",
]
AMBIENT = (
    b"##0317QN=20191018104952418;ST=22;CN=2011;PW=123456;MN=ZX00001;Flag=5;CP=&&DataTime="
    b"20191018104900;a34002-Rtd=30,a34002-Flag=N;a34004-Rtd=25,a34004-Flag=N;a01001-Rtd=13.5,"
    b"a01001-Flag=N;a01002-Rtd=43.8,a01002-Flag=N;a01008-Rtd=30,a01008-Flag=N;a01007-Rtd=3.5,"
    b"a01007-Flag=N;a34001-Rtd=132,a34001-Flag=N;LA-Rtd=66.8,LA-Flag=N&&AF01\r\n"
)
CEMS_2005_RTD = (
    b"##0148ST=31;CN=2011;PW=123456;MN=LD130102000412;CP=&&DataTime=20160823235000000;"
    b"03-Rtd=39.834,03-Flag=N;03-ZsRtd=37.114,03-Flag=N;S01-Rtd=4.8,S01-Flag=N&&1A40\r\n"
)
CEMS_2005_HOUR = (
    b"##0208ST=31;CN=2061;PW=123456;MN=LD130102000409;CP=&&DataTime=20160823210000;"
    b"S01-Min=3.65,S01-Avg=3.78,S01-Max=3.91;03-Cou=0.000,03-Min=36.46,03-Avg=38.14,"
    b"03-Max=39.42;03-ZsMin=31.57,03-ZsAvg=33.22,03-ZsMax=34.31&&7640\r\n"
)


def test_the_standards_example() -> None:
    packet = parse_frame(STANDARD)
    assert (packet.qn, packet.st, packet.cn, packet.pw) == (
        "20160801085857223",
        "32",
        "1062",
        "100000",
    )
    assert packet.mn == "010000A8900016F000169DC0"
    assert (packet.flag, packet.edition, packet.answer_required) == (5, 2017, True)
    assert packet.fields == {"RtdInterval": "30"}


def test_annex_c_packets() -> None:
    request, answer, ack = (parse_frame(p) for p in ANNEX_C)
    assert request.cn == "2011" and request.answer_required and request.values == {}
    assert answer.cn == "9011" and answer.fields == {"QnRtn": "1"} and not answer.answer_required
    assert ack.cn == "9014" and ack.st == "91" and ack.flag == 4


def test_ambient_packet_values() -> None:
    packet = parse_frame(AMBIENT)
    assert packet.data_time == dt.datetime(2019, 10, 18, 10, 49)
    assert packet.values["a34004"] == {"Rtd": "25", "Flag": "N"}
    assert packet.values["LA"] == {"Rtd": "66.8", "Flag": "N"}
    assert len(packet.values) == 8 and packet.original_codes == {}


def test_2005_codes_are_mapped_and_kept() -> None:
    rtd = parse_frame(CEMS_2005_RTD)
    assert rtd.edition == 2005 and rtd.qn is None and rtd.flag is None
    assert not rtd.answer_required
    assert rtd.data_time == dt.datetime(2016, 8, 23, 23, 50)  # 17 digits: milliseconds 000
    assert rtd.values["a21002"] == {"Rtd": "39.834", "Flag": "N", "ZsRtd": "37.114"}
    assert rtd.values["a19001"] == {"Rtd": "4.8", "Flag": "N"}
    assert rtd.original_codes == {"a21002": "03", "a19001": "S01"}
    hour = parse_frame(CEMS_2005_HOUR)
    assert hour.cn == "2061" and hour.data_time == dt.datetime(2016, 8, 23, 21)
    assert hour.values["a21002"]["ZsAvg"] == "33.22" and hour.values["a19001"]["Max"] == "3.91"


def test_the_2005_mapping_is_the_tables() -> None:
    assert codes.CODES_2005["02"] == "a21026" and codes.CODES_2005["B02"] == "a00000"
    assert codes.LIST_CODES == {
        "pm25": "a34004", "pm10": "a34002", "so2": "a21026",
        "no2": "a21004", "o3": "a05024", "co": "a21005",
    }  # fmt: skip
    assert set(codes.VALID_FLAGS) == {"N"}
    assert set(codes.FLAGS) == set("NFMSDCTB")


def test_lower_case_crc_is_accepted() -> None:
    assert parse_frame(STANDARD.replace(b"1C80", b"1c80")).cn == "1062"


def test_blanks_around_names_and_values_are_dropped() -> None:
    packet = parse_frame(
        frame("ST=31; CN=2011 ;MN= M1 ;CP=&&DataTime=20240101000000; a21026-Rtd= 5 &&")
    )
    assert (packet.cn, packet.mn, packet.values) == ("2011", "M1", {"a21026": {"Rtd": "5"}})


def test_utf8_length_counts_bytes() -> None:
    packet = parse_frame(frame("CN=3020;MN=M1;CP=&&Info=氮氧化物&&"))
    assert packet.fields["Info"] == "氮氧化物"


def _reframed(segment: bytes) -> bytes:
    return b"##%04d%b%s\r\n" % (len(segment), segment, crc_hex(segment).encode())


def _refused(data: bytes) -> PacketError:
    with pytest.raises(PacketError) as caught:
        parse_frame(data)
    assert caught.value.reason in REASONS
    return caught.value


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (STANDARD[2:], "framing"),  # no ##
        (b"##01a1" + STANDARD[6:], "framing"),  # length not 4 digits
        (b"##0100" + STANDARD[6:], "length"),
        (b"##0102" + STANDARD[6:], "length"),
        (b"##2000" + STANDARD[6:], "oversized"),
        (STANDARD.replace(b"1C80", b"1C81"), "crc"),
        (STANDARD.replace(b"RtdInterval=30", b"RtdInterval=31"), "crc"),  # a flipped byte
        (_reframed(b"CN=3020;MN=M1;CP=&&Info=\xff\xfe&&"), "encoding"),
        (_reframed(b"QN=1;ST=32;PW=1;MN=M1;Flag=5;CP=&&&&"), "syntax"),  # no CN
        (_reframed(b"QN=1;ST=32;CN=2011;PW=1;Flag=5;CP=&&&&"), "syntax"),  # no MN
        (_reframed(b"QN=1;ST32;CN=2011;MN=M1;CP=&&&&"), "syntax"),  # a field without =
        (_reframed(b"ST=32;CN=2011;MN=M1;CP=&&a21026-Rtd&&"), "syntax"),  # a CP item without =
        (_reframed(b"ST=32;CN=2011;MN=M1;CP=a21026-Rtd=1"), "syntax"),  # CP not &&..&&
        (_reframed(b"ST=32;CN=2011;MN=M1;CP=&&DataTime=20241301000000&&"), "syntax"),  # month 13
        (_reframed(b"ST=32;CN=2011;MN=M1;CP=&&DataTime=202401010000&&"), "syntax"),  # 12 digits
        (_reframed(b"ST=32;CN=2011;MN=M1;Flag=7;PNUM=2;CP=&&&&"), "syntax"),  # split, no PNO
        (_reframed(b"ST=32;CN=2011;MN=M1;Flag=7;PNUM=2;PNO=3;CP=&&&&"), "syntax"),
        (_reframed(b"ST=32;CN=2011;MN=M1;Flag=x;CP=&&&&"), "syntax"),
    ],
)
def test_refusals_have_the_right_reason(data: bytes, reason: str) -> None:
    assert _refused(data).reason == reason


def test_a_crc_refusal_says_both_crcs() -> None:
    error = _refused(STANDARD.replace(b"1C80", b"0759"))
    assert (error.crc_expected, error.crc_sent) == ("1C80", "0759")


def test_split_packet_parts() -> None:
    parts = [
        parse_frame(build(qn="1", st="31", cn="2051", mn="M1", flag=7, pnum=2, pno=n, cp=""))
        for n in (1, 2)
    ]
    assert [(p.is_split, p.pnum, p.pno, p.answer_required) for p in parts] == [
        (True, 2, 1, True),
        (True, 2, 2, True),
    ]


def test_edition_from_flag_version_bits() -> None:
    assert parse_frame(build(cn="2011", mn="M1", flag=1)).edition == 2005
    assert parse_frame(build(cn="2011", mn="M1", flag=4)).edition == 2017
    assert parse_frame(build(cn="2011", mn="M1")).edition == 2017  # no Flag, 2017 codes


# The splitter --------------------------------------------------------------------------


def _frames(chunks: list[bytes]) -> list[bytes | str]:
    splitter = FrameSplitter()
    out: list[bytes | str] = []
    for chunk in chunks:
        out += [i.reason if isinstance(i, PacketError) else i for i in splitter.feed(chunk)]
    return out


def test_split_across_reads_and_joined_in_one() -> None:
    stream = b"".join([STANDARD, *ANNEX_C, AMBIENT])
    expected = [p[:-2] for p in (STANDARD, *ANNEX_C, AMBIENT)]
    assert _frames([stream]) == expected
    assert _frames([stream[i : i + 1] for i in range(len(stream))]) == expected


@given(st.lists(st.integers(0, len(STANDARD) * 3), max_size=8))
def test_any_cut_gives_the_same_frames(cuts: list[int]) -> None:
    stream = STANDARD + ANNEX_C[0] + ANNEX_C[2]
    points = sorted({0, len(stream), *cuts})
    chunks = [stream[a:b] for a, b in itertools.pairwise(points)]
    assert _frames(chunks) == [STANDARD[:-2], ANNEX_C[0][:-2], ANNEX_C[2][:-2]]


def test_garbage_between_packets_resyncs_on_the_next_hash() -> None:
    stream = b"\x00\x17noise" + STANDARD + b"junk\r\n" + b"xx" + ANNEX_C[0] + b"\r\n"
    assert _frames([stream]) == ["framing", STANDARD[:-2], "framing", "framing", ANNEX_C[0][:-2]]


def test_a_truncated_packet_before_the_next() -> None:
    stream = STANDARD[:40] + ANNEX_C[0]
    assert _frames([stream]) == ["length", ANNEX_C[0][:-2]]


def test_oversized_declared_or_without_crlf() -> None:
    assert _frames([b"##2000QN=1;"]) == ["oversized"]
    assert _frames([b"x" * 1100]) == ["oversized"]
    splitter = FrameSplitter()
    assert [e.reason for e in splitter.feed(b"##0100" + b"a" * 1100)] == ["oversized"]
    assert list(splitter.feed(b"more of it\r\n" + STANDARD)) == [STANDARD[:-2]]  # line dropped
    assert splitter.pending == 0
