// Lowered bitcode (from the capture worker) -> relocatable ELF object in memory, with Julia's libLLVM-9.
import { CodeGenOpt, CodeModel, DiagSeverity, FileType, RelocMode, VerifierAction, type Llvm, type OutPtr, type Ptr } from './llvm.ts';
import { mergeObjects } from './mergeObjects.ts';
import { assignParts, definedFunctions, functionSizes, keepPart, partCount } from './splitModule.ts';

export const TRIPLE = 'x86_64-pc-linux-gnu';

export interface EmitOptions {
  /** Julia's CPU name (its JIT's target), not LLVM's host guess: LLVM 9 calls recent CPUs `generic`. */
  cpu: string;
  /** Julia's feature list, either LLVM form (`+avx2,-avx512f`) or Julia's (`sse3, avx2`); see normalizeFeatures. */
  features: string;
  /** Codegen optimisation level; Julia's own JIT uses Default at -O2 (the module's IR is already optimised). */
  optLevel?: number;
  /** Threads to emit on, at most (splitModule.ts decides how many the module is worth); default 1. */
  parts?: number;
  minPartInstructions?: number;
}

export interface EmitResult {
  bytes: Buffer;
  functions: number;
  /** how many parts it was emitted in */
  parts: number;
  /** the module as LLVM assembly, as it went into code generation (for checks that need the IR) */
  irText: string;
  ms: { parse: number; verify: number; emit: number };
}

export class EmitError extends Error {
  constructor(readonly stage: 'parse' | 'verify' | 'target' | 'emit', message: string) {
    super(`${stage}: ${message}`);
    this.name = 'EmitError';
  }
}

/** `sse3, avx2` (Julia's jl_dump_host_cpu list) or `+sse3,+avx2` (LLVM) -> `+sse3,+avx2`. */
export function normalizeFeatures(features: string): string {
  return features
    .split(/[\s,]+/)
    .filter((f) => f !== '')
    .map((f) => (f.startsWith('+') || f.startsWith('-') ? f : `+${f}`))
    .join(',');
}

const since = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;

/** Parses, verifies and emits one module, on up to `opts.parts` threads (splitModule.ts) for a module large enough.
 * Errors that LLVM reports through a context's diagnostic handler (e.g. bad inline asm) fail the emission instead
 * of exiting the process, which is LLVM's default. */
export async function emitObject(llvm: Llvm, bitcode: Uint8Array, opts: EmitOptions): Promise<EmitResult> {
  try {
    return await emitInParts(llvm, bitcode, opts);
  } catch (e) {
    // LLVM's own errors are the module's and would recur; a failure of the split or the join is ours: one part then.
    if (e instanceof EmitError || (opts.parts ?? 1) === 1) throw e;
    return emitInParts(llvm, bitcode, { ...opts, parts: 1 });
  }
}

async function emitInParts(llvm: Llvm, bitcode: Uint8Array, opts: EmitOptions): Promise<EmitResult> {
  const diagnostics: string[] = [];
  const handler = llvm.diagnosticHandler((severity, message) => {
    if (severity === DiagSeverity.Error) diagnostics.push(message);
  });
  const parts: Part[] = [];
  const running: Promise<unknown>[] = [];
  try {
    let t = process.hrtime.bigint();
    const first = newPart(llvm, handler, parts);
    const failed = await parse(llvm, first, bitcode, false);
    if (failed !== undefined) throw new EmitError('parse', failed || diagnostics.join('; ') || 'invalid bitcode');
    const fns = definedFunctions(llvm, first.mod!);
    const sizes = functionSizes(llvm, fns);
    const n = partCount(llvm, first.mod!, sizes, opts.parts ?? 1, opts.minPartInstructions);
    // The other parts parse on worker threads while this one is verified and printed.
    const others = Array.from({ length: n - 1 }, () => parse(llvm, newPart(llvm, handler, parts), bitcode, true));
    running.push(...others);
    const parse0 = since(t);

    t = process.hrtime.bigint();
    const msg: OutPtr = [null];
    if (llvm.verifyModule(first.mod!, VerifierAction.ReturnStatus, msg)) throw new EmitError('verify', firstLines(llvm.takeMessage(msg[0]), 20));
    llvm.takeMessage(msg[0]);
    // The loader cannot register DWARF with Julia (no line info for cached frames, FINDINGS 3), so debug info is
    // dead weight: stripping it makes the object ~60% smaller and emission ~8% faster. Unwind info (.eh_frame) is
    // separate and stays: exceptions must unwind through cached frames.
    llvm.stripDebugInfo(first.mod!);
    const irText = llvm.takeMessage(llvm.printModule(first.mod!));
    const verify = since(t);

    t = process.hrtime.bigint();
    for (const e of await settled(others)) if (e !== undefined) throw new EmitError('parse', e || 'invalid bitcode');
    const assignment = assignParts(sizes, n);
    parts.forEach((p, k) => {
      if (k > 0) llvm.stripDebugInfo(p.mod!);
      if (n > 1) keepPart(llvm, p.mod!, assignment, k);
      setTargetMachine(llvm, p, opts);
    });
    const emitting = parts.map((p) => emitPart(llvm, p));
    running.push(...emitting);
    const objects = await settled(emitting);
    if (diagnostics.length) throw new EmitError('emit', diagnostics.join('; '));
    const bytes = mergeObjects(objects);
    return { bytes, functions: fns.length, parts: n, irText, ms: { parse: parse0, verify, emit: since(t) } };
  } finally {
    await Promise.allSettled(running);
    for (const p of parts) disposePart(llvm, p);
  }
}

