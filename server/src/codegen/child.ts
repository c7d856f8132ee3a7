// The codegen child process (bundled as dist/codegen.js; `tsx server/src/codegen/child.ts` from sources).
// Reads one CodegenRequest on stdin, writes one CodegenResponse line on stdout, exits. All LLVM work happens here,
// so an LLVM abort or a crash kills only this process; runCodegen.ts turns that into a typed error. A libLLVM path
// given as the first argument is loaded at once, while the parent is still capturing (the request comes later);
// a failure to load it is reported when the request arrives, as without the argument.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { checkObject } from './checkObject.ts';
import { emitObject, EmitError } from './emitObject.ts';
import { findLibLLVM } from './findLibLLVM.ts';
import { loadLlvm } from './llvm.ts';
import { parseRequest, type CodegenFailure, type CodegenRequest, type CodegenResponse } from './protocol.ts';

class StageError extends Error {
  constructor(readonly stage: CodegenFailure['stage'], message: string, readonly violations?: string[]) {
    super(message);
  }
}

const since = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;

async function run(req: CodegenRequest): Promise<CodegenResponse> {
  const t0 = process.hrtime.bigint();
  let bitcode: Buffer;
  try {
    bitcode = readFileSync(req.bitcode);
  } catch (e) {
    throw new StageError('io', `cannot read bitcode: ${(e as Error).message}`);
  }
  let llvm;
  try {
    llvm = loadLlvm(req.libLLVM ?? findLibLLVM());
  } catch (e) {
    throw new StageError('load', `cannot load libLLVM: ${(e as Error).message}`);
  }
  const load = since(t0);
  let emitted;
  try {
    emitted = await emitObject(llvm, bitcode, { cpu: req.cpu, features: req.features, optLevel: req.optLevel, parts: req.parts, minPartInstructions: req.minPartInstructions });
  } catch (e) {
    if (e instanceof EmitError) throw new StageError(e.stage, e.message);
    throw e;
  }
  const t1 = process.hrtime.bigint();
  const checked = checkObject(emitted.bytes, emitted.irText);
  const check = since(t1);
  if (checked.violations.length) {
    throw new StageError('check', `object check failed: ${checked.violations.slice(0, 5).join('; ')}${checked.violations.length > 5 ? ` (+${checked.violations.length - 5} more)` : ''}`, checked.violations);
  }
  writeAtomically(req.object, emitted.bytes);
  return {
    ok: true,
    bytes: emitted.bytes.length,
    functions: emitted.functions,
    parts: emitted.parts,
    undefinedSymbols: checked.undefinedSymbols,
    ms: since(t0),
    timings: { load, ...emitted.ms, check },
  };
}

/** tmp file in the same directory + fsync + rename: readers see either no object or the complete one. */
function writeAtomically(path: string, bytes: Uint8Array) {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new StageError('io', `cannot write object: ${(e as Error).message}`);
  }
}

function respond(res: CodegenResponse) {
  process.stdout.write(`${JSON.stringify(res)}\n`, () => process.exit(res.ok ? 0 : 1));
}

function main() {
  const preload = process.argv[2];
  if (preload) {
    try {
      loadLlvm(preload);
    } catch {
      // reported with the request (stage 'load'), which names the same library
    }
  }
  const chunks: Buffer[] = [];
  process.stdin.on('data', (c: Buffer) => chunks.push(c));
  process.stdin.on('end', async () => {
    try {
      let req: CodegenRequest;
      try {
        req = parseRequest(Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        throw new StageError('request', (e as Error).message);
      }
      respond(await run(req));
    } catch (e) {
      if (e instanceof StageError) respond({ ok: false, stage: e.stage, error: e.message, ...(e.violations ? { violations: e.violations } : {}) });
      else throw e; // a bug here: let the process die loudly; the parent reports the exit and stderr
    }
  });
}

main();
