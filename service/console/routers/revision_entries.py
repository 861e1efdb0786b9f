"""A draft's entry in a form: add one, edit one (its credit code may be corrected), with
every problem shown beside its field and the typed values kept.

``GET`` may carry form values in its query (a bad row of an import, to fix): they are shown
over the stored ones and checked at once, so the problems the import reported stand beside
their fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.entries import OVERRIDE_LEVELS
from emission_list.i18n import Text
from emission_list.levels import LIST_POLLUTANTS
from emission_list.revisions import RevisionError, validate_entries
from service.api.deps import RuntimeDep, SessionDep
from service.console import entry_form
from service.console.auth import OperatorViewDep
from service.console.revision_views import (
    RevisionNumber,
    grade_options,
    industry_options,
    leaf_options,
    region_options,
    with_value,
)
from service.console.templating import render
from service.console.texts import texts
from service.runtime import Runtime
from service.services import list_drafts as drafts
from service.storage.repositories import lists

router = APIRouter(include_in_schema=False)

#: An entry's credit code in a path (not ``enterprise_id``: these are operators' pages of a draft,
#: not an enterprise's own).
CreditCode = Annotated[str, Path(max_length=32)]


def _unknown_entry(number: int, enterprise_id: str) -> RevisionError:
    table = texts()
    message = {
        lang: table.say("revisions.entry.unknown", lang, number=number, id=enterprise_id)
        for lang in ("zh-CN", "en")
    }
    return RevisionError("entry.unknown", message)


def _actions_in_words(values: Mapping[str, str]) -> dict[str, list[Text]]:
    shown: dict[str, list[Text]] = {}
    for level in OVERRIDE_LEVELS:
        try:
            actions = json.loads(values.get(entry_form.actions_field(level)) or "[]")
            shown[level] = [a["text"] for a in actions if isinstance(a.get("text"), Mapping)]
        except (ValueError, TypeError, AttributeError):
            shown[level] = []
    return shown


async def _form_page(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    number: int,
    enterprise_id: str | None,
    values: Mapping[str, str],
    problems: Mapping[str, list[Text]],
    status: int = 200,
) -> Response:
    catalog, tree = runtime.catalog, runtime.state.tree
    regions = leaf_options(await region_options(session, tree), tree)
    context: dict[str, Any] = {
        "number": number,
        "enterprise_id": enterprise_id,
        "values": values,
        "problems": problems,
        "regions": with_value(regions, values.get("region", "")),
        "industries": with_value(industry_options(catalog), values.get("industry", "")),
        "grades": with_value(grade_options(catalog), values.get("grade", "")),
        "levels": OVERRIDE_LEVELS,
        "pollutants": LIST_POLLUTANTS,
        "form": entry_form,
        "actions": _actions_in_words(values),
        "lines": entry_form.lines_of(values),
    }
    return render(request, "revisions/entry.html", context, status=status)


def _parse(values: Mapping[str, str]) -> entry_form.ParsedForm:
    table = texts()
    return entry_form.parse(
        values,
        table.text("revisions.entry.actions_unreadable"),
        table.text("revisions.entry.lines_unreadable"),
    )


def _check(runtime: Runtime, values: Mapping[str, str]) -> dict[str, list[Text]]:
    """The problems of prefilled values, as saving them would report them."""
    parsed = _parse(values)
    if parsed.entry is None:
        return parsed.problems
    tree = runtime.state.tree
    errors = validate_entries([parsed.entry], runtime.catalog, tree.leaves, regions=tree.ids)
    return entry_form.problems_by_input(errors)


async def _save(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    number: int,
    actor: str,
    previous_id: str | None,
) -> Response:
    values = entry_form.values_from(await request.form())
    parsed = _parse(values)
    problems = parsed.problems
    if parsed.entry is not None:
        tree = runtime.state.tree
        errors = await drafts.save_entry(
            session, number, parsed.entry, runtime.catalog, tree, actor, previous_id=previous_id
        )
        problems = entry_form.problems_by_input(errors)
    if problems:
        return await _form_page(
            request, session, runtime, number, previous_id, values, problems, status=422
        )
    done = "added" if previous_id is None else "saved"
    target = f"/revisions/{number}?done={done}&enterprise={values.get('enterprise_id', '')}"
    return RedirectResponse(target, status_code=303)


@router.get("/revisions/{number}/enterprises/new")
async def new_entry_form(
    request: Request,
    number: RevisionNumber,
    _: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    await lists.locked_draft(session, number)  # refuses a published or unknown revision
    values = entry_form.values_from(request.query_params)
    problems = _check(runtime, values) if values else {}
    return await _form_page(request, session, runtime, number, None, values, problems)


@router.post("/revisions/{number}/enterprises/new")
async def add_entry(
    request: Request,
    number: RevisionNumber,
    operator: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    return await _save(request, session, runtime, number, operator.principal.token_id, None)


@router.get("/revisions/{number}/enterprises/{credit_code}")
async def entry_form_page(
    request: Request,
    number: RevisionNumber,
    credit_code: CreditCode,
    _: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    await lists.locked_draft(session, number)
    entry = await lists.get_entry(session, number, credit_code)
    if entry is None:
        raise _unknown_entry(number, credit_code)
    prefilled = entry_form.values_from(request.query_params)
    values = entry_form.values_of(entry) | prefilled
    problems = _check(runtime, values) if prefilled else {}
    return await _form_page(request, session, runtime, number, credit_code, values, problems)


@router.post("/revisions/{number}/enterprises/{credit_code}")
async def save_entry(
    request: Request,
    number: RevisionNumber,
    credit_code: CreditCode,
    operator: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    if await lists.get_entry(session, number, credit_code) is None:
        raise _unknown_entry(number, credit_code)
    actor = operator.principal.token_id
    return await _save(request, session, runtime, number, actor, credit_code)
