"""``haze hj212 check FILE`` and ``haze hj212 send --to HOST:PORT``.

``check`` parses a file of packets offline (one per line, or frames split anyhow: the bytes go
through the gateway's :class:`~service.hj212.packet.FrameSplitter`; LF line ends count as
CRLF) and writes one JSON line per packet. ``send`` replays packets to a gateway on one
connection, waiting for each answer the packet's Flag asks for (10 s, 3 retries, as the
standard's defaults); its packets come from any iterable of frames, a file's or
:func:`generated` ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from service.hj212 import codes
from service.hj212.build import build, build_cp, qn_of
from service.hj212.crc import crc_hex
from service.hj212.packet import FrameSplitter, Packet, PacketError, parse_frame, parse_segment

ANSWER_TIMEOUT_S = 10.0
RETRIES = 3


def frames_of(data: bytes) -> Iterator[bytes | PacketError]:
    """The frames of a file's bytes (a last line without line end included)."""
    if b"\r\n" not in data:
        data = data.replace(b"\n", b"\r\n")
    if data and not data.endswith(b"\r\n"):
        data += b"\r\n"
    yield from FrameSplitter().feed(data)


def packet_json(packet: Packet) -> dict[str, Any]:
    return {
        "qn": packet.qn,
        "st": packet.st,
        "st_name": codes.SYSTEMS.get(packet.st or ""),
        "cn": packet.cn,
        "cn_name": codes.COMMANDS.get(packet.cn),
        "mn": packet.mn,
        "flag": packet.flag,
        "edition": packet.edition,
        "data_time": packet.data_time.isoformat() if packet.data_time else None,
        "fields": dict(packet.fields),
        "values": {code: dict(items) for code, items in packet.values.items()},
        "original_codes": dict(packet.original_codes),
    }


def check_one(index: int, item: bytes | PacketError) -> dict[str, Any]:
    """One JSON line of ``haze hj212 check``."""
    line: dict[str, Any] = {"index": index, "valid": True, "reason": None, "detail": None}
    line |= {"crc_expected": None, "crc_sent": None, "packet": None}
    error = item if isinstance(item, PacketError) else None
    if error is None:
        assert isinstance(item, bytes)
        try:
            packet = parse_frame(item)
        except PacketError as exc:
            error = exc
        else:
            line["crc_expected"] = line["crc_sent"] = crc_hex(item[6:-4])
            line["packet"] = packet_json(packet)
            return line
    line |= {"valid": False, "reason": error.reason, "detail": error.detail}
    line |= {"crc_expected": error.crc_expected, "crc_sent": error.crc_sent}
    if error.segment is not None:  # a wrong CRC over a readable segment: show what it says
        with contextlib.suppress(PacketError):
            line["packet"] = packet_json(parse_segment(error.segment))
    return line


def check(path: str, out: TextIO | None = None) -> int:
    """0 when every packet is valid, 1 when any is not (or the file holds none)."""
    out = out or sys.stdout
    data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    valid, count = True, 0
    for index, item in enumerate(frames_of(data)):
        line = check_one(index, item)
        valid &= line["valid"]
        count += 1
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return 0 if valid and count else 1


