"""Importing a CSV or XLSX file into a draft: the upload form, then the row-by-row report.

The form posts with htmx (its ``<progress>`` follows the upload) and, without script, as a
plain form; either way the answer is the whole page, of which htmx swaps the ``<main>``.
Files up to ``HAZE_CONSOLE_UPLOAD_BYTES`` are taken on :data:`UPLOAD_PATH` (other bodies keep
``HAZE_MAX_BODY_BYTES``); a larger one is answered 413 before it is read.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from service.api.deps import RuntimeDep, SessionDep
from service.console import entry_form
from service.console.auth import OperatorViewDep
from service.console.revision_views import FIELD_PARTS, RevisionNumber
from service.console.templating import page_language, render
from service.console.texts import texts
from service.runtime import Runtime
from service.services import list_drafts as drafts
from service.services.list_upload import REQUIRED_COLUMNS, ListFileError
from service.storage.repositories import lists

router = APIRouter(include_in_schema=False)

#: The path whose bodies may be as large as ``HAZE_CONSOLE_UPLOAD_BYTES`` (a regex).
UPLOAD_PATH = r"/revisions/\d+/import"
#: Bad rows shown in a report (the counts cover them all).
REPORT_ROWS = 500


def _page(
    request: Request, number: int, runtime: Runtime, status: int = 200, **context: Any
) -> Response:
    values: dict[str, Any] = {
        "number": number,
        "report": None,
        "file_problem": None,
        "replace": False,
        "limit_mib": f"{runtime.settings.console_upload_bytes / 1_048_576:.3g}",
        "required_columns": REQUIRED_COLUMNS,
        "report_rows": REPORT_ROWS,
        "form": entry_form,
        "parts": FIELD_PARTS,
    }
    return render(request, "revisions/import.html", values | context, status=status)


@router.get("/revisions/{number}/import")
async def import_form(
    request: Request,
    number: RevisionNumber,
    _: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    await lists.locked_draft(session, number)  # refuses a published or unknown revision
    return _page(request, number, runtime)


@router.post("/revisions/{number}/import")
async def import_file(
    request: Request,
    number: RevisionNumber,
    operator: OperatorViewDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    replace = form.get("mode") == "replace"
    if not isinstance(upload, UploadFile) or not upload.filename:
        problem = texts().text("revisions.import.no_file")
        return _page(request, number, runtime, 422, file_problem=problem, replace=replace)
    try:
        report = await drafts.import_file(
            session,
            number,
            upload.file,
            upload.filename,
            runtime.catalog,
            runtime.state.tree,
            operator.principal.token_id,
            replace=replace,
            language=page_language(request),
        )
    except ListFileError as refused:
        return _page(request, number, runtime, 422, file_problem=refused.message, replace=replace)
    finally:
        await upload.close()
    return _page(request, number, runtime, report=report, replace=replace)
