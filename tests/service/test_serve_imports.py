"""What an idle ``haze serve`` on the embedded default holds: the modules it never needs are
not imported (the Memory goal's saving, kept from rotting). The migrations and the seeding
run in a child process; the PostgreSQL driver, Kafka's client, the HTTP client of the
notices, the mail client and the spreadsheet reader load only where they are used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.infra.servers import free_port, stop

STARTUP_LIMIT_S = 120  # a bound on waiting, not a performance assertion
#: Never needed by an idle process on SQLite with the in-process bus.
NOT_IMPORTED = ("aiokafka", "asyncpg", "alembic", "openpyxl", "aiohttp", "aiosmtplib")

#: ``haze serve`` itself, with a thread that writes the modules loaded once /readyz answers
#: and the console's first page, the OpenAPI document and /healthz were served.
_SERVE_AND_REPORT = r"""
import json, sys, threading, time, urllib.request

port, report = sys.argv[1], sys.argv[2]

def watch():
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        time.sleep(0.2)
    for path in ("/", "/openapi.json", "/healthz"):  # what serving pages loads too
        urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30).read()
    with open(report + ".part", "w") as out:
        json.dump(sorted(sys.modules), out)
    import os
    os.replace(report + ".part", report)

threading.Thread(target=watch, daemon=True).start()
from service.commands.cli import main
sys.exit(main(["serve", "--log-level", "warning"]))
"""


def test_an_idle_embedded_serve_does_not_import_what_it_does_not_use(tmp_path: Path) -> None:
    port, report, log = free_port(), tmp_path / "modules.json", tmp_path / "serve.log"
    env = os.environ | {"HAZE_DATA_DIR": str(tmp_path / "data"), "HAZE_PORT": str(port)}
    for name in ("HAZE_DATABASE_URL", "HAZE_KAFKA_BOOTSTRAP", "HAZE_SEED_SAMPLE"):
        env.pop(name, None)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVE_AND_REPORT, str(port), str(report)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while not report.exists():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        stop(process)
    modules = set(json.loads(report.read_text()))
    assert "service.api.app" in modules and "uvicorn" in modules  # the report is the server's
    assert "revision 1" in log.read_text()  # the child seeded the sample
    loaded = sorted(name for name in modules if name.split(".")[0] in NOT_IMPORTED)
    assert loaded == []