def generated(
    count: int, loggers: list[tuple[str, str]], start: dt.datetime | None = None
) -> Iterator[bytes]:
    """``count`` minute-data packets (CN=2051, ST=31, Flag=5) round the loggers ``(mn,
    password)``, a minute apart per logger, ending at the last whole minute (local time)."""
    if start is None:
        now = dt.datetime.now().replace(second=0, microsecond=0)
        start = now - dt.timedelta(minutes=max(count // max(len(loggers), 1), 1))
    for i in range(count):
        round_, which = divmod(i, len(loggers))
        mn, password = loggers[which]
        at = start + dt.timedelta(minutes=round_)
        values = {
            "a21026": {"Avg": f"{20 + i % 30}.0", "Flag": "N"},
            "a21002": {"Avg": f"{45 + i % 40}.0", "Flag": "N"},
            "a34013": {"Avg": f"{4 + i % 6}.1", "Flag": "N"},
            "a19001": {"Avg": "9.5", "Flag": "N"},
            "a00000": {"Avg": "52.3", "Flag": "N"},
        }
        cp = build_cp({"DataTime": at.strftime("%Y%m%d%H%M%S")}, values)
        qn = qn_of(at + dt.timedelta(milliseconds=i % 1000))
        yield build(qn=qn, st="31", cn="2051", pw=password, mn=mn, flag=5, cp=cp)


async def send(
    host: str,
    port: int,
    frames: Iterable[bytes],
    timeout_s: float = ANSWER_TIMEOUT_S,
    retries: int = RETRIES,
) -> dict[str, Any]:
    """Send each frame, waiting for its answer when its Flag asks (resent ``retries`` times
    after ``timeout_s`` without one); a summary of what the gateway answered."""
    reader, writer = await asyncio.open_connection(host, port)
    summary: dict[str, Any] = {"sent": 0, "attempts": 0, "answered": 0, "unanswered": 0}
    summary |= {"not_asked": 0, "invalid": 0, "refused": {}}
    try:
        for frame in frames:
            try:
                packet = parse_frame(frame)
            except PacketError:
                packet = None
                summary["invalid"] += 1  # sent anyway: the gateway's refusal is the point
            summary["sent"] += 1
            asked = packet is not None and packet.answer_required
            if not asked:
                writer.write(frame if frame.endswith(b"\r\n") else frame + b"\r\n")
                summary["attempts"] += 1
                summary["not_asked"] += 1
                continue
            answer = None
            for _ in range(1 + retries):
                writer.write(frame if frame.endswith(b"\r\n") else frame + b"\r\n")
                summary["attempts"] += 1
                await writer.drain()
                answer = await _answer_to(reader, packet, timeout_s)  # type: ignore[arg-type]
                if answer is not None:
                    break
            if answer is None:
                summary["unanswered"] += 1
            elif answer.cn == "9014":
                summary["answered"] += 1
            else:
                key = f"{answer.cn} QnRtn={answer.fields.get('QnRtn')}"
                summary["refused"][key] = summary["refused"].get(key, 0) + 1
        await writer.drain()
        writer.write_eof()  # then wait for the gateway to close: it read everything
        try:
            while await asyncio.wait_for(reader.read(65536), timeout_s):
                pass
        except TimeoutError:
            pass
    finally:
        writer.close()
    return summary


async def _answer_to(
    reader: asyncio.StreamReader, packet: Packet, timeout_s: float
) -> Packet | None:
    """The 9014 or 9011 answering ``packet`` (same QN), None after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        try:
            line = await asyncio.wait_for(reader.readuntil(b"\r\n"), deadline - loop.time())
        except (TimeoutError, asyncio.IncompleteReadError):
            return None
        try:
            answer = parse_frame(line)
        except PacketError:
            continue
        if answer.cn in ("9014", "9011") and answer.qn == packet.qn:
            return answer


def send_command(
    to: str,
    path: str | None,
    count: int | None,
    loggers: list[tuple[str, str]],
    timeout_s: float,
    out: TextIO | None = None,
    *,
    sample: tuple[int, str] | None = None,
) -> int:
    """0 when every packet that asked for an answer got its 9014. ``sample``: the sample's
    loggers' packets of that many minutes under a warning of that level."""
    out = out or sys.stdout
    host, _, port = to.rpartition(":")
    if path is not None:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        frames: Iterable[bytes] = (item for item in frames_of(data) if isinstance(item, bytes))
    elif sample is not None:
        from service.telemetry.sample_feed import sample_frames

        frames = sample_frames(*sample)
    else:
        frames = generated(count or 0, loggers)
    summary = asyncio.run(send(host or "127.0.0.1", int(port), frames, timeout_s))
    out.write(json.dumps(summary, ensure_ascii=False) + "\n")
    return 1 if summary["unanswered"] or summary["refused"] else 0
