#!/usr/bin/env bash
# Creates .venv/ in the repository root and installs Clarify (the `clarify` command) into it
# from requirements.lock. Skips the install when the lock and pyproject are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup-python] %s\n' "$*"; }

PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null || { echo "[setup-python] ERROR: $PY not found" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $($PY --version)"
  "$PY" -m venv .venv || { echo "[setup-python] ERROR: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
fi
stamp=".venv/.clarify-installed-$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  log ".venv up to date"
  exit 0
fi
log "installing dependencies from requirements.lock"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -r requirements.lock
.venv/bin/python -m pip install -q --no-deps -e .
rm -f .venv/.clarify-installed-*
touch "$stamp"
log "installed: $(.venv/bin/clarify --help >/dev/null && echo 'clarify command ok')"
