"""Drafts as the console works them: one open draft at a time, an entry stored only once it
is valid, a list file imported into a draft, and what a revision changes.

- **One draft.** A bureau keeps one draft in the works: opening a draft while one based on
  the revision in force exists continues that one (a draft based on an older revision can no
  longer be published, so it does not count).
- **Entries.** The API's ``PUT`` keeps an entry that is not yet valid; a person filling a
  form expects to be told first, so :func:`save_entry` stores nothing while the entry has a
  problem (the same validation publishing applies) and returns the problems.
- **Import.** A file's good rows are added to the draft or replace the entry with their
  credit code (*merge*, the default: a bureau adjusting its list sends the rows that changed);
  *replace* makes the file the whole draft, removing every enterprise on no row of it. A bad
  row changes nothing: with replace, the entry of a bad row's credit code stays as it was, and
  a file with a row that cannot be read at all (whose credit code is unknown) is refused.
- **Diff.** Added and removed entries are found in SQL and counted; only the entries whose
  stored document differs are loaded and compared field by field
  (:func:`emission_list.revisions.diff`), so a revision of 100,000 entries is not loaded.

Every change goes through :mod:`service.services.lists` or records its audit here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.catalog import Catalog
from emission_list.entries import Enterprise
from emission_list.i18n import text
from emission_list.regions import RegionTree
from emission_list.revisions import (
    FieldError,
    Revision,
    RevisionError,
    diff,
    validate_entries,
    validate_revision,
)
from service.services import lists as list_service
from service.services.list_io import RowProblem
from service.services.list_upload import read_upload
from service.storage.repositories import audit, list_drafts, lists
from service.storage.repositories.lists import EntryRow, RevisionInfo


async def open_draft(session: AsyncSession, author: str, note: str = "") -> tuple[int, bool]:
    """The draft to work on, and whether it was opened now (a copy of the revision in force)
    rather than continued."""
    existing = await list_drafts.open_draft(session)
    if existing is not None:
        return existing, False
    return await list_service.new_draft(session, author, note), True


async def info(session: AsyncSession, number: int) -> RevisionInfo:
    found = await lists.info(session, number)
    if found is None:
        raise RevisionError(
            "revision.unknown", text(f"没有第 {number} 版清单", f"No list revision {number}")
        )
    return found


def _exists(entry: Enterprise) -> FieldError:
    code = entry.enterprise_id
    message = text(
        f"草稿中已有统一社会信用代码为 {code} 的企业；请修改该条目",
        f"The draft already has an entry {code}; edit that one",
    )
    return FieldError(0, code, "enterprise_id", "entry.exists", message)


async def save_entry(
    session: AsyncSession,
    number: int,
    entry: Enterprise,
    catalog: Catalog,
    tree: RegionTree,
    actor: str,
    *,
    previous_id: str | None = None,
) -> list[FieldError]:
    """Store ``entry`` in the draft when it is valid, replacing ``previous_id`` (an edit, its
    credit code perhaps corrected) or adding it (``previous_id`` None); else its problems."""
    problems = validate_entries([entry], catalog, tree.leaves, regions=tree.ids)
    code = entry.enterprise_id
    if code != previous_id and await list_drafts.ids(session, number, [code]):
        problems.append(_exists(entry))
    if problems:
        return problems
    await list_service.put_entry(session, number, entry, actor)
    if previous_id is not None and previous_id != code:
        await list_service.delete_entry(session, number, previous_id, actor)
    return []


@dataclass(frozen=True)
class BadRow:
    """A row of a file that was not stored, with its problems and what could be read of it."""

    line: int
    problems: list[RowProblem]
    entry: Enterprise | None  # None: the row could not be read at all


@dataclass(frozen=True)
class ImportReport:
    file_name: str
    replace: bool
    rows: int
    added: int
    replaced: int
    removed: int
    kept: int  # with replace: entries left as they were because their row was bad
    bad_rows: list[BadRow]
    refused: bool  # replace refused: a row could not be read
    in_draft: frozenset[str] = frozenset()  # credit codes of bad rows the draft holds now

    @property
    def stored(self) -> int:
        return self.added + self.replaced


def _bad_rows(read_entries: Mapping[int, Enterprise], problems: list[RowProblem]) -> list[BadRow]:
    by_line: dict[int, list[RowProblem]] = {}
    for problem in problems:
        by_line.setdefault(problem.line, []).append(problem)
    return [BadRow(line, found, read_entries.get(line)) for line, found in sorted(by_line.items())]


async def import_file(
    session: AsyncSession,
    number: int,
    source: BinaryIO,
    file_name: str,
    catalog: Catalog,
    tree: RegionTree,
    actor: str,
    *,
    replace: bool = False,
    language: str = "zh-CN",
) -> ImportReport:
    """Read an uploaded list file into the draft ``number`` (see the module's rules)."""
    await lists.locked_draft(session, number)  # a published revision is refused before reading
    result = await asyncio.to_thread(
        read_upload, source, file_name, catalog, tree.leaves, tree.ids, language=language
    )
    read_entries = dict(zip(result.lines, result.entries, strict=True))
    bad = _bad_rows(read_entries, result.problems)
    bad_lines = {row.line for row in bad}
    bad_ids = {row.entry.enterprise_id for row in bad if row.entry is not None}
    good = [e for line, e in read_entries.items() if line not in bad_lines]
    good_ids = {e.enterprise_id for e in good}
    rows = len(read_entries) + sum(row.entry is None for row in bad)
    if replace and any(row.entry is None for row in bad):
        return ImportReport(file_name, replace, rows, 0, 0, 0, 0, bad, refused=True)
    removed = kept = 0
    if replace:
        before = await list_drafts.ids(session, number)
        staying = await list_drafts.entries_among(session, number, (bad_ids & before) - good_ids)
        await list_drafts.replace_entries(session, number, [*good, *staying.values()])
        existing, kept = good_ids & before, len(staying)
        removed = len(before - good_ids) - kept
    else:
        existing = await list_drafts.ids(session, number, good_ids)
        await list_drafts.put_entries(session, number, good)
    in_draft = frozenset(await list_drafts.ids(session, number, bad_ids))
    added, replaced = len(good_ids - existing), len(existing)
    report = ImportReport(
        file_name, replace, rows, added, replaced, removed, kept, bad, False, in_draft
    )
    details = {
        "file": file_name,
        "mode": "replace" if replace else "merge",
        "added": report.added,
        "replaced": report.replaced,
        "removed": report.removed,
        "bad_rows": len(bad),
    }
    await audit.record(session, actor, "list.import", f"list/{number}", details)
    return report


@dataclass(frozen=True)
class ChangedEntry:
    enterprise_id: str
    name: str
    fields: Mapping[str, tuple[object, object]]  # field: (old, new), JSON forms


@dataclass(frozen=True)
class DiffView:
    """What a revision changes against its base: the first ``limit`` of each kind, counted."""

    number: int
    base: int | None
    added: list[EntryRow]
    added_count: int
    removed: list[EntryRow]
    removed_count: int
    changed: list[ChangedEntry]
    changed_count: int

    @property
    def is_empty(self) -> bool:
        return not (self.added_count or self.removed_count or self.changed_count)


def _snapshot(number: int, entries: Mapping[str, Enterprise]) -> Revision:
    return Revision(number, None, "draft", dt.date(2000, 1, 1), "", "", tuple(entries.values()))


async def revision_diff(session: AsyncSession, number: int, *, limit: int = 200) -> DiffView:
    """Entries ``number`` adds, removes and changes against the revision it was based on."""
    found = await info(session, number)
    ids = await list_drafts.diff_ids(session, found.base, number, limit=limit)
    changed: list[ChangedEntry] = []
    if found.base is not None and ids.differing:
        before = await list_drafts.entries_among(session, found.base, ids.differing)
        after = await list_drafts.entries_among(session, number, ids.differing)
        changes = diff(_snapshot(found.base, before), _snapshot(number, after))
        changed = [
            ChangedEntry(code, after[code].name, fields) for code, fields in changes.changed.items()
        ]
    return DiffView(
        number,
        found.base,
        ids.added,
        ids.added_count,
        ids.removed,
        ids.removed_count,
        changed[:limit],
        len(changed),
    )


@dataclass(frozen=True)
class PublishCheck:
    """What publishing a revision would refuse: every bad field of every entry, or a draft
    based on another revision than the one in force (``published``)."""

    problems: list[FieldError]
    published: int | None
    stale: bool


async def publish_check(
    session: AsyncSession, number: int, catalog: Catalog, tree: RegionTree
) -> PublishCheck:
    revision = await list_service.revision(session, number)
    published = await lists.published_number(session)
    stale = revision.is_draft and published is not None and revision.base != published
    problems = validate_revision(revision, catalog, tree.leaves, regions=tree.ids)
    return PublishCheck(problems, published, stale)
