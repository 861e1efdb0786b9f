"""Sign-off of lifecycle changes: a change waits as a proposal until approved or withdrawn.

With ``LifecycleSettings.requires_signoff`` every issue, upgrade, downgrade and lift waits
as a proposal (event ``propose``) until :func:`approve`; a newer forecast replaces or
withdraws it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from emission_list.alert_transitions import (
    apply_change,
    change_kind,
    expire,
    fmt_time,
    level_names,
    level_of,
    new_event,
    with_events,
)
from emission_list.alerts import Alert, Events, LifecycleSettings, RegionAlertState, check_aware
from emission_list.i18n import LANGUAGES, Text
from emission_list.levels import Level
from emission_list.warning_texts import join_texts, message


def withdraw(
    state: RegionAlertState, t: dt.datetime, settings: LifecycleSettings
) -> tuple[RegionAlertState, Events]:
    """Withdraw the pending proposal, if any, at ``t`` (a ``hold`` event)."""
    if state.proposal is None:
        return state, []
    old = state.proposal
    reason = message(
        "event.withdraw",
        at=fmt_time(t, settings.timezone),
        proposed_at=fmt_time(old.proposed_at, settings.timezone),
    )
    closed = replace(old, status="superseded")
    event = new_event(
        state, "hold", t, state.current, level_of(state.current), reason, replaced=closed
    )
    return replace(state, proposal=None), [event]


def propose(
    state: RegionAlertState, target: Alert, t: dt.datetime, settings: LifecycleSettings
) -> tuple[RegionAlertState, Events]:
    """Hold the change ``target`` as the pending proposal, replacing any earlier one."""
    kind = change_kind(state, target)
    proposal = replace(target, status="proposed", proposed_at=t, issued_at=None)
    change = message(f"change.{kind}", **level_names(target.level))
    reason = message("event.propose", change=change, proposal=target.reason)
    replaced = None
    if state.proposal is not None:
        replaced = replace(state.proposal, status="superseded")
        again = message(
            "event.replaces", at=fmt_time(state.proposal.proposed_at, settings.timezone)
        )
        reason = join_texts(reason, again)
    event = new_event(
        state, "propose", t, proposal, level_of(state.current), reason, replaced=replaced
    )
    return replace(state, proposal=proposal), [event]


def approve(
    state: RegionAlertState,
    approver: str,
    at: dt.datetime,
    settings: LifecycleSettings | None = None,
) -> tuple[RegionAlertState, Events]:
    """Sign off the pending proposal at ``at``: event ``approve`` (with the wait), then the change.

    Raises
    ------
    ValueError
        When nothing is proposed, or ``at`` precedes the proposal.
    """
    settings = settings or LifecycleSettings()
    check_aware(at, "at")
    if state.proposal is None:
        raise ValueError(f"region {state.region!r} has no proposal to approve")
    if at < state.proposal.proposed_at:
        raise ValueError("approval before the proposal")
    state, events = expire(state, at, settings)
    if state.proposal is None:  # its episode ended before sign-off
        return state, events
    proposal, tz = state.proposal, settings.timezone
    wait = at - proposal.proposed_at
    late: Text = {lang: "" for lang in LANGUAGES}
    if wait > dt.timedelta(hours=settings.signoff_target_hours):
        late = message("event.approve_late", target=f"{settings.signoff_target_hours:g}")
    signed = replace(proposal, approved_by=approver, approved_at=at)
    reason = message(
        "event.approve",
        approver=approver,
        at=fmt_time(at, tz),
        wait=f"{wait.total_seconds() / 60:.0f}",
        late=late,
    )
    approved = new_event(state, "approve", at, signed, level_of(state.current), reason, wait=wait)
    state = replace(state, proposal=None)
    if signed.level is not Level.NONE or state.current is not None:
        if change_kind(state, signed) != "downgrade":
            state = replace(state, lower_streak=0, downgrade_to=None)
        state, change = apply_change(state, signed, at, settings, signed.reason)
        new_events = [approved, change]
    else:
        new_events = [approved]
    return with_events(state, new_events), events + new_events
