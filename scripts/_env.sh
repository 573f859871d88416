# Shared by scripts/start and scripts/test: create .venv with Python 3.11+ and install a requirements file
# when its content changed since the last install.
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
  sum=$(cat "$req" requirements.txt | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    "$VENV/bin/python" -m pip install --quiet -r "$req"
    echo "$sum" > "$stamp"
  fi
}
