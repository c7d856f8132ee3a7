// Capture: the session compiles the logged signatures again as relocatable code (server/julia/capture/inprocess.jl)
// and writes module.bc + plan.bin into a temporary directory. Where the session refuses (capture/imaging.jl says
// why), the capture worker replays the session's definitions in a separate `julia --output-o` process instead
// (server/julia/capture/worker.jl). Either way no user statement runs again. See docs/DESIGN.md "Capture".
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaptureParams, CaptureRecord, CaptureReply, Definition } from '../session/agentProtocol.ts';
import type { JuliaLaunch } from '../session/juliaLaunch.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import { cachedFileSha256 } from '../cache/digestCache.ts';
import { loadExeca } from '../util/execa.ts';
import { repoRoot } from '../util/repoRoot.ts';

export interface CaptureOptions {
  /** The worker's time limit (default 5 min). */
  timeoutMs?: number;
  /** Kills the worker (a cancelled save). */
  signal?: AbortSignal;
  /** A package's cache: only code that needs this package is kept (in-session capture only). */
  onlyPackage?: string;
}

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

export async function runCapture(session: JuliaSession, signatures: string[], replay: ReplayJob, opts: CaptureOptions = {}): Promise<CaptureResult> {
  const dir = await mkdtemp(join(tmpdir(), 'jlcache-capture-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const t0 = performance.now();
    const params: CaptureParams = { outDir: dir, signatures, onlyPackage: opts.onlyPackage, libjulia: await libjuliaDigest(session) };
    const reply = await session.request('capture', params);
    const done = (record: CaptureRecord, path: CaptureResult['path'], why?: string): CaptureResult => ({
      dir, bitcode: join(dir, 'module.bc'), plan: join(dir, 'plan.bin'), record, path, why, ms: performance.now() - t0, dispose,
    });
    if (!('refused' in reply)) return done(reply, 'session');
    if (opts.onlyPackage) throw new Error(`a package cache needs the capture in the session, which refused: ${reply.refused}`);
    const worker = { launch: session.launch, sysimage: session.agentInfo!.identity.sysimage };
    return done(await runWorker(dir, { ...replay, signatures }, worker, opts), 'worker', reply.refused);
  } catch (e) {
    await dispose();
    throw e;
  }
}

/** The session's libjulia and its digest, as the cache identity has it (remembered by file identity); none if unreadable. */
async function libjuliaDigest(session: JuliaSession): Promise<CaptureParams['libjulia']> {
  const path = session.agentInfo?.identity.libjulia;
  if (!path) return undefined;
  try {
    return { path, sha256: (await cachedFileSha256(path)).sha256 };
  } catch {
    return undefined;
  }
}

interface WorkerJulia {
  launch: JuliaLaunch;
  sysimage: string;
}

/**
 * The fallback: a `julia --output-o` process (imaging-mode codegen, so every Julia object the code uses goes through a
 * relocatable slot) running server/julia/capture/worker.jl. `--output-o` needs a path; the worker exits before Julia
 * would write it. `--sysimage` is needed too: in output mode Debian's julia otherwise looks for boot.jl.
 */
async function runWorker(dir: string, job: ReplayJob & { signatures: string[] }, julia: WorkerJulia, opts: CaptureOptions): Promise<CaptureRecord> {
  const jobFile = join(dir, 'job.json');
  await writeFile(jobFile, JSON.stringify({ ...job, outDir: dir }));
  const args = ['--sysimage', julia.sysimage, '--output-o', join(dir, 'unused.o'), '--startup-file=no', '--history-file=no'];
  if (job.project) args.push(`--project=${job.project}`);
  args.push(join(repoRoot(), 'server', 'julia', 'capture', 'worker.jl'), jobFile);
  const { execa } = await loadExeca();
  const proc = execa(julia.launch.exe, args, { env: julia.launch.env, extendEnv: false, reject: false, stdin: 'ignore', all: true });
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
