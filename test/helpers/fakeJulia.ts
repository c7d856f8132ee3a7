// Executables that stand in for `julia` in tests of the version check: a script that reports another version
// and otherwise runs the real Julia, so the session really starts.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function fakeJulia(version: string, realJulia = '/usr/bin/julia'): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'jlc-fake-julia-'));
  const path = join(dir, 'julia');
  writeFileSync(
    path,
    `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "julia version ${version}"; exit 0; fi\nexec ${realJulia} "$@"\n`,
  );
  chmodSync(path, 0o755);
  return { path, dir };
}
