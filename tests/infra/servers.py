"""Service processes for benchmarks and end-to-end tests: a free port, readiness, stopping."""

from __future__ import annotations

import atexit
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def stop_on_exit(stop_server: Callable[[], None]) -> None:
    """Run ``stop_server`` however this process ends: normally, by an exception, by SIGINT,
    or by SIGTERM/SIGHUP (``timeout``, a closed terminal), which then exit through
    ``SystemExit`` so that ``finally`` blocks and ``atexit`` run.

    ``stop_server`` must be safe to call twice. Signal handlers are installed only from the
    main thread and only over the default handler (a process's own handler is kept).
    """
    atexit.register(stop_server)
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _exit_on_signal)


def wait_ready(url: str, process: subprocess.Popen, log: Path, limit_s: float = 120) -> None:
    """Wait until ``url`` answers 200; raise with the process's log if it exits or never does.

    ``limit_s`` bounds the wait; it is not a performance assertion."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"the server was not ready after {limit_s} s:\n{log.read_text()}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (uvicorn shuts down gracefully), SIGKILL after 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
