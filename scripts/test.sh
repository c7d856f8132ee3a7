#!/usr/bin/env bash
# The whole test suite on a fresh machine: set-up (Julia, libunwind, npm packages, the C loader, and the editor
# end-to-end dependencies), build, type-check, unit tests, integration tests against real Julia, and the e2e suites
# (code-server + Chromium, neovim) when E2E=1 (`npm run test:e2e` runs them alone).
set -euo pipefail
cd "$(dirname "$0")/.."
E2E=${E2E:-0} bash scripts/setup.sh
npm run --silent build
npx tsc -p . --noEmit
node --import tsx --test --test-concurrency=1 test/unit/*.test.ts
node --import tsx --test --test-concurrency=1 --test-timeout=600000 test/integration/*.test.ts
if [ "${E2E:-0}" = 1 ]; then bash scripts/e2e.sh; fi
