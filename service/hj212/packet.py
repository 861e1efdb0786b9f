"""Parsing HJ 212 packets: ``##`` + 4-digit length + data segment + CRC + CRLF.

Strict where it matters (framing, length, CRC, UTF-8, the fields the gateway needs: CN, MN,
CP, DataTime, PNUM/PNO), lenient where real loggers are: no QN, no Flag (2005 loggers),
lower-case CRC hex, 2005 pollutant codes (mapped to 2017 ones, the original kept), blanks
around names and values. The declared length counts the segment's bytes (UTF-8). Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from emission_list.i18n import Text
from service.hj212.cp import CpValues, Reading, parse_cp
from service.hj212.crc import crc16

MAX_SEGMENT = 1024  # bytes of a data segment (the standard's 0-1024)
#: A frame is ``##`` + 4 + segment + 4 + CRLF; a line longer than this is oversized.
MAX_FRAME = 2 + 4 + MAX_SEGMENT + 4

#: Flag bits: A = answer required, D = split packet; the version sits above them.
FLAG_ANSWER, FLAG_SPLIT = 1, 2

#: PacketError.reason -> text for people (docs/hj212.md has the same table).
REASONS: Mapping[str, Text] = MappingProxyType(
    {
        "framing": {
            "zh-CN": "包头、包长或包尾不符合 ##dddd…CRC\\r\\n",
            "en": "not framed as ##dddd…CRC\\r\\n",
        },
        "length": {
            "zh-CN": "声明的数据段长度与实际不符",
            "en": "declared length differs from the segment",
        },
        "oversized": {"zh-CN": "数据段超过 1024 字节", "en": "data segment longer than 1024 bytes"},
        "crc": {"zh-CN": "CRC 校验错误", "en": "wrong CRC"},
        "encoding": {"zh-CN": "数据段不是 UTF-8", "en": "data segment is not UTF-8"},
        "syntax": {"zh-CN": "数据段字段错误", "en": "malformed data segment"},
    }
)


class PacketError(Exception):
    """A refused packet: ``reason`` is a key of :data:`REASONS`, ``detail`` says what."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        crc_expected: str | None = None,
        crc_sent: str | None = None,
        segment: str | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.crc_expected = crc_expected
        self.crc_sent = crc_sent
        self.segment = segment  # decoded, when it was: lets a refusal be answered (9011)


@dataclass(frozen=True)
class Packet:
    segment: str  # the data segment as received (UTF-8 decoded)
    qn: str | None
    st: str | None
    cn: str
    pw: str | None
    mn: str
    flag: int | None
    pnum: int | None
    pno: int | None
    edition: int  # 2017 or 2005 (the Flag's version bits; no Flag: 2005 if 2005 codes)
    data_time: dt.datetime | None  # naive, the logger's local time
    fields: Mapping[str, str]  # CP items that are not <code>-<suffix>
    original_codes: Mapping[str, str]  # 2017 code -> code as sent, where mapped
    cp_values: CpValues = field(repr=False, compare=False)

    @cached_property
    def values(self) -> Mapping[str, Mapping[str, str]]:
        """2017 code -> {suffix: raw} (built when first read)."""
        return self.cp_values.mapping()

    def readings(self, suffix: str) -> list[Reading]:
        """Per code: ``(code, <code>-<suffix>, <code>-Zs<suffix>, <code>-Flag)``, None where
        absent; what the sink reads, without building :attr:`values`."""
        return self.cp_values.readings(suffix)

    @property
    def answer_required(self) -> bool:
        return self.flag is not None and bool(self.flag & FLAG_ANSWER)

    @property
    def is_split(self) -> bool:
        return self.flag is not None and bool(self.flag & FLAG_SPLIT)


