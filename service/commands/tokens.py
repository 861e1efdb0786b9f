"""``haze token list`` and ``haze token revoke ID``: the tokens in the database, from the shell.

``haze token create`` lives with ``haze serve`` (:mod:`service.commands.serve`). A revocation
through the command line reaches a running service once its token cache expires
(``HAZE_TOKEN_CACHE_S``); ``DELETE /api/v1/tokens/{id}`` applies at once.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from service.api.schemas.times import local_iso
from service.settings import Settings
from service.storage.engine import create_engine, make_session_maker
from service.storage.migrate import migrate
from service.storage.repositories import audit, tokens


async def revoke_token(session: AsyncSession, token_id: str, actor: str) -> bool:
    """Revoke a token and record who did; False when there is no such token."""
    if not await tokens.revoke(session, token_id):
        return False
    await audit.record(session, actor, "token.revoke", f"token/{token_id}")
    return True


async def list_tokens(settings: Settings, include_revoked: bool, out: TextIO) -> int:
    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with make_session_maker(engine)() as session:
            found = await tokens.list_all(session, include_revoked=include_revoked)
    finally:
        await engine.dispose()
    print("id\trole\tfor\tlabel\tcreated_at\texpires_at\trevoked_at", file=out)
    for t in found:
        holder = t.enterprise_id or ",".join(t.station_ids) or "-"
        times = [t.created_at, t.expires_at, t.revoked_at]
        shown = ["-" if moment is None else local_iso(moment) for moment in times]
        print("\t".join([t.id, t.role, holder, t.label or "-", *shown]), file=out)
    return 0


async def revoke(settings: Settings, token_id: str, err: TextIO) -> int:
    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with make_session_maker(engine)() as session:
            done = await revoke_token(session, token_id, "cli")
            await session.commit()
    finally:
        await engine.dispose()
    if not done:
        print(f"haze token revoke: no token {token_id} (see `haze token list`)", file=err)
        return 1
    print(f"revoked token {token_id}", file=err)
    return 0


def run_list(settings: Settings, include_revoked: bool) -> int:
    return asyncio.run(list_tokens(settings, include_revoked, sys.stdout))


def run_revoke(settings: Settings, token_id: str) -> int:
    return asyncio.run(revoke(settings, token_id, sys.stderr))
