#!/usr/bin/env bash
# Builds the native cache loader (server/julia/loader/jlcache.c) into .deps/libjlcache.so against Julia 1.5.3's
# headers and its libLLVM-9. Idempotent: rebuilds only when a source is newer than the library.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src="$here/server/julia/loader/jlcache.c"
hdr="$here/server/julia/internals/julia-1.5.3.h"
out="$here/.deps/libjlcache.so"
inc=${JULIA_INCLUDE:-/usr/include/julia}
[ -f "$inc/julia.h" ] || { echo "julia.h not found in $inc: install libjulia-dev (Julia 1.5.3) or set JULIA_INCLUDE" >&2; exit 1; }
if [ -f "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$hdr" ] && [ "$out" -nt "$0" ]; then exit 0; fi
mkdir -p "$here/.deps"
cc -O2 -shared -fPIC -std=gnu11 -Wall -Wextra -Wno-unused-parameter -I"$inc" -DJULIA_ENABLE_THREADING=1 \
   -o "$out.tmp" "$src" -ljulia -l:libLLVM-9.so.1
mv "$out.tmp" "$out"
echo "[build-loader] built $out"
