"""Before a revision is published: what it changes (diff), what it would require at a level
(preview, each region's reduction against the minimum), and publishing after a confirmation
page that summarises the change and lists what would refuse it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.i18n import Text
from emission_list.levels import LIST_POLLUTANTS, Level
from emission_list.revisions import RevisionError
from service.api.deps import RuntimeDep, SessionDep
from service.console.auth import OperatorViewDep
from service.console.revision_views import FIELD_PARTS, RevisionNumber, flat_changes, region_options
from service.console.templating import render
from service.console.texts import texts
from service.runtime import Runtime
from service.services import list_drafts as drafts
from service.services import lists as list_service

router = APIRouter(include_in_schema=False)

DIFF_ROWS = 200
SUMMARY_ROWS = 20
LEVELS = ("yellow", "orange", "red")


@router.get("/revisions/{number}/diff")
async def diff_page(
    request: Request, number: RevisionNumber, _: OperatorViewDep, session: SessionDep
) -> Response:
    view = await drafts.revision_diff(session, number, limit=DIFF_ROWS)
    context = {
        "revision": await drafts.info(session, number),
        "diff": view,
        "rows": DIFF_ROWS,
        "flat_changes": flat_changes,
        "parts": FIELD_PARTS,
    }
    return render(request, "revisions/diff.html", context)


@dataclass(frozen=True)
class PollutantRow:
    pollutant: str
    baseline: float  # [kg/day], and so on
    required: float
    minimum: float
    shortfall: float


@dataclass(frozen=True)
class RegionRows:
    region_id: str
    name: Text | str
    depth: int  # below the region chosen
    rows: list[PollutantRow]


@router.get("/revisions/{number}/preview")
async def preview_page(
    request: Request,
    number: RevisionNumber,
    _: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
    level: Annotated[str, Query(pattern="^(yellow|orange|red)$")] = "orange",
    region: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    revision = await list_service.revision(session, number)
    tree = runtime.state.tree
    if region is None:  # the smallest region holding every entry: the district
        used = {e.region for e in revision.entries if e.region in tree}
        region = tree.common_ancestor(used) if used else None
    region = region or (tree.ids[0] if len(tree) else "")
    options = await region_options(session, tree)
    context: dict[str, Any] = {
        "revision": await drafts.info(session, number),
        "level": level,
        "levels": LEVELS,
        "region": region,
        "regions": options,
        "groups": [],
        "shortfalls": 0,
        "problems": [],
        "ratio": 0.0,
    }
    try:
        _, report = list_service.preview(
            revision, runtime.catalog, tree, Level.parse(level), region
        )
    except RevisionError as refused:
        if refused.code != "revision.invalid":
            raise
        context["problems"] = refused.errors
        return render(request, "revisions/preview.html", context, status=422)
    names = {o.value: o.label for o in options}
    top = tree.index[region]
    figures = (report.baseline, report.required, report.minimum, report.shortfall)
    groups = [
        RegionRows(
            tree.ids[i],
            names[tree.ids[i]],
            int(tree.depth[i] - tree.depth[top]),
            [
                PollutantRow(pollutant, *(float(f[i, p]) for f in figures))
                for p, pollutant in enumerate(LIST_POLLUTANTS)
            ],
        )
        for i in range(top, int(tree.subtree_end[top]))
        if report.baseline[i].any()  # regions without enterprises are left out
    ]
    context["groups"] = groups
    context["shortfalls"] = sum(bool(row.shortfall) for g in groups for row in g.rows)
    baseline = float(report.baseline[top].sum())
    context["ratio"] = float(report.minimum[top].sum()) / baseline if baseline else 0.0
    return render(request, "revisions/preview.html", context)


async def _confirm_page(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    number: int,
    *,
    effective_from: str | None = None,
    date_problem: Text | None = None,
    refusal: RevisionError | None = None,
    status: int = 200,
) -> Response:
    info = await drafts.info(session, number)
    check = await drafts.publish_check(session, number, runtime.catalog, runtime.state.tree)
    context = {
        "revision": info,
        "diff": await drafts.revision_diff(session, number, limit=SUMMARY_ROWS),
        "check": check,
        "effective_from": effective_from or info.effective_from.isoformat(),
        "date_problem": date_problem,
        "refusal": refusal,
        "parts": FIELD_PARTS,
    }
    return render(request, "revisions/publish.html", context, status=status)


@router.get("/revisions/{number}/publish")
async def publish_page(
    request: Request,
    number: RevisionNumber,
    _: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    return await _confirm_page(request, session, runtime, number)


@router.post("/revisions/{number}/publish")
async def publish(
    request: Request,
    number: RevisionNumber,
    operator: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
    effective_from: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        date = dt.date.fromisoformat(effective_from) if effective_from else None
    except ValueError:
        problem = texts().text("revisions.publish.bad_date")
        return await _confirm_page(
            request,
            session,
            runtime,
            number,
            effective_from=effective_from,
            date_problem=problem,
            status=422,
        )
    actor = operator.principal.token_id
    try:
        await list_service.publish(
            session, number, runtime.catalog, runtime.state.tree, actor, date
        )
    except RevisionError as refused:
        if refused.code not in ("revision.invalid", "revision.stale"):
            raise
        return await _confirm_page(
            request,
            session,
            runtime,
            number,
            effective_from=effective_from,
            refusal=refused,
            status=422 if refused.code == "revision.invalid" else 409,
        )
    await session.commit()
    await runtime.rebuild()  # every enterprise's actions follow the new list at once
    return RedirectResponse(f"/revisions?done=published&number={number}", status_code=303)
