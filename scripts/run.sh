#!/usr/bin/env bash
# Install Haze Response into .venv and start the service on its embedded default: SQLite in
# ~/.local/share/haze-response (HAZE_DATA_DIR to choose; the database is printed at start),
# in-process event bus, the sample Kundulun list loaded on first start. The benchmarks need
# the `bench` extra on top (bash scripts/test.sh installs it with the test extras).
# Arguments go to `haze serve` (e.g. --port 8080).
source "$(dirname "$0")/_venv.sh" ""  # no extras (and not this script's arguments)
exec "$VENV/bin/haze" serve "$@"
