"""Opaque cursors of the listings that page by more than one key (the history listings,
the alert events); a page is :class:`service.api.schemas.paging.Page`.

A page holds at most ``limit`` items in a fixed order; ``next_cursor`` (null on the last page)
passed back as ``?cursor=`` gives the page after it, with the same other parameters. A cursor
is opaque to clients: the key of the last item returned (base64url of a JSON array), so a page
boundary stays put while rows are added elsewhere. A cursor that cannot be read answers 422
``cursor.invalid``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from emission_list.i18n import text
from service.errors import HazeError


def encode_cursor(*key: str | int) -> str:
    """The cursor after an item whose key is ``key`` (strings and integers)."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid_cursor() -> HazeError:
    return HazeError(
        422,
        "cursor.invalid",
        text("无法识别的分页游标", "The cursor cannot be read; pass a next_cursor as given"),
        [{"loc": ["query", "cursor"], "type": "cursor.invalid", "message": "unreadable cursor"}],
    )


def decode_cursor(cursor: str, *types: type) -> tuple[Any, ...]:
    """The key in ``cursor``, checked to be of ``types`` (422 ``cursor.invalid`` if not)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise invalid_cursor() from exc
    if not isinstance(key, list) or len(key) != len(types):
        raise invalid_cursor()
    if not all(type(k) is t for k, t in zip(key, types, strict=True)):
        raise invalid_cursor()
    return tuple(key)


def decode_event_cursor(cursor: str) -> tuple[dt.datetime, int]:
    """The time and id of the event a cursor of the alert events names."""
    stamp, event_id = decode_cursor(cursor, str, int)
    try:
        return dt.datetime.fromisoformat(stamp), event_id
    except ValueError as exc:
        raise invalid_cursor() from exc
