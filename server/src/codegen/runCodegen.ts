// Runs the codegen child (bitcode -> checked ELF object) and turns every way it can end into a typed result:
// a response line, an LLVM error it reported, a crash/abort (signal or exit without a response), a timeout.
// Never throws anything but CodegenError, and never lets LLVM run in the server process.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { loadExeca } from '../util/execa.ts';
import { repoRoot } from '../util/repoRoot.ts';
import { findLibLLVM } from './findLibLLVM.ts';
import type { CodegenFailure, CodegenRequest, CodegenResponse, CodegenSuccess } from './protocol.ts';

/** Emission threads by default: one per core, up to this many (each part parses the whole module once more). */
const MAX_PARTS = 4;

export type CodegenErrorKind =
  | 'failed' // the child reported an error (bad bitcode, LLVM error, object check, I/O): see stage/violations
  | 'crashed' // the child died (LLVM abort, signal, uncaught error) without a response
  | 'timeout'
  | 'spawn' // the child could not be started
  | 'protocol'; // the child exited but its output was not a response

export class CodegenError extends Error {
  constructor(
    readonly kind: CodegenErrorKind,
    message: string,
    readonly details: { stage?: CodegenFailure['stage']; violations?: string[]; stderr?: string; signal?: string; exitCode?: number } = {},
  ) {
    super(message);
    this.name = 'CodegenError';
  }
}

export interface RunCodegenOptions {
  /** julia executable whose libLLVM is used (default: `julia` on PATH); ignored if request.libLLVM is set */
  julia?: string;
  /** default 60 s; the ~400-function module of a workload takes ~0.6 s */
  timeoutMs?: number;
  /** stops the child (SIGTERM); the caller sees the abort rather than a crash */
  signal?: AbortSignal;
  /** the command that runs the child (default: this build's child); tests substitute a misbehaving one */
  childCommand?: [string, ...string[]];
}

/** `node dist/codegen.js` in the bundle; `node --import tsx server/src/codegen/child.ts` from sources. */
function defaultChildCommand(): [string, ...string[]] {
  return __filename.endsWith('.ts')
    ? [process.execPath, '--import', 'tsx', join(repoRoot(), 'server', 'src', 'codegen', 'child.ts')]
    : [process.execPath, join(repoRoot(), 'dist', 'codegen.js')];
}

export async function runCodegen(request: CodegenRequest, options: RunCodegenOptions = {}): Promise<CodegenSuccess> {
  return startCodegen(options).run(request);
}

/**
 * The child, started ahead of its request: it loads libLLVM while the caller is still preparing the bitcode (a save
 * starts it before capturing). `run` sends the request (once); `dispose` kills a child that never got one.
 */
export interface PendingCodegen {
  run(request: CodegenRequest): Promise<CodegenSuccess>;
  dispose(): void;
}

export function startCodegen(options: RunCodegenOptions = {}): PendingCodegen {
  let libLLVM: string | undefined;
  let lookupError: string | undefined;
  try {
    libLLVM = findLibLLVM(options.julia);
  } catch (e) {
    lookupError = `cannot find Julia's libLLVM: ${(e as Error).message}`;
  }
  const [file, ...args] = options.childCommand ?? defaultChildCommand();
  // Wrapped: a subprocess is itself a promise, which `then` would otherwise wait for.
  const child = loadExeca().then(({ execa }) => ({ proc: execa(file, libLLVM ? [...args, libLLVM] : args, {
    cwd: repoRoot(), // so `--import tsx` resolves from the project's node_modules
    cancelSignal: options.signal,
    forceKillAfterDelay: 1000,
    reject: false,
    stripFinalNewline: true,
    maxBuffer: 16 * 1024 * 1024,
  }) }));
  let sent = false;
  return {
    async run(request) {
      if (sent) throw new Error('a codegen child runs one request');
      sent = true;
      const { proc } = await child;
      if (lookupError && !request.libLLVM) {
        proc.kill('SIGKILL');
        throw new CodegenError('spawn', lookupError);
      }
      return finish(proc, { ...partsOf(request), libLLVM: request.libLLVM ?? libLLVM }, file, options.timeoutMs ?? 60_000);
    },
    dispose() {
      if (!sent) void child.then(({ proc }) => proc.kill('SIGKILL'));
      sent = true;
    },
  };
}

/** One part per core by default; JLC_CODEGEN_PARTS=N makes every module N parts, however small (for the tests of
 * code emitted in parts: which function lands in which part is the assignment's business). */
function partsOf(request: CodegenRequest): CodegenRequest {
  const forced = Number(process.env.JLC_CODEGEN_PARTS);
  if (Number.isInteger(forced) && forced >= 1) return { ...request, parts: forced, minPartInstructions: 1 };
  return { ...request, parts: request.parts ?? Math.min(MAX_PARTS, availableParallelism()) };
}

type ChildProcess = ReturnType<Awaited<ReturnType<typeof loadExeca>>['execa']>;

/** Sends the request and turns every way the child can end into a result or a typed error. */
async function finish(proc: ChildProcess, request: CodegenRequest, file: string, timeout: number): Promise<CodegenSuccess> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGKILL');
  }, timeout);
  proc.stdin?.end(JSON.stringify(request));
  const r = await proc.finally(() => clearTimeout(timer));
  const stderr = tail(String(r.stderr ?? ''), 40);
  if (timedOut) throw new CodegenError('timeout', `codegen did not finish within ${timeout} ms`, { stderr });
  if ((r as { code?: string }).code === 'ENOENT' || (r.failed && r.exitCode === undefined && !r.signal && !r.isCanceled)) {
    throw new CodegenError('spawn', `cannot start the codegen child (${file}): ${r.message ?? 'unknown error'}`, { stderr });
  }
  const res = parseResponse(String(r.stdout ?? ''));
  if (res?.ok === true) return res;
  if (res?.ok === false) {
    throw new CodegenError('failed', `codegen failed (${res.stage}): ${res.error}`, { stage: res.stage, violations: res.violations, stderr });
  }
  if (r.signal || (r.exitCode !== undefined && r.exitCode !== 0)) {
    const how = r.signal ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`;
    throw new CodegenError('crashed', `the codegen child ${how}${stderr ? `: ${reasonLine(stderr)}` : ''}`, {
      stderr, signal: r.signal ?? undefined, exitCode: r.exitCode ?? undefined,
    });
  }
  throw new CodegenError('protocol', 'the codegen child exited without a response', { stderr });
}

function parseResponse(stdout: string): CodegenResponse | undefined {
  const line = stdout.split('\n').filter((l) => l.trim() !== '').at(-1);
  if (!line) return undefined;
  try {
    const v = JSON.parse(line) as CodegenResponse;
    return typeof v === 'object' && v !== null && typeof v.ok === 'boolean' ? v : undefined;
  } catch {
    return undefined;
  }
}

function tail(s: string, lines: number): string {
  return s.split('\n').slice(-lines).join('\n').trim();
}

/** LLVM's own "LLVM ERROR: ..." (or another error line) rather than the native stack trace after it. */
function reasonLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.find((l) => l.startsWith('LLVM ERROR')) ?? lines.find((l) => /error/i.test(l)) ?? lines.at(-1) ?? '';
}
