"""``haze serve`` and ``haze token create``: run the service, hand out tokens."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
from collections.abc import Sequence

from service.settings import Settings


def serve(settings: Settings, *, consumers: bool = True, log_level: str = "info") -> int:
    """Migrate, seed on first start, print a new operator token once, then serve."""
    import uvicorn

    from service.api.http_limits import uvicorn_options
    from service.bootstrap import prepare
    from service.commands.process import create_app

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    prepared = asyncio.run(prepare(settings, sample=bool(settings.seed_sample)))
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
