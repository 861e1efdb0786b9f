"""Database fixtures: every database test runs on SQLite and on a real PostgreSQL 15.

- ``postgres_url`` (session): a PostgreSQL server for the run. Without
  ``HAZE_TEST_DATABASE_URL`` one is started in ``/dev/shm/hzpg-<pid>`` (``/tmp/hzpg-<pid>``
  when /dev/shm is small; ``tests/infra/pg_server.py``) and removed at the end; with it, that
  server is used (its user needs CREATEDB; the databases made for tests are dropped).
- ``database_url`` (function, ids ``sqlite`` and ``postgresql``): a fresh database of its own,
  already at the newest schema. The schema is built once per run by
  :func:`service.storage.migrate.migrate` into a template, and each test gets a copy (a file copy on
  SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL): tests are independent and cheap.
- ``seeded_database_url`` (function, same ids): like ``database_url`` with the sample loaded
  and a first operator token made, as ``haze serve`` prepares it on its first start; copied
  from a template prepared once per run (``tests.infra.seeded`` holds the token's
  secret by URL), so a test of the served app does not seed the sample again.
- ``blank_database_url`` (function, same ids): a fresh, empty database (no schema).
- ``engine`` (function): an engine on ``database_url``, disposed afterwards.
- ``session`` (function): an ``AsyncSession`` on ``engine``; what the test leaves uncommitted
  is rolled back.
- ``own_postgres`` (function): a PostgreSQL server of the test alone, which it may stop (an
  outage); removed afterwards.

A PostgreSQL server is started only when a test asks for one.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import hypothesis
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.settings import Settings
from service.storage.engine import create_engine, make_session_maker
from service.storage.migrate import migrate
from tests.infra import pg_server
from tests.infra.seeded import SEEDED_OPERATOR_SECRETS

BACKENDS = ["sqlite", "postgresql"]

# Tests run on loaded machines (CI, two cores shared with PostgreSQL and the broker): no test
# may fail for taking long, so hypothesis has no deadline anywhere. The profile is loaded
# before any test module, so every ``@settings(...)`` inherits it.
hypothesis.settings.register_profile("haze", deadline=None, print_blob=True)
hypothesis.settings.load_profile("haze")
_numbers = itertools.count()


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` of the same server."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _dsn(url: str) -> str:
    """A libpq-style DSN for asyncpg from a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _migrated(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    external = os.environ.get("HAZE_TEST_DATABASE_URL")
    if external:
        yield external
        return
    server = pg_server.start()
    atexit.register(server.stop)  # also when the session ends abnormally
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def own_postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[pg_server.PostgresServer]:
    # its own directory: the session's server lives in the default one
    base = Path("/dev/shm" if Path("/dev/shm").is_dir() else "/tmp") / f"hzown-{os.getpid()}"
    monkeypatch.setattr(pg_server, "_base_dir", lambda: base)
    server = pg_server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture(scope="session")
async def _pg_admin(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the server's maintenance database, for CREATE/DROP DATABASE."""
    connection = await asyncpg.connect(_dsn(postgres_url))
    try:
        yield connection
    finally:
        await connection.close()


async def _create_database(admin: asyncpg.Connection, name: str, template: str = "") -> None:
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(
        f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    )


@pytest_asyncio.fixture(scope="session")
async def _pg_template(_pg_admin: asyncpg.Connection, postgres_url: str) -> AsyncIterator[str]:
    """A PostgreSQL database migrated once per run, copied for each test."""
    name = f"haze_template_{os.getpid()}"
    await _create_database(_pg_admin, name)
    await _migrated(with_database(postgres_url, name))
    yield name
    await _pg_admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _pg_database(
    admin: asyncpg.Connection, postgres_url: str, template: str = ""
) -> AsyncIterator[str]:
    name = f"haze_test_{os.getpid()}_{next(_numbers)}"
    await _create_database(admin, name, template)
    yield with_database(postgres_url, name)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest_asyncio.fixture
async def _postgresql_database(
    _pg_admin: asyncpg.Connection, _pg_template: str, postgres_url: str
) -> AsyncIterator[str]:
    async for url in _pg_database(_pg_admin, postgres_url, _pg_template):
        yield url


@pytest_asyncio.fixture
async def _postgresql_blank(_pg_admin: asyncpg.Connection, postgres_url: str) -> AsyncIterator[str]:
    async for url in _pg_database(_pg_admin, postgres_url):
        yield url


@pytest_asyncio.fixture(scope="session")
async def _sqlite_migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "haze.db"
    await _migrated(f"sqlite+aiosqlite:///{path}")
    assert not path.with_name("haze.db-wal").exists(), "template not checkpointed"
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("_postgresql_database")
    path = tmp_path / "haze.db"
    shutil.copyfile(request.getfixturevalue("_sqlite_migrated"), path)
    return f"sqlite+aiosqlite:///{path}"


async def _seeded(url: str) -> str:
    from service.bootstrap import prepare

    prepared = await prepare(Settings(database_url=url))
    assert prepared.operator_token, "a seeded template has its first operator token"
    return prepared.operator_token


@pytest_asyncio.fixture(scope="session")
async def _sqlite_seeded(
    _sqlite_migrated: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("sqlite-seeded") / "haze.db"
    shutil.copyfile(_sqlite_migrated, path)
    secret = await _seeded(f"sqlite+aiosqlite:///{path}")
    assert not path.with_name("haze.db-wal").exists(), "template not checkpointed"
    return path, secret


@pytest_asyncio.fixture(scope="session")
async def _pg_seeded(
    _pg_admin: asyncpg.Connection, _pg_template: str, postgres_url: str
) -> AsyncIterator[tuple[str, str]]:
    name = f"haze_seeded_{os.getpid()}"
    await _create_database(_pg_admin, name, _pg_template)
    secret = await _seeded(with_database(postgres_url, name))
    yield name, secret
    await _pg_admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest_asyncio.fixture
async def _postgresql_seeded(
    _pg_admin: asyncpg.Connection, _pg_seeded: tuple[str, str], postgres_url: str
) -> AsyncIterator[str]:
    template, secret = _pg_seeded
    async for url in _pg_database(_pg_admin, postgres_url, template):
        SEEDED_OPERATOR_SECRETS[url] = secret
        yield url
        SEEDED_OPERATOR_SECRETS.pop(url, None)


@pytest.fixture(params=BACKENDS)
def seeded_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql":
        yield request.getfixturevalue("_postgresql_seeded")
        return
    template, secret = request.getfixturevalue("_sqlite_seeded")
    path = tmp_path / "haze.db"
    shutil.copyfile(template, path)
    url = f"sqlite+aiosqlite:///{path}"
    SEEDED_OPERATOR_SECRETS[url] = secret
    yield url
    SEEDED_OPERATOR_SECRETS.pop(url, None)


@pytest.fixture(params=BACKENDS)
def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("_postgresql_blank")
    return f"sqlite+aiosqlite:///{tmp_path / 'blank.db'}"


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=database_url))
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest_asyncio.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with make_session_maker(engine)() as session:
        yield session
