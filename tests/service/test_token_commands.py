"""``haze token create|list|revoke`` against an embedded database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from service.bootstrap import prepare
from service.commands.cli import main as haze
from service.security import Authenticator
from service.settings import Settings
from service.storage.engine import create_engine


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("HAZE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HAZE_DATABASE_URL", raising=False)
    settings = Settings()
    asyncio.run(prepare(settings))
    return settings


def _principal(settings: Settings, secret: str):
    async def check():
        engine = create_engine(settings)
        try:
            return await Authenticator(engine, cache_s=0).principal(secret)
        finally:
            await engine.dispose()

    return asyncio.run(check())


def test_tokens_are_listed_without_secrets_and_revoked_by_id(settings: Settings, capsys):
    assert haze(["token", "create", "--role", "station", "--station", "1502A01"]) == 0
    secret = capsys.readouterr().out.strip()
    assert _principal(settings, secret) is not None
    assert haze(["token", "list"]) == 0
    captured = capsys.readouterr()
    assert f"database: {settings.database_url}" in captured.err
    header, *rows = captured.out.splitlines()
    assert header.startswith("id\trole\tfor")
    assert [r.split("\t")[1] for r in rows] == ["operator", "station"]
    assert secret not in captured.out
    station_id = rows[1].split("\t")[0]
    assert rows[1].split("\t")[2] == "1502A01"
    assert haze(["token", "revoke", station_id]) == 0
    assert f"revoked token {station_id}" in capsys.readouterr().err
    assert _principal(settings, secret) is None
    haze(["token", "list"])
    assert station_id not in capsys.readouterr().out
    haze(["token", "list", "--all"])
    revoked = [r for r in capsys.readouterr().out.splitlines() if r.startswith(station_id)]
    assert len(revoked) == 1 and revoked[0].split("\t")[-1] != "-"


def test_revoking_an_unknown_token_says_so(settings: Settings, capsys):
    assert haze(["token", "revoke", "nope"]) == 1
    assert "no token nope" in capsys.readouterr().err


def test_help_texts_show_the_defaults(capsys):
    for command in (["replay", "--help"], ["serve", "--help"], ["list", "import", "--help"]):
        with pytest.raises(SystemExit):
            haze(command)
        out = " ".join(capsys.readouterr().out.split())
        assert "(default:" in out
    with pytest.raises(SystemExit):
        haze(["replay", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 7)" in out and "(default: en)" in out
