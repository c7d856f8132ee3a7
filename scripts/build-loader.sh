#!/usr/bin/env bash
# Builds the native cache loader (server/julia/loader/*.c) into .deps/libjlcache.so against Julia 1.5.3's headers.
# Idempotent: rebuilds only when a source is newer than the library.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir="$here/server/julia/loader"
srcs=("$dir/jlcache.c" "$dir/elflink.c" "$dir/sha256.c")
hdr="$here/server/julia/internals/julia-1.5.3.h"
out="$here/.deps/libjlcache.so"
inc=${JULIA_INCLUDE:-/usr/include/julia}
[ -f "$inc/julia.h" ] || { echo "julia.h not found in $inc: install libjulia-dev (Julia 1.5.3) or set JULIA_INCLUDE" >&2; exit 1; }
fresh=1
for f in "${srcs[@]}" "$dir/elflink.h" "$dir/sha256.h" "$dir/planformat.h" "$hdr" "$0"; do [ -f "$out" ] && [ "$out" -nt "$f" ] || fresh=0; done
[ "$fresh" = 1 ] && exit 0
mkdir -p "$here/.deps"
cc -O2 -shared -fPIC -std=gnu11 -Wall -Wextra -Wno-unused-parameter -I"$inc" -DJULIA_ENABLE_THREADING=1 \
   -o "$out.tmp" "${srcs[@]}" -ljulia
mv "$out.tmp" "$out"
echo "[build-loader] built $out"
