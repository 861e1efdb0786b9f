#!/usr/bin/env bash
# Install Haze Response into .venv and start the service on its embedded default:
# SQLite under ./.haze, in-process event bus, the sample Kundulun list loaded on first start.
# Arguments go to `haze serve` (e.g. --port 8080).
source "$(dirname "$0")/_venv.sh" ""  # no extras (and not this script's arguments)
exec "$VENV/bin/haze" serve "$@"
