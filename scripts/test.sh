#!/usr/bin/env bash
# Install Haze Response with its test extras into .venv, lint, and run the whole test suite.
source "$(dirname "$0")/_venv.sh" test
source "$(dirname "$0")/_browser.sh"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
# Test files run in parallel worker processes (pytest-xdist; each worker starts its own
# PostgreSQL, broker and browser): much of the suite waits on servers and subprocesses.
# HAZE_TEST_WORKERS=0 runs it in this one process.
exec "$VENV/bin/python" -m pytest -n "${HAZE_TEST_WORKERS:-3}" --dist loadfile "$@"
