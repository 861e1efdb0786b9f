"""The first operator token's secret of each seeded test database, by URL (filled by the
``seeded_database_url`` fixture, read by the served app of the service tests): a module of
its own, so both import the same dictionary."""

from __future__ import annotations

SEEDED_OPERATOR_SECRETS: dict[str, str] = {}
