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


def test_the_default_data_dir_is_per_user_and_absolute_whatever_the_directory(
    monkeypatch, tmp_path
):
    monkeypatch.delenv("HAZE_DATA_DIR", raising=False)
    monkeypatch.delenv("HAZE_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    places = set()
    for directory in (tmp_path, tmp_path / "xdg"):
        directory.mkdir(exist_ok=True)
        monkeypatch.chdir(directory)
        places.add(Settings().database_url)
    assert places == {f"sqlite+aiosqlite:///{tmp_path}/xdg/haze-response/haze.db"}
    monkeypatch.delenv("XDG_DATA_HOME")
    assert Settings().data_dir == Path.home() / ".local" / "share" / "haze-response"
    monkeypatch.setenv("HAZE_DATA_DIR", "rel")
    assert Settings().data_dir == tmp_path / "xdg" / "rel"  # made absolute once


def test_the_sample_is_seeded_only_on_the_embedded_default_unless_asked(monkeypatch):
    monkeypatch.delenv("HAZE_DATABASE_URL", raising=False)
    monkeypatch.delenv("HAZE_SEED_SAMPLE", raising=False)
    assert Settings().seed_sample is True and Settings().is_embedded
    given = Settings(database_url="postgresql+asyncpg://u:pw@h/db")
    assert given.seed_sample is False and not given.is_embedded
    assert given.database_shown == "postgresql+asyncpg://u:***@h/db"
    monkeypatch.setenv("HAZE_SEED_SAMPLE", "true")
    assert Settings(database_url="postgresql+asyncpg://u@h/db").seed_sample is True
    monkeypatch.setenv("HAZE_SEED_SAMPLE", "false")
    assert Settings().seed_sample is False
