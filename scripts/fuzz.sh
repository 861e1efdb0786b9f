#!/usr/bin/env bash
# The long schemathesis run over the whole API (tests/service/fuzz_api.py), as every role.
#   bash scripts/fuzz.sh                          # SQLite, 100 examples per operation, seed 11
#   bash scripts/fuzz.sh --database postgresql    # a throw-away PostgreSQL 15 (as the tests)
#   bash scripts/fuzz.sh --examples 1000 --seed 7 --role station --phase coverage
# Prints the requests, the 5xx answers and every distinct failed check; exit status 1 if any.
source "$(dirname "$0")/_venv.sh" test
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" exec "$VENV/bin/python" tests/service/fuzz_api.py "$@"
