"""The revision pages of the console, as one router (see the ``revision_*`` modules)."""

from __future__ import annotations

from fastapi import APIRouter

from service.console.routers import (
    revision_entries,
    revision_import,
    revision_list,
    revision_review,
)

router = APIRouter(include_in_schema=False)
for part in (revision_list, revision_entries, revision_import, revision_review):
    router.routes.extend(part.router.routes)  # the pages themselves, as one router's

#: Paths (regular expressions) whose bodies may be as large as HAZE_CONSOLE_UPLOAD_BYTES.
UPLOAD_PATHS = (revision_import.UPLOAD_PATH,)
