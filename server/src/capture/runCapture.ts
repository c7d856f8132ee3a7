// Capture: the session compiles the logged signatures again as relocatable code (server/julia/capture/inprocess.jl)
// and writes module.bc + plan.bin into a temporary directory. Where the session refuses (capture/imaging.jl says
// why), the capture worker replays the session's definitions in a separate `julia --output-o` process instead
// (server/julia/capture/worker.jl). Either way no user statement runs again. See docs/DESIGN.md "Capture".
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaptureParams, CaptureRecord, CaptureReply, Definition } from '../session/agentProtocol.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import { loadExeca } from '../util/execa.ts';
import { spawnWorker, type CaptureOptions } from './workerProcess.ts';

export type { CaptureOptions } from './workerProcess.ts';

/** What the worker needs to rebuild the session's definitions (the agent's `sessionLog`). */
export interface ReplayJob {
  project: string | null;
  loadPath: string[];
  definitions: Definition[];
}

export interface CaptureResult {
  dir: string;
  bitcode: string;
  plan: string;
  record: CaptureRecord;
  /** Which process compiled: the session itself, or the worker (then `why` says why the session could not). */
  path: 'session' | 'worker';
  why?: string;
  ms: number;
  /** Removes the temporary directory. */
  dispose(): Promise<void>;
}

export async function runCapture(session: JuliaSession, signatures: string[], replay: ReplayJob, opts: CaptureOptions): Promise<CaptureResult> {
  const dir = await mkdtemp(join(tmpdir(), 'jlcache-capture-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const t0 = performance.now();
    const params: CaptureParams = { outDir: dir, signatures, onlyPackage: opts.onlyPackage };
    const reply = await session.request('capture', params);
    const done = (record: CaptureRecord, path: CaptureResult['path'], why?: string): CaptureResult => ({
      dir, bitcode: join(dir, 'module.bc'), plan: join(dir, 'plan.bin'), record, path, why, ms: performance.now() - t0, dispose,
    });
    if (!('refused' in reply)) return done(reply, 'session');
    if (opts.onlyPackage) throw new Error(`a package cache needs the capture in the session, which refused: ${reply.refused}`);
    return done(await runWorker(dir, { ...replay, signatures }, opts), 'worker', reply.refused);
  } catch (e) {
    await dispose();
    throw e;
  }
}

async function runWorker(dir: string, job: ReplayJob & { signatures: string[] }, opts: CaptureOptions): Promise<CaptureRecord> {
  const jobFile = join(dir, 'job.json');
  await writeFile(jobFile, JSON.stringify({ ...job, outDir: dir }));
  const { execa } = await loadExeca();
  const proc = spawnWorker(execa, opts, dir, job.project, [jobFile], 'ignore');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGKILL');
  }, opts.timeoutMs ?? 300_000);
  const cancel = () => proc.kill('SIGKILL');
  opts.signal?.addEventListener('abort', cancel, { once: true });
  const r = await proc.finally(() => {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', cancel);
  });
  opts.signal?.throwIfAborted();
  try {
    return JSON.parse(await readFile(join(dir, 'capture.json'), 'utf8')) as CaptureRecord;
  } catch {
    const why = timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`;
    throw new Error(`the capture worker failed (${why}): ${String(r.all ?? '').trim().split('\n').slice(-6).join('\n')}`);
  }
}
