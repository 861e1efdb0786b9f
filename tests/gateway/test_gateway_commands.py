"""``haze hj212 check`` on a file of good and bad packets; ``haze hj212 send`` to a gateway."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from gateway_helpers import ListSink, running

from service.commands import hj212
from service.commands.cli import main
from service.hj212.packet import parse_frame
from tests.infra.loggers import MN, PW, minute

GOOD = (
    b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
    b"CP=&&RtdInterval=30&&1C80"
)
CEMS_2005 = (
    b"##0148ST=31;CN=2011;PW=123456;MN=LD130102000412;CP=&&DataTime=20160823235000000;"
    b"03-Rtd=39.834,03-Flag=N;03-ZsRtd=37.114,03-Flag=N;S01-Rtd=4.8,S01-Flag=N&&1a40"
)


def _check(tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "packets.txt"
    path.write_bytes(content)
    status = main(["hj212", "check", str(path)])
    return status, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_check_reports_each_packet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad_crc = GOOD[:-4] + b"0759"
    status, lines = _check(
        tmp_path, b"\n".join([GOOD, CEMS_2005, bad_crc, b"##0100" + GOOD[6:]]) + b"\n", capsys
    )
    assert status == 1
    assert [(x["index"], x["valid"], x["reason"]) for x in lines] == [
        (0, True, None), (1, True, None), (2, False, "crc"), (3, False, "length"),
    ]  # fmt: skip
    first, cems, crc = lines[0], lines[1], lines[2]
    assert first["packet"]["cn_name"]["en"] == "set real-time interval"
    assert first["packet"]["fields"] == {"RtdInterval": "30"}
    assert (
        cems["packet"]["edition"] == 2005 and cems["packet"]["data_time"] == "2016-08-23T23:50:00"
    )
    assert cems["packet"]["values"]["a21002"]["ZsRtd"] == "37.114"
    assert (crc["crc_expected"], crc["crc_sent"], crc["packet"]["mn"]) == (
        "1C80",
        "0759",
        "010000A8900016F000169DC0",
    )


def test_check_all_valid_with_crlf_and_split_frames(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = GOOD + b"\r\n" + CEMS_2005 + b"\r\n"
    status, lines = _check(tmp_path, stream, capsys)
    assert status == 0 and [x["valid"] for x in lines] == [True, True]


def test_check_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hj212", "check", str(tmp_path / "missing.txt")]) == 2
    with pytest.raises(SystemExit) as caught:
        main(["hj212", "check"])
    assert caught.value.code == 2
    assert main(["hj212", "send", "--to", "nowhere", "--generate", "3", "--mn", "M"]) == 2


async def test_send_replays_and_counts_answers() -> None:
    sink = ListSink()
    async with running(sink) as (gateway, _):
        frames = [minute(1), minute(2, pw="wrong"), minute(3, flag=4)]
        summary = await hj212.send("127.0.0.1", gateway.port, frames, timeout_s=30)
    assert summary == {
        "sent": 3, "attempts": 3, "answered": 1, "unanswered": 0, "not_asked": 1,
        "invalid": 0, "refused": {"9011 QnRtn=3": 1},
    }  # fmt: skip
    assert [p.qn[-1] for p in sink.packets] == ["1", "3"]


async def test_send_retries_when_no_answer_comes() -> None:
    sink = ListSink()
    sink.fail = 1  # the first attempt is not acknowledged: the logger side resends
    async with running(sink) as (gateway, _):
        summary = await hj212.send("127.0.0.1", gateway.port, [minute(1)], timeout_s=0.5)
    assert (summary["attempts"], summary["answered"], summary["unanswered"]) == (2, 1, 0)
    assert len(sink.packets) == 1


async def test_generated_packets_are_accepted() -> None:
    sink = ListSink()
    frames = list(hj212.generated(6, [(MN, PW)]))
    assert {parse_frame(f).cn for f in frames} == {"2051"}
    async with running(sink) as (gateway, _):
        summary = await hj212.send("127.0.0.1", gateway.port, frames, timeout_s=30)
    assert summary["answered"] == 6 and len(sink.packets) == 6
    assert len({p.data_time for p in sink.packets}) == 6  # a minute apart
    assert sink.packets[0].values["a19001"] == {"Avg": "9.5", "Flag": "N"}


def test_check_reads_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(GOOD + b"\n")))
    out = io.StringIO()
    assert hj212.check("-", out) == 0
    assert json.loads(out.getvalue())["valid"] is True