def parse_frame(frame: bytes) -> Packet:
    """Parse one frame (from ``##`` to the CRC; a trailing CRLF is allowed) or raise."""
    if frame.endswith(b"\r\n"):
        frame = frame[:-2]
    if len(frame) < 10 or frame[:2] != b"##":
        raise PacketError("framing", "a packet is ## + 4-digit length + segment + CRC")
    digits = frame[2:6]
    if not digits.isdigit():
        raise PacketError("framing", f"length {digits!r} is not 4 decimal digits")
    declared = int(digits)
    if declared > MAX_SEGMENT:
        raise PacketError("oversized", f"declared length {declared} > {MAX_SEGMENT}")
    body = frame[6:-4]
    if len(body) != declared:
        raise PacketError("length", f"declared {declared}, segment has {len(body)} bytes")
    crc_sent = frame[-4:].decode("ascii", "replace").upper()
    crc_expected = f"{crc16(body):04X}"
    try:
        segment = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PacketError(
            "encoding", str(exc), crc_expected=crc_expected, crc_sent=crc_sent
        ) from None
    if crc_sent != crc_expected:
        raise PacketError(
            "crc",
            f"sent {crc_sent}, segment gives {crc_expected}",
            crc_expected=crc_expected,
            crc_sent=crc_sent,
            segment=segment,
        )
    return parse_segment(segment)


def parse_segment(segment: str) -> Packet:
    """Parse a data segment (CRC already checked)."""
    start = segment.find("CP=&&")
    if start < 0 or not segment.endswith("&&") or len(segment) < start + 7:
        raise _syntax("CP is not CP=&&…&&", segment)
    header = _header(segment[:start], segment)
    cn, mn = header.get("CN"), header.get("MN")
    if not cn or not mn:
        raise _syntax("no CN" if not cn else "no MN", segment)
    try:
        fields, values, original = parse_cp(segment[start + 5 : -2])
    except ValueError as exc:
        raise _syntax(str(exc), segment) from None
    flag = _int(header, "Flag", segment)
    pnum = _int(header, "PNUM", segment) if "PNUM" in header else None
    pno = _int(header, "PNO", segment) if "PNO" in header else None
    split = flag is not None and flag & FLAG_SPLIT
    if split and (pnum is None or pno is None or not 1 <= pno <= pnum):
        raise _syntax(f"split packet with PNUM={pnum}, PNO={pno}", segment)
    edition = _edition(flag, bool(original))
    data_time = None
    if "DataTime" in fields:
        raw = fields["DataTime"]
        data_time = _TIMES.get(raw)
        if data_time is None:
            data_time = _data_time(raw, segment)
            if len(_TIMES) < _TIMES_MAX:
                _TIMES[raw] = data_time
    packet = _new_packet(Packet)
    packet.__dict__.update(
        segment=segment,
        qn=header.get("QN") or None,
        st=header.get("ST") or None,
        cn=cn,
        pw=header.get("PW"),
        mn=mn,
        flag=flag,
        pnum=pnum,
        pno=pno,
        edition=edition,
        data_time=data_time,
        fields=fields,
        original_codes=original,
        cp_values=values,
    )
    return packet


#: A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (a third
#: of a packet's parse); the parser fills the instance's ``__dict__`` at once instead.
_new_packet = object.__new__


#: DataTime as sent -> datetime: loggers send the same minutes.
_TIMES: dict[str, dt.datetime] = {}
_TIMES_MAX = 20_000
_NOT_SEPARATORS = bytes(b for b in range(256) if b not in b";=")
_ALTERNATING = b"=;" * 520  # more than the fields a segment of 1024 bytes holds


def _header(head: str, segment: str) -> dict[str, str]:
    """The fields before CP; one ``split`` when each is ``name=value;`` without blanks."""
    if (
        head.endswith(";")
        and " " not in head
        and head.encode("utf-8").translate(None, _NOT_SEPARATORS)
        == _ALTERNATING[: 2 * head.count(";")]
    ):
        flat = head[:-1].replace("=", ";").split(";")
        return dict(zip(flat[0::2], flat[1::2]))  # noqa: B905 (as many names as values)
    header: dict[str, str] = {}
    blanks = " " in head
    for item in head.split(";"):
        name, eq, value = item.partition("=")
        if not eq:
            if item.strip():
                raise _syntax(f"field {item!r} has no '='", segment)
            continue
        if blanks:
            name, value = name.strip(), value.strip()
        header[name] = value
    return header


