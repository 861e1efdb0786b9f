"""``haze list import|export|diff|publish``: the list's files and revisions in the database."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from emission_list.catalog import default_catalog
from emission_list.revisions import Revision, RevisionError, RevisionStatus, diff
from service.services import lists as list_service
from service.services.list_io import format_problems, read_file, write_csv
from service.settings import Settings
from service.storage.engine import create_engine, make_session_maker
from service.storage.migrate import migrate
from service.storage.repositories import audit, lists, regions


class _Progress:
    """Counts rows read and shows the count on stderr every 1,000 rows."""

    def __init__(self, err: TextIO) -> None:
        self.rows = 0
        self._err = err

    def __call__(self, rows: int) -> None:
        self.rows = rows
        if rows % 1000 == 0:
            print(f"\rread {rows} rows", end="", file=self._err, flush=True)


async def import_list(settings: Settings, path: Path, author: str, err: TextIO) -> int:
    """Read ``path`` into a new draft revision; exit status 1 when any row had a problem."""
    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with make_session_maker(engine)() as session:
            tree = await regions.tree(session)
            progress = _Progress(err)
            result = read_file(path, default_catalog(), tree.leaves, tree.ids, progress=progress)
            seen: set[str] = set()
            entries = []
            for entry in result.entries:  # a repeated id is reported by validation; keep the first
                if entry.enterprise_id not in seen:
                    seen.add(entry.enterprise_id)
                    entries.append(entry)
            number = await lists.next_number(session)
            draft = Revision(
                number=number,
                base=await lists.published_number(session),
                status=RevisionStatus.DRAFT,
                effective_from=dt.datetime.now(ZoneInfo("Asia/Shanghai")).date(),
                author=author,
                note=f"imported from {path.name}",
                entries=tuple(sorted(entries, key=lambda e: e.enterprise_id)),
            )
            await lists.add(session, draft)
            await audit.record(
                session, author, "list.import", f"list/{number}", {"file": path.name}
            )
            await session.commit()
    finally:
        await engine.dispose()
    print(f"\rread {progress.rows} rows", file=err)
    for line in format_problems(result.problems):
        print(line, file=err)
    print(
        f"draft revision {number}: {len(entries)} entries, {len(result.problems)} problems",
        file=err,
    )
    return 1 if result.problems else 0


async def export_list(settings: Settings, revision: int | None, out: TextIO, err: TextIO) -> int:
    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with make_session_maker(engine)() as session:
            found = await (
                lists.published(session) if revision is None else lists.get(session, revision)
            )
    finally:
        await engine.dispose()
    if found is None:
        print("no such revision" if revision is not None else "no published revision", file=err)
        return 2
    write_csv(found.entries, out)
    return 0


async def diff_lists(settings: Settings, old: int, new: int, out: TextIO, err: TextIO) -> int:
    """What revision ``new`` changes against ``old``, one line per enterprise."""
    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with make_session_maker(engine)() as session:
            found = {n: await lists.get(session, n) for n in (old, new)}
    finally:
        await engine.dispose()
    missing = [str(n) for n, revision in found.items() if revision is None]
    if missing:
        print(f"no revision {', '.join(missing)}", file=err)
        return 2
    changes = diff(found[old], found[new])
    for enterprise_id in changes.added:
        print(f"+ {enterprise_id}", file=out)
    for enterprise_id in changes.removed:
        print(f"- {enterprise_id}", file=out)
    for enterprise_id, fields in changes.changed.items():
        for name, (before, after) in fields.items():
            print(f"~ {enterprise_id} {name}: {before!r} -> {after!r}", file=out)
    print(
        f"revision {old} -> {new}: {len(changes.added)} added, {len(changes.removed)} removed, "
        f"{len(changes.changed)} changed",
        file=err,
    )
    return 0


async def publish_list(settings: Settings, number: int, author: str, err: TextIO) -> int:
    """Validate and publish a draft; every error of every entry is reported (exit status 1)."""
    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with make_session_maker(engine)() as session:
            tree = await regions.tree(session)
            try:
                published = await list_service.publish(
                    session, number, default_catalog(), tree, author
                )
            except RevisionError as exc:
                print(f"{exc.message['en']} ({exc.message['zh-CN']})", file=err)
                for e in exc.errors:
                    print(f"  {e.enterprise_id} {e.field}: {e.message['en']} [{e.code}]", file=err)
                return 1
            await session.commit()
    finally:
        await engine.dispose()
    print(
        f"published revision {number}: {len(published)} entries. A running `haze serve` "
        "follows it after a restart (publishing through the API applies it at once).",
        file=err,
    )
    return 0


def run_import(settings: Settings, path: str, author: str) -> int:
    return asyncio.run(import_list(settings, Path(path), author, sys.stderr))


def run_export(settings: Settings, revision: int | None, out_path: str | None) -> int:
    if out_path is None:
        return asyncio.run(export_list(settings, revision, sys.stdout, sys.stderr))
    with open(out_path, "w", newline="", encoding="utf-8") as out:
        return asyncio.run(export_list(settings, revision, out, sys.stderr))


def run_diff(settings: Settings, old: int, new: int) -> int:
    return asyncio.run(diff_lists(settings, old, new, sys.stdout, sys.stderr))


def run_publish(settings: Settings, number: int, author: str) -> int:
    return asyncio.run(publish_list(settings, number, author, sys.stderr))
