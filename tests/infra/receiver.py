"""A real webhook receiver on 127.0.0.1 (aiohttp), scripted to fail, for tests and benchmarks.

``Receiver`` runs in the caller's event loop: it records every request (headers, body, the
status it answered) and fails the first ``fail_first`` attempts of each ``webhook-id`` (with
``fail_status`` and, if set, ``Retry-After``), or the first attempt of a ``fail_fraction`` of
the ids (chosen by a hash of the id, so the same ids fail in every run). ``python -m
tests.infra.receiver PORT FRACTION`` runs one alone (the benchmark's, in its own process): it
counts and prints nothing but answers ``GET /stats`` with the counts.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field

from aiohttp import web

from tests.infra.servers import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int
    at: float


@dataclass
class Receiver:
    fail_first: int = 0
    fail_status: int = 503
    retry_after: str | None = None
    fail_fraction: float = 0.0
    keep: bool = True  # record each request (off in the benchmark: counts only)
    answer_status: int = 200  # what a request that is not failed gets
    delay_s: float = 0.0  # a slow receiver: each answer waits this long
    received: list[Received] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    delivered: dict[str, float] = field(default_factory=dict)  # webhook-id -> when accepted
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _fails(self, message_id: str, attempt: int) -> bool:
        if attempt <= self.fail_first:
            return True
        if attempt == 1 and self.fail_fraction > 0:
            digest = hashlib.blake2b(message_id.encode(), digest_size=4).digest()
            return int.from_bytes(digest, "big") / 2**32 < self.fail_fraction
        return False

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        message_id = request.headers.get("webhook-id", "")
        attempt = self.attempts.get(message_id, 0) + 1
        self.attempts[message_id] = attempt
        failed = self._fails(message_id, attempt)
        status = self.fail_status if failed else self.answer_status
        if self.keep:
            self.received.append(Received(dict(request.headers), body, status, time.monotonic()))
        if not failed and 200 <= status < 300:
            self.delivered.setdefault(message_id, time.monotonic())
        headers = {"Retry-After": self.retry_after} if failed and self.retry_after else None
        return web.Response(status=status, headers=headers)

    async def _stats(self, _: web.Request) -> web.Response:
        counts = {"requests": sum(self.attempts.values()), "delivered": len(self.delivered)}
        return web.Response(text=json.dumps(counts), content_type="application/json")

    async def start(self) -> Receiver:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_post("/hook", self._hook)
        app.router.add_get("/stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = self.port or free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def accepted_bodies(self) -> list[dict]:
        return [json.loads(r.body) for r in self.received if 200 <= r.answered < 300]


async def _main(port: int, fraction: float) -> None:
    receiver = Receiver(fail_fraction=fraction, keep=False, port=port)
    await receiver.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1]), float(sys.argv[2])))
