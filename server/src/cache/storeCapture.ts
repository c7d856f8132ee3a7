// A capture's bitcode becomes a checked relocatable object (codegen child) and, with its plan, one store entry.
// Shared by Save Compiled Work and the agent-code cache.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CaptureResult } from '../capture/runCapture.ts';
import { startCodegen, type PendingCodegen } from '../codegen/runCodegen.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import type { Store } from './store.ts';

export interface StoredCapture {
  entryId: string;
  /** Object plus plan, as written. */
  bytes: number;
  /** The codegen child's request (emission and checks), and the store's write. */
  emitMs: number;
  storeMs: number;
}

export interface StoreCaptureOptions {
  /** Compile time the session logged per signature, kept in the entry's method records. */
  compileMs?: ReadonlyMap<string, number>;
  /** Stops the codegen child; nothing is written once it is aborted. */
  signal?: AbortSignal;
  /** A codegen child started ahead (runCodegen.ts startCodegen); by default one is started here. */
  codegen?: PendingCodegen;
}

/** Emits for the CPU of `session`, with the libLLVM of its Julia. */
export async function storeCapture(capture: CaptureResult, store: Store, session: JuliaSession, opts: StoreCaptureOptions = {}): Promise<StoredCapture> {
  const object = join(capture.dir, 'object.o');
  const { cpuName: cpu, cpuFeatures: features } = session.agentInfo!.identity;
  const t0 = performance.now();
  try {
    const codegen = opts.codegen ?? startCodegen({ julia: session.launch.exe, signal: opts.signal });
    await codegen.run({ bitcode: capture.bitcode, object, cpu, features });
  } catch (e) {
    opts.signal?.throwIfAborted();
    throw e;
  }
  opts.signal?.throwIfAborted();
  const t1 = performance.now();
  const methods = capture.record.entries.map((e) => ({ signature: e.signature, requires: e.requires, compileMs: opts.compileMs?.get(e.signature) }));
  const bytes = (await stat(object)).size + (await stat(capture.plan)).size;
  const written = await store.writeEntry({ object, plan: capture.plan, methods });
  if (!written.ok) throw new Error(written.error);
  return { entryId: written.value, bytes, emitMs: t1 - t0, storeMs: performance.now() - t1 };
}
