"""The record formats of the topics, for the producers and the consumers alike.

- ``haze.readings``: :func:`encode_reading`, and fast batch decoding into columns
  (:func:`decode_readings`);
- ``haze.forecasts``: :func:`encode_forecast`, :func:`decode_forecast_body` (the JSON of
  :class:`~service.api.schemas.alerts.ForecastIn`, keyed by region);
- ``haze.alerts`` and ``haze.actions``: :func:`alert_records`, :func:`action_records` (JSON,
  UTF-8, keyed by region and by enterprise id);
- ``haze.dlq``: the original key and bytes, with :func:`dead_letter_headers`.

Readings:

A reading travels as one record keyed by its station id; its value is compact JSON with the
hour in UTC: ``{"s": station_id, "t": "2026-12-05T06:00:00Z", "v": [pm25, pm10, so2, no2,
o3, co], "f": [flags]}`` (null = missing). Decoding a batch yields numpy columns for the
vectorised AQI kernel, and the records that could not be decoded with the reason (a
tombstone, a null value, among them), for the dead-letter topic.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
import numpy as np

from emission_list.levels import LIST_POLLUTANTS
from service.api.schemas.alerts import ForecastIn
from service.api.schemas.readings import POLLUTANT_FIELDS, CheckedReading
from service.bus import Record
from service.services.board import ActionBoard
from service.services.warnings import Outcome
from service.storage.alert_codec import alert_to_dict

_UTC_HOUR = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"


def encode_reading(reading: CheckedReading) -> tuple[bytes, bytes]:
    """The ``(key, value)`` of a checked reading."""
    at = reading.observed_at.astimezone(dt.UTC)
    stamp = f"{at.year:04d}-{at:%m-%dT%H:%M:%S}Z"  # %Y is not zero-padded on glibc
    values = [reading.values.get(p) for p in POLLUTANT_FIELDS]
    body = {"s": reading.station_id, "t": stamp, "v": values, "f": reading.flags}
    return reading.station_id.encode(), json.dumps(body, separators=(",", ":")).encode()


@dataclass(frozen=True)
class ReadingBatch:
    """Decoded readings as columns; ``values`` is ``(n, 6)`` in POLLUTANT_FIELDS order."""

    station_id: list[str]
    observed_at: np.ndarray  # (n,) datetime64[s], UTC
    values: np.ndarray  # (n, 6) float64, NaN = missing
    flags: list[list[str]]
    records: list[Record]  # the record of each row, for offsets

    def __len__(self) -> int:
        return len(self.station_id)

    def column(self, pollutant: str) -> np.ndarray:
        return self.values[:, POLLUTANT_FIELDS.index(pollutant)]

    def take(self, rows: np.ndarray) -> ReadingBatch:
        """The batch of the given row indices, in that order."""
        picked = rows.tolist()
        return ReadingBatch(
            station_id=[self.station_id[i] for i in picked],
            observed_at=self.observed_at[rows],
            values=self.values[rows],
            flags=[self.flags[i] for i in picked],
            records=[self.records[i] for i in picked],
        )


class _WireReading(msgspec.Struct):
    """A readings record as it travels; msgspec checks every type and length in C."""

    s: str
    t: Annotated[str, msgspec.Meta(pattern=_UTC_HOUR)]
    v: Annotated[
        list[float | None],
        msgspec.Meta(min_length=len(POLLUTANT_FIELDS), max_length=len(POLLUTANT_FIELDS)),
    ]
    f: list[str] = []


_decoder = msgspec.json.Decoder(_WireReading)


def _stamps(texts: list[str]) -> np.ndarray:
    return np.array(texts, dtype="datetime64[s]")


def decode_readings(records: Sequence[Record]) -> tuple[ReadingBatch, list[tuple[Record, str]]]:
    """Decode a batch; records that are not a valid reading come back with the reason.

    Numbers must be JSON numbers (a string or a boolean is refused), ``t`` a UTC time
    ending in ``Z``; the times of the whole batch are parsed by numpy in one call, and
    only when that fails one by one to find the bad ones."""
    decoded: list[_WireReading] = []
    kept: list[Record] = []
    bad: list[tuple[Record, str]] = []
    for record in records:
        if record.value is None:
            bad.append((record, "tombstone: a record without a value"))
            continue
        try:
            decoded.append(_decoder.decode(record.value))
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            bad.append((record, f"undecodable reading: {exc}"))
            continue
        kept.append(record)
    texts = [item.t[:-1] for item in decoded]
    try:
        stamps = _stamps(texts)
    except ValueError:
        good = []
        for i, text in enumerate(texts):
            try:
                np.datetime64(text, "s")
                good.append(i)
            except ValueError as exc:
                bad.append((kept[i], f"undecodable reading: bad time: {exc}"))
        decoded, kept = [decoded[i] for i in good], [kept[i] for i in good]
        stamps = _stamps([texts[i] for i in good])
    values = np.array([item.v for item in decoded], dtype=np.float64)
    batch = ReadingBatch(
        station_id=[item.s for item in decoded],
        observed_at=stamps,
        values=values.reshape(len(decoded), len(POLLUTANT_FIELDS)),
        flags=[item.f for item in decoded],
        records=kept,
    )
    return batch, bad


def encode_forecast(forecast: ForecastIn) -> tuple[bytes, bytes]:
    """``(key, value)`` of a forecast record, keyed by region."""
    return forecast.region.encode(), forecast.model_dump_json().encode()


def decode_forecast_body(value: bytes) -> ForecastIn:
    """The forecast a record carries, as posted (checked by its consumer before it is decided);
    raises :class:`pydantic.ValidationError`."""
    return ForecastIn.model_validate_json(value)


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
    """One ``haze.actions`` record per enterprise whose actions changed, keyed by its id: the
    bytes of ``json.dumps(actions_value(board, id))`` (``null`` for an id off the list)."""
    row_of = board.evaluator.compiled.row_of
    rows = np.fromiter((row_of.get(e, -1) for e in enterprise_ids), np.int64, len(enterprise_ids))
    on_list = rows >= 0
    if on_list.all():
        return action_records_of_rows(board, rows)
    records = iter(action_records_of_rows(board, rows[on_list]))
    return [
        next(records) if known else (eid.encode(), b"null")
        for eid, known in zip(enterprise_ids, on_list.tolist(), strict=True)
    ]


def action_records_of_rows(board: ActionBoard, rows: np.ndarray) -> list[tuple[bytes, bytes]]:
    """The ``haze.actions`` records of the enterprises in ``rows`` of the board, in order.

    An answer depends on the enterprise's id, its measure key (policy and state: level,
    response, cut, actions), its region's alert and its reductions. Everything but the id and
    the reductions is written once per (key, region) into a %-template; each record is then
    one string formatting. The reductions are rounded by numpy, and the few values within a
    rounding error of a tie again by Python's ``round``, so the bytes are those of
    :func:`actions_value` through ``json.dumps``."""
    if len(rows) == 0:
        return []
    evaluator, compiled = board.evaluator, board.evaluator.compiled
    ids: list[str] = compiled.enterprise_ids[rows].tolist()
    groups = evaluator.key[rows].astype(np.int64) * len(board.tree) + compiled.region[rows]
    _, firsts, which = np.unique(groups, return_index=True, return_inverse=True)
    templates = [_template(board, int(rows[i])) for i in firsts.tolist()]
    values = evaluator.reductions[rows]
    if not np.isfinite(values).all():  # json writes NaN where %r writes nan
        return [(e.encode(), json.dumps(actions_value(board, e)).encode()) for e in ids]
    reductions = _rounded(values, 3).tolist()
    if not _json_plain("".join(ids)):
        ids = [json.dumps(e)[1:-1] for e in ids]
    return [
        (eid.encode(), (templates[t] % (eid, *r)).encode())
        for eid, t, r in zip(ids, which.tolist(), reductions, strict=True)
    ]


_ID, _REDUCTION = "\x00id\x00", "\x00r{}\x00"


def _template(board: ActionBoard, row: int) -> str:
    """The JSON of the enterprise in ``row``'s record with %-fields for its id and reductions."""
    eid = str(board.evaluator.compiled.enterprise_ids[row])
    value = actions_value(board, eid)
    assert value is not None
    value["enterprise_id"] = _ID
    value["reductions_kg_per_day"] = {
        p: _REDUCTION.format(i) for i, p in enumerate(LIST_POLLUTANTS)
    }
    text = json.dumps(value).replace("%", "%%")
    text = text.replace(json.dumps(_ID)[1:-1], "%s", 1)
    for i in range(len(LIST_POLLUTANTS)):
        text = text.replace(json.dumps(_REDUCTION.format(i)), "%r", 1)
    return text


def _json_plain(text: str) -> bool:
    """Whether ``json.dumps`` writes ``text`` as it is (printable ASCII, no quote or backslash)."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def _rounded(values: np.ndarray, digits: int) -> np.ndarray:
    """``round(v, digits)`` of every value: numpy's rounding, which scales by ``10**digits``
    and so may fall on the other side of a tie than Python's exact one; values that land
    within a few ulps of a tie are rounded by Python."""
    out = np.round(values, digits)
    scaled = values * 10.0**digits
    near_tie = np.flatnonzero(
        np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) <= 8 * np.spacing(scaled)
    )
    exact = [round(v, digits) for v in values.reshape(-1)[near_tie].tolist()]
    out.reshape(-1)[near_tie] = exact
    return out


def dead_letter_headers(record: Record, reason: str) -> list[tuple[str, bytes]]:
    """Where a dead letter came from and why; its key and value are the original bytes."""
    return [
        ("reason", reason.encode()),
        ("topic", record.topic.encode()),
        ("partition", str(record.partition).encode()),
        ("offset", str(record.offset).encode()),
    ]
