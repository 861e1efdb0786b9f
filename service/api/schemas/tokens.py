"""API models of bearer tokens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas.inputs import Instant
from service.api.schemas.times import LocalInstant
from service.storage.models import Token

Role = Literal["operator", "station", "enterprise"]


class TokenIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"role": "enterprise", "enterprise_id": "91150203MA0N2K3X8P", "label": "EHS desk"},
                {"role": "station", "station_ids": ["1502A01", "1502A02"]},
            ]
        },
    )

    role: Role
    enterprise_id: str | None = Field(
        None, max_length=32, description="Required for (only) an enterprise token."
    )
    station_ids: list[Annotated[str, Field(max_length=32)]] = Field(
        default_factory=list, description="Stations it may post for."
    )
    expires_at: Instant | None = None
    label: str = Field("", max_length=200, description="Who holds it, for the operators.")


class TokenOut(BaseModel):
    """A token as listed: never its secret."""

    id: str
    role: Role
    enterprise_id: str | None
    station_ids: list[str]
    label: str
    created_at: LocalInstant
    expires_at: LocalInstant | None
    revoked_at: LocalInstant | None
    created_by: str | None

    @classmethod
    def of(cls, token: Token) -> TokenOut:
        return cls.model_validate(token, from_attributes=True)


class TokenCreated(TokenOut):
    token: str = Field(description="The secret: shown only in this answer, store it now.")
