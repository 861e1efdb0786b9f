"""Which notices a change makes, stored with their deliveries before any is tried.

An enterprise's ``haze.actions`` record (its actions now) makes a notice when what it must do
differs from what its latest notice said: ``actions.changed`` while it is under a warning,
``actions.ended`` (the termination notice: it may resume production) when it no longer is.
A record read off the board before the latest notice's state was (a redelivered one) is
ignored, and so is a change that leaves an enterprise without orders it never had (a new
revision of the list, no warning). Each notice gets one delivery per subscription that wants
it (the enterprise's own, and its region's or an ancestor's); a newer delivery of a
subscription and enterprise supersedes an older one not yet sent, so an enterprise never
receives "orange" after "red".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.catalog import Catalog
from service.services.board import ActionBoard
from service.storage.models import Subscription
from service.storage.repositories import deliveries, notices, regions, subscriptions
from service.storage.repositories.notices import Latest

#: The fields of an actions record that say what an enterprise must do.
ORDER_FIELDS = (
    "level",
    "response",
    "production_cut",
    "reductions_kg_per_day",
    "action_codes",
    "valid_from",
    "valid_until",
)


@dataclass(frozen=True)
class ActionsChange:
    """One enterprise's actions record: its value (None: off the list) and when it was read."""

    enterprise_id: str
    value: Mapping[str, Any] | None
    read_at: dt.datetime


