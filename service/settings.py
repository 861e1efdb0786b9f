"""The one settings object of Haze Response, read from ``HAZE_``-prefixed environment variables.

Build it once in the composition root (:mod:`service.cli`) and pass it explicitly to
``create_app`` and the consumer runner; tests build it from arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_ADMIN_TOKEN_LENGTH = 32


class Settings(BaseSettings):
    """Settings of the API, the database, the event bus and the consumers."""

    model_config = SettingsConfigDict(env_prefix="HAZE_", extra="ignore")

    data_dir: Path = Field(Path(".haze"), description="Where the embedded SQLite file lives.")
    database_url: str = Field(
        "", description="SQLAlchemy async URL; empty = SQLite file under data_dir."
    )
    kafka_bootstrap: str = Field("", description="Kafka bootstrap servers; empty = in-process bus.")
    admin_token: SecretStr | None = Field(
        None, description="If set, accepted as an operator token (automation)."
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    default_language: Literal["zh-CN", "en"] = "zh-CN"
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Larger request bodies get 413.")
    readings_future_tolerance_s: int = Field(
        600, ge=0, description="Readings stamped further in the future are rejected."
    )
    database_echo: bool = False
    token_cache_s: float = Field(
        300.0, ge=0, description="Seconds a checked token is trusted without a database read."
    )
    refresh_interval_s: float = Field(
        30.0, gt=0, description="How often alerts that start or end with time are applied."
    )

    @field_validator("admin_token")
    @classmethod
    def _admin_token_strong(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_ADMIN_TOKEN_LENGTH:
            raise ValueError(
                f"HAZE_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_LENGTH} characters"
            )
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{(self.data_dir / 'haze.db').as_posix()}"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
