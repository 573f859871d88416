# Shared by scripts/start and scripts/test: create .venv with Python 3.11+, install a hashed lock file (generated
# from pyproject.toml by scripts/lock) when it or pyproject.toml changed since the last install, then the project
# itself (editable, no dependencies: the lock already brought them), which gives the `geulpi` command.
VENV="${GEULPI_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

ensure_venv() {
  local req="$1"
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
  fi
  local stamp="$VENV/.installed-$(basename "$req")"
  local sum
  # This checkout's path too: the editable install (and so `geulpi`) must point at the tree being run.
  sum=$( (cat "$req" requirements.txt pyproject.toml; pwd) | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ] || [ ! -x "$VENV/bin/geulpi" ]; then
    "$VENV/bin/python" -m pip install --quiet --require-hashes -r "$req"
    "$VENV/bin/python" -m pip install --quiet --no-deps -e .
    echo "$sum" > "$stamp"
  fi
}
