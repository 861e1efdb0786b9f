"""The inside of ``CP=&&…&&``: fields (``DataTime=…``) and values (``<code>-<suffix>=raw``).

Items are separated by ``;`` and ``,`` alike (values are keyed by code, so the groups carry
nothing more); a 2005 code is mapped to its 2017 code, the code as sent kept. Pure.

Why two paths. A logger sends the same item names packet after packet, so a CP whose
separators alternate exactly (``=`` then ``;`` or ``,``) and that has no blanks is cut by one
``split`` and its names looked up as a whole (:class:`Shape`, remembered); its values stay
strings by index (:class:`CpValues`) until asked for, since the gateway's sink reads only a
few of them (:meth:`CpValues.readings`). Everything else (blanks, empty items, an item
without ``=`` or with two) goes item by item (:func:`_parse_items`), which also says what is
wrong. Both give the same fields and values (tests/hj212/test_hj212_cp.py).
"""

from __future__ import annotations

from service.hj212.codes import CODES_2005

#: ``(2017 code, value of <code>-<suffix>, of <code>-Zs<suffix>, of <code>-Flag)``, None
#: where the packet has no such item.
Reading = tuple[str, "str | None", "str | None", "str | None"]

_CODES_2005 = dict(CODES_2005)
#: CP item name -> (2017 code, suffix, code as sent if mapped else None), or None for a field.
_NAMES: dict[str, tuple[str, str, str | None] | None] = {}
_NAMES_MAX = 50_000  # a hostile logger inventing names grows neither cache further
_SHAPES_MAX = 20_000
_NOT_SEPARATORS = bytes(b for b in range(256) if b not in b";,=")
_COMMA = bytes.maketrans(b";", b",")
_ALTERNATING = b"=," * 1_100  # longer than the separators of any segment (1024 bytes)


def _name(name: str) -> tuple[str, str, str | None] | None:
    found = _NAMES.get(name, _NAMES)
    if found is not _NAMES:
        return found  # type: ignore[return-value]
    code, dash, suffix = name.partition("-")
    if not dash:
        found = None
    else:
        mapped = _CODES_2005.get(code)
        found = (mapped, suffix, code) if mapped is not None else (code, suffix, None)
    if len(_NAMES) < _NAMES_MAX:
        _NAMES[name] = found
    return found


class Shape:
    """What a sequence of CP item names means: which are fields, how values group by code."""

    __slots__ = ("_plans", "fields", "groups", "original")

    def __init__(self, names: tuple[str, ...]) -> None:
        fields: list[tuple[str, int]] = []
        groups: dict[str, tuple[list[str], list[int]]] = {}
        original: dict[str, str] = {}
        for index, name in enumerate(names):
            known = _name(name)
            if known is None:
                fields.append((name, index))
                continue
            code, suffix, sent = known
            group = groups.get(code)
            if group is None:
                group = groups[code] = ([], [])
                if sent is not None:
                    original[code] = sent
            group[0].append(suffix)
            group[1].append(index)
        self.fields = tuple(fields)  # (name, index of its value)
        #: (code, its suffixes, the indexes of their values), codes in order of appearance
        self.groups = tuple((code, tuple(s), tuple(i)) for code, (s, i) in groups.items())
        self.original = original
        self._plans: dict[str, tuple[tuple[str, int, int, int], ...]] = {}

    def plan(self, suffix: str) -> tuple[tuple[str, int, int, int], ...]:
        """Per code, the indexes of ``-<suffix>``, ``-Zs<suffix>`` and ``-Flag`` (-1: none)."""
        plan = self._plans.get(suffix)
        if plan is None:
            rows = []
            for code, suffixes, indexes in self.groups:
                where = dict(zip(suffixes, indexes, strict=True))  # a repeated item: the last
                rows.append(
                    (
                        code,
                        where.get(suffix, -1),
                        where.get("Zs" + suffix, -1),
                        where.get("Flag", -1),
                    )
                )
            plan = self._plans[suffix] = tuple(rows)
        return plan


_SHAPES: dict[tuple[str, ...], Shape] = {}


class CpValues:
    """A packet's values: raw strings by index under a :class:`Shape`, or a parsed mapping."""

    __slots__ = ("_mapping", "_raw", "_shape")

    def __init__(
        self,
        shape: Shape | None,
        raw: list[str | None] | None,
        mapping: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self._shape = shape
        self._raw = raw  # ends with None: index -1 reads "no such item"
        self._mapping = mapping

    def mapping(self) -> dict[str, dict[str, str]]:
        """2017 code -> {suffix: raw}, codes and suffixes in order of appearance."""
        if self._mapping is None:
            raw, shape = self._raw, self._shape
            assert raw is not None and shape is not None
            self._mapping = {
                code: dict(zip(suffixes, [raw[i] for i in indexes], strict=True))  # type: ignore[misc]
                for code, suffixes, indexes in shape.groups
            }
        return self._mapping

    def readings(self, suffix: str) -> list[Reading]:
        """Per code in order: its ``-<suffix>``, ``-Zs<suffix>`` and ``-Flag`` values."""
        shape, raw = self._shape, self._raw
        if shape is None or raw is None:
            zs = "Zs" + suffix
            return [
                (code, items.get(suffix), items.get(zs), items.get("Flag"))
                for code, items in self.mapping().items()
            ]
        return [(code, raw[v], raw[z], raw[f]) for code, v, z, f in shape.plan(suffix)]


def parse_cp(cp: str) -> tuple[dict[str, str], CpValues, dict[str, str]]:
    """``(fields, values, original codes)`` of a CP's inside; ValueError says what is wrong."""
    if not cp:
        return {}, CpValues(None, None, {}), {}
    if " " not in cp and "\t" not in cp:
        separators = cp.encode("utf-8").translate(_COMMA, _NOT_SEPARATORS)
        if len(separators) & 1 and separators == _ALTERNATING[: len(separators)]:
            flat: list[str | None] = cp.replace(";", ",").replace("=", ",").split(",")  # type: ignore[assignment]
            names = tuple(flat[0::2])
            shape = _SHAPES.get(names)  # type: ignore[arg-type]
            if shape is None:
                shape = Shape(names)  # type: ignore[arg-type]
                if len(_SHAPES) < _SHAPES_MAX:
                    _SHAPES[names] = shape  # type: ignore[index]
            raw = flat[1::2]
            raw.append(None)
            if len(shape.fields) == 1:  # DataTime, nearly always
                name, index = shape.fields[0]
                fields = {name: raw[index]}
            else:
                fields = {name: raw[index] for name, index in shape.fields}
            return fields, CpValues(shape, raw), dict(shape.original)  # type: ignore[return-value]
    fields, values, original = _parse_items(cp)
    return fields, CpValues(None, None, values), original


def _parse_items(cp: str) -> tuple[dict[str, str], dict[str, dict[str, str]], dict[str, str]]:
    """Item by item: blanks stripped, empty items skipped, an item without ``=`` refused."""
    fields: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    original: dict[str, str] = {}
    blanks = " " in cp or "\t" in cp
    for item in cp.replace(";", ",").split(","):
        name, eq, value = item.partition("=")
        if not eq:
            if item.strip():
                raise ValueError(f"CP item {item!r} has no '='")
            continue
        if blanks:
            name, value = name.strip(), value.strip()
        known = _name(name)
        if known is None:
            fields[name] = value
            continue
        code, suffix, sent = known
        entry = values.get(code)
        if entry is None:
            entry = values[code] = {}
            if sent is not None:
                original[code] = sent
        entry[suffix] = value
    return fields, values, original
