"""Bring a database to the newest schema: ``alembic upgrade head``, run from code.

The migrations live in the repository's ``alembic/`` folder; a wheel carries a copy as the
package data ``service/storage/migrations`` (``setup.py`` copies it at build time). Either is found
from the installed package, so the current directory does not matter. ``alembic upgrade head``
from the repository root does the same with ``HAZE_DATABASE_URL``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

REPO_ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_DIR = REPO_ROOT / "alembic"


def migrations_dir() -> Path:
    """The migrations shipped in the package (a wheel install), else the repository's."""
    packaged = files("service.storage") / "migrations"
    if packaged.is_dir() and (packaged / "env.py").is_file():
        return Path(str(packaged))
    return ALEMBIC_DIR


#: Any constant: PostgreSQL serialises concurrent migrations (API and consumers) on it.
_MIGRATION_LOCK = 0x6A7E_0004


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the project's migrations, optionally bound to ``connection``.

    Built without ``alembic.ini``, so running migrations from the service leaves its
    logging configuration alone.
    """
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    command.upgrade(alembic_config(connection), revision)


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database of ``engine`` to ``revision`` (default: the newest), atomically
    where the database allows (PostgreSQL; SQLite commits DDL as it goes)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)
