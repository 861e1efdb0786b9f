"""Revisions of the list as immutable snapshots, their validation, and what changed between two.

The list is revised every year (finished by the end of September, in force from 1 October;
:func:`annual_revision_due`) and adjusted in between when an enterprise opens, closes, is
regraded or changes its process. Each revision is a numbered snapshot of every entry: a
*draft* is edited by building new snapshots (:meth:`Revision.with_entry`,
:meth:`Revision.without_entry`); :meth:`Revision.publish` freezes it; the next change starts
from :meth:`Revision.new_draft`, which records the revision it was based on.

Validation reports **every** bad field of every entry as a :class:`FieldError` with a stable
code and a message in Chinese and English, so an operator fixes a whole import in one pass.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

from emission_list import credit_code
from emission_list.catalog import Catalog, FrozenDict
from emission_list.entries import ENTRY_FIELDS, OVERRIDE_LEVELS, Enterprise
from emission_list.i18n import LANGUAGES, Text, is_bilingual, text
from emission_list.levels import LIST_POLLUTANTS

#: The annual revision is due by this (month, day) and in force from the next (month, day).
ANNUAL_REVISION_DUE: tuple[int, int] = (9, 30)
ANNUAL_IN_FORCE_FROM: tuple[int, int] = (10, 1)

_POLLUTANT_NAMES = {"so2": "SO2", "nox": "NOx", "pm": "PM", "vocs": "VOCs"}
_LEVEL_NAMES = {
    "yellow": text("黄色预警", "yellow warning"),
    "orange": text("橙色预警", "orange warning"),
    "red": text("红色预警", "red warning"),
}

#: Bilingual message templates of the validation codes; ``{name}`` fields are filled per error.
MESSAGES: Mapping[str, Text] = {
    "credit_code.length": text(
        "统一社会信用代码应为 18 位，实为 {length} 位",
        "The unified social credit code must have 18 characters, not {length}",
    ),
    "credit_code.charset": text(
        "统一社会信用代码含有不使用的字符 {chars}（不用 I、O、S、V、Z 和小写字母）",
        "The unified social credit code has characters it never uses: {chars} "
        "(no I, O, S, V, Z or lower case)",
    ),
    "credit_code.check": text(
        "统一社会信用代码校验位错误：应为 {expected}，实为 {actual}",
        "Wrong check character of the unified social credit code: {expected} expected, "
        "{actual} found",
    ),
    "duplicate_id": text(
        "统一社会信用代码 {value} 重复（已见于第 {first} 条）",
        "Duplicate unified social credit code {value} (already entry {first})",
    ),
    "name.empty": text("企业名称不能为空", "The enterprise name must not be empty"),
    "region.unknown": text("未知区划 {value}", "Unknown region {value}"),
    "region.not_leaf": text(
        "区划 {value} 不是最末级区划（街道、镇）",
        "Region {value} is not a leaf region (subdistrict or town)",
    ),
    "industry.unknown": text("未知行业 {value}", "Unknown industry {value}"),
    "grade.unknown": text("未知绩效等级 {value}", "Unknown performance grade {value}"),
    "grade.not_in_industry": text(
        "行业 {industry} 不使用绩效等级 {value}（可用：{grades}）",
        "Industry {industry} does not use grade {value} (it uses {grades})",
    ),
    "guaranteed_supply.type": text(
        "保障类标志应为是或否，实为 {value}",
        "The guaranteed-supply flag must be yes or no, not {value}",
    ),
    "baseline.shape": text(
        "基准排放量应为 SO2、NOx、PM、VOCs 四个数值，实为 {count} 个",
        "The baseline needs four values (SO2, NOx, PM, VOCs), not {count}",
    ),
    "baseline.not_finite": text(
        "{pollutant} 基准排放量应为有限数值（kg/d），实为 {value}",
        "The {pollutant} baseline must be a finite number [kg/day], not {value}",
    ),
    "baseline.negative": text(
        "{pollutant} 基准排放量不能为负：{value} kg/d",
        "The {pollutant} baseline must not be negative: {value} kg/day",
    ),
    "override.level": text(
        "措施调整的预警级别 {value} 无效（应为 yellow、orange 或 red）",
        "Overrides are for yellow, orange or red, not {value}",
    ),
    "override.cut_range": text(
        "{level}限产比例应在 0 到 1 之间，实为 {value}",
        "The production cut at {level} must lie in 0..1, not {value}",
    ),
    "override.shape": text(
        "{level}减排比例应为 SO2、NOx、PM、VOCs 四个数值，实为 {count} 个",
        "The reduction fractions at {level} need four values (SO2, NOx, PM, VOCs), not {count}",
    ),
    "override.fraction_range": text(
        "{level} {pollutant} 减排比例应在 0 到 1 之间，实为 {value}",
        "The {pollutant} reduction fraction at {level} must lie in 0..1, not {value}",
    ),
    "override.action_text": text(
        "{level}第 {position} 条措施须有中文和英文表述",
        "Measure {position} at {level} needs a text in Chinese and in English",
    ),
    "override.action_pollutants": text(
        "{level}第 {position} 条措施的污染物须为 SO2、NOx、PM、VOCs 之一",
        "Measure {position} at {level} must name pollutants among SO2, NOx, PM, VOCs",
    ),
}


def _message(code: str, **params: object) -> dict[str, str]:
    def value(v: object, lang: str) -> object:
        return v[lang] if isinstance(v, Mapping) else v

    return {
        lang: MESSAGES[code][lang].format(**{k: value(v, lang) for k, v in params.items()})
        for lang in LANGUAGES
    }


@dataclass(frozen=True)
class FieldError:
    """One bad field of one entry.

    ``index`` is the entry's position in what was validated; ``field`` is an
    :data:`~emission_list.entries.ENTRY_FIELDS` name or a path below one
    (``baseline.pm``, ``overrides.red.fractions.vocs``); ``code`` is stable and
    machine-readable; ``message`` is bilingual.
    """

    index: int
    enterprise_id: str
    field: str
    code: str
    message: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "enterprise_id": self.enterprise_id,
            "field": self.field,
            "code": self.code,
            "message": dict(self.message),
        }


def _is_unit(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= 1
    )


def validate_entry(
    entry: Enterprise,
    catalog: Catalog,
    leaf_regions: Collection[str],
    index: int = 0,
    *,
    regions: Collection[str] | None = None,
) -> list[FieldError]:
    """Every bad field of one entry.

    Parameters
    ----------
    entry
        The entry.
    catalog
        Industries and grades it may use.
    leaf_regions
        Ids of the leaf regions (subdistricts, towns).
    index
        Position reported in each error.
    regions
        Ids of all regions; when given, a known region that is not a leaf is reported as
        ``region.not_leaf`` rather than ``region.unknown``.
    """
    errors: list[FieldError] = []

    def add(field_name: str, code: str, **params: object) -> None:
        msg = _message(code, **params)
        errors.append(FieldError(index, str(entry.enterprise_id), field_name, code, msg))

    eid = entry.enterprise_id
    for code in credit_code.validate(eid):
        if code == credit_code.ERROR_LENGTH:
            add("enterprise_id", code, length=len(eid) if isinstance(eid, str) else 0)
        elif code == credit_code.ERROR_CHARSET:
            bad = "".join(dict.fromkeys(c for c in str(eid) if c not in credit_code.CHARSET))
            add("enterprise_id", code, chars=bad or "?")
        else:
            add(
                "enterprise_id",
                code,
                expected=credit_code.check_character(eid[:17]),
                actual=eid[17],
            )
    if not isinstance(entry.name, str) or not entry.name.strip():
        add("name", "name.empty")
    if entry.region not in leaf_regions:
        known = regions is not None and entry.region in regions
        add("region", "region.not_leaf" if known else "region.unknown", value=entry.region)
    industry = catalog.industries.get(entry.industry)
    if industry is None:
        add("industry", "industry.unknown", value=entry.industry)
    if entry.grade not in catalog.grades:
        add("grade", "grade.unknown", value=entry.grade)
    elif industry is not None and entry.grade not in industry.grades:
        grades = ", ".join(industry.grades)
        add(
            "grade",
            "grade.not_in_industry",
            value=entry.grade,
            industry=industry.code,
            grades=grades,
        )
    if not isinstance(entry.guaranteed_supply, bool):
        add("guaranteed_supply", "guaranteed_supply.type", value=entry.guaranteed_supply)

    if len(entry.baseline) != len(LIST_POLLUTANTS):
        add("baseline", "baseline.shape", count=len(entry.baseline))
    else:
        for p, v in zip(LIST_POLLUTANTS, entry.baseline, strict=True):
            name = _POLLUTANT_NAMES[p]
            if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
                add(f"baseline.{p}", "baseline.not_finite", pollutant=name, value=v)
            elif v < 0:
                add(f"baseline.{p}", "baseline.negative", pollutant=name, value=v)

    for key, override in entry.overrides.items():
        where = f"overrides.{key}"
        if key not in OVERRIDE_LEVELS:
            add(where, "override.level", value=key)
        level = _LEVEL_NAMES.get(key, key)
        cut = override.production_cut
        if cut is not None and not _is_unit(cut):
            add(f"{where}.production_cut", "override.cut_range", level=level, value=cut)
        fractions = override.fractions
        if fractions is not None and len(fractions) != len(LIST_POLLUTANTS):
            add(f"{where}.fractions", "override.shape", level=level, count=len(fractions))
        elif fractions is not None:
            for p, f in zip(LIST_POLLUTANTS, fractions, strict=True):
                if f is not None and not _is_unit(f):
                    name = _POLLUTANT_NAMES[p]
                    code = "override.fraction_range"
                    add(f"{where}.fractions.{p}", code, level=level, pollutant=name, value=f)
        for i, action in enumerate(override.actions or ()):
            if not is_bilingual(action.text):
                add(f"{where}.actions.{i}", "override.action_text", level=level, position=i + 1)
            if not action.pollutants or set(action.pollutants) - set(LIST_POLLUTANTS):
                code = "override.action_pollutants"
                add(f"{where}.actions.{i}", code, level=level, position=i + 1)
    return errors


def validate_entries(
    entries: Sequence[Enterprise],
    catalog: Catalog,
    leaf_regions: Collection[str],
    *,
    regions: Collection[str] | None = None,
) -> list[FieldError]:
    """Every bad field of every entry of a sequence (an import), duplicates included.

    A code seen before is reported as ``duplicate_id`` at each later index (messages count
    entries from 1, as people do; ``index`` counts from 0).
    """
    errors: list[FieldError] = []
    first: dict[str, int] = {}
    leaves = leaf_regions if isinstance(leaf_regions, set | frozenset) else set(leaf_regions)
    if regions is not None and not isinstance(regions, set | frozenset):
        regions = set(regions)
    for i, entry in enumerate(entries):
        errors.extend(validate_entry(entry, catalog, leaves, i, regions=regions))
        eid = entry.enterprise_id
        if eid in first:
            msg = _message("duplicate_id", value=eid, first=first[eid] + 1)  # 1-based for people
            errors.append(FieldError(i, eid, "enterprise_id", "duplicate_id", msg))
        else:
            first[eid] = i
    return errors


class RevisionError(ValueError):
    """A revision operation refused; ``code`` is stable, ``message`` bilingual."""

    def __init__(self, code: str, message: Text, errors: Sequence[FieldError] = ()) -> None:
        self.code = code
        self.message = message
        self.errors = tuple(errors)
        super().__init__(f"{code}: {message['en']}")


class RevisionStatus(StrEnum):
    """A revision is edited as a draft and frozen once published."""

    DRAFT = "draft"
    PUBLISHED = "published"


@dataclass(frozen=True)
class Revision:
    """A numbered snapshot of the whole list.

    ``entries`` are kept sorted by ``enterprise_id``; a repeated id raises
    :class:`RevisionError` (code ``duplicate_id``, the duplicates in ``errors``). ``status``
    is stored as a :class:`RevisionStatus` (equal to its string). ``note`` is free text, or a
    bilingual text (a mapping by language, stored read-only).
    """

    number: int
    base: int | None
    status: Literal["draft", "published"] | RevisionStatus
    effective_from: datetime.date
    author: str
    note: str | Text
    entries: tuple[Enterprise, ...] = ()
    _index: Mapping[str, int] = field(default=None, init=False, repr=False, compare=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.status not in tuple(RevisionStatus):
            raise ValueError(f"status must be 'draft' or 'published', not {self.status!r}")
        object.__setattr__(self, "status", RevisionStatus(self.status))
        if isinstance(self.note, Mapping):
            object.__setattr__(self, "note", FrozenDict(self.note))
        entries = tuple(sorted(self.entries, key=lambda e: e.enterprise_id))
        index = {e.enterprise_id: i for i, e in enumerate(entries)}
        if len(index) != len(entries):
            dupes = [
                FieldError(
                    i,
                    e.enterprise_id,
                    "enterprise_id",
                    "duplicate_id",
                    _message("duplicate_id", value=e.enterprise_id, first=i),
                )
                for i, e in enumerate(entries)
                if i and entries[i - 1].enterprise_id == e.enterprise_id
            ]
            raise RevisionError("duplicate_id", dupes[0].message, dupes)
        object.__setattr__(self, "entries", entries)
        object.__setattr__(self, "_index", index)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def is_draft(self) -> bool:
        return self.status is RevisionStatus.DRAFT

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._index)

    def entry(self, enterprise_id: str) -> Enterprise | None:
        """The entry with this code, or None."""
        i = self._index.get(enterprise_id)
        return None if i is None else self.entries[i]

    def _require_draft(self) -> None:
        if not self.is_draft:
            raise RevisionError(
                "revision.published",
                text(
                    f"第 {self.number} 版已发布，不能修改；请基于它新建草稿",
                    f"Revision {self.number} is published and cannot change; start a new draft",
                ),
            )

    def with_entry(self, entry: Enterprise) -> Revision:
        """A copy of this draft with ``entry`` added, or replacing the entry with its code."""
        return self.with_entries([entry])

    def with_entries(self, entries: Iterable[Enterprise]) -> Revision:
        """A copy of this draft with every entry added or replaced (a later one wins)."""
        self._require_draft()
        merged = {e.enterprise_id: e for e in self.entries}
        merged.update((e.enterprise_id, e) for e in entries)
        return replace(self, entries=tuple(merged.values()))

    def without_entry(self, enterprise_id: str) -> Revision:
        """A copy of this draft without the entry (an enterprise closed or left the list)."""
        self._require_draft()
        if enterprise_id not in self._index:
            raise RevisionError(
                "entry.unknown",
                text(f"清单中没有企业 {enterprise_id}", f"No entry {enterprise_id} on the list"),
            )
        return replace(
            self, entries=tuple(e for e in self.entries if e.enterprise_id != enterprise_id)
        )

    def publish(self, at_date: datetime.date | None = None) -> Revision:
        """The published, frozen copy of this draft, in force from ``at_date`` if given.

        Validate first (:func:`validate_revision`); publishing does not check the entries.
        """
        self._require_draft()
        return replace(
            self, status=RevisionStatus.PUBLISHED, effective_from=at_date or self.effective_from
        )

    def new_draft(
        self, number: int, author: str, note: str, effective_from: datetime.date
    ) -> Revision:
        """A draft numbered ``number`` (above this one) carrying these entries, based on this."""
        if number <= self.number:
            raise RevisionError(
                "revision.number",
                text(
                    f"新版本号 {number} 应大于 {self.number}",
                    f"The new revision number {number} must exceed {self.number}",
                ),
            )
        return Revision(
            number, self.number, RevisionStatus.DRAFT, effective_from, author, note, self.entries
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "base": self.base,
            "status": self.status,
            "effective_from": self.effective_from.isoformat(),
            "author": self.author,
            "note": dict(self.note) if isinstance(self.note, Mapping) else self.note,
            "entries": [e.to_dict() for e in self.entries],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Revision:
        effective = data["effective_from"]
        if isinstance(effective, str):
            effective = datetime.date.fromisoformat(effective)
        return cls(
            number=int(data["number"]),
            base=None if data.get("base") is None else int(data["base"]),
            status=data.get("status", "draft"),
            effective_from=effective,
            author=str(data.get("author", "")),
            note=note if isinstance(note := data.get("note", ""), Mapping) else str(note),
            entries=tuple(Enterprise.from_dict(e) for e in data.get("entries", ())),
        )


def validate_revision(
    revision: Revision,
    catalog: Catalog,
    leaf_regions: Collection[str],
    *,
    regions: Collection[str] | None = None,
) -> list[FieldError]:
    """Every bad field of every entry of a revision (indices into ``revision.entries``)."""
    return validate_entries(revision.entries, catalog, leaf_regions, regions=regions)


@dataclass(frozen=True)
class RevisionDiff:
    """What changed between two revisions.

    ``changed`` maps an enterprise id to ``{field: (old, new)}``, values in their JSON form
    (:meth:`Enterprise.to_dict`), fields in :data:`ENTRY_FIELDS` order.
    """

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: Mapping[str, Mapping[str, tuple[object, object]]]

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff(old: Revision, new: Revision) -> RevisionDiff:
    """Entries added, removed and changed (field by field) from ``old`` to ``new``."""
    old_ids, new_ids = set(old.ids), set(new.ids)
    changed: dict[str, dict[str, tuple[object, object]]] = {}
    for eid in sorted(old_ids & new_ids):
        before, after = old.entry(eid), new.entry(eid)
        if before == after:
            continue
        a, b = before.to_dict(), after.to_dict()  # type: ignore[union-attr]
        fields = {f: (a[f], b[f]) for f in ENTRY_FIELDS if a[f] != b[f]}
        if fields:
            changed[eid] = fields
    return RevisionDiff(
        added=tuple(sorted(new_ids - old_ids)),
        removed=tuple(sorted(old_ids - new_ids)),
        changed=changed,
    )


def annual_revision_due(
    today: datetime.date, due: tuple[int, int] = ANNUAL_REVISION_DUE
) -> datetime.date:
    """The next annual-revision deadline on or after ``today`` (30 September by default).

    The annual revision must be finished by the end of September and is in force from
    1 October (:func:`annual_in_force_from`); adjustments in between are new revisions too.
    """
    deadline = datetime.date(today.year, *due)
    return deadline if today <= deadline else datetime.date(today.year + 1, *due)


def annual_in_force_from(
    today: datetime.date,
    due: tuple[int, int] = ANNUAL_REVISION_DUE,
    in_force: tuple[int, int] = ANNUAL_IN_FORCE_FROM,
) -> datetime.date:
    """The date the annual revision due next (see :func:`annual_revision_due`) takes effect."""
    deadline = annual_revision_due(today, due)
    start = datetime.date(deadline.year, *in_force)
    return start if start > deadline else datetime.date(deadline.year + 1, *in_force)
