"""``haze serve`` and ``haze token create``: run the service, hand out tokens."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import pickle
import subprocess
import sys
from collections.abc import Sequence
from typing import NamedTuple

from service.settings import Settings


class Prepared(NamedTuple):
    """What :func:`service.bootstrap.prepare` did, as the child answered it."""

    seeded: bool
    operator_token: str | None


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class PrepareFailed(RuntimeError):
    """Migrating or seeding the database failed (the child process told why on stderr)."""


#: The child of :func:`prepare_apart`: this process's import path first (the same code),
#: then the settings; it answers the :class:`Prepared` on stdout (its prints go to stderr).
_CHILD = (
    "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
    "from service.commands.serve import _prepare_child; _prepare_child()"
)


def prepare_apart(settings: Settings, log_level: str = "info") -> Prepared:
    """:func:`service.bootstrap.prepare` in a child process: the migrations (alembic) and the
    seeding load modules and leave garbage that the server, which needs neither, would carry
    for good (~30 MB of an idle ``haze serve``). Raises :class:`PrepareFailed`."""
    payload = pickle.dumps(sys.path) + pickle.dumps((settings, log_level))
    child = subprocess.run(
        [sys.executable, "-c", _CHILD], input=payload, stdout=subprocess.PIPE, check=False
    )
    if child.returncode != 0:
        raise PrepareFailed(f"preparing the database failed (exit code {child.returncode})")
    seeded, operator_token = pickle.loads(child.stdout)  # plain values: no bootstrap import
    return Prepared(seeded, operator_token)


def _prepare_child() -> None:
    from service.bootstrap import prepare

    settings, log_level = pickle.load(sys.stdin.buffer)
    answer, sys.stdout = sys.stdout.buffer, sys.stderr
    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)
    prepared = asyncio.run(prepare(settings, sample=bool(settings.seed_sample)))
    answer.write(pickle.dumps((prepared.seeded, prepared.operator_token)))
    answer.flush()


def serve(settings: Settings, *, consumers: bool = True, log_level: str = "info") -> int:
    """Migrate, seed on first start, print a new operator token once, then serve."""
    import uvicorn

    from service.api.http_limits import uvicorn_options
    from service.commands.process import create_app

    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)
    try:
        prepared = prepare_apart(settings, log_level)
    except PrepareFailed as exc:
        print(f"haze serve: {exc}", file=sys.stderr)
        return 1
    if prepared.seeded:
        print("Loaded the sample Kundulun list as revision 1 (已载入昆都仑区示例清单).")
    elif not settings.seed_sample:
        print(
            "HAZE_SEED_SAMPLE is off: the sample data is not loaded (load your regions, "
            "stations and list, or set HAZE_SEED_SAMPLE=true on an empty database).",
            flush=True,
        )
    if prepared.operator_token:
        print(
            "\nOperator token — shown only now, keep it (操作员令牌，仅显示一次，请妥善保存):\n"
            f"\n    {prepared.operator_token}\n",
            flush=True,
        )
    mode = "with consumers" if consumers else "API only (--no-consumers)"
    print(
        f"Haze Response on http://{settings.host}:{settings.port} ({mode}); "
        f"console at / (sign in with a token), API docs at /docs; "
        f"database {settings.database_shown}",
        flush=True,
    )
    app = create_app(settings, consumers=consumers)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=False,
        **uvicorn_options(settings.max_header_bytes),
    )
    return 0


async def _create(
    settings: Settings,
    role: str,
    stations: Sequence[str],
    enterprise: str | None,
    label: str,
    expires_at: dt.datetime | None,
) -> str:
    from service.security import create_token
    from service.storage.engine import create_engine, make_session_maker
    from service.storage.migrate import migrate
    from service.storage.repositories import audit

    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with make_session_maker(engine)() as session:
            token, secret = await create_token(
                session,
                role,
                enterprise_id=enterprise,
                station_ids=stations,
                expires_at=expires_at,
                label=label,
                created_by="cli",
            )
            await audit.record(session, "cli", "token.create", f"token/{token.id}")
            await session.commit()
        return secret
    finally:
        await engine.dispose()


def create_token_command(
    settings: Settings,
    role: str,
    stations: Sequence[str],
    enterprise: str | None,
    label: str = "",
    expires_at: dt.datetime | None = None,
) -> int:
    from service.errors import HazeError

    try:
        secret = asyncio.run(_create(settings, role, stations, enterprise, label, expires_at))
    except HazeError as exc:
        print(f"haze token create: {exc.message['en']} ({exc.message['zh-CN']})", file=sys.stderr)
        return 1
    print(secret)
    return 0
