"""Requests per token: a moving window per token id (the ``limits`` library, in memory).

Each role has its limit in the settings (``HAZE_RATE_LIMIT_OPERATOR``, ``…_STATION``,
``…_ENTERPRISE``: ``"600/minute"``-style; empty or ``0`` = no limit); requests without a valid
token count against ``HAZE_RATE_LIMIT_ANONYMOUS`` per client address. A request over its limit
is answered 429 ``rate.limited`` with ``Retry-After`` and the ``RateLimit-Limit``,
``RateLimit-Remaining``, ``RateLimit-Reset`` (seconds) and ``RateLimit-Policy`` headers.

The counts live in this process: with N API processes behind a balancer a token gets up to
N times its limit. The library's memory storage sweeps expired entries on a thread every
10 ms, walking every key: with a key per enterprise token that would take a good share of a
core, so :class:`SweptMemoryStorage` sweeps every :data:`SWEEP_S` seconds instead (a moving
window reads only the entries inside it, so lingering expired ones change no answer).
"""

from __future__ import annotations

import math
import threading
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from emission_list.i18n import text
from service.errors import HazeError

ANONYMOUS = "anonymous"
PUBLIC = "public"  # the public warnings, per client address
SWEEP_S = 10.0


class SweptMemoryStorage(MemoryStorage):
    """``limits``' in-memory storage, sweeping expired entries every :data:`SWEEP_S` s on a
    daemon thread (the library's sweep runs every 10 ms)."""

    def __init__(self) -> None:
        super().__init__()
        self.timer.cancel()  # the library's first 10 ms sweep
        self.timer = self._sweep_timer()

    def _sweep_timer(self) -> threading.Timer:
        timer = threading.Timer(SWEEP_S, self._MemoryStorage__expire_events)
        timer.daemon = True  # never holds up the process's exit
        return timer

    def _MemoryStorage__schedule_expiry(self) -> None:  # the library's private hook
        if not self.timer.is_alive():
            self.timer = self._sweep_timer()
            self.timer.start()


def parse_limit(value: str) -> RateLimitItem | None:
    """``"600/minute"`` (or ``"600 per minute"``, ``"10/second"``…) as a limit; None for no
    limit (empty or ``0``). Raises ValueError on anything else."""
    value = value.strip()
    if value in ("", "0"):
        return None
    try:
        item = parse(value)
    except ValueError as exc:
        raise ValueError(f"not a rate limit like '600/minute': {value!r}") from exc
    if item.amount < 1 or item.multiples < 1:
        raise ValueError(f"a rate limit needs a positive count and period: {value!r}")
    return item


class RateLimits:
    """The limits of each role and the moving windows of the keys that used them."""

    def __init__(self, per_role: dict[str, str]) -> None:
        self._items = {role: parse_limit(limit) for role, limit in per_role.items()}
        self.storage = SweptMemoryStorage()
        self._window = MovingWindowRateLimiter(self.storage)

    def check(self, role: str, key: str) -> None:
        """Count a request of ``key`` (a token id, or a client address for ``anonymous``);
        429 when it is over its role's limit."""
        item = self._items.get(role)
        if item is None or self._window.hit(item, role, key):
            return
        reset_at, remaining = self._window.get_window_stats(item, role, key)
        reset_s = max(1, math.ceil(reset_at - time.time()))
        period = item.get_expiry()
        raise HazeError(
            429,
            "rate.limited",
            text(
                f"请求过于频繁：每 {period} 秒最多 {item.amount} 次，请 {reset_s} 秒后重试",
                f"Too many requests: at most {item.amount} per {period} s; retry in {reset_s} s",
            ),
            [{"limit": item.amount, "period_s": period, "retry_after_s": reset_s}],
            headers={
                "Retry-After": str(reset_s),
                "RateLimit-Limit": str(item.amount),
                "RateLimit-Remaining": str(max(0, remaining)),
                "RateLimit-Reset": str(reset_s),
                "RateLimit-Policy": f"{item.amount};w={period}",
            },
        )
