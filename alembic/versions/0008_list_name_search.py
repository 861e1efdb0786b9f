"""Searching the list by a part of a name: a trigram index on the names (PostgreSQL).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

A search by a part of a name (``name LIKE '%钢铁联合%'``, ``name_en ILIKE '%steel%'``) can
use no B-tree: at 100,000 entries a rare part means reading every row. On PostgreSQL the
index ``ix_list_entries_name_name_en`` is a GIN index of pg_trgm's trigrams of both names,
which answers a part of three characters or more from the index (``CREATE EXTENSION
pg_trgm``: a trusted extension, which the database's owner may create). Where the
extension cannot be created, and on SQLite, the index is a plain one of the same name (the
schema stays the models'), and name searches read the rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_list_entries_name_name_en"
log = logging.getLogger("alembic.runtime.migration")


def _trigrams_available(connection: sa.Connection) -> bool:
    """Create pg_trgm if it is missing; False when this database may not have it."""
    try:
        with connection.begin_nested():
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        log.warning("pg_trgm unavailable (%s): list name searches will read every row", exc)
        return False
    return True


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql" and _trigrams_available(connection):
        op.create_index(
            INDEX,
            "list_entries",
            ["name", "name_en"],
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops", "name_en": "gin_trgm_ops"},
        )
    else:
        op.create_index(INDEX, "list_entries", ["name", "name_en"])


def downgrade() -> None:
    op.drop_index(INDEX, "list_entries")
