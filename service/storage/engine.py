"""The async engine and session maker, built once by the app's lifespan or the command.

SQLite (the embedded default) gets foreign keys, WAL (readers do not block the writer), a
busy timeout instead of an immediate "database is locked", and ``synchronous=NORMAL``, which
WAL makes safe against corruption; its file is readable by its owner only
(:func:`keep_private`). PostgreSQL gets a bounded pool that checks connections
before use and gives up connecting after :data:`CONNECT_TIMEOUT_S`. Nothing here connects:
the first query does, and a connection that cannot be made raises
:class:`~service.storage.outage.DatabaseUnavailableError` (the drivers raise a bare ``OSError``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import StaticPool

from service.settings import Settings
from service.storage.outage import DatabaseUnavailableError

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Seconds asyncpg tries to connect before the request answers 503 (its default is 60).
CONNECT_TIMEOUT_S = 5.0
#: A URL naming no driver gets the async one the project ships.
_ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
_SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA synchronous=NORMAL",
)


def keep_private(database: Path, data_dir: Path) -> None:
    """Make a SQLite file readable by its owner only (0600, with its WAL files), creating its
    folder 0700; the data directory itself, when the file is in it, is made 0700 too."""
    folder = database.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.resolve() == data_dir.resolve():
        folder.chmod(0o700)
    if not database.exists():
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if path.exists():
            path.chmod(0o600)


def create_engine(settings: Settings) -> AsyncEngine:
    """An :class:`AsyncEngine` for ``settings.database_url`` (creating a SQLite file's folder).

    ``postgresql://`` and ``sqlite://`` URLs get the asyncpg and aiosqlite drivers.
    """
    url = make_url(settings.database_url)
    url = url.set(drivername=_ASYNC_DRIVERS.get(url.drivername, url.drivername))
    options: dict[str, Any] = {"echo": settings.database_echo}
    if url.get_backend_name() != "sqlite":
        options.update(pool_size=10, max_overflow=10, pool_pre_ping=True, pool_recycle=1800)
        options.update(connect_args={"timeout": CONNECT_TIMEOUT_S})
        return _unavailable_on_connect_failure(_create_async_engine(url, **options))

    in_memory = url.database in (None, "", ":memory:")
    if in_memory:  # one shared connection, or every session would see its own empty database
        options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        keep_private(Path(url.database), settings.data_dir)  # type: ignore[arg-type]
    engine = _unavailable_on_connect_failure(_create_async_engine(url, **options))

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return engine


def _unavailable_on_connect_failure(engine: AsyncEngine) -> AsyncEngine:
    """Connect failures (refused, unknown host, timed out) raise DatabaseUnavailableError."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except OSError as exc:  # ConnectionRefusedError, socket.gaierror, TimeoutError
            raise DatabaseUnavailableError(f"cannot connect to the database: {exc!r}") from exc

    return engine


def make_session_maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep their objects readable after commit (no lazy reload in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)
