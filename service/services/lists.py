"""The emission-reduction list: drafts, edits, diff, preview and publishing.

Domain refusals are :class:`emission_list.revisions.RevisionError` with a stable code and a
bilingual message (the API maps them to 404/409/422). Publishing validates the whole draft
and refuses with every bad field of every entry; it also refuses a draft whose base is no
longer the published revision, so a second draft cannot silently undo the first one's edits.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.catalog import Catalog
from emission_list.compiler import compile_revision
from emission_list.entries import Enterprise
from emission_list.evaluator import Evaluator, RegionReport
from emission_list.i18n import text
from emission_list.levels import Level, Response
from emission_list.regions import RegionTree, state_code
from emission_list.revisions import Revision, RevisionDiff, RevisionError, diff, validate_revision
from service.offloop import off_loop
from service.storage.repositories import audit, lists


def _errors(count: int) -> str:
    return f"{count} error" if count == 1 else f"{count} errors"


def _unknown(number: int) -> RevisionError:
    return RevisionError(
        "revision.unknown", text(f"没有第 {number} 版清单", f"No list revision {number}")
    )


async def revision(session: AsyncSession, number: int) -> Revision:
    found = await lists.get(session, number)
    if found is None:
        raise _unknown(number)
    return found


async def new_draft(session: AsyncSession, author: str, note: str = "") -> int:
    """A draft copied from the published revision; returns its number."""
    info = await lists.create_draft(session, author=author, note=note)
    await audit.record(session, author, "list.draft", f"list/{info.number}")
    return info.number


async def put_entry(session: AsyncSession, number: int, entry: Enterprise, actor: str) -> bool:
    """Add or replace an entry of a draft (409 on a published revision); True when added."""
    added = await lists.put_entry(session, number, entry)
    action = "list.entry.add" if added else "list.entry.change"
    await audit.record(session, actor, action, f"list/{number}/{entry.enterprise_id}")
    return added


async def delete_entry(session: AsyncSession, number: int, enterprise_id: str, actor: str) -> None:
    await lists.delete_entry(session, number, enterprise_id)
    await audit.record(session, actor, "list.entry.remove", f"list/{number}/{enterprise_id}")


async def revision_diff(session: AsyncSession, number: int) -> RevisionDiff:
    """What a revision changes against its base (everything is added when it has none)."""
    new = await revision(session, number)
    old = await lists.get(session, new.base) if new.base is not None else None
    if old is None:
        old = Revision(0, None, "published", new.effective_from, "", "", ())
    return diff(old, new)


def preview(
    draft: Revision, catalog: Catalog, tree: RegionTree, level: Level, region: str
) -> tuple[Evaluator, RegionReport]:
    """What ``draft`` would require if ``region`` were at ``level`` (full response)."""
    if region not in tree:
        raise RevisionError(
            "region.unknown", text(f"未知区域 {region}", f"Unknown region {region}")
        )
    errors = validate_revision(draft, catalog, tree.leaves, regions=tree.ids)
    if errors:  # the evaluator compiles valid lists only
        raise RevisionError(
            "revision.invalid",
            text(
                f"第 {draft.number} 版清单有 {len(errors)} 处错误，无法预览",
                f"Revision {draft.number} cannot be previewed: it has {_errors(len(errors))}",
            ),
            errors,
        )
    evaluator = Evaluator(compile_revision(draft, catalog, tree))
    own = np.zeros(len(tree), dtype=np.int8)
    own[tree.index[region]] = state_code(level, Response.FULL)
    evaluator.evaluate(own)
    return evaluator, evaluator.region_report()


async def publish(
    session: AsyncSession,
    number: int,
    catalog: Catalog,
    tree: RegionTree,
    actor: str,
    effective_from: dt.date | None = None,
) -> Revision:
    """Validate and publish a draft; refuse with every error of every entry."""
    draft = await revision(session, number)
    published = await lists.published_number(session)
    if draft.is_draft and published is not None and draft.base != published:
        raise RevisionError(
            "revision.stale",
            text(
                f"第 {number} 版草稿基于第 {draft.base} 版，但现行清单已是第 {published} 版；"
                "请基于现行清单新建草稿",
                f"Draft {number} is based on revision {draft.base}, but revision {published} "
                "is now published; start a new draft from it",
            ),
        )
    # A national list takes seconds to check: off the event loop, polls go on meanwhile.
    leaves, ids = tree.leaves, tree.ids
    errors = await off_loop(lambda: validate_revision(draft, catalog, leaves, regions=ids))
    if errors:
        raise RevisionError(
            "revision.invalid",
            text(
                f"第 {number} 版清单有 {len(errors)} 处错误，未发布",
                f"Revision {number} has {_errors(len(errors))} and was not published",
            ),
            errors,
        )
    await lists.publish(session, number, effective_from=effective_from)
    await audit.record(session, actor, "list.publish", f"list/{number}", {"entries": len(draft)})
    return await revision(session, number)
