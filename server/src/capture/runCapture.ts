// Runs the capture worker: a separate `julia --output-o` process (imaging-mode codegen, so every Julia object the
// code uses goes through a relocatable slot) that replays the session's definitions and compiles the logged
// signatures. Never inside the user's session. See docs/DESIGN.md "Capture worker contract".
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadExeca } from '../util/execa.ts';
import { libunwindDir, repoRoot } from '../util/repoRoot.ts';

export interface Definition {
  code: string;
  file: string;
  line: number;
  hash: string;
}

export interface CaptureJob {
  project: string | null;
  loadPath: string[];
  definitions: Definition[];
  signatures: string[];
}

export interface CapturedEntry {
  signature: string;
  requires: string[];
  compileMs?: number;
}

export interface CaptureResult {
  dir: string;
  bitcode: string;
  plan: string;
  entries: CapturedEntry[];
  skipped: { signature: string; reason: string }[];
  ms: number;
  /** Removes the worker's temporary directory. */
  dispose(): Promise<void>;
}

export interface CaptureOptions {
  julia: string;
  sysimage: string;
  timeoutMs?: number;
}

const WORKER = () => join(repoRoot(), 'server', 'julia', 'capture', 'worker.jl');

export async function runCapture(job: CaptureJob, opts: CaptureOptions): Promise<CaptureResult> {
  const dir = await mkdtemp(join(tmpdir(), 'jlcache-capture-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const jobFile = join(dir, 'job.json');
    await writeFile(jobFile, JSON.stringify({ ...job, outDir: dir }));
    const { execa } = await loadExeca();
    const t0 = performance.now();
    // --sysimage is needed: in output mode Debian's julia otherwise looks for boot.jl.
    const args = ['--sysimage', opts.sysimage, '--output-o', join(dir, 'unused.o'), '--startup-file=no', '--history-file=no'];
    if (job.project) args.push(`--project=${job.project}`);
    args.push(WORKER(), jobFile);
    const env = { ...process.env, LD_LIBRARY_PATH: [libunwindDir(), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
    const r = await execa(opts.julia, args, { env, reject: false, timeout: opts.timeoutMs ?? 120_000, stdin: 'ignore', all: true });
    const ms = performance.now() - t0;
    let capture: any;
    try {
      capture = JSON.parse(await readFile(join(dir, 'capture.json'), 'utf8'));
    } catch {
      const why = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`;
      throw new Error(`the capture worker failed (${why}): ${String(r.all ?? '').trim().split('\n').slice(-6).join('\n')}`);
    }
    if (capture.error) throw new Error(`the capture worker failed: ${capture.error}`);
    return {
      dir,
      bitcode: join(dir, 'module.bc'),
      plan: join(dir, 'plan.bin'),
      entries: (capture.entries ?? []).map((e: any) => ({ signature: String(e.signature), requires: (e.requires ?? []).map(String), compileMs: e.compileMs })),
      skipped: (capture.skipped ?? []).map((s: any) => ({ signature: String(s.signature), reason: String(s.reason) })),
      ms,
      dispose,
    };
  } catch (e) {
    await dispose();
    throw e;
  }
}
