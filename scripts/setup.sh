#!/usr/bin/env bash
# Idempotent machine set-up: Julia 1.5.3 (from Debian bullseye, pinned low), bullseye's libunwind 1.3.2
# kept private to the sessions we start, and the npm dependencies. Safe to run again: it only adds what is missing.
#   E2E=1 also installs what the editor end-to-end tests need (Chromium, neovim, code-server build deps).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
log() { printf '[setup] %s\n' "$*"; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
APT_OPTS=(-y -q -o DPkg::Lock::Timeout=600)

is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null; }

ensure_bullseye_source() {
  [ -f /etc/apt/sources.list.d/bullseye.list ] && return 0
  # Reuse the mirror this machine is already configured with; only the suite changes.
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  elif [ -f /etc/apt/sources.list ]; then
    uri=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || { echo "cannot find a Debian mirror in the apt configuration" >&2; exit 1; }
  log "adding bullseye (pinned to priority 100) from the configured mirror"
  echo "deb $uri bullseye main" | $SUDO tee /etc/apt/sources.list.d/bullseye.list >/dev/null
  printf 'Package: *\nPin: release n=bullseye\nPin-Priority: 100\n' | $SUDO tee /etc/apt/preferences.d/bullseye >/dev/null
  APT_UPDATED=0
}

APT_UPDATED=0
apt_install() {
  [ "$APT_UPDATED" = 1 ] || { $SUDO apt-get update -q -o DPkg::Lock::Timeout=600 >/dev/null; APT_UPDATED=1; }
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install "${APT_OPTS[@]}" --no-install-recommends "$@" >/dev/null
}

julia_ok() { command -v julia >/dev/null && julia --startup-file=no -e 'VERSION == v"1.5.3" || exit(1)' 2>/dev/null; }

install_julia() {
  if [ -n "${JULIA_PATH:-}" ]; then log "using JULIA_PATH=$JULIA_PATH"; return 0; fi
  if command -v julia >/dev/null; then
    log "julia on PATH: $(julia --version)"
    # The loader is compiled against Julia 1.5.3's headers.
    if [ ! -f /usr/include/julia/julia.h ] && is_debian; then ensure_bullseye_source; apt_install -t bullseye libjulia-dev; fi
    return 0
  fi
  if ! is_debian; then
    echo "Not a Debian system: install Julia 1.5.3 (with libLLVM 9 and libunwind 1.3.x) and put julia on PATH." >&2
    exit 1
  fi
  ensure_bullseye_source
  log "installing julia 1.5.3 from bullseye (~1 min)"
  apt_install -t bullseye julia libjulia-dev
}

# Julia 1.5.3 segfaults on any exception thrown from compiled code with bookworm's libunwind 1.6; bullseye's
# 1.3.2 works. We keep a private copy (not installed system-wide) and the server puts it on LD_LIBRARY_PATH
# of every Julia process it starts.
install_libunwind() {
  local dir="$here/.deps/libunwind"
  [ -f "$dir/usr/lib/x86_64-linux-gnu/libunwind.so.8" ] && return 0
  is_debian || return 0
  ensure_bullseye_source
  [ "$APT_UPDATED" = 1 ] || { $SUDO apt-get update -q -o DPkg::Lock::Timeout=600 >/dev/null; APT_UPDATED=1; }
  log "fetching bullseye libunwind8 1.3.2 into .deps/"
  local tmp; tmp=$(mktemp -d); chmod 755 "$tmp"
  (cd "$tmp" && apt-get download -q libunwind8=1.3.2-2 >/dev/null)
  mkdir -p "$dir"
  dpkg-deb -x "$tmp"/libunwind8_*.deb "$dir"
  rm -rf "$tmp"
}

install_e2e_deps() {
  is_debian || { echo "e2e tests need chromium, neovim, ripgrep, build-essential, libkrb5-dev" >&2; return 1; }
  local need=()
  for p in chromium neovim ripgrep build-essential pkg-config libkrb5-dev python3 curl; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  [ ${#need[@]} = 0 ] || { log "installing ${need[*]}"; apt_install "${need[@]}"; }
}

# The team cache tests and benchmark run a throwaway nginx (its DAV module serves the Bazel remote cache protocol).
install_nginx() {
  if [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null; then return 0; fi
  is_debian || { echo "the team cache tests need nginx with its DAV module (http_dav_module)" >&2; return 1; }
  log "installing nginx"
  apt_install nginx
  # The package starts a system-wide server on port 80 where init allows it; the tests start their own.
  if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true; fi
}

install_npm() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "npm ci"
    npm ci --no-audit --no-fund >/dev/null
  fi
}

# The cache loader is a small C library compiled against Julia's headers (libjulia-dev).
build_loader() {
  command -v cc >/dev/null || { is_debian && apt_install gcc libc6-dev; }
  bash scripts/build-loader.sh
}

install_julia
install_libunwind
if [ "${E2E:-0}" = 1 ]; then install_e2e_deps; fi
install_nginx
install_npm
build_loader
log "ready"