def _orders(value: Mapping[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {"level": "none"}
    orders = {name: value.get(name) for name in ORDER_FIELDS}
    orders["action_codes"] = list(value.get("actions") or ())
    return orders if orders["level"] != "none" else {"level": "none"}


def event_of(previous: Latest | None, change: ActionsChange) -> str | None:
    """The notice ``change`` makes after the enterprise's latest one, if any."""
    new = _orders(change.value)
    if previous is None:
        return None if new["level"] == "none" else "actions.changed"
    if change.read_at <= previous.as_of or _orders_of(previous) == new:
        return None
    if new["level"] == "none":
        return None if previous.level == "none" else "actions.ended"
    return "actions.changed"


def _orders_of(notice: Latest) -> dict[str, Any]:
    if notice.level == "none":
        return {"level": "none"}
    return {name: notice.payload.get(name) for name in ORDER_FIELDS}


def action_texts(
    board: ActionBoard, catalog: Catalog, enterprise_id: str, codes: list[str], cut: float
) -> list[dict[str, Any]]:
    """The measures in words, as the board (and so the API) words them; the catalog's for a
    code the board no longer has (a record of an earlier revision)."""
    answer = board.answer(enterprise_id)
    own = {a.code: a.text for a in answer.actions.actions} if answer is not None else {}
    texts = []
    for code in codes:
        if code in own:
            texts.append({"code": code, "text": dict(own[code])})
            continue
        try:
            texts.append({"code": code, "text": dict(catalog.action(code, cut).text)})
        except KeyError:  # not in the catalog either: the code itself
            texts.append({"code": code, "text": {"zh-CN": code, "en": code}})
    return texts


def _payload(
    change: ActionsChange,
    names: tuple[str, str, str],
    previous_level: str,
    board: ActionBoard,
    catalog: Catalog,
) -> dict[str, Any]:
    value = change.value or {}
    name, name_en, region = names
    cut = float(value.get("production_cut") or 0.0)
    codes = list(value.get("actions") or ())
    return {
        "enterprise_id": change.enterprise_id,
        "name": {"zh-CN": name, "en": name_en or name},
        "region": region,
        "previous_level": previous_level,
        **{field: value.get(field) for field in ORDER_FIELDS if field != "action_codes"},
        "level": value.get("level", "none"),
        "action_codes": codes,
        "actions": action_texts(board, catalog, change.enterprise_id, codes, cut),
        "list_revision": value.get("list_revision"),
        "alert_region": value.get("alert_region"),
    }


async def record_actions_changes(
    session: AsyncSession,
    changes: Sequence[ActionsChange],
    board: ActionBoard,
    catalog: Catalog,
    now: dt.datetime,
) -> int:
    """Store the notices ``changes`` make and their deliveries; returns how many notices."""
    by_id = {c.enterprise_id: c for c in changes}  # the last record of each enterprise
    previous = await notices.latest(session, by_id)
    due = {
        eid: event
        for eid, change in by_id.items()
        if (event := event_of(previous.get(eid), change)) is not None
    }
    if not due:
        return 0
    revisions = {int(v["list_revision"]) for c in by_id.values() if (v := c.value)}
    known: dict[str, tuple[str, str, str]] = {}
    for revision in revisions:
        known.update(await notices.names(session, revision, due))
    rows = []
    for eid, event in due.items():
        change, before = by_id[eid], previous.get(eid)
        names = known.get(eid) or _names_from(before)
        payload = _payload(change, names, before.level if before else "none", board, catalog)
        if payload["alert_region"] is None and before is not None:  # ended: the one that was
            payload["alert_region"] = before.payload.get("alert_region")
        rows.append(notice_row(eid, names[2], event, payload, change.read_at, now))
    homes = {row["region"] for row in rows}
    warned = {row["payload"]["alert_region"] for row in rows} - {None}
    region_names = await regions.names(session, homes | warned)
    for row in rows:  # the texts name the region whose warning it is
        warning = row["payload"]["alert_region"] or row["region"]
        row["payload"]["region_name"] = region_names.get(warning)
    ids = await notices.add_many(session, rows)
    tree = board.tree
    lines = {r: [r, *tree.ancestors(r)] for r in homes if r in tree}
    wanted = await subscriptions.for_enterprises(
        session, due, {a for line in lines.values() for a in line}, "actions.changed"
    )
    await _deliver(session, wanted, ids, rows, lines, now, set(due) - set(previous))
    return len(ids)


def _names_from(before: Latest | None) -> tuple[str, str, str]:
    if before is None:
        return ("", "", "")
    name = before.payload.get("name") or {}
    return (name.get("zh-CN", ""), name.get("en", ""), before.payload.get("region", ""))


def notice_row(
    enterprise_id: str | None,
    region: str,
    event: str,
    payload: dict[str, Any],
    read_at: dt.datetime,
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "enterprise_id": enterprise_id,
        "region": region,
        "event": event,
        "level": payload.get("level") or "none",
        "previous_level": payload.get("previous_level") or "none",
        "as_of": read_at,
        "payload": payload,
        "created_at": now,
        "escalation": 0,
    }


async def _deliver(
    session: AsyncSession,
    wanted: Sequence[Subscription | Row[Any]],
    notice_ids: Sequence[int],
    rows: Sequence[dict[str, Any]],
    lines: Mapping[str, list[str]],
    now: dt.datetime,
    first: set[str],
) -> None:
    """A delivery per notice and subscription of its enterprise or its region's line; the
    ``first`` notices of their enterprises have nothing older to supersede."""
    by_enterprise: dict[str, list[Subscription | Row[Any]]] = {}
    by_region: dict[str, list[Subscription | Row[Any]]] = {}
    for s in wanted:
        if s.enterprise_id is not None:
            by_enterprise.setdefault(s.enterprise_id, []).append(s)
        elif s.region is not None:
            by_region.setdefault(s.region, []).append(s)
    queued, keys = [], set()
    for notice_id, row in zip(notice_ids, rows, strict=True):
        subject = row["enterprise_id"] or row["region"]
        chosen = list(by_enterprise.get(row["enterprise_id"], ()))
        for region in lines.get(row["region"], ()):
            chosen.extend(by_region.get(region, ()))
        for s in chosen:
            key = subscriptions.scope_key(s, subject)
            if subject not in first:
                keys.add(key)
            queued.append(delivery_row(notice_id, s, key, s.target, 0, now))
    await notices.add_deliveries(session, queued)
    await deliveries.supersede_older(session, keys, now)


def delivery_row(
    notice_id: int, s: Subscription | Row[Any], key: str, target: str, stage: int, now: dt.datetime
) -> dict[str, Any]:
    return {
        "notice_id": notice_id,
        "subscription_id": s.id,
        "key": key,
        "target": target,
        "stage": stage,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }
