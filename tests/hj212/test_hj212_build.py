"""Building packets and replies: the Annex C examples come out byte for byte."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.hj212.build import (
    _answer,
    build,
    build_cp,
    data_answer,
    execution_result,
    request_answer,
    set_time,
)
from service.hj212.packet import parse_frame

REQUEST = dict(
    qn="20160801085857223", st="32", cn="2011", pw="123456", mn="010000A8900016F000169DC0", flag=5
)


def test_annex_c_request_and_replies() -> None:
    request = build(**REQUEST)
    assert request == (
        b"##0087QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;"
        b"Flag=5;CP=&&&&30C0\r\n"
    )
    packet = parse_frame(request)
    assert request_answer(packet, 1) == (
        b"##0094QN=20160801085857223;ST=91;CN=9011;PW=123456;MN=010000A8900016F000169DC0;"
        b"Flag=4;CP=&&QnRtn=1&&1B00\r\n"
    )
    assert data_answer(packet) == (
        b"##0087QN=20160801085857223;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;"
        b"Flag=4;CP=&&&&3240\r\n"
    )


def test_the_standards_example() -> None:
    packet = build(**(REQUEST | {"pw": "100000", "cn": "1062"}), cp="RtdInterval=30")
    assert packet.endswith(b"RtdInterval=30&&1C80\r\n") and packet.startswith(b"##0101")


def test_execution_result_and_set_time_parse_back() -> None:
    packet = parse_frame(build(**REQUEST))
    result = parse_frame(execution_result(packet, 100))
    assert (result.cn, result.fields, result.qn) == ("9012", {"ExeRtn": "100"}, packet.qn)
    clock = parse_frame(set_time(packet, dt.datetime(2024, 1, 2, 3, 4, 5, 678000)))
    assert (clock.cn, clock.fields["SystemTime"], clock.qn) == (
        "1012",
        "20240102030405",
        "20240102030405678",
    )
    assert clock.answer_required


def test_cp_round_trip() -> None:
    values = {"a21026": {"Avg": "12.5", "Flag": "N"}, "a19001": {"Avg": "8.1", "Flag": "M"}}
    cp = build_cp({"DataTime": "20240101120000"}, values)
    packet = parse_frame(build(st="31", cn="2051", mn="M1", flag=5, cp=cp))
    assert packet.values == values and packet.fields == {"DataTime": "20240101120000"}


def test_segment_over_1024_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="1024"):
        build(cn="2011", mn="M1", cp="x=" + "1" * 1100)


@given(
    st.text(alphabet="0123456789", min_size=0, max_size=20),
    st.text(min_size=0, max_size=12).filter(lambda s: not set(s) & set(";,=&\r\n")),
    st.text(min_size=1, max_size=24).filter(lambda s: not set(s) & set(";,=&\r\n")),
    st.sampled_from([None, 0, 1, 4, 5, 9, 13]),  # no split bit: PNUM and PNO not asked
)
def test_the_9014_template_is_the_general_answer(qn: str, pw: str, mn: str, flag) -> None:
    request = parse_frame(build(qn=qn or None, st="31", cn="2051", pw=pw, mn=mn, flag=flag))
    assert data_answer(request) == _answer(request, "9014", "")
