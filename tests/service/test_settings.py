from pathlib import Path

import pytest
from pydantic import ValidationError

from service.settings import Settings


def test_embedded_default_is_a_sqlite_file_under_the_data_dir(monkeypatch):
    monkeypatch.delenv("HAZE_DATABASE_URL", raising=False)
    settings = Settings(data_dir=Path("/tmp/haze-x"))
    assert settings.database_url == "sqlite+aiosqlite:////tmp/haze-x/haze.db"
    assert settings.is_sqlite and settings.kafka_bootstrap == ""


def test_environment_with_prefix_is_read(monkeypatch):
    monkeypatch.setenv("HAZE_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    monkeypatch.setenv("HAZE_PORT", "9001")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://u@h/db" and not settings.is_sqlite
    assert settings.port == 9001


def test_a_weak_admin_token_is_refused():
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(admin_token="short")
    assert Settings(admin_token="x" * 32).admin_token.get_secret_value() == "x" * 32
