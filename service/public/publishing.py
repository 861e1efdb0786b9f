"""What the public routes answer: a CAP document, the Atom feed, the public page's content.

Every warning is public: none of this needs a token. The enterprises' grades appear on the
page only with ``HAZE_PUBLIC_GRADES``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.alerts import Alert
from emission_list.i18n import LANGUAGES, Text, text
from emission_list.lifecycle import in_force, scheduled
from service.public import cap_document, feed, instruction
from service.public.cap_document import Area, Sender
from service.public.messages import CapMessage, WarningRun, message_of, recent_warnings
from service.runtime import Runtime
from service.services import list_search
from service.settings import Settings
from service.storage.repositories import alerts, outlines, regions

FEED_TITLE = text("昆都仑区重污染天气预警", "Heavy air pollution warnings, Kundulun District")


def sender_of(settings: Settings) -> Sender:
    names = {"zh-CN": settings.cap_sender, "en": settings.cap_sender_name_en}
    return Sender(settings.cap_sender, settings.cap_sender_code, names)


async def areas_of(session: AsyncSession, region_ids: Collection[str]) -> dict[str, Area]:
    """The CAP area of each region: its name and outline (unknown ids are named by id)."""
    names = {r.region_id: r.name for r in await regions.list_all(session)}
    shapes = await outlines.of_regions(session, region_ids)
    return {
        r: Area(r, names.get(r, text(r, r)), shapes[r].geometry if r in shapes else None)
        for r in region_ids
    }


async def cap_xml(
    runtime: Runtime, session: AsyncSession, alert_id: int, web: str
) -> tuple[CapMessage, bytes] | None:
    """The CAP document of the alert snapshot ``alert_id`` (None: no public message)."""
    sender = sender_of(runtime.settings)
    message = await message_of(session, alert_id, sender.code)
    if message is None:
        return None
    area = (await areas_of(session, [message.region]))[message.region]
    board = runtime.state.board
    measures = await instruction.grade_measures(
        session, board, runtime.catalog, message.region, message.alert.code
    )
    lifted = message.msg_type == "Cancel"
    words = {
        lang: instruction.instruction(measures, message.alert.level, lifted, runtime.catalog, lang)
        for lang in LANGUAGES
    }
    return message, cap_document.document(message, sender, area, words, web)


def _running_regions(states: dict, now: dt.datetime) -> list[str]:  # type: ignore[type-arg]
    return sorted(
        region
        for region, state in states.items()
        if any(
            a is not None and a.status == "active" and a.ends_at > now
            for a in (state.current, state.bridge)
        )
    )


async def atom(
    runtime: Runtime,
    session: AsyncSession,
    now: dt.datetime,
    document_url: Callable[[int], str],
    self_url: str,
    page_url: str,
) -> bytes:
    """The Atom feed of the warnings running at ``now`` or ended within the last 7 days."""
    sender = sender_of(runtime.settings)
    states = await alerts.load_states(session)
    runs = await recent_warnings(session, sender.code, now, _running_regions(states, now))
    areas = await areas_of(session, {r.latest.region for r in runs})
    return feed.feed(
        runs,
        areas,
        document_url,
        self_url=self_url,
        page_url=page_url,
        title=FEED_TITLE,
        author=sender.sender,
        now=now,
    )


@dataclass(frozen=True)
class PublicRow:
    """A region's warning as the page lists it."""

    region: str
    name: Text
    alert: Alert
    document: int | None  # alert id of the warning's latest CAP document


@dataclass(frozen=True)
class PublicPage:
    in_force: list[PublicRow]
    scheduled: list[PublicRow]
    ended: list[PublicRow]
    grades: list_search.SearchResult | None = None  # with HAZE_PUBLIC_GRADES
    updated: dt.datetime | None = None


async def page(
    runtime: Runtime,
    session: AsyncSession,
    now: dt.datetime,
    *,
    after: str = "",
    before: str = "",
) -> PublicPage:
    """What warning is in force where and until when, what is scheduled, what ended lately;
    a page of the graded list when the setting is on."""
    sender = sender_of(runtime.settings)
    states = await alerts.load_states(session)
    running = _running_regions(states, now)
    runs = await recent_warnings(session, sender.code, now, running)
    latest: dict[str, WarningRun] = {}
    for run in runs:  # latest change first: the first run of a region is its newest
        latest.setdefault(run.latest.region, run)
    names = await list_search.region_names(session)

    def row(region: str, alert: Alert, run: WarningRun | None) -> PublicRow:
        document = None if run is None else run.latest.alert_id
        return PublicRow(region, names.get(region, text(region, region)), alert, document)

    now_rows, ahead_rows = [], []
    for region in running:
        state, run = states[region], latest.get(region)
        current = in_force(state, now)
        if current is not None:
            now_rows.append(row(region, current, run))
        ahead = scheduled(state, now)
        if ahead is not None:
            ahead_rows.append(row(region, ahead, run))
    ended = [
        row(r.latest.region, r.latest.alert, r)
        for r in runs
        if r.end() <= now and r.latest.region not in running
    ]
    grades = None
    if runtime.settings.public_grades:
        query = list_search.SearchQuery(after=after, before=before)
        grades = await list_search.search(
            session, query, board=runtime.state.board, catalog=runtime.catalog, names=names
        )
    updated = max((r.latest.sent for r in runs), default=None)
    return PublicPage(now_rows, ahead_rows, ended, grades, updated)
