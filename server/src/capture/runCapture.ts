// Runs the capture worker: a separate `julia --output-o` process (imaging-mode codegen, so every Julia object the
// code uses goes through a relocatable slot) that replays the session's definitions and compiles the logged
// signatures. Never inside the user's session. See docs/DESIGN.md "Capture worker contract".
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadExeca } from '../util/execa.ts';
import { takeCaptureWorker } from './warmWorker.ts';
import { spawnWorker, type CaptureOptions, type WorkerProcess } from './workerProcess.ts';

export type { CaptureOptions } from './workerProcess.ts';

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

export async function runCapture(job: CaptureJob, opts: CaptureOptions): Promise<CaptureResult> {
  const dir = await mkdtemp(join(tmpdir(), 'jlcache-capture-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const jobFile = join(dir, 'job.json');
    await writeFile(jobFile, JSON.stringify({ ...job, outDir: dir }));
    const t0 = performance.now();
    const r = await runJob(job, jobFile, dir, opts);
    const ms = performance.now() - t0;
    let capture: any;
    try {
      capture = JSON.parse(await readFile(join(dir, 'capture.json'), 'utf8'));
    } catch {
      const why = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`;
      throw new Error(`the capture worker failed (${why}): ${String(r.all ?? '').trim().split('\n').slice(-6).join('\n')}`);
    }
    if (capture.error) throw new Error(`the capture worker failed: ${capture.error}`);
    if (process.env.JLC_CAPTURE_DUMP) await writeFile(process.env.JLC_CAPTURE_DUMP, JSON.stringify(capture, null, 1)); // for debugging a save
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

/** Hands the job to the worker prepared ahead of time if there is one that warmed up, else runs a cold one. */
async function runJob(job: CaptureJob, jobFile: string, dir: string, opts: CaptureOptions) {
  const timeout = opts.timeoutMs ?? 120_000;
  const warm = await takeCaptureWorker(opts)?.catch(() => undefined);
  let proc: WorkerProcess;
  if (warm && (await warm.ready)) {
    proc = warm.proc;
    proc.stdin?.end(`${jobFile}\n`);
  } else {
    warm?.proc.kill('SIGKILL');
    const { execa } = await loadExeca();
    proc = spawnWorker(execa, opts, dir, job.project, [jobFile], 'ignore');
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGKILL');
  }, timeout);
  try {
    return { ...(await proc), timedOut };
  } finally {
    clearTimeout(timer);
  }
}
