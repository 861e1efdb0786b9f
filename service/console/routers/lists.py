"""``/list``: operators search the published list; htmx swaps the results as they type."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from service.api.deps import RuntimeDep, SessionDep
from service.console import formats  # noqa: F401  (the templates' filters)
from service.console.auth import OperatorViewDep
from service.console.templating import render
from service.services import list_search

router = APIRouter(include_in_schema=False)

Field = Annotated[str, Query(max_length=200)]


@router.get("/list")
async def list_page(
    request: Request,
    viewer: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
    name: Field = "",
    credit_code: Field = "",
    region: Field = "",
    industry: Field = "",
    grade: Field = "",
    after: Field = "",
    before: Field = "",
    q: Field = "",
) -> Response:
    """The published list, searched; ``q`` is another name for ``name`` (a free-text box)."""
    query = list_search.SearchQuery(name or q, credit_code, region, industry, grade, after, before)
    state = runtime.state
    names = await list_search.region_names(session)
    result = await list_search.search(
        session, query, board=state.board, catalog=runtime.catalog, names=names
    )
    context = {
        "result": result,
        "regions": list_search.region_options(state.tree, names),
        "catalog": runtime.catalog,
    }
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "results":
        # htmx swaps only 2xx answers: the problems come with the results (and beside the
        # fields, out of band), the form being typed in stays as it is.
        return render(request, "list/results.html", context | {"partial": True})
    status = 422 if result.problems else 200
    return render(request, "list/index.html", context | {"partial": False}, status=status)
