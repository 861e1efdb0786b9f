"""A throw-away PostgreSQL 15 server for the test session and the benchmarks.

``initdb`` and ``postgres`` refuse to run as root, so as root they run as the ``postgres``
system user, in a short directory chowned to it (pytest's temporary directories are
root-only, and a Unix socket path may not exceed 107 bytes). Durability is switched off: the
cluster lives for one test session and is removed afterwards.

The directory is ``/dev/shm/hzpg-<pid>`` when /dev/shm is a memory file system with room,
else ``/tmp/hzpg-<pid>``: every database test copies a template database, and on this
project's machines that takes about 25 ms in memory against about 250 ms on disk.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.infra.servers import free_port, stop_on_exit

PG_BIN = Path(os.environ.get("HAZE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
START_TIMEOUT_S = 30.0
#: Free space /dev/shm needs before the cluster goes there (a few hundred MB are used).
MIN_SHM_BYTES = 1 << 30
_SERVER_SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=200",
    "wal_init_zero=off",
    "max_wal_size=256MB",  # bounds the memory the WAL takes in /dev/shm
)


def _as_postgres() -> dict[str, object]:
    """Popen arguments that drop root to the ``postgres`` user (nothing when not root)."""
    if os.geteuid() != 0:
        return {"cwd": "/"}
    return {"user": "postgres", "group": "postgres", "extra_groups": [], "cwd": "/"}


def _base_dir() -> Path:
    shm = Path("/dev/shm")
    try:
        roomy = shutil.disk_usage(shm).free >= MIN_SHM_BYTES and os.access(shm, os.W_OK)
    except OSError:
        roomy = False
    return (shm if roomy else Path("/tmp")) / f"hzpg-{os.getpid()}"


@dataclass
class PostgresServer:
    """A running server; :attr:`url` reaches its ``postgres`` database as superuser."""

    base: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then remove the cluster."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.base, ignore_errors=True)


def _ready(port: int) -> bool:
    """True once the server accepts connections (not merely the TCP port while starting)."""
    done = subprocess.run(
        [str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"],
        cwd="/",
        check=False,
    )
    return done.returncode == 0


def _launch(base: Path, port: int) -> subprocess.Popen[bytes]:
    command = [str(PG_BIN / "postgres"), "-D", str(base / "data")]
    command += ["-c", "listen_addresses=127.0.0.1", "-p", str(port), "-k", str(base)]
    for setting in _SERVER_SETTINGS:
        command += ["-c", setting]
    with open(base / "server.log", "ab") as log:
        return subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **_as_postgres()
        )


def start(attempts: int = 3) -> PostgresServer:
    """Create a cluster in ``/dev/shm/hzpg-<pid>`` or ``/tmp/hzpg-<pid>``, start it on a free
    port.

    Raises
    ------
    RuntimeError
        If the binaries are missing or the server does not come up (with its log).
    """
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(
            f"PostgreSQL binaries not found in {PG_BIN}: install postgresql-15, set "
            "HAZE_TEST_PG_BIN, or point HAZE_TEST_DATABASE_URL at a server"
        )
    base = _base_dir()
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(mode=0o700)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    initdb = [str(PG_BIN / "initdb"), "-D", str(base / "data"), "-U", "postgres"]
    initdb += ["-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
    done = subprocess.run(initdb, capture_output=True, check=False, **_as_postgres())
    if done.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {done.stderr.decode(errors='replace')}")
    for _ in range(attempts):  # another process may take the free port before postgres does
        port = free_port()
        process = _launch(base, port)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            if _ready(port):
                server = PostgresServer(base, port, process)
                stop_on_exit(server.stop)
                return server
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
            process.wait()
    log = (base / "server.log").read_text(errors="replace")
    shutil.rmtree(base, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start:\n{log}")
