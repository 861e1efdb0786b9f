"""An enterprise's production and pollution-control lines, metered for the cut's verification.

Cities meter the production lines and the pollution-control lines of an enterprise separately
(分表计电) and read the meters through HJ 212 data loggers. A :class:`Line` names the logger
(its MN) and the *channel* (the data item's code in that logger's packets) that carries the
line's active power [kW], e.g. ``e101`` for ``e101-Rtd=812.4``. HJ 212-2017 has no
power-monitoring codes; HJ 212-2025 names a power item after the facility it meters, so the
code is the site's own: the sample writes ``e1NN`` for production and ``e2NN`` for control
lines (``e`` for electricity, clear of the ``a``/``w`` pollutant codes of Table B.2; see
``docs/compliance-sample.md``). Validation only asks for a well-formed item code.

Lines hold whatever they were given (a rated power that is not a number is kept) so that
:func:`line_problems` reports every bad field at once, with the codes of
:data:`LINE_MESSAGES`; :func:`channel_clashes` checks a whole list.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emission_list.cells import number
from emission_list.i18n import Text, text

#: Kinds of line: what it does, and how the compliance check treats it.
PRODUCTION, CONTROL = "production", "control"
LINE_KINDS: tuple[str, ...] = (PRODUCTION, CONTROL)
#: A logger's MN: nominally 24 characters (HJ 212-2017 6.3.2); real devices send shorter ids.
MN_PATTERN = re.compile(r"[0-9A-Za-z]{1,24}")
#: An HJ 212 data item's code: letters and digits (no ``-``, which joins the value's kind).
CHANNEL_PATTERN = re.compile(r"[A-Za-z][0-9A-Za-z]{0,15}")


def _text_of(value: object, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping | list | tuple | set):
        raise TypeError(f"line {name} must be text, not {type(value).__name__}")
    return str(value).strip()


def _serves(value: object) -> tuple[str, ...]:
    """Line ids from a list, or from one text separated by commas or spaces."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part for part in re.split(r"[,，\s]+", value) if part)
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise TypeError(f"serves must be a list of line ids, not {type(value).__name__}")
    return tuple(_text_of(v, "serves") for v in value)


