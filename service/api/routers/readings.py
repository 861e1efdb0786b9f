"""``POST /readings``: hourly readings from stations."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, status

from service.api.deps import LanguageDep, RuntimeDep, require
from service.api.schemas.readings import ReadingIn, ReadingsAccepted
from service.api.text_guard import TextGuard
from service.errors import BUS_RESPONSES, ERROR_RESPONSES
from service.security import Principal
from service.services.readings import accept_readings
from service.storage.repositories import utcnow

router = APIRouter(tags=["readings"], responses=ERROR_RESPONSES, dependencies=[TextGuard])

_EXAMPLE = ReadingIn.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]


@router.post(
    "/readings",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReadingsAccepted,
    responses=BUS_RESPONSES,
    summary="Post hourly readings (station for its own stations, or operator)",
    openapi_extra={  # documented as ReadingIn rows; parsed loosely so each row is judged alone
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "maxItems": 10_000,
                        "items": ReadingIn.model_json_schema(),
                    },
                    "example": [_EXAMPLE, {**_EXAMPLE, "station_id": "1502A02", "pm10": -5}],
                }
            },
        }
    },
)
async def post_readings(
    rows: Annotated[
        list[Any],
        Body(description="ReadingIn rows; each is checked on its own.", max_length=10_000),
    ],
    principal: Annotated[Principal, Depends(require("station", "operator"))],
    runtime: RuntimeDep,
    language: LanguageDep,
) -> ReadingsAccepted:
    """Good rows are kept when others are bad; the answer (202) comes once they are stored
    (embedded bus) or acknowledged by the broker (Kafka)."""
    allowed = principal.station_ids if principal.role == "station" else None
    tolerance = dt.timedelta(seconds=runtime.settings.readings_future_tolerance_s)
    return await accept_readings(
        runtime.session_maker,
        runtime.bus,
        rows,
        utcnow(),
        allowed_stations=allowed,
        future_tolerance=tolerance,
        language=language,
        topic=runtime.settings.kafka_topic_readings,
    )
