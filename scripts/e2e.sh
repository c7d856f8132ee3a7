#!/usr/bin/env bash
# The editor end-to-end suites in one command, on a fresh machine or a warm one (every step is idempotent):
#   1. system packages the suites need (Chromium, Neovim, code-server's build deps) via scripts/setup.sh E2E=1
#      (skipped with SETUP_DONE=1: scripts/test.sh has run it already)
#   2. code-server 4.100.3 into .deps/code-server (scripts/install-code-server.sh)
#   3. the .vsix (scripts/package-vsix.sh), installed into a throwaway code-server profile by the test
#   4. test/e2e/vscode*.test.ts (code-server + headless Chromium; *Trust: Workspace Trust) and
#      test/e2e/neovim.test.ts (nvim's LSP client)
# Screenshots and logs land in test-artifacts/e2e/. Exits non-zero when anything fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
log() { printf '[e2e] %s\n' "$*"; }
start=$(date +%s)

[ "${SETUP_DONE:-0}" = 1 ] || E2E=1 bash scripts/setup.sh
bash scripts/install-code-server.sh
mkdir -p test-artifacts/e2e
vsix="$root/test-artifacts/e2e/julia-compiled-cache.vsix"
bash scripts/package-vsix.sh "$vsix"

log "running the editor suites (set-up took $(( $(date +%s) - start )) s)"
VSIX="$vsix" SERVER_JS="$root/dist/server.js" node --import tsx --test --test-concurrency=1 --test-timeout=600000 \
  --test-reporter=spec test/e2e/*.test.ts
# (No line after the runner's summary: CI reads the closing lines.) Screenshots are in test-artifacts/e2e/.
