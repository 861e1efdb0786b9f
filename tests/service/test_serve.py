"""``haze serve`` end to end, as the README's first command runs it: a fresh data directory,
the sample loaded, an operator token printed once, the API answering; then ``haze replay``
pushes the sample episode through it and ``haze token create`` hands out a working token."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from emission_list.samples import kundulun_list
from service.commands import replay_live
from service.commands.cli import main as haze
from tests.infra.servers import free_port, stop, wait_ready

ENTERPRISE = kundulun_list().entries[0].enterprise_id
STARTUP_LIMIT_S = 60  # a bound on waiting, not a performance assertion


@dataclass
class Served:
    url: str
    token: str
    data_dir: Path
    output: Path


def _start(data_dir: Path, port: int, output: Path, **extra: str) -> subprocess.Popen:
    env = os.environ | {"HAZE_DATA_DIR": str(data_dir), "HAZE_PORT": str(port)}
    env.pop("HAZE_DATABASE_URL", None)
    env.pop("HAZE_SEED_SAMPLE", None)
    env.update(extra)
    with output.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "service.commands.cli", "serve", "--log-level", "warning"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("serve")
    port, output = free_port(), root / "serve.log"
    process = _start(root / "data", port, output)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/readyz", process, output, STARTUP_LIMIT_S)
        tokens = re.findall(r"haze_[A-Za-z0-9_-]{43}", output.read_text())
        assert len(tokens) == 1, output.read_text()
        yield Served(url, tokens[0], root / "data", output)
    finally:
        stop(process)


def test_first_start_loads_the_sample_and_prints_one_working_operator_token(
    served: Served,
) -> None:
    text = served.output.read_text()
    assert "revision 1" in text and "shown only now" in text
    auth = {"Authorization": f"Bearer {served.token}"}
    listed = httpx.get(f"{served.url}/api/v1/list?limit=1000", headers=auth).json()
    assert len(listed["items"]) == len(kundulun_list().entries)
    assert (served.data_dir / "haze.db").exists()


def test_the_data_directory_and_the_database_are_readable_by_their_owner_only(
    served: Served,
) -> None:
    assert stat.S_IMODE(served.data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((served.data_dir / "haze.db").stat().st_mode) == 0o600


def _send_head(url: str, header_bytes: int) -> tuple[int, bytes]:
    """Send a request whose one header is ``header_bytes`` long, 64 KiB at a time, until
    the server stops reading; how much was sent and what came back."""
    port = int(url.rsplit(":", 1)[1])
    head = b"GET /api/v1/regions HTTP/1.1\r\nHost: haze\r\nX-Big: "
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        try:
            connection.sendall(head)
            chunk = b"a" * 65536
            while sent < header_bytes:
                connection.sendall(chunk)
                sent += len(chunk)
            connection.sendall(b"\r\n\r\n")
        except OSError:  # the server closed the connection: it stopped reading
            pass
        try:
            while data := connection.recv(65536):
                answer += data
        except OSError:
            pass
    return sent, answer


def test_the_server_stops_reading_huge_request_headers_and_answers_431(served: Served) -> None:
    for size in (100_000, 20_000_000):
        sent, answer = _send_head(served.url, size)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 431"), (size, answer[:300])
        assert json.loads(body)["error"]["code"] == "headers.too_large"
    assert sent < 20_000_000  # refused while the header was still coming
    auth = {"Authorization": f"Bearer {served.token}"}
    assert httpx.get(f"{served.url}/api/v1/regions", headers=auth).status_code == 200


def test_a_large_body_behind_small_headers_is_read_as_usual(served: Served) -> None:
    auth = {"Authorization": f"Bearer {served.token}"}
    body = {"note": "x" * 300_000}  # one write: head and body reach the server together
    with httpx.Client(base_url=served.url, headers=auth) as client:
        answer = client.post("/api/v1/list/revisions", json=body)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "request.invalid"
        assert client.get("/api/v1/regions").status_code == 200  # the same connection


def test_replay_pushes_the_episode_and_the_enterprise_must_act(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.token}", "Accept-Language": "en"}
    out = io.StringIO()
    now = dt.datetime.now(dt.UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    walkthrough = {"station_id": "1502A01", "observed_at": hour.isoformat(), "pm25": 180}
    walkthrough |= {"pm10": 240, "so2": 40, "no2": 70, "o3": 20, "co": 2.1}  # the README's
    with httpx.Client(base_url=served.url, headers=headers, timeout=60) as client:
        assert client.post("/api/v1/readings", json=[walkthrough]).status_code in (200, 202)
        counts = replay_live.replay(client, day=7, out=out, now=now)
        actions = client.get(f"/api/v1/enterprises/{ENTERPRISE}/actions").json()
        kept = client.get("/api/v1/stations/1502A01/aqi").json()["hourly"]
    # The walkthrough's reading of the current hour is not overwritten by the episode's.
    assert dt.datetime.fromisoformat(kept["observed_at"]) == hour and kept["aqi"] == 230
    text = out.getvalue()
    assert "(no change)" not in text and "0 enterprises changed" not in text
    assert "issues the " in text and "must change what they do" in text
    assert counts["readings_accepted"] > 1000 and counts["readings_rejected"] == 0
    assert counts["forecasts"] >= 7
    # Day 7 of the sample episode is in an orange warning over Kundulun (sample_episode.json).
    assert actions["level"] == "orange" and actions["production_cut"] > 0
    assert "orange" in out.getvalue()


def test_token_create_prints_a_token_the_service_accepts(
    served: Served, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HAZE_DATA_DIR", str(served.data_dir))
    monkeypatch.delenv("HAZE_DATABASE_URL", raising=False)
    code = haze(["token", "create", "--role", "enterprise", "--enterprise", ENTERPRISE])
    secret = capsys.readouterr().out.strip()
    assert code == 0 and secret.startswith("haze_")
    auth = {"Authorization": f"Bearer {secret}"}
    own = httpx.get(f"{served.url}/api/v1/enterprises/{ENTERPRISE}/actions", headers=auth)
    other = kundulun_list().entries[1].enterprise_id
    theirs = httpx.get(f"{served.url}/api/v1/enterprises/{other}/actions", headers=auth)
    assert own.status_code == 200 and theirs.status_code == 404


def test_token_create_refuses_a_station_token_without_stations(
    served: Served, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HAZE_DATA_DIR", str(served.data_dir))
    monkeypatch.delenv("HAZE_DATABASE_URL", raising=False)
    assert haze(["token", "create", "--role", "station"]) == 1
    assert "station" in capsys.readouterr().err


def test_replay_without_a_token_says_how_to_give_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HAZE_TOKEN", raising=False)
    assert haze(["replay", "kundulun"]) == 2
    assert "HAZE_TOKEN" in capsys.readouterr().err


def test_a_database_given_by_url_gets_no_sample_unless_asked(tmp_path: Path) -> None:
    port, output = free_port(), tmp_path / "serve.log"
    url = f"sqlite+aiosqlite:///{tmp_path}/production.db"
    process = _start(tmp_path / "data", port, output, HAZE_DATABASE_URL=url)
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", process, output, STARTUP_LIMIT_S)
        text = output.read_text()
        token = re.findall(r"haze_[A-Za-z0-9_-]{43}", text)[0]
        auth = {"Authorization": f"Bearer {token}"}
        regions = httpx.get(f"http://127.0.0.1:{port}/api/v1/regions", headers=auth)
    finally:
        stop(process)
    assert regions.status_code == 200 and regions.json()["items"] == []
    assert "HAZE_SEED_SAMPLE is off" in text and "revision 1" not in text
    assert f"database: {url}" in text
