"""Registering HJ 212 data loggers: whose they are, their password and units."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service.api.schemas.loggers import LoggerIn
from service.errors import HazeError
from service.gateway.directory import password_hash as gateway_password_hash
from service.services.board import ActionBoard
from service.storage.models import Logger
from service.storage.repositories import audit, loggers, stations, utcnow


def password_hash(password: str) -> str:
    """The SHA-256 kept of a logger's PW (hex). A PW is a short shared secret sent in clear
    in every packet; it is hashed so that the database does not hand it out."""
    return gateway_password_hash(password).hex()


def _owner_error(field: str, value: str | None, zh: str, en: str) -> HazeError:
    return HazeError(
        422, "logger.owner", {"zh-CN": zh, "en": en}, [{"field": field, "value": value}]
    )


async def _check_owner(session: AsyncSession, body: LoggerIn, board: ActionBoard) -> None:
    if body.kind == "station":
        if body.station_id is None or body.enterprise_id is not None:
            raise _owner_error(
                "station_id",
                body.station_id,
                "监测站数采仪须给出 station_id（且不给 enterprise_id）",
                "A station's logger names its station_id (and no enterprise_id)",
            )
        if not await stations.existing(session, {body.station_id}):
            raise _owner_error(
                "station_id",
                body.station_id,
                f"没有站点 {body.station_id}",
                f"No station {body.station_id}",
            )
        return
    if body.enterprise_id is None or body.station_id is not None:
        raise _owner_error(
            "enterprise_id",
            body.enterprise_id,
            "企业的计量或在线监测数采仪须给出 enterprise_id（且不给 station_id）",
            "An enterprise's meter or CEMS logger names its enterprise_id (and no station_id)",
        )
    if body.enterprise_id not in board:
        raise _owner_error(
            "enterprise_id",
            body.enterprise_id,
            f"企业 {body.enterprise_id} 不在已发布的清单上",
            f"Enterprise {body.enterprise_id} is not on the published list",
        )


async def put(
    session: AsyncSession, mn: str, body: LoggerIn, board: ActionBoard, actor: str
) -> tuple[Logger, bool]:
    """Create or replace the registration of ``mn``; True when it was created."""
    await _check_owner(session, body, board)
    created = await loggers.put(
        session,
        mn,
        {
            "kind": body.kind,
            "station_id": body.station_id,
            "enterprise_id": body.enterprise_id,
            "password_sha256": password_hash(body.password),
            "units": dict(body.units),
            "timezone": body.timezone,
            "note": body.note,
            "updated_at": utcnow(),
            "updated_by": actor,
        },
    )
    await audit.record(
        session,
        actor,
        "logger.put",
        f"logger/{mn}",
        {"kind": body.kind, "owner": body.station_id or body.enterprise_id},
    )
    row = await loggers.get(session, mn)
    assert row is not None
    return row, created
