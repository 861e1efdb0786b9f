"""What the notices tests share: fast retry settings, waiting on a condition, a warning
issued by hand through the API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from api_client import Api

WAIT_S = 60.0
#: Retries within a test's patience (the defaults wait seconds to minutes).
FAST_RETRIES = {"notify_retry_base_s": 0.05, "notify_retry_cap_s": 0.2, "notify_poll_s": 0.1}


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until ``check()`` holds (polling), at most :data:`WAIT_S`."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached within {WAIT_S} s: {what}")


async def warn(api: Api, level: str, region: str = "150203") -> None:
    """An operator issues (``none``: lifts) a warning by hand."""
    body = {"region": region, "level": level, "reason": {"zh-CN": "测试", "en": "test"}}
    answer = await api.client.post("/api/v1/alerts", json=body, headers=api.as_("operator"))
    assert answer.status_code == 200, answer.text
