#!/usr/bin/env bash
# Install Haze Response with its test extras into .venv, lint, and run the whole test suite.
source "$(dirname "$0")/_venv.sh" test
source "$(dirname "$0")/_browser.sh"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
exec "$VENV/bin/python" -m pytest "$@"
