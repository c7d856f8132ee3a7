// The codegen child's request and response (docs/DESIGN.md "Codegen child contract"): one JSON request on stdin,
// one JSON line on stdout.

export interface CodegenRequest {
  /** path of the lowered bitcode (module.bc from the capture worker) */
  bitcode: string;
  /** where the checked object goes; written atomically (tmp + rename), only when every check passed */
  object: string;
  /** Julia's CPU name and feature list (the session identity), never LLVM's host guess */
  cpu: string;
  features: string;
  /** libLLVM to load; the parent resolves Julia's own. Without it the child resolves it from `julia` on PATH. */
  libLLVM?: string;
  /** LLVMCodeGenOptLevel, default 2 (what Julia's JIT uses at -O2) */
  optLevel?: number;
  /** Threads to emit on, at most; a module too small for them gets fewer (splitModule.ts). Default 1. */
  parts?: number;
  /** Instructions a part must have at least (default splitModule.ts MIN_PART_INSTRUCTIONS); tests lower it. */
  minPartInstructions?: number;
}

export interface CodegenSuccess {
  ok: true;
  bytes: number;
  functions: number;
  /** how many parts the module was emitted in (one object either way) */
  parts: number;
  undefinedSymbols: string[];
  /** wall time inside the child for read + parse + verify + emit + check + write */
  ms: number;
  timings: { load: number; parse: number; verify: number; emit: number; check: number };
}

export interface CodegenFailure {
  ok: false;
  error: string;
  /** which step failed: LLVM's (parse/verify/target/emit), the object checks, the request, or I/O */
  stage: 'request' | 'load' | 'parse' | 'verify' | 'target' | 'emit' | 'check' | 'io';
  /** for stage 'check': every violation found, each naming the offending symbol or relocation */
  violations?: string[];
}

export type CodegenResponse = CodegenSuccess | CodegenFailure;

export function parseRequest(text: string): CodegenRequest {
  let req: unknown;
  try {
    req = JSON.parse(text);
  } catch (e) {
    throw new Error(`request is not JSON: ${(e as Error).message}`);
  }
  const r = req as Record<string, unknown>;
  if (typeof r !== 'object' || r === null) throw new Error('request must be a JSON object');
  for (const k of ['bitcode', 'object', 'cpu', 'features'] as const) {
    if (typeof r[k] !== 'string') throw new Error(`request.${k} must be a string`);
  }
  if (r.bitcode === '' || r.object === '' || r.cpu === '') throw new Error('request.bitcode, .object and .cpu must not be empty');
  if (r.libLLVM !== undefined && typeof r.libLLVM !== 'string') throw new Error('request.libLLVM must be a string');
  if (r.optLevel !== undefined && ![0, 1, 2, 3].includes(r.optLevel as number)) throw new Error('request.optLevel must be 0..3');
  if (r.parts !== undefined && !(Number.isInteger(r.parts) && (r.parts as number) >= 1 && (r.parts as number) <= 16)) throw new Error('request.parts must be 1..16');
  if (r.minPartInstructions !== undefined && !(Number.isInteger(r.minPartInstructions) && (r.minPartInstructions as number) >= 1)) throw new Error('request.minPartInstructions must be a positive integer');
  return r as unknown as CodegenRequest;
}
