// A capture's bitcode becomes a checked relocatable object (codegen child) and, with its plan, one store entry.
// Shared by Save Compiled Work and the agent-code cache.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CaptureResult } from '../capture/runCapture.ts';
import { runCodegen } from '../codegen/runCodegen.ts';
import type { AgentInfo } from '../session/agentProtocol.ts';
import type { Store } from './store.ts';

export interface StoredCapture {
  entryId: string;
  /** Object plus plan, as written. */
  bytes: number;
}

export async function storeCapture(
  capture: CaptureResult, store: Store, info: AgentInfo, julia: string, compileMs: ReadonlyMap<string, number> = new Map(),
): Promise<StoredCapture> {
  const object = join(capture.dir, 'object.o');
  await runCodegen(
    { bitcode: capture.bitcode, object, cpu: info.identity.cpuName, features: info.identity.cpuFeatures },
    { julia },
  );
  const methods = capture.record.entries.map((e) => ({ signature: e.signature, requires: e.requires, compileMs: compileMs.get(e.signature) }));
  const bytes = (await stat(object)).size + (await stat(capture.plan)).size;
  const written = await store.writeEntry({ object, plan: capture.plan, methods });
  if (!written.ok) throw new Error(written.error);
  return { entryId: written.value, bytes };
}
