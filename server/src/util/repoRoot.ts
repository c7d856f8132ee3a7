// Finds the project root (the directory holding package.json with our name) from this module's location, so the
// same code works when bundled into dist/*.js, when run from sources through tsx, and from an installed .vsix.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PACKAGE_NAME = 'julia-compiled-cache';
let cached: string | undefined;

export function repoRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && readPackageName(pkg) === PACKAGE_NAME) return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} root above ${__dirname}`);
    dir = parent;
  }
}

function readPackageName(file: string): string | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')).name;
  } catch {
    return undefined;
  }
}

/** Directory of the private libunwind 1.3.2 that Julia 1.5.3 needs (bookworm's 1.6 segfaults on exceptions). */
export function libunwindDir(): string {
  return join(repoRoot(), '.deps', 'libunwind', 'usr', 'lib', 'x86_64-linux-gnu');
}

export function agentScript(): string {
  return join(repoRoot(), 'server', 'julia', 'agent', 'main.jl');
}

/** The C loader library built by scripts/build-loader.sh. */
export function loaderLibrary(): string {
  return join(repoRoot(), '.deps', 'libjlcache.so');
}

/** The agent extension that adds the cache requests; only when the loader is built (else the cache is off). */
export function defaultAgentExtensions(): string[] {
  return existsSync(loaderLibrary()) ? [join(repoRoot(), 'server', 'julia', 'loader', 'agent_extension.jl')] : [];
}
