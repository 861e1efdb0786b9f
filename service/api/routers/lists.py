"""``/list``: the published list, its revisions, drafts, diff, preview and publishing."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body, Path, Query, Response, status

from emission_list.entries import Enterprise
from emission_list.levels import Level
from emission_list.revisions import Revision, RevisionError
from emission_list.validation import validate_entries
from service.api.deps import LanguageDep, OperatorDep, PrincipalDep, RuntimeDep, SessionDep
from service.api.schemas.inputs import INT_MAX
from service.api.schemas.lists import (
    ENTRY_EXAMPLE,
    LINES_DOC,
    DiffOut,
    DraftIn,
    EntryOut,
    EntryProblem,
    EntryStored,
    ListItemOut,
    ListPage,
    PreviewEnterprise,
    PreviewOut,
    PublishIn,
    RevisionOut,
    by_pollutant,
)
from service.api.schemas.paging import DEFAULT_LIMIT, Cursor, Limit, Page
from service.api.text_guard import TextGuard
from service.errors import ERROR_RESPONSES, HazeError, forbidden, not_found
from service.services import lists as list_service
from service.storage.repositories import lists

#: A revision number: positive, and within the database's INTEGER range.
RevisionNumber = Annotated[int, Path(ge=1, le=INT_MAX)]

router = APIRouter(
    prefix="/list", tags=["list"], responses=ERROR_RESPONSES, dependencies=[TextGuard]
)


async def _published(session: SessionDep) -> int:
    number = await lists.published_number(session)
    if number is None:
        raise not_found("list.unpublished", "尚未发布清单", "No list has been published yet")
    return number


@router.get("", response_model=ListPage)
async def get_list(
    _: OperatorDep,
    session: SessionDep,
    language: LanguageDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ListPage:
    """The published revision's enterprises by id, a page at a time."""
    number = await _published(session)
    entries, next_cursor = await lists.page_entries(session, number, limit=limit, after=cursor)
    items = [ListItemOut.of(e, language) for e in entries]
    return ListPage(revision=number, items=items, next_cursor=next_cursor)


def _no_entry(enterprise_id: str) -> HazeError:
    return not_found(
        "entry.unknown", f"清单中没有企业 {enterprise_id}", f"No entry {enterprise_id} on the list"
    )


@router.get("/enterprises/{enterprise_id}", response_model=EntryOut)
async def get_published_entry(
    enterprise_id: str, principal: PrincipalDep, session: SessionDep
) -> EntryOut:
    """An enterprise's entry on the published list (an enterprise token: its own only)."""
    if principal.role == "station":
        raise forbidden("站点令牌无权查看清单", "A station token may not read the list")
    if principal.role == "enterprise" and principal.enterprise_id != enterprise_id:
        raise _no_entry(enterprise_id)
    number = await _published(session)
    entry = await lists.get_entry(session, number, enterprise_id)
    if entry is None:
        raise _no_entry(enterprise_id)
    return EntryOut(revision=number, entry=entry.to_dict())


@router.get("/revisions", response_model=Page[RevisionOut])
async def get_revisions(
    _: OperatorDep,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[
        int | None,
        Query(ge=0, le=INT_MAX, description="`next_cursor` of the previous page."),
    ] = None,
) -> Page[RevisionOut]:
    """Every revision, oldest first, a page at a time."""
    infos, next_cursor = await lists.page_revisions(session, limit=limit, after=cursor)
    return Page[RevisionOut](items=[RevisionOut.of(i) for i in infos], next_cursor=next_cursor)


@router.post("/revisions", status_code=status.HTTP_201_CREATED, response_model=RevisionOut)
async def post_revision(
    operator: OperatorDep, session: SessionDep, body: DraftIn | None = None
) -> RevisionOut:
    """A new draft, a copy of the published revision."""
    number = await list_service.new_draft(session, operator.token_id, body.note if body else "")
    info = await lists.info(session, number)
    return RevisionOut.of(info)  # type: ignore[arg-type]