/** One part's LLVM objects; the module is the whole module until keepPart narrows it. */
interface Part {
  ctx: Ptr;
  mod: Ptr | null;
  tm: Ptr | null;
}

function newPart(llvm: Llvm, handler: Ptr, parts: Part[]): Part {
  const p: Part = { ctx: llvm.contextCreate(), mod: null, tm: null };
  llvm.contextSetDiagnosticHandler(p.ctx, handler, null);
  parts.push(p);
  return p;
}

/** undefined when parsed, else the reader's message ('' if it routed it to the diagnostics); `worker`: on one of
 * koffi's threads. */
async function parse(llvm: Llvm, p: Part, bitcode: Uint8Array, worker: boolean): Promise<string | undefined> {
  const buf = llvm.bufferCopy(bitcode, bitcode.length, 'module.bc');
  const mod: OutPtr = [null];
  const msg: OutPtr = [null];
  const failed = worker ? await llvm.parseBitcodeAsync(p.ctx, buf, mod, msg) : llvm.parseBitcode(p.ctx, buf, mod, msg);
  llvm.bufferDispose(buf); // the parsed module does not keep the buffer (not a lazy parse)
  p.mod = mod[0];
  return failed || !p.mod ? llvm.takeMessage(msg[0]) : undefined;
}

/** Every promise settled (nothing of LLVM's still runs on a thread), then the first failure, if any. */
async function settled<T>(promises: Promise<T>[]): Promise<T[]> {
  const all = await Promise.allSettled(promises);
  const bad = all.find((r) => r.status === 'rejected');
  if (bad) throw bad.reason;
  return all.map((r) => (r as PromiseFulfilledResult<T>).value);
}

function setTargetMachine(llvm: Llvm, p: Part, opts: EmitOptions) {
  const target: OutPtr = [null];
  const msg: OutPtr = [null];
  if (llvm.targetFromTriple(TRIPLE, target, msg) || !target[0]) throw new EmitError('target', llvm.takeMessage(msg[0]));
  // PIC + small code model: code reaches its own data PC-relative and the runtime through GOT/PLT entries that
  // the loader builds at load time, so the object can be linked at any address.
  p.tm = llvm.createTargetMachine(target[0], TRIPLE, opts.cpu, normalizeFeatures(opts.features),
    opts.optLevel ?? CodeGenOpt.Default, RelocMode.PIC, CodeModel.Small);
  if (!p.tm) throw new EmitError('target', `cannot create a target machine for cpu '${opts.cpu}'`);
  llvm.setTarget(p.mod!, TRIPLE);
  const dl = llvm.createDataLayout(p.tm);
  llvm.setDataLayout(p.mod!, dl);
  llvm.dataLayoutDispose(dl);
}

/** Emits on a worker thread: every part has its own context and target machine, so they run at once. */
async function emitPart(llvm: Llvm, p: Part): Promise<Buffer> {
  const msg: OutPtr = [null];
  const out: OutPtr = [null];
  if (await llvm.emitToMemoryAsync(p.tm!, p.mod!, FileType.Object, msg, out) || !out[0]) throw new EmitError('emit', llvm.takeMessage(msg[0]));
  const bytes = llvm.bufferBytes(out[0]);
  llvm.bufferDispose(out[0]);
  return bytes;
}

function disposePart(llvm: Llvm, p: Part) {
  if (p.tm) llvm.targetMachineDispose(p.tm);
  if (p.mod) llvm.moduleDispose(p.mod);
  llvm.contextDispose(p.ctx);
}

function firstLines(s: string, n: number): string {
  const lines = s.split('\n');
  return lines.length <= n ? s : [...lines.slice(0, n), `... (${lines.length - n} more lines)`].join('\n');
}