def _edition(flag: int | None, has_2005_codes: bool) -> int:
    """Version bits 000000 = 2005, any other = 2017 (2025 loggers are read as 2017); no
    Flag: 2005 if the packet uses 2005 codes."""
    if flag is None:
        return 2005 if has_2005_codes else 2017
    return 2005 if flag >> 2 == 0 else 2017


def _int(header: dict[str, str], name: str, segment: str) -> int | None:
    raw = header.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise _syntax(f"{name}={raw!r} is not a number", segment)
    return int(raw)


def _data_time(raw: str, segment: str) -> dt.datetime:
    """14 digits (YYYYMMDDhhmmss) or 17 with milliseconds."""
    if raw.isdigit() and len(raw) in (14, 17):
        try:
            moment = dt.datetime(
                int(raw[0:4]), int(raw[4:6]), int(raw[6:8]),
                int(raw[8:10]), int(raw[10:12]), int(raw[12:14]),
            )  # fmt: skip
        except ValueError:
            pass
        else:
            return moment.replace(microsecond=int(raw[14:]) * 1000) if len(raw) == 17 else moment
    raise _syntax(f"DataTime={raw!r} is not YYYYMMDDhhmmss[zzz]", segment)


def _syntax(detail: str, segment: str) -> PacketError:
    return PacketError("syntax", detail, segment=segment)


class FrameSplitter:
    """Cuts a byte stream into frames, fed as bytes arrive.

    ``feed`` yields each complete frame (``##`` up to the CRC, CRLF stripped) or a
    :class:`PacketError`: ``framing`` for bytes before a ``##`` (resync on the next ``##``)
    or a line with no ``##`` at all; ``oversized`` for a declared length over 1024 or more
    than :data:`MAX_FRAME` bytes without CRLF (the rest of that line is dropped). A frame
    ends at the first CRLF: a segment holds none, and a wrong declared length shows as a
    ``length`` error when the frame is parsed.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._discarding = False  # inside an oversized line: drop until CRLF

    @property
    def pending(self) -> int:
        """Bytes held waiting for a CRLF."""
        return len(self._buffer)

    def feed(self, data: bytes) -> Iterator[bytes | PacketError]:
        buffer = self._buffer + data if self._buffer else data
        lines = buffer.split(b"\r\n")
        self._buffer = lines.pop()
        for line in lines:
            if self._discarding:
                self._discarding = False
                continue
            if line[:2] == b"##" and len(line) <= MAX_FRAME and b"##" not in line[2:]:
                yield line  # the hot path: one well-framed packet
                continue
            yield from self._odd_line(line)
        rest = self._buffer
        if self._discarding:
            self._buffer = b""
        elif len(rest) > MAX_FRAME or (
            len(rest) >= 6
            and rest[:2] == b"##"
            and rest[2:6].isdigit()
            and int(rest[2:6]) > MAX_SEGMENT
        ):
            self._buffer = b""
            self._discarding = True
            yield PacketError(
                "oversized", f"{len(rest)} bytes without CRLF or declared > {MAX_SEGMENT}"
            )

    @staticmethod
    def _odd_line(line: bytes) -> Iterator[bytes | PacketError]:
        if not line.strip():
            return  # blank lines between packets are harmless
        start = line.find(b"##")
        if start < 0:
            reason = "oversized" if len(line) > MAX_FRAME else "framing"
            yield PacketError(reason, f"{len(line)} bytes without ##")
            return
        if line[:start].strip():
            yield PacketError("framing", f"{start} bytes before ##")
        pieces = line[start:].split(b"##")[1:]
        for piece in pieces[:-1]:  # a truncated packet followed by another
            yield PacketError("length", f"packet cut after {len(piece) + 2} bytes by the next ##")
        frame = b"##" + pieces[-1]
        if len(frame) > MAX_FRAME:
            yield PacketError("oversized", f"a line of {len(frame)} bytes")
        else:
            yield frame
