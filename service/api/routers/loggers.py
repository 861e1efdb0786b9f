"""``/loggers``: the HJ 212 data loggers the gateway accepts (operators only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from service.api.deps import OperatorDep, RuntimeDep, SessionDep
from service.api.schemas.loggers import MN_PATTERN, LoggerIn, LoggerKind, LoggerOut, effective_units
from service.api.schemas.paging import DEFAULT_LIMIT, Limit, Page
from service.api.text_guard import TextGuard
from service.errors import ERROR_RESPONSES, not_found
from service.services import loggers as logger_service
from service.storage.models import Logger
from service.storage.repositories import audit, loggers

router = APIRouter(tags=["loggers"], responses=ERROR_RESPONSES, dependencies=[TextGuard])

MN = Annotated[str, Path(min_length=1, max_length=32, pattern=MN_PATTERN)]


def _out(row: Logger) -> LoggerOut:
    return LoggerOut(
        mn=row.mn,
        kind=row.kind,  # type: ignore[arg-type]
        station_id=row.station_id,
        enterprise_id=row.enterprise_id,
        units=dict(row.units),
        effective_units=effective_units(dict(row.units)),
        timezone=row.timezone,
        note=row.note,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _unknown(mn: str):
    return not_found("logger.unknown", f"没有数采仪 {mn}", f"No logger {mn}")


@router.put(
    "/loggers/{mn}",
    response_model=LoggerOut,
    responses={201: {"model": LoggerOut, "description": "Registered."}},
)
async def put_logger(
    mn: MN,
    body: LoggerIn,
    operator: OperatorDep,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> LoggerOut:
    """Register a data logger by its MN (or replace its registration): whose it is, its
    password (only a hash is kept) and the unit of each pollutant code it sends. The gateway
    accepts its packets from then on."""
    row, created = await logger_service.put(
        session, mn, body, runtime.state.board, operator.token_id
    )
    out = _out(row)
    await session.commit()
    await runtime.loggers_changed()
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return out


@router.get("/loggers", response_model=Page[LoggerOut])
async def get_loggers(
    _: OperatorDep,
    session: SessionDep,
    kind: LoggerKind | None = None,
    owner: Annotated[
        str | None, Query(max_length=32, description="A station or enterprise id.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
) -> Page[LoggerOut]:
    """Registered loggers by MN, a page at a time."""
    found, next_cursor = await loggers.page(
        session, kind=kind, owner=owner, limit=limit, after=cursor
    )
    return Page[LoggerOut](items=[_out(r) for r in found], next_cursor=next_cursor)


@router.get("/loggers/{mn}", response_model=LoggerOut)
async def get_logger(mn: MN, _: OperatorDep, session: SessionDep) -> LoggerOut:
    row = await loggers.get(session, mn)
    if row is None:
        raise _unknown(mn)
    return _out(row)


@router.delete("/loggers/{mn}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_logger(
    mn: MN, operator: OperatorDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """Unregister a logger: the gateway refuses its packets from then on."""
    if not await loggers.remove(session, mn):
        raise _unknown(mn)
    await audit.record(session, operator.token_id, "logger.delete", f"logger/{mn}")
    await session.commit()
    await runtime.loggers_changed()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
