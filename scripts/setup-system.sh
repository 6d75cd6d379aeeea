#!/usr/bin/env bash
# System set-up for Clarify: Docker engine, a base image, redis-server, Chromium.
# Idempotent: every step checks first and skips what is already there.
# Usage: scripts/setup-system.sh [--for-tests]   (--for-tests adds Chromium and docker compose)
set -euo pipefail

log() { printf '[setup-system] %s\n' "$*"; }
die() { printf '[setup-system] ERROR: %s\n' "$*" >&2; exit 1; }

FOR_TESTS=0
for arg in "$@"; do
  case "$arg" in
    --for-tests|--with-browser) FOR_TESTS=1 ;;
    *) die "unknown argument: $arg" ;;
  esac
done

BASE_IMAGE="${CLARIFY_BASE_IMAGE:-debian:bookworm-slim}"
CACHE_DIR="${CLARIFY_CACHE_DIR:-/var/cache/clarify}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "run as root or install sudo"
  SUDO="sudo"
fi

APT_UPDATED=0
apt_install() {
  # Install Debian packages that are missing; runs `apt-get update` at most once.
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "need packages ${missing[*]} but apt-get is not available"
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# --- Docker engine -----------------------------------------------------------
if docker info >/dev/null 2>&1; then
  log "Docker engine answers: ok"
else
  if ! command -v dockerd >/dev/null; then
    apt_install docker.io
  fi
  if ! pgrep -x dockerd >/dev/null; then
    log "starting dockerd in the background (log: /var/log/clarify-dockerd.log)"
    # setsid: keep dockerd alive after this script's session ends.
    $SUDO setsid dockerd >/var/log/clarify-dockerd.log 2>&1 < /dev/null &
  fi
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || die "dockerd did not answer within 60 s; see /var/log/clarify-dockerd.log"
  log "Docker engine answers: ok"
fi

# --- Base image --------------------------------------------------------------
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "base image $BASE_IMAGE present: ok"
else
  log "base image $BASE_IMAGE missing; trying the registry (30 s)"
  if timeout 30 docker pull -q "$BASE_IMAGE" >/dev/null 2>&1; then
    log "pulled $BASE_IMAGE"
  else
    [ "$BASE_IMAGE" = "debian:bookworm-slim" ] \
      || die "cannot pull $BASE_IMAGE and only debian:bookworm-slim can be made locally"
    log "no registry; making $BASE_IMAGE with debootstrap from Debian's mirror"
    apt_install debootstrap
    rootfs="$CACHE_DIR/rootfs-bookworm"
    $SUDO rm -rf "$rootfs"
    $SUDO mkdir -p "$rootfs"
    mirror="$(awk '/^deb / && /debian/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
    if [ -z "$mirror" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
      mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
    fi
    mirror="${mirror:-http://deb.debian.org/debian}"
    log "debootstrap --variant=minbase bookworm from $mirror (a few minutes)"
    $SUDO debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$CACHE_DIR/debootstrap.log" 2>&1 \
      || die "debootstrap failed; see $CACHE_DIR/debootstrap.log"
    $SUDO tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null || die "docker import failed"
    $SUDO rm -rf "$rootfs"
    log "imported $BASE_IMAGE"
  fi
fi

# --- Redis -------------------------------------------------------------------
if command -v redis-server >/dev/null; then
  log "redis-server present: ok"
else
  apt_install redis-server
  # Debian's package starts a system-wide instance; Clarify manages its own.
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
  $SUDO service redis-server stop >/dev/null 2>&1 || true
  pkill -x redis-server 2>/dev/null || true
  log "redis-server installed"
fi

# --- Fonts for the scorecard PDF (Unicode names and quotes) ----------------------
apt_install fonts-dejavu-core

# --- Test tools: a browser and docker compose ------------------------------------
if [ "$FOR_TESTS" -eq 1 ]; then
  if [ -x /usr/bin/chromium ]; then
    log "chromium present: ok"
  else
    apt_install chromium
  fi
  if docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; then
    log "docker compose present: ok"
  else
    apt_install docker-compose
  fi
  command -v node >/dev/null || apt_install nodejs npm
fi
log "system ready"
