"""Warnings an operator changes: issued, changed or lifted by hand (one region, or several at
once as a joint warning) and proposals signed off.

The API (``POST /alerts``, ``POST /alerts/{region}/approve``) and the console's warnings page
make the same changes through these functions: each region's change through the warning
service, all of them inside one board change (stored together or not at all), each
announced on the bus and recorded in the audit log. The checks come first and return every
problem with its field, so that a page can show each beside its field and the API answer
the first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.i18n import Text, text
from emission_list.levels import Level, Response
from emission_list.regions import RegionTree
from service.errors import HazeError, not_found
from service.runtime import Runtime
from service.services.warnings import Outcome
from service.storage.repositories import audit, regions, tokens


@dataclass(frozen=True)
class ChangeProblem:
    """Why a change by hand cannot be made: a stable code, the field, a bilingual message."""

    code: str
    field: str
    message: Text
    value: str | None = None

    def error(self) -> HazeError:
        detail = {"field": self.field} | ({} if self.value is None else {"value": self.value})
        return HazeError(422, self.code, self.message, [detail])


@dataclass(frozen=True)
class ManualChange:
    """What an operator asks for: a level (``Level.NONE`` lifts) in each of ``regions``."""

    regions: tuple[str, ...]
    level: Level
    response: Response
    reason: Text
    source: str = "manual"
    ends_at: dt.datetime | None = None

    @property
    def joint(self) -> bool:
        """Several regions at once (or chosen as such) make a joint regional warning."""
        return self.source == "joint" or len(self.regions) > 1


def one_reason(reason: Mapping[str, str]) -> Text:
    """The reason in both languages, the one given standing in for the other (maybe empty)."""
    zh, en = (reason.get("zh-CN") or "").strip(), (reason.get("en") or "").strip()
    return text(zh or en, en or zh)


def change_problems(
    change: ManualChange, tree: RegionTree, now: dt.datetime
) -> list[ChangeProblem]:
    """Every problem of ``change`` in ``tree`` at ``now`` (empty: it can be made)."""
    problems = []
    if not change.regions:
        message = text("请至少选择一个区域", "Choose at least one region")
        problems.append(ChangeProblem("alert.regions", "region", message))
    for region in change.regions:
        if region not in tree:
            message = text(f"未知区域 {region}", f"Unknown region {region}")
            problems.append(ChangeProblem("region.unknown", "region", message, region))
    if not any(change.reason.values()):
        message = text("需要说明理由", "A reason is required")
        problems.append(ChangeProblem("alert.reason", "reason", message))
    if change.ends_at is not None and change.ends_at <= now:
        message = text("结束时间已过", "ends_at is in the past")
        problems.append(ChangeProblem("alert.ends_at", "ends_at", message))
    return problems


async def change_by_hand(
    runtime: Runtime, operator_id: str, change: ManualChange, now: dt.datetime
) -> list[Outcome]:
    """Make ``change`` (checked by :func:`change_problems`) in each of its regions at ``now``:
    one lifecycle change per region, stored together, announced and audited."""
    source = "joint" if change.joint else "manual"
    state = runtime.state
    outcomes = []
    async with runtime.board_change() as session:
        for region in change.regions:
            outcome = await state.warnings.on_manual(
                session,
                region,
                change.level,
                change.response,
                change.reason,
                state.board,
                now,
                source=source,
                ends_at=change.ends_at,
            )
            details: dict[str, object] = {
                "level": change.level.label,
                "source": source,
                "reason": dict(change.reason),
            }
            if len(change.regions) > 1:
                details["regions"] = list(change.regions)
            await audit.record(session, operator_id, "alert.manual", f"region/{region}", details)
            await runtime.announce(session, outcome)  # published once committed
            outcomes.append(outcome)
    return outcomes


def no_proposal(region: str) -> HazeError:
    return HazeError(
        409,
        "alert.no_proposal",
        text(f"{region} 没有待签发的预警提议", f"No proposal waits for sign-off in {region}"),
        [{"region": region}],
    )


async def sign_off(runtime: Runtime, operator_id: str, region: str, now: dt.datetime) -> Outcome:
    """Sign off the proposal waiting in ``region``: the change it proposed is made at once,
    with who signed it off and the wait; 409 ``alert.no_proposal`` when none waits."""
    state = runtime.state
    async with runtime.board_change() as session:
        approver = await tokens.label(session, operator_id) or operator_id
        outcome = await state.warnings.on_approve(session, region, approver, state.board, now)
        if outcome is not None:
            wait = next((e.wait for e in outcome.events if e.kind == "approve"), None)
            details = {"approver": approver, "wait_s": wait and wait.total_seconds()}
            await audit.record(session, operator_id, "alert.approve", f"region/{region}", details)
            await runtime.announce(session, outcome)
    if outcome is None:  # nothing was changed: refused after the (empty) block, no rebuild
        raise no_proposal(region)
    return outcome


async def set_signoff(
    runtime: Runtime, session: AsyncSession, operator_id: str, region: str, required: bool
) -> None:
    """Set whether ``region``'s warnings (and those under it) wait for sign-off: stored,
    audited and committed, then this process's warning service follows at once."""
    if not await regions.set_signoff(session, region, required):
        raise not_found("region.unknown", f"未知区域 {region}", f"Unknown region {region}")
    details = {"requires_signoff": required}
    await audit.record(session, operator_id, "region.signoff", f"region/{region}", details)
    await session.commit()
    await runtime.reload_signoff()
