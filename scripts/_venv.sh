# Sourced by scripts/run.sh and scripts/test.sh: make .venv and install the project into it.
# HAZE_VENV overrides the location; the install is skipped when pyproject.toml has not changed.
# Progress goes to stderr (a line per package pip collects and installs); pip's whole output
# goes to $VENV/install.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${HAZE_VENV:-.venv}"
EXTRAS="${1:-}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating the virtual environment $VENV ..." >&2
  python3 -m venv "$VENV"
fi
_pip() {  # pip install ARGS..., its output in the log, a line per step on stderr
  "$VENV/bin/python" -m pip install --disable-pip-version-check "$@" 2>&1 |
    tee -a "$VENV/install.log" |
    sed -u -n -e 's/^\(Collecting\|Downloading\|Building\|Installing\|Successfully\)/  &/p' >&2
}
stamp="$VENV/.haze-installed${EXTRAS:+-$EXTRAS}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "Installing haze-response${EXTRAS:+[$EXTRAS]} into $VENV, a minute or two the first" \
    "time (log: $VENV/install.log) ..." >&2
  : >"$VENV/install.log"
  if ! { _pip --upgrade pip && _pip -e ".${EXTRAS:+[$EXTRAS]}"; }; then
    tail -n 30 "$VENV/install.log" >&2
    echo "Install failed; the whole log is in $VENV/install.log" >&2
    exit 1
  fi
  touch "$stamp"
  echo "Installed." >&2
fi
