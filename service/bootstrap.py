"""First start of a service: migrate, load the sample into an empty database, and make sure
an operator can get in (a token created and its secret returned once)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from service.security import create_token
from service.services.seed import seed_sample
from service.settings import Settings
from service.storage.engine import create_engine, make_session_maker
from service.storage.migrate import migrate
from service.storage.repositories import tokens

#: Any constant: on PostgreSQL, processes starting together (two APIs of a fresh deployment)
#: take their first start one after the other, so the sample and the first operator token
#: are made once.
_FIRST_START_LOCK = 0x6A7E_0005


@dataclass(frozen=True)
class Prepared:
    seeded: bool
    operator_token: str | None  # the secret of a new operator token; None when one existed


async def prepare(settings: Settings, *, sample: bool = True) -> Prepared:
    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with make_session_maker(engine)() as session:
            if engine.dialect.name == "postgresql":  # held until the commit below
                lock = text("SELECT pg_advisory_xact_lock(:key)")
                await session.execute(lock, {"key": _FIRST_START_LOCK})
            seeded = await seed_sample(session) if sample else False
            secret = None
            if not await tokens.any_usable(session, "operator"):
                _, secret = await create_token(session, "operator", label="first operator")
            await session.commit()
        return Prepared(seeded, secret)
    finally:
        await engine.dispose()