@router.put(
    "/revisions/{number}/enterprises/{enterprise_id}",
    response_model=EntryStored,
    responses={201: {"model": EntryStored, "description": "Added to the draft."}},
)
async def put_entry(
    number: RevisionNumber,
    enterprise_id: str,
    entry: Annotated[dict[str, Any], Body(examples=[ENTRY_EXAMPLE], description=LINES_DOC)],
    operator: OperatorDep,
    runtime: RuntimeDep,
    session: SessionDep,
    language: LanguageDep,
    response: Response,
) -> EntryStored:
    """Add or replace a draft's entry (409 on a published revision). The draft keeps an
    entry that is not yet valid; the answer lists what publishing would refuse in it."""
    if entry.get("enterprise_id", enterprise_id) != enterprise_id:
        raise HazeError(
            422,
            "entry.id_mismatch",
            {"zh-CN": "请求体中的信用代码与地址不符", "en": "enterprise_id differs from the path"},
            [{"field": "enterprise_id"}],
        )
    try:
        parsed = Enterprise.from_dict({**entry, "enterprise_id": enterprise_id})
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise HazeError(
            422,
            "entry.unreadable",
            {"zh-CN": f"无法读取企业条目：{exc}", "en": f"The entry cannot be read: {exc}"},
        ) from exc
    created = await list_service.put_entry(session, number, parsed, operator.token_id)
    tree = runtime.state.tree
    problems = validate_entries([parsed], runtime.catalog, tree.leaves, regions=tree.ids)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return EntryStored(
        revision=number,
        enterprise_id=parsed.enterprise_id,
        created=created,
        problems=[EntryProblem.of(p, language) for p in problems],
    )


@router.delete(
    "/revisions/{number}/enterprises/{enterprise_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def delete_entry(
    number: RevisionNumber, enterprise_id: str, operator: OperatorDep, session: SessionDep
) -> Response:
    """Remove an enterprise from a draft (closed, or no longer emitting)."""
    await list_service.delete_entry(session, number, enterprise_id, operator.token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/revisions/{number}/diff", response_model=DiffOut)
async def get_diff(number: RevisionNumber, _: OperatorDep, session: SessionDep) -> DiffOut:
    """What the revision adds, removes and changes against the revision it was based on."""
    revision = await list_service.revision(session, number)
    return DiffOut.of(number, revision.base, await list_service.revision_diff(session, number))


@router.get("/revisions/{number}/preview", response_model=PreviewOut)
async def get_preview(
    number: RevisionNumber,
    _: OperatorDep,
    runtime: RuntimeDep,
    session: SessionDep,
    level: Annotated[str, Query(pattern="^(yellow|orange|red)$")] = "orange",
    region: str | None = None,
    limit: Annotated[int, Query(ge=0, le=10_000)] = 1000,
) -> PreviewOut:
    """What the revision would require if ``region`` (default: the root) were at ``level``."""
    revision: Revision = await list_service.revision(session, number)
    tree = runtime.state.tree
    if region is None:
        if len(tree) == 0:
            raise RevisionError("region.unknown", {"zh-CN": "没有区域", "en": "No regions"})
        region = tree.ids[0]
    evaluator, report = list_service.preview(
        revision, runtime.catalog, tree, Level.parse(level), region
    )
    i = tree.index[region]
    compiled = evaluator.compiled
    rows = np.arange(compiled.region_start[i], compiled.region_start[tree.subtree_end[i]])
    rows = rows[np.argsort(compiled.enterprise_ids[rows], kind="stable")][:limit]
    items = [
        PreviewEnterprise(
            enterprise_id=str(compiled.enterprise_ids[r]),
            production_cut=round(float(evaluator.production_cut[r]), 6),
            reductions_kg_per_day=by_pollutant(evaluator.reductions[r]),
        )
        for r in rows.tolist()
    ]
    return PreviewOut(
        revision=number,
        region=region,
        level=level,
        enterprises=int(compiled.region_start[tree.subtree_end[i]] - compiled.region_start[i]),
        baseline=by_pollutant(report.baseline[i]),
        required=by_pollutant(report.required[i]),
        minimum=by_pollutant(report.minimum[i]),
        shortfall=by_pollutant(report.shortfall[i]),
        items=items,
    )


@router.post("/revisions/{number}/publish", response_model=RevisionOut)
async def publish(
    number: RevisionNumber,
    operator: OperatorDep,
    runtime: RuntimeDep,
    session: SessionDep,
    body: PublishIn | None = None,
) -> RevisionOut:
    """Validate the whole revision and publish it (422 with every error of every entry);
    every enterprise's actions follow the new list at once."""
    tree = runtime.state.tree
    effective_from = body.effective_from if body else None
    await list_service.publish(
        session, number, runtime.catalog, tree, operator.token_id, effective_from
    )
    await session.commit()
    await runtime.rebuild()
    info = await lists.info(session, number)
    return RevisionOut.of(info)  # type: ignore[arg-type]
