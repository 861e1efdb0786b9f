"""Memory: what the board of a large list adds to a process, and an idle ``haze serve``.

    python -m bench.memory [--enterprises 1000000]

- ``board``: in a process of its own, a synthetic list of ``--enterprises`` entries is built
  (as the published revision is loaded), then the board (:class:`ActionBoard`: the list
  compiled and evaluated on no warning) is built from it and the entries are dropped, as
  ``Runtime.rebuild`` does. The RSS the board adds is the process's RSS after that (freed
  memory returned with ``malloc_trim``) minus its RSS before the entries were made; its floor
  is the bytes of the arrays the compiled list holds (``nbytes``). Goal: ≤ 200 bytes an
  enterprise.
- ``serve``: ``haze serve`` on the embedded default (a fresh data directory, the sample
  seeded), its RSS once ``/readyz`` answers 200 and two idle seconds passed, against a bare
  ``python`` that imports nothing. Goal: ≤ 100 MB.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BOARD_GOAL_BYTES = 200
SERVE_GOAL_MB = 100.0

_BOARD = r"""
import ctypes, datetime as dt, gc, json, sys
import numpy as np

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

def trimmed():
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss()

from emission_list.catalog import default_catalog
from emission_list.revisions import Revision
from emission_list.synthetic import synthetic_list
from service.services.board import ActionBoard

n = int(sys.argv[1])
catalog = default_catalog()
synthetic = synthetic_list(n, seed=0)
tree = synthetic.region_tree()
before = trimmed()
revision = Revision(1, None, "published", dt.date(2026, 10, 1), "", "", tuple(synthetic.entries()))
with_entries = trimmed()
board = ActionBoard(revision, tree, catalog)
board.apply_alerts({}, dt.datetime.now(dt.UTC))
del revision
after = trimmed()
compiled = board.evaluator.compiled
arrays = [v for v in vars(compiled).values() if isinstance(v, np.ndarray)]
arrays += [v for v in vars(board.evaluator).values() if isinstance(v, np.ndarray)]
print(json.dumps({"enterprises": len(compiled), "rss_before": before,
                  "rss_with_entries": with_entries, "rss_after": after,
                  "array_bytes": int(sum(a.nbytes for a in arrays))}))
"""


def _rss_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def board(enterprises: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _BOARD, str(enterprises)], check=True, capture_output=True, text=True
    ).stdout
    found = json.loads(out)
    added = found["rss_after"] - found["rss_before"]
    per = added / max(found["enterprises"], 1)
    floor = found["array_bytes"] / max(found["enterprises"], 1)
    return {
        "enterprises": found["enterprises"],
        "rss_added_bytes": added,
        "bytes_per_enterprise": round(per, 1),
        "entries_transient_bytes_per_enterprise": round(
            (found["rss_with_entries"] - found["rss_before"]) / max(found["enterprises"], 1), 1
        ),
        "floor_array_bytes_per_enterprise": round(floor, 1),
        "ratio_to_floor": round(per / floor, 2) if floor else None,
        "goal_bytes_per_enterprise": BOARD_GOAL_BYTES,
        "met": per <= BOARD_GOAL_BYTES,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(wait_s: float = 120.0) -> dict[str, object]:
    bare = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    time.sleep(0.5)  # a process that imports nothing: its RSS once it runs
    bare_rss = _rss_of(bare.pid)
    bare.kill()
    bare.wait()
    port = _free_port()
    with tempfile.TemporaryDirectory() as data:
        env = os.environ | {"XDG_DATA_HOME": data, "HAZE_PORT": str(port)}
        env.pop("HAZE_DATABASE_URL", None)
        env.pop("HAZE_KAFKA_BOOTSTRAP", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "service.commands.cli", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("haze serve did not become ready")
                time.sleep(0.2)
            time.sleep(2.0)  # idle
            rss = _rss_of(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=60)
    mb = rss / 1e6
    return {
        "rss_mb": round(mb, 1),
        "bare_python_rss_mb": round(bare_rss / 1e6, 1),
        "database": "embedded SQLite, the sample seeded",
        "goal_mb": SERVE_GOAL_MB,
        "met": mb <= SERVE_GOAL_MB,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("--enterprises", type=int, default=1_000_000)
    parser.add_argument("--no-serve", action="store_true", help="only the board")
    args = parser.parse_args(argv)
    result: dict[str, object] = {"benchmark": "memory", "board": board(args.enterprises)}
    if not args.no_serve:
        result["serve"] = serve()
    parts = [part for part in (result["board"], result.get("serve")) if part]
    result["met"] = all(part["met"] for part in parts)  # type: ignore[index]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
