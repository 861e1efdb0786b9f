"""The action board: what every enterprise on the published list must do now, kept in memory.

The board compiles the published revision once and keeps an :class:`Evaluator` over it. When
the alerts in force change, :meth:`ActionBoard.apply_alerts` re-evaluates only the enterprises
under regions whose effective state changed and returns their ids (the service publishes
exactly those). Each enterprise's ETag is derived from what its answer depends on — list
revision, measure key (policy and state) and the alert in force — so a poll with a matching
``If-None-Match`` is answered from two dictionary look-ups, with no evaluation and no
database read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from emission_list.alerts import Alert, RegionAlertState
from emission_list.catalog import Catalog
from emission_list.compiler import compile_revision
from emission_list.evaluator import EnterpriseActions, Evaluator
from emission_list.lifecycle import active_at
from emission_list.regions import RegionTree, state_code
from emission_list.revisions import Revision


@dataclass(frozen=True)
class BoardAnswer:
    """An enterprise's current actions with the alert they come from."""

    actions: EnterpriseActions
    revision: int
    alert: Alert | None  # the alert in force that sets the enterprise's level (None: no warning)
    etag: str


class Changed(Sequence[str]):
    """The ids of the enterprises a change moved: every enterprise directly in ``regions``.

    A warning moves whole regions (an enterprise's state and alert are its region's), so the
    set is held as those regions and their rows; the ids, a million strings on a national
    list, are made only when iterated. Compares equal to any sequence of the same ids."""

    def __init__(self, board: ActionBoard, regions: np.ndarray) -> None:
        compiled = board.evaluator.compiled
        regions = regions[compiled.region_counts[regions] > 0]  # regions without enterprises
        self.revision = board.revision
        self.regions: tuple[str, ...] = tuple(board.tree.ids[int(r)] for r in regions)
        self.rows = (
            np.concatenate(
                [np.arange(compiled.region_start[r], compiled.region_start[r + 1]) for r in regions]
            )
            if len(regions)
            else np.zeros(0, dtype=np.int64)
        )
        self._ids = compiled.enterprise_ids

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return self._ids[self.rows[index]].tolist()
        return str(self._ids[self.rows[index]])

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids[self.rows].tolist())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(other) == len(self) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Changed({len(self)} enterprises in {len(self.regions)} regions)"


class ActionBoard:
    """Compiled published list + evaluator + the alert behind each region's effective state."""

    def __init__(self, revision: Revision, tree: RegionTree, catalog: Catalog) -> None:
        self.revision = revision.number
        self.tree = tree
        self.evaluator = Evaluator(compile_revision(revision, catalog, tree))
        n_regions = len(tree)
        self._own_alerts: list[Alert | None] = [None] * n_regions
        self._source = np.arange(n_regions)  # region whose own alert sets the effective state
        self._tags = ["-"] * n_regions  # tag of the alert in force over each region
        self._states: dict[str, RegionAlertState] = {}  # the alert states last applied

    def __contains__(self, enterprise_id: str) -> bool:
        return enterprise_id in self.evaluator.compiled.row_of

    def apply_alerts(self, states: Mapping[str, RegionAlertState], at: dt.datetime) -> Changed:
        """Bring the board to the alerts in force at ``at``; return ids whose answers changed."""
        self._states = dict(states)
        own = np.zeros(len(self.tree), dtype=np.int8)
        alerts: list[Alert | None] = [None] * len(self.tree)
        for region, state in states.items():
            i = self.tree.index.get(region)
            if i is None:
                continue
            level, response, alert = active_at(state, at)
            if alert is not None:
                own[i] = state_code(level, response)
                alerts[i] = alert
        self._own_alerts = alerts
        self._source = self._sources(own)
        old_tags = self._tags
        self._tags = [_alert_tag(alerts[s]) for s in self._source.tolist()]
        update = self.evaluator.update(own)
        # Every enterprise of a region whose effective state changed changes its key (policy
        # key + state); a region's enterprises may also keep their state yet hang on another
        # alert (a new end).
        retagged = [r for r, (o, n) in enumerate(zip(old_tags, self._tags, strict=True)) if o != n]
        regions = np.union1d(update.changed_regions, np.asarray(retagged, dtype=np.int64))
        return Changed(self, regions.astype(np.int64))

    def apply_time(self, at: dt.datetime) -> Changed:
        """Bring the board to ``at`` under the alert states it holds (alerts that started or
        ended with time); return ids whose answers changed."""
        return self.apply_alerts(self._states, at)

    def rows_in(self, regions: Sequence[str]) -> np.ndarray:
        """The rows of the enterprises directly in ``regions`` (ids not in the tree: none)."""
        index = self.tree.index
        known = np.array(sorted({index[r] for r in regions if r in index}), dtype=np.int64)
        return Changed(self, known).rows

    def etag(self, enterprise_id: str) -> str | None:
        """The current ETag of an enterprise's answer (None if not on the list)."""
        compiled = self.evaluator.compiled
        row = compiled.row_of.get(enterprise_id)
        if row is None:
            return None
        tag = self._tags[int(compiled.region[row])]
        return f'"{self.revision}.{int(self.evaluator.key[row])}.{tag}"'

    def region_of(self, enterprise_id: str) -> str | None:
        """The region of an enterprise on the list (None if not on it)."""
        compiled = self.evaluator.compiled
        row = compiled.row_of.get(enterprise_id)
        return None if row is None else self.tree.ids[int(compiled.region[row])]

    def answer(self, enterprise_id: str) -> BoardAnswer | None:
        """An enterprise's current actions, the alert behind them and the ETag."""
        row = self.evaluator.compiled.row_of.get(enterprise_id)
        if row is None:
            return None
        region = int(self.evaluator.compiled.region[row])
        return BoardAnswer(
            actions=self.evaluator.actions_of(row),
            revision=self.revision,
            alert=self._own_alerts[int(self._source[region])],
            etag=self.etag(enterprise_id) or "",
        )

    def _sources(self, own: np.ndarray) -> np.ndarray:
        """For each region, the nearest region (itself or an ancestor) with the effective state."""
        effective = self.tree.effective_states(own)
        source = np.arange(len(self.tree))
        for r in range(len(self.tree)):  # regions, not enterprises: a few thousand at most
            node = r
            while own[node] != effective[r]:
                node = int(self.tree.parent[node])
            source[r] = node
        return source


def _alert_tag(alert: Alert | None) -> str:
    """A short stable tag of everything of an alert an answer shows: identity, timing, source
    and reason ("-" for none)."""
    if alert is None:
        return "-"
    fields = (alert.region, alert.level, alert.response, alert.issued_at, alert.starts_at)
    reason = sorted(alert.reason.items())
    text = "|".join(map(str, (*fields, alert.ends_at, alert.source, reason)))
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()
