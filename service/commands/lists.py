"""``haze list import FILE`` and ``haze list export``: list files in and out of the database."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from emission_list.catalog import default_catalog
from emission_list.revisions import Revision, RevisionStatus
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


def run_import(path: str, author: str) -> int:
    return asyncio.run(import_list(Settings(), Path(path), author, sys.stderr))


def run_export(revision: int | None, out_path: str | None) -> int:
    if out_path is None:
        return asyncio.run(export_list(Settings(), revision, sys.stdout, sys.stderr))
    with open(out_path, "w", newline="", encoding="utf-8") as out:
        return asyncio.run(export_list(Settings(), revision, out, sys.stderr))
