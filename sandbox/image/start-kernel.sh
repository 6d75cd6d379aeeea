#!/bin/sh
# Runs as PID 2 under tini. The home directory is a fresh tmpfs on every container start.
set -e
mkdir -p "$HOME/.config/matplotlib" "$HOME/.ipython"
cp /opt/clarify/mplconfig/fontlist-*.json "$HOME/.config/matplotlib/" 2>/dev/null || true
export MPLCONFIGDIR="$HOME/.config/matplotlib"
cd "$HOME"
exec python -m ipykernel_launcher -f /run/clarify/conn/connection.json
