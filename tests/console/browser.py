"""The console served by ``haze serve`` on the embedded default, and a real Chromium.

``served_console`` starts ``haze serve`` in a fresh data directory (SQLite, in-process bus,
the sample list) with a known operator token (``HAZE_ADMIN_TOKEN``) and an enterprise token
made through the API. Playwright drives Debian's ``chromium`` (``/usr/bin/chromium``, which
``scripts/test.sh`` installs when it is missing); Playwright's own browser download is never
used. Screenshots go to ``.artifacts/screenshots`` (ignored by git).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.infra.servers import free_port, stop, stop_on_exit, wait_ready

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
CHROMIUM = os.environ.get("HAZE_CHROMIUM", "/usr/bin/chromium")
OPERATOR_SECRET = "haze_console-test-operator-" + "x" * 24


@dataclass
class ServedConsole:
    """A running ``haze serve``: where it answers and the secrets to sign in with."""

    base_url: str
    data_dir: Path
    operator_secret: str = OPERATOR_SECRET
    enterprise_id: str = ""
    enterprise_secret: str = ""
    other_enterprise_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def api(self) -> httpx.Client:
        """A client of the same service's API, as the operator."""
        headers = {"Authorization": f"Bearer {self.operator_secret}"}
        return httpx.Client(base_url=self.base_url, headers=headers, trust_env=False, timeout=30)

    def enterprise_token(self, enterprise_id: str) -> str:
        with self.api() as api:
            answer = api.post(
                "/api/v1/tokens",
                json={"role": "enterprise", "enterprise_id": enterprise_id, "label": "browser"},
            )
            answer.raise_for_status()
            return answer.json()["token"]


@contextmanager
def served_console(**env: str) -> Iterator[ServedConsole]:
    data_dir = Path(tempfile.mkdtemp(prefix="haze-console-"))
    port = free_port()
    log = data_dir / "serve.log"
    environment = {
        **os.environ,
        "HAZE_DATA_DIR": str(data_dir),
        "HAZE_DATABASE_URL": "",
        "HAZE_KAFKA_BOOTSTRAP": "",
        "HAZE_PORT": str(port),
        "HAZE_HOST": "127.0.0.1",
        "HAZE_ADMIN_TOKEN": OPERATOR_SECRET,
        "HAZE_RATE_LIMIT_OPERATOR": "100000/minute",
        "HAZE_RATE_LIMIT_ENTERPRISE": "100000/minute",
        "HAZE_RATE_LIMIT_ANONYMOUS": "100000/minute",
        **env,
    }
    command = [sys.executable, "-m", "service.commands.cli", "serve"]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    stop_on_exit(lambda: stop(process) if process.poll() is None else None)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base_url}/readyz", process, log)
        served = ServedConsole(base_url, data_dir)
        with served.api() as api:
            ids = [e["enterprise_id"] for e in api.get("/api/v1/list").json()["items"]]
        served.enterprise_id, served.other_enterprise_id = ids[0], ids[1]
        served.enterprise_secret = served.enterprise_token(served.enterprise_id)
        yield served
    finally:
        stop(process)
        shutil.rmtree(data_dir, ignore_errors=True)


def chromium_path() -> str:
    """Debian's chromium; a clear failure (not a skip) when the test command did not install it."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: run the tests through `bash scripts/test.sh`, which installs "
            "Debian's chromium and a CJK font (apt-get, as root)"
        )
    return CHROMIUM


def screenshot(page: object, name: str) -> Path:
    """Save a full-page screenshot under .artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
