#!/usr/bin/env bash
# Builds the extension and packages it as a .vsix (default: julia-compiled-cache-<version>.vsix in the project root;
# pass another path as $1). esbuild bundles every npm dependency except koffi, whose native addon cannot be
# bundled: its runtime files (the loader scripts and the linux-x64 addon, nothing else) are copied into
# dist/node_modules, where Node's resolution finds them from dist/*.js. .vscodeignore lists what ships.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=$(node -p 'require("./package.json").version')
out=${1:-"$root/julia-compiled-cache-$version.vsix"}

npm run --silent build

stage_koffi() {
  local from=node_modules to=dist/node_modules
  rm -rf "$to" && mkdir -p "$to/koffi/src/koffi/src" "$to/@koromix/koffi-linux-x64/linux_x64"
  cp "$from/koffi/package.json" "$from/koffi/index.cjs" "$from/koffi/LICENSE.txt" "$to/koffi/"
  cp "$from/koffi/src/koffi/index.cjs" "$to/koffi/src/koffi/"
  cp "$from/koffi/src/koffi/src/static.cjs" "$to/koffi/src/koffi/src/"
  cp "$from/@koromix/koffi-linux-x64/package.json" "$from/@koromix/koffi-linux-x64/index.js" "$to/@koromix/koffi-linux-x64/"
  cp "$from/@koromix/koffi-linux-x64/linux_x64/koffi.node" "$to/@koromix/koffi-linux-x64/linux_x64/"
  # Proves the copy is complete: load koffi from dist/ the way the bundles will.
  (cd dist && node -e 'require("koffi").sizeof("int") === 4 || process.exit(1)') || {
    echo "koffi does not load from dist/node_modules: the staged copy is incomplete" >&2
    exit 1
  }
}
stage_koffi

# Native parts built by scripts/setup.sh: without them the installed extension would start but fail later.
for f in .deps/libunwind/usr/lib/x86_64-linux-gnu/libunwind.so.8 .deps/libjlcache.so; do
  [ -f "$f" ] || { echo "missing $f: run npm run setup first" >&2; exit 1; }
done

# linux-x64 only: the .vsix carries native code (koffi's addon, the loader, libunwind) built for it.
# Prompts (missing LICENSE or repository) must never wait for input in scripts. No repository URL: the README's
# relative image links stay relative (vsce would refuse to rewrite them).
npx --no-install vsce package --target linux-x64 --no-dependencies --allow-missing-repository --skip-license \
  --no-rewrite-relative-links \
  --out "$out" </dev/null
echo "[package] $out ($(du -h "$out" | cut -f1))"
