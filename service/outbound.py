"""What the service tells the rest of the world on Kafka: alert events, changed actions, and
the headers of a dead letter. JSON, UTF-8; keys are region ids and enterprise ids."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from emission_list.levels import LIST_POLLUTANTS
from service.alert_codec import alert_to_dict
from service.bus import Record
from service.services.board import ActionBoard
from service.services.warnings import Outcome


def alert_records(outcome: Outcome) -> list[tuple[bytes, bytes]]:
    """One ``haze.alerts`` record per lifecycle event, keyed by region."""
    return [
        (
            event.region.encode(),
            json.dumps(
                {
                    "kind": event.kind,
                    "region": event.region,
                    "at": event.at.isoformat(),
                    "previous_level": event.previous_level.label,
                    "reason": dict(event.reason),
                    "alert": None if event.alert is None else alert_to_dict(event.alert),
                    "enterprises_changed": len(outcome.changed_enterprises),
                },
                ensure_ascii=False,
            ).encode(),
        )
        for event in outcome.events
    ]


def actions_value(board: ActionBoard, enterprise_id: str) -> dict[str, Any] | None:
    """An enterprise's current actions, language-neutral (action codes; texts via the API)."""
    answer = board.answer(enterprise_id)
    if answer is None:
        return None
    actions, alert = answer.actions, answer.alert
    return {
        "enterprise_id": enterprise_id,
        "etag": answer.etag,
        "list_revision": answer.revision,
        "level": actions.level.label,
        "response": None if actions.response is None else str(actions.response),
        "production_cut": round(actions.production_cut, 6),
        "reductions_kg_per_day": {p: round(actions.reductions[p], 3) for p in LIST_POLLUTANTS},
        "actions": [a.code for a in actions.actions],
        "alert_region": None if alert is None else alert.region,
        "valid_from": None if alert is None else alert.starts_at.isoformat(),
        "valid_until": None if alert is None else alert.ends_at.isoformat(),
    }


def action_records(board: ActionBoard, enterprise_ids: Sequence[str]) -> list[tuple[bytes, bytes]]:
    """One ``haze.actions`` record per enterprise whose actions changed, keyed by its id."""
    return [
        (eid.encode(), json.dumps(actions_value(board, eid)).encode()) for eid in enterprise_ids
    ]


def dead_letter_headers(record: Record, reason: str) -> list[tuple[str, bytes]]:
    """Where a dead letter came from and why; its key and value are the original bytes."""
    return [
        ("reason", reason.encode()),
        ("topic", record.topic.encode()),
        ("partition", str(record.partition).encode()),
        ("offset", str(record.offset).encode()),
    ]
