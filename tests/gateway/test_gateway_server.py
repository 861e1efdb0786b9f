"""The gateway over real sockets on 127.0.0.1, with a dict directory and a list sink."""

from __future__ import annotations

import asyncio

from gateway_helpers import ListSink, counted, running, until

from service.gateway.directory import Registration, password_hash
from service.hj212.build import build, frame
from service.hj212.crc import crc_hex
from tests.infra.loggers import MN, OTHER_MN, OTHER_PW, PW, Logger, minute


async def test_split_packets_and_several_in_one_read_are_answered_in_order() -> None:
    sink = ListSink()
    async with running(sink) as (gateway, metrics):
        logger = await Logger.connect(gateway.port)
        first = minute(1)
        for i in range(len(first)):  # one byte per write
            await logger.send(first[i : i + 1])
        assert (await logger.answer()).qn == "20240115101000001"
        await logger.send(minute(2) + minute(3) + minute(4))  # three in one write
        answers = [await logger.answer() for _ in range(3)]
        logger.close()
    assert [(a.cn, a.st, a.flag, a.mn) for a in answers] == [("9014", "91", 4, MN)] * 3
    assert [a.qn for a in answers] == [f"20240115101000{n:03d}" for n in (2, 3, 4)]
    assert [p.qn[-1] for p in sink.packets] == ["1", "2", "3", "4"]
    assert sink.packets[0].values["a21026"] == {"Avg": "1.5", "Flag": "N"}
    assert counted(metrics, "accepted") == 4


async def test_answered_only_after_the_sink_returned() -> None:
    sink = ListSink()
    sink.hold = asyncio.Event()
    async with running(sink) as (gateway, _):
        logger = await Logger.connect(gateway.port)
        await logger.send(minute(1))
        await sink.entered.wait()
        await asyncio.sleep(0)  # let the loop write anything it would have written
        assert logger.nothing_received() and sink.packets == []
        sink.hold.set()
        answer = await logger.answer()
        assert answer.cn == "9014" and len(sink.packets) == 1
        logger.close()


async def test_no_answer_when_the_sink_fails_and_the_connection_stays() -> None:
    sink = ListSink()
    sink.fail = 1
    async with running(sink) as (gateway, metrics):
        logger = await Logger.connect(gateway.port)
        await logger.send(minute(1))
        await until(lambda: counted(metrics, "sink_failures") == 1, "the sink failed")
        await logger.send(minute(2))  # the logger goes on (and would resend 1 after 10 s)
        answer = await logger.answer()
        logger.close()
    assert answer.qn == "20240115101000002"  # the failed packet got no 9014
    assert [p.qn for p in sink.packets] == ["20240115101000002"]
    assert counted(metrics, "unanswered") == 1


async def test_refusals_are_counted_by_reason_and_answered_where_the_standard_says() -> None:
    sink = ListSink()
    good = minute(9)
    bad_crc = good[:-6] + (b"0000" if good[-6:-2] != b"0000" else b"0001") + b"\r\n"
    async with running(sink) as (gateway, metrics):
        logger = await Logger.connect(gateway.port)
        await logger.send(bad_crc)  # 9011 QnRtn=9
        await logger.send(minute(1, mn="UNKNOWN"))  # 9011 QnRtn=4
        await logger.send(minute(2, pw="wrong"))  # 9011 QnRtn=3
        await logger.send(minute(3, pw="wrong", flag=4))  # no answer asked: none
        await logger.send(b"##0100" + good[6:])  # length: no answer (not parseable)
        await logger.send(frame("ST=31;MN=MN0001;PW=secret-1;Flag=5;CP=&&&&"))  # syntax: no CN
        await logger.send(b"garbage\r\n")  # framing
        segment = b"CN=2051;MN=\xff\xfe;CP=&&&&"
        await logger.send(b"##%04d%b%s\r\n" % (len(segment), segment, crc_hex(segment).encode()))
        await logger.send(build(qn="5", cn="7777", mn=MN, pw=PW, flag=5))  # unknown CN
        await logger.send(good)
        answers = [await logger.answer() for _ in range(5)]
        logger.close()
    assert [(a.cn, a.fields.get("QnRtn")) for a in answers] == [
        ("9011", "9"),
        ("9011", "4"),
        ("9011", "3"),
        ("9011", "8"),
        ("9014", None),
    ]
    assert answers[1].mn == "UNKNOWN"
    reasons = ("crc", "unknown_mn", "password", "length", "syntax", "framing", "encoding", "cn")
    assert {r: counted(metrics, "refused", reason=r) for r in reasons} == {
        "crc": 1, "unknown_mn": 1, "password": 2, "length": 1,
        "syntax": 1, "framing": 1, "encoding": 1, "cn": 1,
    }  # fmt: skip
    assert [p.qn for p in sink.packets] == ["20240115101000009"]  # never the refused ones


async def test_commands_heartbeats_and_answers_from_a_logger() -> None:
    sink = ListSink()
    async with running(sink) as (gateway, _):
        logger = await Logger.connect(gateway.port)
        await logger.send(
            build(qn="1", st="32", cn="1062", pw=PW, mn=MN, flag=5, cp="RtdInterval=30")
        )
        await logger.send(build(qn="2", st="91", cn="9014", pw=PW, mn=MN, flag=4))  # not answered
        await logger.send(build(qn="3", st="31", cn="9015", pw=PW, mn=MN, flag=5))  # heartbeat
        await logger.send(build(qn="4", st="31", cn="1013", pw=PW, mn=MN, flag=5))  # clock
        await logger.send(minute(5))
        answers = [await logger.answer() for _ in range(5)]
        logger.close()
    assert [(a.cn, a.qn) for a in answers[:3]] == [("9011", "1"), ("9014", "3"), ("9011", "4")]
    assert answers[0].fields == {"QnRtn": "2"} and answers[2].fields == {"QnRtn": "1"}
    assert answers[3].cn == "1012" and len(answers[3].fields["SystemTime"]) == 14
    assert answers[4].cn == "9014" and answers[4].qn == "20240115101000005"
    assert [p.cn for p in sink.packets] == ["2051"]  # only data reach the sink


async def test_packets_without_answer_flag_are_stored_unanswered() -> None:
    sink = ListSink()
    async with running(sink) as (gateway, _):
        logger = await Logger.connect(gateway.port)
        await logger.send(minute(1, flag=None) + minute(2, flag=4) + minute(3))
        answer = await logger.answer()
        logger.close()
    assert answer.qn == "20240115101000003"
    assert [p.qn[-1] for p in sink.packets] == ["1", "2", "3"]


async def test_each_connections_order_is_kept_across_batches() -> None:
    sink = ListSink()
    async with running(sink, gateway_batch=7) as (gateway, metrics):
        one, two = await Logger.connect(gateway.port), await Logger.connect(gateway.port)
        await asyncio.gather(
            one.send(b"".join(minute(n) for n in range(50))),
            two.send(b"".join(minute(n, mn=OTHER_MN, pw=OTHER_PW) for n in range(50))),
        )
        answers = [await one.answer() for _ in range(50)], [await two.answer() for _ in range(50)]
        one.close(), two.close()
    qns = [f"20240115101000{n:03d}" for n in range(50)]
    assert [a.qn for a in answers[0]] == qns and [a.qn for a in answers[1]] == qns
    assert [p.qn for p in sink.packets if p.mn == MN] == qns
    assert [p.qn for p in sink.packets if p.mn == OTHER_MN] == qns
    assert max(len(b) for b in sink.batches) <= 7
    assert counted(metrics, "accepted") == 100


async def test_idle_connections_are_closed() -> None:
    async with running(ListSink(), gateway_idle_s=0.2) as (gateway, metrics):
        logger = await Logger.connect(gateway.port)
        await logger.send(minute(1))
        assert (await logger.answer()).cn == "9014"
        assert await logger.closed_by_gateway()
        logger.close()
        assert counted(metrics, "connections_closed", reason="idle") == 1


async def test_oversized_packets_and_long_garbage_close_the_connection() -> None:
    sink = ListSink()
    async with running(sink) as (gateway, metrics):
        declared = await Logger.connect(gateway.port)
        await declared.send(b"##2000QN=1;ST=31;CN=2051;")
        garbage = await Logger.connect(gateway.port)
        await garbage.send(b"x" * 3000)
        assert await declared.closed_by_gateway() and await garbage.closed_by_gateway()
        declared.close(), garbage.close()
        assert counted(metrics, "connections_closed", reason="oversized") == 2
        assert counted(metrics, "refused", reason="oversized") == 2
    assert sink.packets == []


async def test_connections_beyond_the_limit_are_closed_at_once() -> None:
    async with running(ListSink(), gateway_max_connections=2) as (gateway, metrics):
        loggers = [await Logger.connect(gateway.port) for _ in range(2)]
        for n, logger in enumerate(loggers):  # both are held once each got an answer
            await logger.send(minute(n))
            assert (await logger.answer()).cn == "9014"
        third = await Logger.connect(gateway.port)
        assert await third.closed_by_gateway()
        assert counted(metrics, "connections_closed", reason="limit") == 1
        await loggers[0].send(minute(7))
        assert (await loggers[0].answer()).qn.endswith("007")  # the held ones still work
        for logger in [*loggers, third]:
            logger.close()


async def test_stop_flushes_what_the_collector_holds() -> None:
    sink = ListSink()
    async with running(sink, gateway_flush_ms=600_000.0, gateway_batch=1000) as (gateway, _):
        logger = await Logger.connect(gateway.port)
        await logger.send(minute(1) + minute(2) + minute(3))
        await until(lambda: gateway.held == 3, "the collector holds the three packets")
        assert sink.packets == []
        await gateway.stop()
        answers = [await logger.answer() for _ in range(3)]
        assert await logger.closed_by_gateway()
        logger.close()
    assert [a.qn[-1] for a in answers] == ["1", "2", "3"]
    assert len(sink.packets) == 3


async def test_a_remembered_password_lets_no_other_one_in_and_a_new_registration_checks_again() -> (
    None
):
    sink = ListSink()
    async with running(sink) as (gateway, metrics):
        logger = await Logger.connect(gateway.port)
        await logger.send(minute(1))
        assert (await logger.answer()).cn == "9014"
        await logger.send(minute(2, pw="secret-x"))  # right before, wrong now
        assert (await logger.answer()).fields == {"QnRtn": "3"}
        gateway.directory.add(Registration(MN, "cems", "E1", password_hash("secret-new")))
        await logger.send(minute(3))  # the old password, once right, no longer is
        assert (await logger.answer()).fields == {"QnRtn": "3"}
        await logger.send(minute(4, pw="secret-new"))
        assert (await logger.answer()).cn == "9014"
        logger.close()
    assert [p.qn[-1] for p in sink.packets] == ["1", "4"]
    assert counted(metrics, "refused", reason="password") == 2
