// Starting the capture worker process: a `julia --output-o` process (imaging-mode codegen, so every Julia object
// the code uses goes through a relocatable slot) running server/julia/capture/worker.jl. Shared by the one-shot
// run (runCapture) and the worker started ahead of time (warmWorker).
import { join } from 'node:path';
import type { loadExeca } from '../util/execa.ts';
import { libunwindDir, repoRoot } from '../util/repoRoot.ts';

export interface CaptureOptions {
  julia: string;
  sysimage: string;
  timeoutMs?: number;
  /** Kills the worker (a cancelled save). */
  signal?: AbortSignal;
  /** A package's cache: only code that needs this package is kept (in-session capture only). */
  onlyPackage?: string;
}

export const WORKER = () => join(repoRoot(), 'server', 'julia', 'capture', 'worker.jl');

/**
 * Starts the worker (not awaited: the returned subprocess is also a promise of its result). `--output-o` needs a
 * path; the worker _exits before Julia would write it.
 */
export function spawnWorker(execa: Execa, opts: CaptureOptions, outputDir: string, project: string | null, tail: string[], stdin: 'ignore' | 'pipe') {
  // --sysimage is needed: in output mode Debian's julia otherwise looks for boot.jl.
  const args = ['--sysimage', opts.sysimage, '--output-o', join(outputDir, 'unused.o'), '--startup-file=no', '--history-file=no'];
  if (project) args.push(`--project=${project}`);
  args.push(WORKER(), ...tail);
  const env = { ...process.env, LD_LIBRARY_PATH: [libunwindDir(), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
  return execa(opts.julia, args, { env, reject: false, stdin, all: true });
}

type Execa = Awaited<ReturnType<typeof loadExeca>>['execa'];
export type WorkerProcess = ReturnType<typeof spawnWorker>;
