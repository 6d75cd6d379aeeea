#!/usr/bin/env bash
# Builds frontend/dist with Vite; skips when the sources and the lock file are unchanged.
set -euo pipefail
cd "$(dirname "$0")/../frontend"
log() { printf '[build-frontend] %s\n' "$*"; }
command -v npm >/dev/null || { echo "[build-frontend] ERROR: npm not found (apt-get install nodejs npm)" >&2; exit 1; }
stamp="dist/.built-$(cat package-lock.json vite.config.ts tsconfig.json room.html src/* | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  log "frontend/dist up to date"
  exit 0
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
log "vite build"
npm run --silent build
touch "$stamp"
log "built frontend/dist ($(du -sh dist | cut -f1))"
