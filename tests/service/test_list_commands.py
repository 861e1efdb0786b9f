"""``haze list export`` and ``haze list import`` against an embedded database."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest

from emission_list.samples import kundulun_list
from service.commands.cli import main as haze
from service.services.seed import seed_sample
from service.settings import Settings
from service.storage.engine import create_engine, make_session_maker
from service.storage.migrate import migrate
from service.storage.repositories import lists


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("HAZE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HAZE_DATABASE_URL", raising=False)
    settings = Settings()

    async def prepare() -> None:
        engine = create_engine(settings)
        await migrate(engine)
        async with make_session_maker(engine)() as session:
            await seed_sample(session)
            await session.commit()
        await engine.dispose()

    asyncio.run(prepare())
    return settings


def revision(settings: Settings, number: int):
    async def get():
        engine = create_engine(settings)
        async with make_session_maker(engine)() as session:
            found = await lists.get(session, number)
        await engine.dispose()
        return found

    return asyncio.run(get())


def test_export_then_import_makes_an_equal_draft(seeded: Settings, tmp_path: Path, capsys):
    out = tmp_path / "list.csv"
    assert haze(["list", "export", "-o", str(out)]) == 0
    assert haze(["list", "import", str(out), "--author", "operator-1"]) == 0
    err = capsys.readouterr().err
    assert "draft revision 2: 90 entries, 0 problems" in err
    draft = revision(seeded, 2)
    assert draft.is_draft and draft.base == 1 and draft.entries == kundulun_list().entries


def test_import_reports_bad_rows_by_line_and_exits_1(seeded: Settings, tmp_path: Path, capsys):
    out = tmp_path / "list.csv"
    haze(["list", "export", "-o", str(out)])
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    rows[4]["grade"] = "ZZ"
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert haze(["list", "import", str(out)]) == 1
    err = capsys.readouterr().err
    assert "line 6, grade:" in err and "1 problems" in err
    assert len(revision(seeded, 2).entries) == 90  # the readable rows are all kept


def test_export_of_a_missing_revision_says_so(seeded: Settings, capsys):
    assert haze(["list", "export", "--revision", "9"]) == 2
    assert "no such revision" in capsys.readouterr().err


def _import_changed(tmp_path: Path, change) -> None:
    out = tmp_path / "list.csv"
    assert haze(["list", "export", "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    change(rows)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    haze(["list", "import", str(out)])


def test_diff_shows_what_a_draft_changes_and_publish_publishes_it(
    seeded: Settings, tmp_path: Path, capsys
):
    first = kundulun_list().entries

    def change(rows: list[dict]) -> None:
        rows[0]["contact"] = "0472-0000000"
        del rows[1]

    _import_changed(tmp_path, change)
    capsys.readouterr()
    assert haze(["list", "diff", "1", "2"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert f"- {first[1].enterprise_id}" in lines
    assert any(line.startswith(f"~ {first[0].enterprise_id} contact: ") for line in lines)
    assert "0 added, 1 removed, 1 changed" in captured.err
    assert haze(["list", "publish", "2", "--author", "op"]) == 0
    assert "published revision 2: 89 entries" in capsys.readouterr().err
    assert not revision(seeded, 2).is_draft
    assert haze(["list", "publish", "2"]) == 1  # published revisions are frozen
    assert "2" in capsys.readouterr().err


def test_publish_refuses_an_invalid_draft_with_every_error(
    seeded: Settings, tmp_path: Path, capsys
):
    def change(rows: list[dict]) -> None:
        rows[2]["grade"] = "ZZ"
        rows[3]["grade"] = "ZZ"

    _import_changed(tmp_path, change)
    capsys.readouterr()
    assert haze(["list", "publish", "2"]) == 1
    err = capsys.readouterr().err
    assert "not published" in err and err.count("[") >= 2
    assert revision(seeded, 2).is_draft


def test_every_list_command_names_its_database_and_none_creates_an_empty_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HAZE_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.delenv("HAZE_DATABASE_URL", raising=False)
    for command in (["list", "export"], ["list", "diff", "1", "2"], ["token", "list"]):
        assert haze(command) == 2
        err = capsys.readouterr().err
        assert f"database: sqlite+aiosqlite:///{tmp_path}/nowhere/haze.db" in err
        assert "no database at" in err and "haze serve" in err
    assert not (tmp_path / "nowhere").exists() and not (tmp_path / ".haze").exists()


def test_commands_print_the_database_they_use(seeded: Settings, capsys):
    assert haze(["list", "export"]) == 0
    assert f"database: {seeded.database_url}" in capsys.readouterr().err
