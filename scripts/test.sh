#!/usr/bin/env bash
# The whole test suite on a fresh machine: set-up (Julia, libunwind, npm packages, the C loader, and the editor
# end-to-end dependencies: Chromium, neovim, code-server), build, type-check, unit tests, integration tests against
# real Julia, and the editor end-to-end suites (scripts/e2e.sh: code-server + headless Chromium, neovim; ~2 min
# here, plus ~2 min to install code-server on a fresh machine). E2E=0 skips them; `npm run test:e2e` runs them alone.
set -euo pipefail
cd "$(dirname "$0")/.."
E2E=${E2E:-1}
# The tests never touch the user's signing key or caches: one throwaway key and cache home for the whole run, shared
# by every test file, so the capture code's own cache (server/src/capture/agentCode.ts) is built once per run.
run_home=$(mktemp -d -t jlcache-test-run-XXXXXX)
trap 'rm -rf "$run_home"' EXIT
export XDG_CACHE_HOME="$run_home/cache" JLCACHE_KEY_DIR="$run_home/key"
E2E=$E2E bash scripts/setup.sh
npm run --silent build
npx tsc -p . --noEmit
node --import tsx --test --test-concurrency=1 test/unit/*.test.ts
# Julia-side tests (agent: JSON, statement split, eval, compile log, interrupts; capture), with the private libunwind.
LD_LIBRARY_PATH="$PWD/.deps/libunwind/usr/lib/x86_64-linux-gnu" julia --startup-file=no test/julia/agent_test.jl
LD_LIBRARY_PATH="$PWD/.deps/libunwind/usr/lib/x86_64-linux-gnu" julia --startup-file=no test/julia/capture_test.jl
node --import tsx --test --test-concurrency=1 --test-timeout=600000 test/integration/*.test.ts
if [ "$E2E" = 1 ]; then SETUP_DONE=1 bash scripts/e2e.sh; fi
