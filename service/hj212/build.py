"""Building HJ 212 packets (length and CRC computed) and the centre's replies: 9014 data
answer, 9011 request answer (QnRtn), 9012 execution result (ExeRtn). The gateway, the
simulator, ``haze hj212 send`` and the tests use these. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from service.hj212.crc import crc16
from service.hj212.packet import MAX_SEGMENT, Packet

ST_SYSTEM = "91"  # system interaction: the ST of every answer


def frame(segment: str) -> bytes:
    """``##`` + length + segment + CRC + CRLF; the length counts the segment's UTF-8 bytes."""
    body = segment.encode("utf-8")
    if len(body) > MAX_SEGMENT:
        raise ValueError(f"a data segment holds at most {MAX_SEGMENT} bytes, not {len(body)}")
    return b"##%04d%b%04X\r\n" % (len(body), body, crc16(body))


def build_cp(
    fields: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """The inside of ``CP=&&…&&``: the fields, then one ``;`` group per code whose items
    (``code-suffix=value``) are joined by ``,``."""
    groups = [f"{name}={value}" for name, value in (fields or {}).items()]
    groups += [
        ",".join(f"{code}-{suffix}={value}" for suffix, value in items.items())
        for code, items in (values or {}).items()
    ]
    return ";".join(groups)


def segment_of(
    *,
    cn: str,
    mn: str,
    cp: str = "",
    qn: str | None = None,
    st: str | None = None,
    pw: str | None = None,
    flag: int | None = None,
    pnum: int | None = None,
    pno: int | None = None,
) -> str:
    """A data segment with its fields in the standard's order; None fields are left out."""
    header = (
        ("QN", qn), ("ST", st), ("CN", cn), ("PW", pw), ("MN", mn),
        ("Flag", flag), ("PNUM", pnum), ("PNO", pno),
    )  # fmt: skip
    head = "".join(f"{name}={value};" for name, value in header if value is not None)
    return f"{head}CP=&&{cp}&&"


def build(**fields: object) -> bytes:
    """A framed packet: :func:`segment_of`'s arguments."""
    return frame(segment_of(**fields))  # type: ignore[arg-type]


def _answer_flag(request: Packet) -> int:
    """The request's version bits, no answer asked, not split: 4 for a 2017 logger."""
    version = (request.flag >> 2) if request.flag is not None else (request.edition == 2017)
    return int(version) << 2


def _answer(request: Packet, cn: str, cp: str) -> bytes:
    return frame(
        segment_of(
            qn=request.qn,
            st=ST_SYSTEM,
            cn=cn,
            pw=request.pw,
            mn=request.mn,
            flag=_answer_flag(request),
            cp=cp,
        )
    )


def data_answer(request: Packet) -> bytes:
    """9014: the data were received (same QN, ST=91, Flag=4, ``CP=&&&&``)."""
    qn, pw = request.qn, request.pw
    if qn is None or pw is None:
        return _answer(request, "9014", "")
    # The gateway's answer to nearly every packet: one formatting instead of the general path.
    body = _DATA_ANSWER % (
        qn.encode("utf-8"),
        pw.encode("utf-8"),
        request.mn.encode("utf-8"),
        _answer_flag(request),
    )
    return b"##%04d%b%04X\r\n" % (len(body), body, crc16(body))


_DATA_ANSWER = b"QN=%b;ST=" + ST_SYSTEM.encode() + b";CN=9014;PW=%b;MN=%b;Flag=%d;CP=&&&&"


def request_answer(request: Packet, qn_rtn: int) -> bytes:
    """9011 with ``QnRtn`` (1 ready, 2 refused, 3 wrong PW, 4 wrong MN, 9 wrong CRC, ...)."""
    return _answer(request, "9011", f"QnRtn={qn_rtn}")


def execution_result(request: Packet, exe_rtn: int) -> bytes:
    """9012 with ``ExeRtn`` (1 done, 2 failed, 3 bad condition, ..., 100 no data)."""
    return _answer(request, "9012", f"ExeRtn={exe_rtn}")


def qn_of(moment: dt.datetime) -> str:
    """A QN (request id): the time to the millisecond, YYYYMMDDhhmmsszzz."""
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def set_time(request: Packet, local_now: dt.datetime) -> bytes:
    """1012 (set the logger's clock) to ``local_now`` (naive, the logger's local time), in
    answer to a 1013 calibration request; the logger answers 9011 and 9012 (ignored)."""
    return frame(
        segment_of(
            qn=qn_of(local_now),
            st=request.st,
            cn="1012",
            pw=request.pw,
            mn=request.mn,
            flag=_answer_flag(request) | 1,
            cp=f"SystemTime={local_now.strftime('%Y%m%d%H%M%S')}",
        )
    )
