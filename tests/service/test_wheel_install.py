"""A non-editable install works: the wheel, installed into a fresh virtual environment away
from the repository, migrates a new database and serves (its migrations and static files are
package data, not files of the source tree).

It builds the wheel from a copy of the sources and installs its dependencies through pip
(from pip's cache when it has them): about a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.infra.servers import free_port, stop, wait_ready

ROOT = Path(__file__).resolve().parents[2]
STARTUP_LIMIT_S = 120  # a bound on waiting, not a performance assertion
_NOT_SOURCES = (".git", ".venv", ".haze", "build", "dist", "tests", "*.egg-info", "__pycache__")


def _run(command: list[str], **kwargs) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_installed_elsewhere_migrates_and_serves(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    shutil.copytree(ROOT, sources, ignore=shutil.ignore_patterns(*_NOT_SOURCES))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "wheel", "--no-deps", "-q", str(sources), "-w", str(tmp_path / "dist")])
    wheel = next((tmp_path / "dist").glob("haze_response-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    _run([str(venv / "bin/python"), "-m", "pip", "install", "-q", str(wheel)])
    shutil.rmtree(sources)  # nothing may come from the source tree any more

    where = _run(
        [
            str(venv / "bin/python"),
            "-c",
            "import service.storage.migrate as m; print(m.__file__); print(m.migrations_dir())",
        ],
        cwd=tmp_path,
    ).split()
    site = str(venv / "lib")
    assert where[0].startswith(site) and where[1].startswith(site), where

    port, output = free_port(), tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZE_")}
    env |= {"HAZE_DATA_DIR": str(tmp_path / "data"), "HAZE_PORT": str(port)}
    with output.open("ab") as sink:
        process = subprocess.Popen(
            [str(venv / "bin/haze"), "serve", "--log-level", "warning"],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", process, output, STARTUP_LIMIT_S)
        script = "/static/swagger-ui-5.35.0/swagger-ui-bundle.js"
        docs = httpx.get(f"http://127.0.0.1:{port}/docs", trust_env=False)
        asset = httpx.get(f"http://127.0.0.1:{port}{script}", trust_env=False)
        html = {"Accept": "text/html"}
        signin = httpx.get(f"http://127.0.0.1:{port}/signin", headers=html, trust_env=False)
        htmx = httpx.get(f"http://127.0.0.1:{port}/assets/htmx-2.0.11.min.js", trust_env=False)
    finally:
        stop(process)
    assert docs.status_code == 200 and script in docs.text
    assert asset.status_code == 200 and len(asset.content) > 100_000
    assert signin.status_code == 200 and 'name="csrftoken"' in signin.text  # templates, texts
    assert htmx.status_code == 200 and len(htmx.content) > 40_000  # the console's static files
    assert (tmp_path / "data" / "haze.db").exists()
    assert "revision 1" in output.read_text()