@dataclass(frozen=True)
class Line:
    """A production or pollution-control line of an enterprise and the meter that reads it.

    Attributes
    ----------
    line_id
        Short id, unique within the entry (e.g. ``"P1"``).
    kind
        ``"production"`` or ``"control"`` (:data:`LINE_KINDS`).
    name, name_en
        Name (Chinese) and in English ('' when none).
    rated_kw
        Rated active power [kW], > 0.
    logger
        MN of the data logger whose packets carry the line's power.
    channel
        Item code of the line's active power [kW] in that logger's packets (``e101`` for
        ``e101-Rtd=...``); one line per logger and channel across the list.
    serves
        For a control line: ids of the production lines of the same entry it treats; empty
        for a production line.
    """

    line_id: str
    kind: str
    name: str
    name_en: str
    rated_kw: float
    logger: str
    channel: str
    serves: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("line_id", "kind", "name", "name_en", "logger", "channel"):
            object.__setattr__(self, name, _text_of(getattr(self, name), name))
        object.__setattr__(self, "kind", self.kind.lower())
        object.__setattr__(self, "rated_kw", number(self.rated_kw))
        object.__setattr__(self, "serves", _serves(self.serves))

    @property
    def is_control(self) -> bool:
        return self.kind == CONTROL

    def to_dict(self) -> dict[str, Any]:
        """JSON form, every field."""
        return {
            "line_id": self.line_id,
            "kind": self.kind,
            "name": self.name,
            "name_en": self.name_en,
            "rated_kw": self.rated_kw,
            "logger": self.logger,
            "channel": self.channel,
            "serves": list(self.serves),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Line:
        """Read the JSON form; a field left out is empty (and reported by validation)."""
        if not isinstance(data, Mapping):
            raise TypeError(f"a line must be an object, not {type(data).__name__}")
        return cls(
            line_id=data.get("line_id"),  # type: ignore[arg-type]
            kind=data.get("kind"),  # type: ignore[arg-type]
            name=data.get("name"),  # type: ignore[arg-type]
            name_en=data.get("name_en"),  # type: ignore[arg-type]
            rated_kw=data.get("rated_kw"),  # type: ignore[arg-type]
            logger=data.get("logger"),  # type: ignore[arg-type]
            channel=data.get("channel"),  # type: ignore[arg-type]
            serves=data.get("serves"),  # type: ignore[arg-type]
        )


def read_lines(value: object) -> tuple[Line, ...]:
    """An entry's lines from a list of :class:`Line` or of their JSON objects (None: none).

    Raises
    ------
    TypeError
        When ``value`` is not a list, or an item is not an object.
    """
    if value is None:
        return ()
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise TypeError(f"lines must be a list of line objects, not {type(value).__name__}")
    return tuple(v if isinstance(v, Line) else Line.from_dict(v) for v in value)


#: Bilingual message templates of the lines' validation codes (merged into the list's).
LINE_MESSAGES: Mapping[str, Text] = {
    "line.id_empty": text("第 {position} 条产线缺少编号", "Line {position} has no line id"),
    "line.id_duplicate": text(
        "产线编号 {value} 重复（企业内应唯一）",
        "Duplicate line id {value} (ids are unique within an entry)",
    ),
    "line.kind": text(
        "产线 {line} 的类型 {value} 无效（应为 production 生产线或 control 治污线）",
        "Line {line} has kind {value}; use production or control",
    ),
    "line.name_empty": text("产线 {line} 缺少名称", "Line {line} has no name"),
    "line.rated_kw": text(
        "产线 {line} 的额定功率应为大于 0 的数值（kW），实为 {value}",
        "The rated power of line {line} must be a number above 0 [kW], not {value}",
    ),
    "line.logger": text(
        "产线 {line} 的数采仪编号（MN）{value} 无效（1–24 位字母或数字）",
        "Line {line} names logger MN {value}; use 1 to 24 letters or digits",
    ),
    "line.channel": text(
        "产线 {line} 的监测因子编码 {value} 无效（字母开头，字母或数字，至多 16 位）",
        "Line {line} has channel code {value}; use a letter, then letters or digits (16 at most)",
    ),
    "line.serves_unknown": text(
        "治污线 {line} 对应的 {value} 不是本企业的生产线",
        "Control line {line} serves {value}, which is not a production line of this entry",
    ),
    "line.serves_nothing": text(
        "治污线 {line} 未指明对应的生产线",
        "Control line {line} serves no production line",
    ),
    "line.serves_on_production": text(
        "生产线 {line} 不应指明对应产线（仅治污线需要）",
        "Production line {line} serves nothing: only control lines name the lines they treat",
    ),
    "line.channel_taken": text(
        "数采仪 {logger} 的因子 {channel} 已用于第 {first} 条企业的产线 {other}",
        "Channel {channel} of logger {logger} already meters line {other} of entry {first}",
    ),
}

#: One problem of a line: ``(field path, code, message parameters)``.
LineProblem = tuple[str, str, dict[str, object]]


def _positive_finite(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def line_problems(lines: Sequence[Line]) -> list[LineProblem]:
    """Every bad field of an entry's lines (paths ``lines.<position>.<field>``)."""
    found: list[LineProblem] = []
    seen: set[str] = set()
    production = {line.line_id for line in lines if line.kind == PRODUCTION and line.line_id}
    for i, line in enumerate(lines):
        label = line.line_id or f"#{i + 1}"
        bad: list[tuple[str, str, dict[str, object]]] = []
        if not line.line_id:
            bad.append(("line_id", "line.id_empty", {"position": i + 1}))
        elif line.line_id in seen:
            bad.append(("line_id", "line.id_duplicate", {"value": line.line_id}))
        seen.add(line.line_id)
        if line.kind not in LINE_KINDS:
            bad.append(("kind", "line.kind", {"value": line.kind}))
        if not line.name:
            bad.append(("name", "line.name_empty", {}))
        if not _positive_finite(line.rated_kw):
            bad.append(("rated_kw", "line.rated_kw", {"value": line.rated_kw}))
        if not MN_PATTERN.fullmatch(line.logger):
            bad.append(("logger", "line.logger", {"value": line.logger}))
        if not CHANNEL_PATTERN.fullmatch(line.channel):
            bad.append(("channel", "line.channel", {"value": line.channel}))
        if line.kind == CONTROL and not line.serves:
            bad.append(("serves", "line.serves_nothing", {}))
        if line.kind == CONTROL:
            unknown = [s for s in line.serves if s not in production]
            bad.extend(("serves", "line.serves_unknown", {"value": s}) for s in unknown)
        elif line.kind == PRODUCTION and line.serves:
            bad.append(("serves", "line.serves_on_production", {}))
        found.extend((f"lines.{i}.{name}", code, {"line": label, **p}) for name, code, p in bad)
    return found


def channel_clashes(
    lines_by_entry: Iterable[Sequence[Line]],
) -> list[tuple[int, str, str, dict[str, object]]]:
    """Lines metered by a logger channel an earlier line already uses, across a whole list.

    Returns ``(entry index, field path, code, parameters)`` for each later line; ``first`` in
    the parameters counts entries from 1, as people do.
    """
    first: dict[tuple[str, str], tuple[int, str]] = {}
    found: list[tuple[int, str, str, dict[str, object]]] = []
    for index, lines in enumerate(lines_by_entry):
        for i, line in enumerate(lines):
            if not line.logger or not line.channel:
                continue  # reported as a bad field
            key = (line.logger, line.channel)
            if key in first:
                owner, other = first[key]
                params = {"logger": line.logger, "channel": line.channel}
                params |= {"first": owner + 1, "other": other}
                found.append((index, f"lines.{i}.channel", "line.channel_taken", params))
            else:
                first[key] = (index, line.line_id or f"#{i + 1}")
    return found
