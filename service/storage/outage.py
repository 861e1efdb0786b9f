"""Telling a database outage from a bug, by the type of what was raised (never its text).

A connection that cannot be made raises :class:`DatabaseUnavailableError` (the engine wraps
connect failures, which the drivers raise as bare ``OSError``/``TimeoutError``: see
:func:`service.storage.engine.create_engine`); a connection lost while in use, the pool waiting
too long, or the server refusing or shutting down raise the driver's and SQLAlchemy's
connectivity errors. :func:`is_unavailable` says whether an exception is one of these: the
API answers it 503 ``database.unavailable`` with ``Retry-After``.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa

from service.loaded import loaded_classes

#: SQLAlchemy's errors of connectivity (``DBAPIError`` counts only when it says the
#: connection was invalidated: the asyncpg dialect raises the generic class for a lost one).
_SQLALCHEMY = (sa.OperationalError, sa.InterfaceError, sa.DisconnectionError, sa.TimeoutError)
#: asyncpg's (raised bare by a driver connection, e.g. a COPY): class 08 (connection
#: exception, e.g. the connection does not exist), 53300 (too many connections), class 57
#: (shutdown, cannot connect now).
#: (Looked up in asyncpg only when it is loaded: see :mod:`service.loaded`.)
_ASYNCPG = ("PostgresConnectionError", "TooManyConnectionsError", "OperatorInterventionError")
#: SQLite's generic ``SQLITE_ERROR`` (no such table, a syntax error) is a bug, not an outage;
#: its other operational errors (busy, locked, I/O, cannot open, full) are.
_SQLITE_ERROR = 1


class DatabaseUnavailableError(ConnectionError):
    """No connection to the database could be made."""


def _sqlite_bug(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    return isinstance(orig, sqlite3.Error) and code is not None and code & 0xFF == _SQLITE_ERROR


def _one_is_unavailable(exc: BaseException) -> bool:
    if isinstance(
        exc, (DatabaseUnavailableError, *loaded_classes("asyncpg.exceptions", *_ASYNCPG))
    ):
        return True
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, _SQLALCHEMY) and not _sqlite_bug(exc)


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc``, or what it was raised from, says the database cannot be reached."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if _one_is_unavailable(current):
            return True
        seen.add(id(current))
        current = current.__cause__
    return False
