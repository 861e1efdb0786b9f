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
