// Finds the libLLVM that Julia itself links, so capture (inside Julia) and emission (here) use one LLVM version.
// ldd of the julia executable lists libjulia's dependencies too; Debian links the system libLLVM-9.so.1, Julia's
// own tarballs ship lib/julia/libLLVM-9jl.so — both match /libLLVM[-.]/.
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';

const cache = new Map<string, string>();

export function findLibLLVM(julia = 'julia'): string {
  const hit = cache.get(julia);
  if (hit) return hit;
  let out: string;
  try {
    const exe = julia.includes('/') ? julia : execFileSync('sh', ['-c', 'command -v "$1"', 'sh', julia], { encoding: 'utf8' }).trim();
    out = execFileSync('ldd', [exe], { encoding: 'utf8', timeout: 10_000 });
  } catch (e) {
    throw new Error(`cannot list the libraries of ${julia}: ${(e as Error).message.split('\n')[0]}`);
  }
  const m = /^\s*libLLVM[^\s]*\s+=>\s+(\/\S+)/m.exec(out);
  if (!m) throw new Error(`${julia} does not link a libLLVM (ldd found none)`);
  const path = realpathSync(m[1]);
  cache.set(julia, path);
  return path;
}
