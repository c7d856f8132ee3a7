#!/usr/bin/env bash
# Installs code-server (a real VS Code, served to a browser) into .deps/code-server for the e2e tests.
# 4.100.3 is the newest release that runs on Node 20. Its install scripts would download prebuilt binaries
# (ripgrep) that are unreachable here, so we install with scripts off, seed ripgrep from Debian, then rebuild
# the native modules locally. Idempotent: a marker file records a finished install.
# Needs (scripts/setup.sh with E2E=1 installs them): build-essential python3 pkg-config libkrb5-dev ripgrep.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=4.100.3
dest="$root/.deps/code-server"
marker="$dest/.installed-$version"
log() { printf '[code-server] %s\n' "$*"; }

if [ -f "$marker" ]; then exit 0; fi
command -v rg >/dev/null || { echo "ripgrep (rg) is missing: E2E=1 bash scripts/setup.sh" >&2; exit 1; }
log "installing code-server $version into .deps/code-server (~1-2 min)"
rm -rf "$dest" && mkdir -p "$dest"
cd "$dest"
# Its own package.json, so npm does not walk up and install into the project.
echo '{ "name": "jlc-code-server", "private": true }' > package.json
export npm_config_unsafe_perm=true npm_config_yes=true npm_config_audit=false npm_config_fund=false
npm install --ignore-scripts --no-save "code-server@$version" >install.log 2>&1
npm rebuild argon2 >>install.log 2>&1
vs="$dest/node_modules/code-server/lib/vscode"
(
  cd "$vs"
  npm install --omit=dev --ignore-scripts
  mkdir -p node_modules/@vscode/ripgrep/bin
  ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
  npm rebuild --foreground-scripts
  # What code-server's own postinstall would link.
  rm -rf node_modules.asar && ln -s node_modules node_modules.asar
  ln -sf code-linux.sh bin/remote-cli/code-server
  ln -sf browser-linux.sh bin/helpers/browser.sh
  cd extensions && npm install --omit=dev --foreground-scripts
) >>install.log 2>&1 || { echo "code-server install failed: see $dest/install.log" >&2; tail -20 install.log >&2; exit 1; }
touch "$marker"
log "installed: $dest/node_modules/.bin/code-server"
