"""What an attempt's outcome does to a delivery (pure): backoff bounds, Retry-After, giving up,
and which actions change makes which notice."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given
from hypothesis import strategies as st

from service.notify.message import Attempt, retry_after
from service.services.delivery_policy import RetryPolicy, outcome_row
from service.services.notices import ActionsChange, event_of
from service.storage.repositories.notices import Latest

T0 = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
POLICY = RetryPolicy(base_s=2.0, cap_s=600.0, give_up=dt.timedelta(hours=24))


@given(attempts=st.integers(0, 60), seed=st.integers(0, 2**32), age_s=st.floats(0, 200_000))
def test_a_failed_try_waits_a_jittered_capped_doubling_or_gives_up(
    attempts: int, seed: int, age_s: float
) -> None:
    created = T0 - dt.timedelta(seconds=age_s)
    row = outcome_row(7, attempts, created, Attempt("retry", 500), T0, POLICY, random.Random(seed))
    full = min(600.0, 2.0 * 2.0 ** max(attempts, 0))  # the try after ``attempts + 1`` failures
    wait = (row["next_attempt_at"] - T0).total_seconds()
    assert 0.5 * full - 1e-6 <= wait <= full + 1e-6
    beyond = (row["next_attempt_at"] - created) > POLICY.give_up
    assert row["status"] == ("dead" if beyond else "pending")
    assert row["attempts"] == attempts + 1 and row["delivered_at"] is None


@given(seconds=st.integers(0, 100_000))
def test_retry_after_is_waited_instead_of_the_backoff(seconds: int) -> None:
    attempt = Attempt("retry", 429, retry_after_s=retry_after(str(seconds)))
    row = outcome_row(1, 0, T0, attempt, T0, POLICY, random.Random(0))
    assert row["status"] == ("dead" if seconds > 24 * 3600 else "pending")
    if row["status"] == "pending":
        assert row["next_attempt_at"] == T0 + dt.timedelta(seconds=seconds)


def test_outcomes_that_end_a_delivery() -> None:
    rng = random.Random(0)
    done = outcome_row(1, 2, T0, Attempt("delivered", 204), T0, POLICY, rng)
    assert (done["status"], done["delivered_at"], done["attempts"]) == ("delivered", T0, 3)
    assert outcome_row(1, 0, T0, Attempt("gone", 410), T0, POLICY, rng)["status"] == "disabled"
    assert outcome_row(1, 0, T0, Attempt("failed", 400), T0, POLICY, rng)["status"] == "dead"


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("120") == 120
    assert retry_after("Wed, 03 Dec 2026 12:01:00 GMT", now=T0) == 60
    assert retry_after("soon") is None and retry_after(None) is None


LEVELS = st.sampled_from(["none", "yellow", "orange", "red"])


def _value(level: str, cut: float) -> dict | None:
    return {"enterprise_id": "E", "level": level, "production_cut": cut, "list_revision": 1}


@given(before=st.none() | LEVELS, after=LEVELS, cut=st.sampled_from([0.0, 0.3]), late=st.booleans())
def test_which_change_makes_which_notice(
    before: str | None, after: str, cut: float, late: bool
) -> None:
    previous = None
    if before is not None:
        payload = {"level": before, "production_cut": 0.0, "action_codes": []}
        previous = Latest(1, before, T0, payload)
    read_at = T0 + dt.timedelta(seconds=-1 if late else 1)
    event = event_of(previous, ActionsChange("E", _value(after, cut), read_at))
    had = previous is not None and before != "none"
    same = previous is not None and before == after and (after == "none" or cut == 0.0)
    if previous is not None and late:
        expected = None  # read before the latest notice was: a redelivery
    elif after == "none":
        expected = "actions.ended" if had and not same else None
    else:
        expected = None if same else "actions.changed"
    assert event == expected
