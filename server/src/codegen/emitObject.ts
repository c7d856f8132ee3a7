// Lowered bitcode (from the capture worker) -> relocatable ELF object in memory, with Julia's libLLVM-9.
import { CodeGenOpt, CodeModel, DiagSeverity, FileType, RelocMode, VerifierAction, type Llvm, type OutPtr, type Ptr } from './llvm.ts';

export const TRIPLE = 'x86_64-pc-linux-gnu';

export interface EmitOptions {
  /** Julia's CPU name (its JIT's target), not LLVM's host guess: LLVM 9 calls recent CPUs `generic`. */
  cpu: string;
  /** Julia's feature list, either LLVM form (`+avx2,-avx512f`) or Julia's (`sse3, avx2`); see normalizeFeatures. */
  features: string;
  /** Codegen optimisation level; Julia's own JIT uses Default at -O2 (the module's IR is already optimised). */
  optLevel?: number;
}

export interface EmitResult {
  bytes: Buffer;
  functions: number;
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

/** Parses, verifies and emits one module. Errors that LLVM reports through the context's diagnostic handler
 * (e.g. bad inline asm) fail the emission instead of exiting the process, which is LLVM's default. */
export function emitObject(llvm: Llvm, bitcode: Uint8Array, opts: EmitOptions): EmitResult {
  const diagnostics: string[] = [];
  const ctx = llvm.contextCreate();
  const handler = llvm.diagnosticHandler((severity, message) => {
    if (severity === DiagSeverity.Error) diagnostics.push(message);
  });
  llvm.contextSetDiagnosticHandler(ctx, handler, null);
  let mod: Ptr | null = null;
  let tm: Ptr | null = null;
  try {
    let t = process.hrtime.bigint();
    const buf = llvm.bufferCopy(bitcode, bitcode.length, 'module.bc');
    const modOut: OutPtr = [null];
    const msg: OutPtr = [null];
    const failed = llvm.parseBitcode(ctx, buf, modOut, msg);
    llvm.bufferDispose(buf); // the parsed module does not keep the buffer (not a lazy parse)
    if (failed || !modOut[0]) throw new EmitError('parse', llvm.takeMessage(msg[0]) || diagnostics.join('; ') || 'invalid bitcode');
    mod = modOut[0];
    const parse = since(t);

    t = process.hrtime.bigint();
    if (llvm.verifyModule(mod, VerifierAction.ReturnStatus, msg)) throw new EmitError('verify', firstLines(llvm.takeMessage(msg[0]), 20));
    llvm.takeMessage(msg[0]);
    // The loader cannot register DWARF with Julia (no line info for cached frames, FINDINGS 3), so debug info is
    // dead weight: stripping it makes the object ~60% smaller and emission ~8% faster. Unwind info (.eh_frame) is
    // separate and stays: exceptions must unwind through cached frames.
    llvm.stripDebugInfo(mod);
    const irText = llvm.takeMessage(llvm.printModule(mod));
    const verify = since(t);

    const target: OutPtr = [null];
    if (llvm.targetFromTriple(TRIPLE, target, msg) || !target[0]) throw new EmitError('target', llvm.takeMessage(msg[0]));
    // PIC + small code model: code reaches its own data PC-relative and the runtime through GOT/PLT entries that
    // RuntimeDyld builds at load time, so the object can be linked at any address.
    tm = llvm.createTargetMachine(target[0], TRIPLE, opts.cpu, normalizeFeatures(opts.features),
      opts.optLevel ?? CodeGenOpt.Default, RelocMode.PIC, CodeModel.Small);
    if (!tm) throw new EmitError('target', `cannot create a target machine for cpu '${opts.cpu}'`);
    llvm.setTarget(mod, TRIPLE);
    const dl = llvm.createDataLayout(tm);
    llvm.setDataLayout(mod, dl);
    llvm.dataLayoutDispose(dl);
    const functions = countDefinedFunctions(llvm, mod);

    t = process.hrtime.bigint();
    const out: OutPtr = [null];
    if (llvm.emitToMemory(tm, mod, FileType.Object, msg, out) || !out[0]) throw new EmitError('emit', llvm.takeMessage(msg[0]));
    if (diagnostics.length) {
      llvm.bufferDispose(out[0]);
      throw new EmitError('emit', diagnostics.join('; '));
    }
    const bytes = llvm.bufferBytes(out[0]);
    llvm.bufferDispose(out[0]);
    return { bytes, functions, irText, ms: { parse, verify, emit: since(t) } };
  } finally {
    if (tm) llvm.targetMachineDispose(tm);
    if (mod) llvm.moduleDispose(mod);
    llvm.contextDispose(ctx);
  }
}

function countDefinedFunctions(llvm: Llvm, mod: Ptr): number {
  let n = 0;
  for (let f = llvm.firstFunction(mod); f; f = llvm.nextFunction(f)) if (!llvm.isDeclaration(f)) n++;
  return n;
}

function firstLines(s: string, n: number): string {
  const lines = s.split('\n');
  return lines.length <= n ? s : [...lines.slice(0, n), `... (${lines.length - n} more lines)`].join('\n');
}
