"""The list service on SQLite and PostgreSQL: drafts, edits, diff, preview, publishing."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.catalog import default_catalog
from emission_list.levels import Level
from emission_list.revisions import RevisionError
from emission_list.samples import kundulun_list, kundulun_region_tree
from service.services import lists as service
from service.services.seed import seed_sample

CATALOG = default_catalog()
TREE = kundulun_region_tree()


async def test_edit_a_draft_see_the_diff_and_publish(session: AsyncSession) -> None:
    await seed_sample(session)
    number = await service.new_draft(session, "operator-1")
    first, second = kundulun_list().entries[:2]
    regraded = dataclasses.replace(first, grade="A" if first.grade != "A" else "B")
    assert await service.put_entry(session, number, regraded, "operator-1") is False
    await service.delete_entry(session, number, second.enterprise_id, "operator-1")
    changes = await service.revision_diff(session, number)
    assert changes.removed == (second.enterprise_id,)
    assert set(changes.changed) == {first.enterprise_id}
    assert "grade" in changes.changed[first.enterprise_id]

    published = await service.publish(session, number, CATALOG, TREE, "operator-1")
    assert published.number == number and not published.is_draft
    assert len(published.entries) == len(kundulun_list().entries) - 1
    with pytest.raises(RevisionError) as refused:
        await service.put_entry(session, number, first, "operator-1")
    assert refused.value.code == "revision.published"


async def test_publishing_an_invalid_draft_reports_every_error(session: AsyncSession) -> None:
    await seed_sample(session)
    number = await service.new_draft(session, "operator-1")
    a, b = kundulun_list().entries[:2]
    await service.put_entry(
        session, number, dataclasses.replace(a, region="150203", grade="Z"), "operator-1"
    )
    await service.put_entry(
        session, number, dataclasses.replace(b, baseline=(-1.0, 0.0, 0.0, 0.0)), "operator-1"
    )
    with pytest.raises(RevisionError) as refused:
        await service.publish(session, number, CATALOG, TREE, "operator-1")
    found = {(e.enterprise_id, e.code) for e in refused.value.errors}
    assert {(a.enterprise_id, "region.not_leaf"), (b.enterprise_id, "baseline.negative")} <= found
    assert any(code.startswith("grade.") for eid, code in found if eid == a.enterprise_id)
    assert refused.value.code == "revision.invalid"


async def test_a_stale_draft_cannot_undo_a_newer_publication(session: AsyncSession) -> None:
    await seed_sample(session)
    older = await service.new_draft(session, "operator-1")
    newer = await service.new_draft(session, "operator-2")
    await service.publish(session, newer, CATALOG, TREE, "operator-2")
    with pytest.raises(RevisionError) as refused:
        await service.publish(session, older, CATALOG, TREE, "operator-1")
    assert refused.value.code == "revision.stale"


async def test_preview_shows_what_a_draft_would_require(session: AsyncSession) -> None:
    await seed_sample(session)
    draft = await service.revision(session, await service.new_draft(session, "operator-1"))
    evaluator, report = service.preview(draft, CATALOG, TREE, Level.ORANGE, "150203")
    district = TREE.index["150203"]
    assert report.level[district] == Level.ORANGE
    assert (report.required[district] > 0).all()
    assert evaluator.level.min() == Level.ORANGE  # every sample enterprise is in the district
    with pytest.raises(RevisionError):
        service.preview(draft, CATALOG, TREE, Level.RED, "nowhere")
