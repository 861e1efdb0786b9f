"""Alembic environment of Haze Response: async engines, batch mode on SQLite.

Alembic migrations for PostgreSQL (asyncpg) and the embedded SQLite default: stations,
regions, readings, AQI results, forecasts, alerts, list revisions, tokens and the audit log.
The domain core in ``emission_list/`` needs no database.

Two ways in: :func:`service.storage.migrate.migrate` hands over an open connection in
``config.attributes["connection"]`` (``haze serve``, the tests); the ``alembic`` command
builds an engine from ``sqlalchemy.url`` when set, else from ``HAZE_DATABASE_URL``
(default: a SQLite file under ``HAZE_DATA_DIR``).
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from service.settings import Settings
from service.storage.engine import create_engine
from service.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _settings() -> Settings:
    url = config.get_main_option("sqlalchemy.url")
    return Settings(database_url=url) if url else Settings()


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_engine(_settings())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


def run_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade head --sql``)."""
    context.configure(
        url=_settings().database_url, target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    if context.is_offline_mode():
        run_offline()
    else:
        asyncio.run(run_online())
