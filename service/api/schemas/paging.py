"""A page of a listing: ``{"items": [...], "next_cursor": ...}``, and its query parameters."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from service.storage.repositories.paging import DEFAULT_LIMIT, MAX_LIMIT

T = TypeVar("T")

#: ``?limit=``: items per page (default 100, at most 1000).
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
#: ``?cursor=``: the ``next_cursor`` of the page before (absent: the first page).
Cursor = Annotated[
    str | None,
    Query(max_length=200, description="`next_cursor` of the previous page; none: the first."),
]
__all__ = ["DEFAULT_LIMIT", "Cursor", "Limit", "Page"]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")
