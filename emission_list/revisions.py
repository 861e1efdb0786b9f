"""Revisions of the list as immutable snapshots, their validation, and what changed between two.

The list is revised every year (finished by the end of September, in force from 1 October;
:func:`annual_revision_due`) and adjusted in between when an enterprise opens, closes, is
regraded or changes its process. Each revision is a numbered snapshot of every entry: a
*draft* is edited by building new snapshots (:meth:`Revision.with_entry`,
:meth:`Revision.without_entry`); :meth:`Revision.publish` freezes it; the next change starts
from :meth:`Revision.new_draft`, which records the revision it was based on.

Entries are validated by :mod:`emission_list.validation` (re-exported here):
:func:`validate_revision` reports **every** bad field of every entry as a :class:`FieldError`
with a stable code and a message in Chinese and English.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

from emission_list.catalog import Catalog
from emission_list.entries import ENTRY_FIELDS, Enterprise
from emission_list.frozen import FrozenDict
from emission_list.i18n import Text, text
from emission_list.validation import (
    MESSAGES,
    FieldError,
    format_message,
    validate_entries,
    validate_entry,
)

__all__ = [
    "ANNUAL_IN_FORCE_FROM",
    "ANNUAL_REVISION_DUE",
    "MESSAGES",
    "FieldError",
    "Revision",
    "RevisionDiff",
    "RevisionError",
    "RevisionStatus",
    "annual_in_force_from",
    "annual_revision_due",
    "diff",
    "validate_entries",
    "validate_entry",
    "validate_revision",
]

#: The annual revision is due by this (month, day) and in force from the next (month, day).
ANNUAL_REVISION_DUE: tuple[int, int] = (9, 30)
ANNUAL_IN_FORCE_FROM: tuple[int, int] = (10, 1)


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
        entries = tuple(self.entries)
        ids = [e.enterprise_id for e in entries]
        # Stored lists come in id order: a sort (one C call over a million) only when needed.
        if any(a > b for a, b in itertools.pairwise(ids)):
            entries = tuple(sorted(entries, key=lambda e: e.enterprise_id))
        index = {e.enterprise_id: i for i, e in enumerate(entries)}
        if len(index) != len(entries):
            dupes = [
                FieldError(
                    i,
                    e.enterprise_id,
                    "enterprise_id",
                    "duplicate_id",
                    format_message("duplicate_id", value=e.enterprise_id, first=i),
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
