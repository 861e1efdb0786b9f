#!/usr/bin/env bash
# Install Haze Response into .venv and run it on its embedded default.
# Until the API lands this replays the sample Kundulun winter episode through the domain core.
source "$(dirname "$0")/_venv.sh"
exec "$VENV/bin/haze" replay "$@"
