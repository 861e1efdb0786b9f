"""The compliance worker: every interval, the vectorised check over every enterprise under a
warning (:class:`emission_list.compliance.ComplianceCheck`), and the alarms it raises.

The telemetry consumer hands it each committed batch (:meth:`ComplianceWorker.observe`): a
line's power and a stack monitor's concentrations go into the buffer of their interval (the
packet's DataTime, in whole intervals since the epoch). Intervals are judged in order, each
once, when the first of these holds:

- every logger heard lately has reported it (the usual case: a second after the last packet);
- a packet of a later interval but one arrived (a logger catching up, or a replay);
- ``HAZE_COMPLIANCE_GRACE_S`` passed since its first packet arrived (a logger is late);
- it ended ``grace`` ago and nothing came for it at all, while the check is live (every
  logger unplugged is still judged: silent loggers).

Values of an interval already judged are stored but not judged (counted as late). Each
interval is judged against the orders in force when it is judged (the board's required
production cut of each enterprise; none = not under a warning). What it raises and clears
is stored (:mod:`service.services.alarms`), queued on ``haze.alarms`` and notified in one
transaction; if the database is down the findings wait and are stored with the next run.
Lines' hourly mean loads are written when an hour's last interval was judged (and values
older than ``HAZE_TELEMETRY_KEEP_DAYS`` deleted then), and the normal loads are recomputed
from a window of them kept in memory.

The check's state lives in this one process: run one telemetry consumer (a second one in
the same group would split the enterprises between two checks that each see only some of
the loggers). A restart starts the runs afresh; an alarm still open is updated, not raised
twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emission_list.compliance import NEVER, ComplianceCheck, IntervalInput
from emission_list.compliance_rules import ComplianceRules, reference_oxygen
from emission_list.normal_load import normal_load
from emission_list.revisions import Revision
from service.gateway.directory import LoggerDirectory, Registration
from service.services.alarms import Finding, record_cleared, record_findings
from service.services.board import ActionBoard
from service.services.compliance_findings import findings_of
from service.services.compliance_layout import Layout, board_rows, build_layout
from service.storage.models import Alarm
from service.storage.repositories import telemetry
from service.telemetry.records import Decoded

log = logging.getLogger("haze.compliance")

#: An hour counts toward a normal load when at least this share of its intervals had a value.
HOUR_COVERAGE = 0.75
#: Intervals judged at most in one go when the check falls behind (older ones are skipped).
MAX_CATCH_UP = 24 * 60
#: A logger counts as "heard lately" (awaited for an interval) within this many intervals.
AWAITED_WITHIN = 5
#: Values held at most before the first layout is built (a consumer catching up at start).
EARLY_LIMIT = 1_000_000
#: The check is live while it is at most this many intervals behind the clock; a backlog
#: judged further behind is not followed by judging the empty intervals up to now.
LIVE_LAG = 3

StoreAlarms = Callable[[AsyncSession, Sequence[Alarm], dt.datetime], Awaitable[bool]]


@dataclass
class _Interval:
    """The values of one interval, as they arrive."""

    power: np.ndarray
    cems: np.ndarray
    converted: np.ndarray  # CEMS values at reference O2 sent by the logger (-Zs)
    oxygen: np.ndarray  # (S,) O2 [%] of each logger slot
    heard: np.ndarray  # (S,) a valid value came
    first_at: float = field(default_factory=time.monotonic)


@dataclass
class _Pending:
    """Findings and hours the database has not taken yet."""

    findings: list[Finding] = field(default_factory=list)
    cleared: list[tuple[str, str, str]] = field(default_factory=list)
    hours: list[dict[str, object]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.findings or self.cleared or self.hours)


class ComplianceWorker:
    """See the module's docstring. ``publish(session, alarms, now)`` queues the changed
    alarms' records and notices in the caller's transaction (``now`` as they were stored);
    True when notices were stored."""

    def __init__(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        board: Callable[[], ActionBoard],
        published: Callable[[AsyncSession], Awaitable[Revision | None]],
        directory: LoggerDirectory,
        registrations: Callable[[], Sequence[Registration]],
        rules: ComplianceRules,
        *,
        interval_s: int,
        grace_s: float,
        history_weeks: int,
        min_history: int,
        valid_flags: frozenset[str],
        keep_days: int,
        publish: StoreAlarms,
        stored: Callable[[bool], None],
        timezone: str = "Asia/Shanghai",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._session_maker = session_maker
        self._board = board
        self._published = published
        self._directory = directory
        self._registrations = registrations
        self.rules = rules
        self.interval_s = interval_s
        self.grace_s = grace_s
        self.history_weeks, self.min_history = history_weeks, min_history
        self.valid_flags = valid_flags
        self.keep = dt.timedelta(days=keep_days)
        self._publish = publish
        self._stored = stored
        self._zone = ZoneInfo(timezone)
        #: Seconds since the epoch now (a test or a replay may set its own).
        self.clock = clock
        self.layout: Layout | None = None
        self.check: ComplianceCheck | None = None
        self._layout_key: tuple[int, tuple[str, ...]] | None = None
        self._buffers: dict[int, _Interval] = {}
        self._cursor: int | None = None  # the last interval judged
        self._watermark = NEVER
        self._last_valid = np.zeros(0, np.int64)
        self._normal = np.zeros((24, 0))
        self._history = np.zeros((0, 0))
        self._history_valid = np.zeros((0, 0), bool)
        self._history_end = 0  # hours since the epoch: the window ends before this hour
        self._history_changed = False
        self._hour: int | None = None
        self._hour_sum = np.zeros(0)
        self._hour_count = np.zeros(0, np.int32)
        self._hour_warned = np.zeros(0, bool)
        self._pending = _Pending()
        self._early: list[Decoded] = []
        self._rows = np.zeros(0, np.intp)
        self._cems_slot = np.zeros(0, np.intp)  # each CEMS channel's logger slot
        self._cems_reference_o2 = np.zeros(0)  # its limit's reference O2 [%] (NaN: as measured)
        #: (L, 24) hours of history behind each line's normal load.
        self.normal_hours = np.zeros((0, 24), np.int32)
        self._started_at = clock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: Counts for the metrics (``haze_compliance_counts``): intervals judged, late values,
        #: findings raised and cleared.
        self.counts = {"intervals": 0, "late": 0, "raised": 0, "cleared": 0}

    # -- the Worker protocol -------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="haze-compliance")

    def kick(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pending:
            with contextlib.suppress(Exception):
                await self._store()

    def judged_through(self, interval: int) -> bool:
        """Every interval up to ``interval`` judged and what it found stored."""
        return self._cursor is not None and self._cursor >= interval and not self._pending

    # -- feeding ---------------------------------------------------------------------------

    def interval_of(self, at: dt.datetime) -> int:
        return int(at.timestamp()) // self.interval_s

    def observe(self, items: Sequence[Decoded]) -> None:
        """Take a committed batch's values (called by the telemetry consumer)."""
        layout = self.layout
        if layout is None:  # before the first layout: kept until it is built
            self._early.extend(items[: EARLY_LIMIT - len(self._early)])
            self._wake.set()
            return
        now_interval = int(self.clock()) // self.interval_s
        for item in items:
            record = item.telemetry
            if record.p not in ("m", "r"):
                continue
            interval = self.interval_of(item.at)
            if interval > now_interval + 1:
                continue  # the gateway refuses the future; a replayed record may not be
            if self._cursor is None:
                self._cursor = interval - 1
            if interval <= self._cursor:
                self.counts["late"] += 1
                continue
            slot = layout.logger_of.get(record.mn)
            if slot is None:
                continue
            buffer = self._buffer(interval)
            self._watermark = max(self._watermark, interval)
            for code, value, flag in record.v:
                if value is None or flag not in self.valid_flags:
                    continue
                if code == "a19001":
                    buffer.oxygen[slot] = value
                    continue
                converted = code.endswith("-Zs")
                key = (record.mn, code[:-3] if converted else code)
                row = layout.line_of.get(key)
                if row is not None:
                    buffer.power[row] = value
                    buffer.heard[slot] = True
                    continue
                channel = layout.cems_of.get(key)
                if channel is not None:
                    (buffer.converted if converted else buffer.cems)[channel] = value
                    buffer.heard[slot] = True
        self._wake.set()

    def _buffer(self, interval: int) -> _Interval:
        buffer = self._buffers.get(interval)
        if buffer is None:
            arrays = self.layout.arrays  # type: ignore[union-attr]
            n_lines, n_cems = arrays.n_lines, len(arrays.cems_enterprise)
            n_slots = len(arrays.logger_enterprise)
            buffer = _Interval(
                power=np.full(n_lines, np.nan),
                cems=np.full(n_cems, np.nan),
                converted=np.full(n_cems, np.nan),
                oxygen=np.full(n_slots, np.nan),
                heard=np.zeros(n_slots, bool),
            )
            self._buffers[interval] = buffer
        return buffer

    # -- the loop ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database: findings wait in _pending for the next run
                log.exception("the compliance check could not store what it found")

    async def run_once(self) -> int:
        """Judge every interval that is due and store what it found; how many were judged."""
        await self._ensure_layout()
        judged = 0
        for interval in self._due():
            self._judge(interval)
            judged += 1
        if self._pending:
            await self._store()
        return judged

    def _due(self) -> list[int]:
        if self.layout is None or self.check is None:
            return []
        now = self.clock()
        live = int(now - self.grace_s) // self.interval_s - 1  # ended grace ago
        if self._cursor is None:
            if now - self._started_at < self.grace_s + self.interval_s:
                return []
            self._cursor = live - 1  # nothing came since the start: judge from now on
        if self._cursor < live - LIVE_LAG and not self._buffers:
            # a backlog was judged and nothing more came: resume at the present
            log.info(
                "compliance check resumes at the present after %d idle intervals",
                live - self._cursor,
            )
            self._cursor = live - 1
        due = []
        awaited = self._last_valid >= (self._cursor - AWAITED_WITHIN)
        while len(due) < MAX_CATCH_UP:
            interval = self._cursor + 1 + len(due)
            buffer = self._buffers.get(interval)
            if buffer is not None:
                ready = (
                    (bool(awaited.any()) and bool(np.all(buffer.heard[awaited])))
                    or self._watermark >= interval + 2
                    or time.monotonic() - buffer.first_at >= self.grace_s
                )
            else:  # nothing came for it: judged once later ones came, or its time passed
                ready = self._watermark > interval or (
                    interval <= live and self._cursor >= live - LIVE_LAG
                )
            if not ready:
                break
            due.append(interval)
        return due

    def _judge(self, interval: int) -> None:
        layout, check = self.layout, self.check
        assert layout is not None and check is not None
        buffer = self._buffers.pop(interval, None) or self._buffer_empty()
        self._last_valid[buffer.heard] = interval
        hour = self._local_hour(interval)
        cut, level = self._cuts()
        # the logger's own reference-O2 value (-Zs), else the measured one converted with the
        # O2 its stack monitor reported (limits are stated at a reference O2; HJ 75-2017)
        measured = reference_oxygen(
            buffer.cems, buffer.oxygen[self._cems_slot], self._cems_reference_o2
        )
        cems = np.where(np.isnan(buffer.converted), measured, buffer.converted)
        result = check.evaluate(
            IntervalInput(
                interval=interval,
                power_kw=buffer.power,
                normal_kw=self._normal[hour],
                cut=cut,
                logger_last_valid=self._last_valid,
                cems_mg_m3=cems,
            )
        )
        self._cursor = interval
        self.counts["intervals"] += 1
        found, cleared = findings_of(result, self.layout, self._board(), level, self.interval_s)
        self._pending.findings.extend(found)
        self._pending.cleared.extend(cleared)
        self._accumulate_hour(interval, buffer.power, cut)

    def _buffer_empty(self) -> _Interval:
        arrays = self.layout.arrays  # type: ignore[union-attr]
        n_cems, n_slots = len(arrays.cems_enterprise), len(arrays.logger_enterprise)
        return _Interval(
            power=np.full(arrays.n_lines, np.nan),
            cems=np.full(n_cems, np.nan),
            converted=np.full(n_cems, np.nan),
            oxygen=np.full(n_slots, np.nan),
            heard=np.zeros(n_slots, bool),
        )

    def _local_hour(self, interval: int) -> int:
        at = dt.datetime.fromtimestamp(interval * self.interval_s, self._zone)
        return at.hour

    def _cuts(self) -> tuple[np.ndarray, np.ndarray]:
        """(E,) the required cut of each laid-out enterprise (NaN: no warning), its level."""
        board = self._board()
        rows = self._rows
        evaluator = board.evaluator
        level = np.where(rows >= 0, np.asarray(evaluator.level)[np.maximum(rows, 0)], 0)
        cut = np.where(level > 0, evaluator.production_cut[np.maximum(rows, 0)], np.nan)
        return cut, level

    # -- findings ----------------------------------------------------------------------------

    # -- hours and normal loads ---------------------------------------------------------------

    def _accumulate_hour(self, interval: int, power: np.ndarray, cut: np.ndarray) -> None:
        hour = interval * self.interval_s // 3600
        if self._hour is not None and hour != self._hour:
            self._close_hour()
        self._hour = hour
        valid = ~np.isnan(power)
        np.add(self._hour_sum, np.where(valid, power, 0.0), out=self._hour_sum)
        self._hour_count += valid
        arrays = self.layout.arrays  # type: ignore[union-attr]
        self._hour_warned |= ~np.isnan(cut)[arrays.line_enterprise]

    def _close_hour(self) -> None:
        layout = self.layout
        assert layout is not None and self._hour is not None
        at = dt.datetime.fromtimestamp(self._hour * 3600, dt.UTC)
        arrays = layout.arrays
        column = self._hour - (self._history_end - self._history.shape[1])
        closing = 0 <= column < self._history.shape[1]
        per_hour = 3600 // self.interval_s
        for line in np.flatnonzero(self._hour_count).tolist():
            count = int(self._hour_count[line])
            mean, warned = float(self._hour_sum[line] / count), bool(self._hour_warned[line])
            self._pending.hours.append(
                {
                    "enterprise_id": layout.enterprise_ids[int(arrays.line_enterprise[line])],
                    "line_id": layout.line_ids[line],
                    "hour": at,
                    "mean_kw": mean,
                    "minutes": count,
                    "warned": warned,
                }
            )
            if closing:
                self._history[line, column] = mean
                self._history_valid[line, column] = not warned and count >= HOUR_COVERAGE * per_hour
        self._hour_sum[:] = 0.0
        self._hour_count[:] = 0
        self._hour_warned[:] = False
        self._history_changed = True

    async def _load_history(self, session: AsyncSession) -> None:
        """The lines' hourly loads of the last weeks, from the database (at a new layout)."""
        layout = self.layout
        assert layout is not None
        n_hours = self.history_weeks * 7 * 24
        end = self._hour_now()
        self._history = np.full((layout.arrays.n_lines, n_hours), np.nan)
        self._history_valid = np.zeros_like(self._history, dtype=bool)
        self._history_end = end
        row_of = {
            (layout.enterprise_ids[int(e)], line_id): i
            for i, (e, line_id) in enumerate(
                zip(layout.arrays.line_enterprise.tolist(), layout.line_ids, strict=True)
            )
        }
        per_hour = 3600 // self.interval_s
        since = dt.datetime.fromtimestamp((end - n_hours) * 3600, dt.UTC)
        async for chunk in telemetry.hours_since(session, since):
            for eid, line_id, hour, mean_kw, minutes, warned in chunk:
                line = row_of.get((eid, line_id))
                column = int(hour.timestamp()) // 3600 - (end - n_hours)
                if line is None or not 0 <= column < n_hours:
                    continue
                self._history[line, column] = mean_kw
                valid = not warned and minutes >= HOUR_COVERAGE * per_hour
                self._history_valid[line, column] = valid
        self._history_changed = True

    def _advance_history(self) -> None:
        """The clock moved into a later hour: the window slides (the oldest hours leave)."""
        shift = self._hour_now() - self._history_end
        if shift <= 0:
            return
        n_hours = self._history.shape[1]
        if shift >= n_hours:
            self._history[:] = np.nan
            self._history_valid[:] = False
        else:
            self._history[:, :-shift] = self._history[:, shift:]
            self._history[:, -shift:] = np.nan
            self._history_valid[:, :-shift] = self._history_valid[:, shift:]
            self._history_valid[:, -shift:] = False
        self._history_end += shift
        self._history_changed = True

    async def _normal_loads(self) -> None:
        """Recompute the normal loads from the window (in a thread: at a national scale it
        takes seconds; the last ones serve meanwhile)."""
        if not self._history_changed:
            return
        self._history_changed = False
        n_hours = self._history.shape[1]
        hours = (np.arange(n_hours) + self._history_end - n_hours) * 3600
        hour_of_day = np.array(
            [dt.datetime.fromtimestamp(int(h), self._zone).hour for h in hours], np.int64
        )
        loads = await asyncio.to_thread(
            normal_load, self._history, self._history_valid, hour_of_day, self.min_history
        )
        self._normal = np.ascontiguousarray(loads.median_kw.T)  # (24, L): one hour's row
        self.normal_hours = loads.hours

    # -- the layout -----------------------------------------------------------------------------

    async def _ensure_layout(self) -> None:
        board = self._board()
        registrations = self._registrations()
        key = (board.revision, tuple(sorted(f"{r.mn}/{r.kind}/{r.owner}" for r in registrations)))
        if key != self._layout_key:
            async with self._session_maker() as session:
                revision = await self._published(session)
                entries = revision.entries if revision is not None else ()
                self._relayout(build_layout(entries, registrations, self.rules))
                self._layout_key = key
                await self._load_history(session)
            early, self._early = self._early, []
            self.observe(early)
        self._advance_history()
        await self._normal_loads()
        self._rows = board_rows(self.layout, board.evaluator.compiled.row_of)  # type: ignore[arg-type]

    def _hour_now(self) -> int:
        return int(self.clock()) // 3600

    def _relayout(self, layout: Layout) -> None:
        if self.layout is not None and self._hour is not None:
            self._close_hour()
        self.layout = layout
        self.check = ComplianceCheck(layout.arrays, self.rules)
        self._cems_slot = np.array([layout.logger_of[mn] for mn, _ in layout.cems_channel], np.intp)
        industry = layout.arrays.enterprise_industry[layout.arrays.cems_enterprise]
        self._cems_reference_o2 = self.rules.cems_reference_o2[
            industry, layout.arrays.cems_pollutant
        ]
        arrays = layout.arrays
        self._buffers.clear()
        self._last_valid = np.full(len(arrays.logger_enterprise), NEVER, np.int64)
        self._hour, self._hour_sum = None, np.zeros(arrays.n_lines)
        self._hour_count = np.zeros(arrays.n_lines, np.int32)
        self._hour_warned = np.zeros(arrays.n_lines, bool)
        self._normal = np.full((24, arrays.n_lines), np.nan)
        log.info(
            "compliance layout: %d enterprises, %d lines, %d loggers, %d CEMS channels",
            arrays.n_enterprises,
            arrays.n_lines,
            len(arrays.logger_enterprise),
            len(arrays.cems_enterprise),
        )

    # -- storing ----------------------------------------------------------------------------------

    async def _store(self) -> None:
        pending, self._pending = self._pending, _Pending()
        try:
            async with self._session_maker() as session:
                now = dt.datetime.now(dt.UTC)
                changed = await record_findings(session, pending.findings, now)
                changed += await record_cleared(session, pending.cleared, now)
                if pending.hours:  # an hour closed: also the values past their keeping
                    await telemetry.put_hours(session, pending.hours)
                    await telemetry.forget_before(session, now - self.keep)
                notified = await self._publish(session, changed, now) if changed else False
                await session.commit()
        except BaseException:
            self._pending.findings[:0] = pending.findings
            self._pending.cleared[:0] = pending.cleared
            self._pending.hours[:0] = pending.hours
            raise
        self.counts["raised"] += len(pending.findings)
        self.counts["cleared"] += len(pending.cleared)
        self._stored(notified)
