# Sourced by scripts/run.sh and scripts/test.sh: make .venv and install the project into it.
# HAZE_VENV overrides the location; the install is skipped when pyproject.toml has not changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${HAZE_VENV:-.venv}"
EXTRAS="${1:-}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
stamp="$VENV/.haze-installed${EXTRAS:+-$EXTRAS}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "Installing haze-response${EXTRAS:+[$EXTRAS]} into $VENV (log: $VENV/install.log) ..." >&2
  if ! { "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip &&
    "$VENV/bin/python" -m pip install --disable-pip-version-check -e ".${EXTRAS:+[$EXTRAS]}"; } \
    >"$VENV/install.log" 2>&1; then
    tail -n 30 "$VENV/install.log" >&2
    echo "Install failed; the whole log is in $VENV/install.log" >&2
    exit 1
  fi
  touch "$stamp"
fi
