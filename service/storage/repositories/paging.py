"""Keyset paging, shared by every listing: a page is up to ``limit`` rows in a fixed order
after the row the cursor names, and the next cursor is the last row's key (None on the last
page). The order must be unique (end it with the primary key). A listing that also pages
back (the console's previous-page links) asks :func:`keyset` for the rows *before* a key: they
come nearest first, and the caller turns them round."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.sql import ColumnElement

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def after(
    order: Sequence[ColumnElement[Any]], keys: Sequence[Any], *, backward: bool = False
) -> ColumnElement[bool]:
    """Rows that come after ``keys`` in ``order`` (all ascending): ``(a, b) > (x, y)``; with
    ``backward``, the rows before them: ``(a, b) < (x, y)``."""
    alternatives = [
        and_(
            *(column == key for column, key in zip(order[:i], keys, strict=False)),
            order[i] < keys[i] if backward else order[i] > keys[i],
        )
        for i in range(len(order))
    ]
    return or_(*alternatives)


def keyset(
    statement: Select[Any],
    order: Sequence[ColumnElement[Any]],
    keys: Sequence[Any] | None,
    limit: int,
    *,
    backward: bool = False,
) -> Select[Any]:
    """``statement`` limited to the page after ``keys`` (None: the first page), one row more
    than ``limit`` to tell whether another page follows. With ``backward``, the page before
    ``keys`` instead, nearest row first (None: the last page)."""
    if keys is not None:
        statement = statement.where(after(order, keys, backward=backward))
    if backward:
        return statement.order_by(*(column.desc() for column in order)).limit(limit + 1)
    return statement.order_by(*order).limit(limit + 1)


def page(
    rows: Sequence[T], limit: int, cursor_of: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """The first ``limit`` of the rows :func:`keyset` fetched, and the next page's cursor."""
    items = list(rows[:limit])
    more = len(rows) > limit and bool(items)
    return items, (cursor_of(items[-1]) if more else None)
