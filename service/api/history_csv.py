"""``Accept: text/csv`` for the history listings: one small writer for all of them.

A page is written as CSV in UTF-8 with a header row, one line per item. Nested values are
flattened: a mapping field ``iaqi`` becomes columns ``iaqi_pm25`` ... (its keys, in the
order the schema declares in ``CSV_KEYS``), a nested model ``alert`` columns ``alert_level``
..., a list its elements joined by ``;``. Cells hold the JSON answer's values as text (times
in the same ISO 8601 form, ``true``/``false``, empty for null), so a CSV page and a JSON page
say the same. The next page is in the ``Link: <url>; rel="next"`` header (absent on the last
page) and its cursor in ``X-Next-Cursor``.
"""

from __future__ import annotations

import csv
import io
import types
import typing
from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

from service.api.schemas.paging import Page

CSV = "text/csv"


def _quality(accept: str, wanted: str) -> float:
    best = 0.0
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if media.lower() != wanted:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = max(best, q)
    return best


def wants_csv(request: Request) -> bool:
    """True when ``Accept`` asks for ``text/csv`` above ``application/json``."""
    accept = request.headers.get("accept", "")
    csv_q = _quality(accept, CSV)
    return csv_q > 0 and csv_q > _quality(accept, "application/json")


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def _columns(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, tuple[str, ...]]]:
    """(column, path) for each cell of a ``model`` item."""
    keys: dict[str, tuple[str, ...]] = getattr(model, "CSV_KEYS", {})
    for name, field in model.model_fields.items():
        nested = _model_of(field.annotation)
        if nested is not None:
            for column, path in _columns(nested, f"{prefix}{name}_"):
                yield column, (name, *path)
        elif name in keys:
            for key in keys[name]:
                yield f"{prefix}{name}_{key}", (name, key)
        else:
            yield f"{prefix}{name}", (name,)


def cell(value: Any) -> str:
    """A JSON value as a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(cell(v) for v in value)
    return str(value)


def _at(document: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        if isinstance(document, list):  # a list of objects: the key of each, in order
            document = [e.get(step) if isinstance(e, dict) else None for e in document]
        elif isinstance(document, dict):
            document = document.get(step)
        else:
            return None
    return document


def write(model: type[BaseModel], items: Sequence[BaseModel]) -> str:
    """The CSV text of ``items`` (of ``model``), header first."""
    columns = list(_columns(model))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c for c, _ in columns])
    for item in items:
        document = item.model_dump(mode="json")
        writer.writerow([cell(_at(document, path)) for _, path in columns])
    return out.getvalue()


def csv_page(
    request: Request, model: type[BaseModel], items: Sequence[BaseModel], next_cursor: str | None
) -> Response:
    """A page as a ``text/csv`` answer, the next page linked in the headers."""
    headers = {}
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor)
        headers = {"Link": f'<{url}>; rel="next"', "X-Next-Cursor": next_cursor}
    body = write(model, items).encode("utf-8")
    return Response(body, media_type=f"{CSV}; charset=utf-8", headers=headers)


def page_answer(
    request: Request, model: type[BaseModel], items: list[Any], next_cursor: str | None
) -> Any:
    """The page as JSON (``Page[model]``), or as CSV when the request asks for it."""
    if wants_csv(request):
        return csv_page(request, model, items, next_cursor)
    return Page[model](items=items, next_cursor=next_cursor)  # type: ignore[valid-type]
