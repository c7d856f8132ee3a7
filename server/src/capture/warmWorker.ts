// A capture worker started ahead of time (`worker.jl --serve`): it compiles its own machinery with a throwaway
// capture of Base methods (server/julia/capture/warmup.jl) while the user works, then waits for one job on stdin.
// Run cold, that machinery was ~10 s of a ~12 s save. One prepared worker per (julia, system image); it is used
// once (its Main holds the replayed definitions afterwards) and the next one is prepared after the save.
import { mkdtemp, rm } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadExeca } from '../util/execa.ts';
import { spawnWorker, type CaptureOptions, type WorkerProcess } from './workerProcess.ts';

export interface PreparedWorker {
  proc: WorkerProcess;
  /** Resolves true once the worker printed `ready`, false if it exited (or failed) before. */
  ready: Promise<boolean>;
}

/** Below the user's Julia: the warm-up runs while the user works and must not slow their evaluations down. */
const BACKGROUND_NICENESS = 10;

/** Registered synchronously, so that a stop right after a start still finds (and stops) the worker. */
const prepared = new Map<string, Promise<PreparedWorker>>();
const keyOf = (opts: CaptureOptions) => `${opts.julia}\0${opts.sysimage}`;

/** Starts preparing a worker unless one is already prepared (or being prepared) for this Julia. */
export function prestartCaptureWorker(opts: CaptureOptions): Promise<PreparedWorker> {
  const key = keyOf(opts);
  const existing = prepared.get(key);
  if (existing) return existing;
  const worker = start(opts);
  prepared.set(key, worker);
  void worker.then(({ proc }) =>
    proc.then(() => {
      if (prepared.get(key) === worker) prepared.delete(key);
    }),
  );
  return worker;
}

async function start(opts: CaptureOptions): Promise<PreparedWorker> {
  const dir = await mkdtemp(join(tmpdir(), 'jlcache-worker-'));
  const { execa } = await loadExeca();
  const proc = spawnWorker(execa, opts, dir, null, ['--serve'], 'pipe');
  if (proc.pid !== undefined) {
    try {
      setPriority(proc.pid, BACKGROUND_NICENESS);
    } catch {
      // not fatal: the worker only competes with the session for a while
    }
  }
  const ready = new Promise<boolean>((resolve) => {
    let seen = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('ready\n')) resolve(true);
    });
    void proc.then(() => resolve(false), () => resolve(false));
  });
  const dispose = () => rm(dir, { recursive: true, force: true });
  void proc.then(dispose, dispose);
  return { proc, ready };
}

/** The prepared worker for this Julia, removed from the pool (it serves one job), or undefined. */
export function takeCaptureWorker(opts: CaptureOptions): Promise<PreparedWorker> | undefined {
  const key = keyOf(opts);
  const worker = prepared.get(key);
  prepared.delete(key);
  return worker;
}

/** Stops every prepared worker and waits for them to exit. */
export async function stopCaptureWorkers(): Promise<void> {
  const workers = [...prepared.values()];
  prepared.clear();
  await Promise.all(
    workers.map(async (pending) => {
      const { proc } = await pending;
      proc.kill('SIGKILL');
      await proc.catch(() => {});
    }),
  );
}
