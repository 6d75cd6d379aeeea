#!/usr/bin/env bash
# Copies the build host's extra CA certificates (a TLS-inspecting proxy, say) into the build
# contexts that compose uses, so pip inside `docker build` trusts them. Copies are gitignored.
set -euo pipefail
cd "$(dirname "$0")/.."
for dest in sandbox/image/ca deploy/ca; do
  mkdir -p "$dest"
  find "$dest" -name '*.crt' -delete
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$dest/"
  fi
done
