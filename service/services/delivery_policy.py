"""What an attempt's outcome does to a delivery: delivered, tried again later, or ended.

Retries wait ``base · 2^(attempts-1)`` seconds, at most ``cap``, jittered to between half and
all of it (so receivers coming back are not hit by every sender at once); a receiver's
``Retry-After`` (429, 503) is waited instead. A delivery whose next try would fall after
``give_up`` from its creation is dead: listed for operators, who may send it again.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from service.notify.message import Attempt

#: Delivery states once an outcome is known (``pending`` waits for the next try).
STATUS_OF_OUTCOME = {"delivered": "delivered", "gone": "disabled", "failed": "dead"}


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 2.0
    cap_s: float = 600.0
    give_up: dt.timedelta = dt.timedelta(hours=24)

    def wait_s(self, attempts: int, rng: random.Random) -> float:
        """Seconds before try ``attempts + 1``, after ``attempts`` failed ones."""
        full = min(self.cap_s, self.base_s * 2.0 ** max(attempts - 1, 0))
        return full * rng.uniform(0.5, 1.0)


def outcome_row(
    delivery_id: int,
    attempts_before: int,
    created_at: dt.datetime,
    attempt: Attempt,
    now: dt.datetime,
    policy: RetryPolicy,
    rng: random.Random,
) -> dict[str, Any]:
    """The delivery's columns after ``attempt``."""
    attempts = attempts_before + 1
    row: dict[str, Any] = {
        "id": delivery_id,
        "attempts": attempts,
        "last_status": attempt.status,
        "last_error": attempt.detail[:500] or None,
        "delivered_at": now if attempt.outcome == "delivered" else None,
        "next_attempt_at": now,
    }
    if attempt.outcome in STATUS_OF_OUTCOME:
        row["status"] = STATUS_OF_OUTCOME[attempt.outcome]
        return row
    wait = attempt.retry_after_s
    if wait is None:
        wait = policy.wait_s(attempts, rng)
    wait = min(wait, policy.give_up.total_seconds() + 1)  # past the give-up: dead either way
    due = now + dt.timedelta(seconds=wait)
    row["status"] = "dead" if due - created_at > policy.give_up else "pending"
    row["next_attempt_at"] = due
    return row
