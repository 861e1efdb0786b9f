"""``/revisions``: every revision newest first, opening (or continuing) the draft, a
revision's entries, and removing an entry from a draft."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.deps import RuntimeDep, SessionDep
from service.api.schemas.inputs import INT_MAX
from service.console.auth import OperatorViewDep
from service.console.formats import local_time
from service.console.revision_views import RevisionNumber, region_options
from service.console.templating import render
from service.services import list_drafts as drafts
from service.services import lists as list_service
from service.storage.repositories import list_drafts, lists
from service.storage.repositories.lists import EntryRow

router = APIRouter(include_in_schema=False)

REVISIONS_PER_PAGE = 20
ENTRIES_PER_PAGE = 50
#: A search counts its matches up to this many ("1000+" beyond).
MATCHES_CAP = 1000
#: What a redirect after a change tells the page it lands on (``?done=``).
NOTICES = ("opened", "continued", "saved", "added", "deleted", "published")


def _notice(done: str | None) -> str | None:
    return f"revisions.notice.{done}" if done in NOTICES else None


@router.get("/revisions")
async def revisions_page(
    request: Request,
    _: OperatorViewDep,
    session: SessionDep,
    before: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
    number: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
) -> Response:
    page, cursor = await list_drafts.page_newest_first(
        session, limit=REVISIONS_PER_PAGE, before=before
    )
    context = {
        "revisions": page,
        "next_cursor": cursor,
        "first_page": before is None,
        "open_draft": await list_drafts.open_draft(session),
        "published": await lists.published_number(session),
        "local_time": local_time,
        "notice": _notice(done),
        "notice_number": number,
    }
    return render(request, "revisions/index.html", context)


@router.post("/revisions")
async def open_draft(
    operator: OperatorViewDep,
    session: SessionDep,
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The draft to work on: the open one, else a new copy of the list in force."""
    number, created = await drafts.open_draft(session, operator.principal.token_id, note.strip())
    done = "opened" if created else "continued"
    return RedirectResponse(f"/revisions/{number}?done={done}", status_code=303)


@router.get("/revisions/{number}")
async def revision_page(
    request: Request,
    number: RevisionNumber,
    _: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
    after: Annotated[str | None, Query(max_length=32)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
    enterprise: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    info = await drafts.info(session, number)
    search = q.strip()
    entries, cursor = await list_drafts.page_entries(
        session, number, limit=ENTRIES_PER_PAGE, after=after, search=search
    )
    regions = await region_options(session, runtime.state.tree)
    matches = await _matches(session, number, search, entries, cursor, after)
    context = {
        "revision": info,
        "published": await lists.published_number(session),
        "entries": entries,
        "next_cursor": cursor,
        "first_page": after is None,
        "q": search,
        "matches": info.entries if matches is None else matches,
        "matches_cap": MATCHES_CAP,
        "region_names": {o.value: o.label for o in regions},
        "industry_names": {c: i.name for c, i in runtime.catalog.industries.items()},
        "local_time": local_time,
        "notice": _notice(done),
        "notice_enterprise": enterprise,
    }
    return render(request, "revisions/revision.html", context)


async def _matches(
    session: AsyncSession,
    number: int,
    search: str,
    page: list[EntryRow],
    cursor: str | None,
    after: str | None,
) -> int | None:
    """How many entries a search finds (None without one): a first page that is also the last
    counted itself, so a rare name costs one scan of the revision."""
    if not search:
        return None
    if cursor is None and after is None:
        return len(page)
    return await list_drafts.count_entries(session, number, search=search, cap=MATCHES_CAP)


@router.post("/revisions/{number}/enterprises/{credit_code}/delete")
async def delete_entry(
    number: RevisionNumber,
    credit_code: Annotated[str, Path(max_length=32)],
    operator: OperatorViewDep,
    session: SessionDep,
) -> Response:
    await list_service.delete_entry(session, number, credit_code, operator.principal.token_id)
    target = f"/revisions/{number}?done=deleted&enterprise={credit_code}"
    return RedirectResponse(target, status_code=303)
