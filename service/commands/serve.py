"""``haze serve`` and ``haze token create``: run the service, hand out tokens."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import multiprocessing
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from service.settings import Settings

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from service.bootstrap import Prepared

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def prepare_apart(settings: Settings, log_level: str = "info") -> Prepared:
    """:func:`service.bootstrap.prepare` in a child process: the migrations (alembic) and the
    seeding load modules and make garbage that the server, which needs neither, would carry
    for good (~30 MB of an idle ``haze serve``). Raises ``RuntimeError`` if it failed (the
    child printed why)."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, not a fork
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(
        target=_prepare_child, args=(settings, log_level, sending), name="haze-prepare"
    )
    child.start()
    sending.close()
    try:
        prepared = receiving.recv()
    except EOFError:
        prepared = None
    child.join()
    if prepared is None or child.exitcode != 0:
        raise RuntimeError(f"preparing the database failed (exit code {child.exitcode})")
    return prepared


def _prepare_child(settings: Settings, log_level: str, result: Connection) -> None:
    from service.bootstrap import prepare

    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)
    result.send(asyncio.run(prepare(settings, sample=bool(settings.seed_sample))))
    result.close()


def serve(settings: Settings, *, consumers: bool = True, log_level: str = "info") -> int:
    """Migrate, seed on first start, print a new operator token once, then serve."""
    import uvicorn

    from service.api.http_limits import uvicorn_options
    from service.commands.process import create_app

    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)
    prepared = prepare_apart(settings, log_level)
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
