// Opens the cache store that belongs to a running session: the identity (Julia build, CPU, TLS offset, loader
// format) comes from what the agent reported at start, the root from the settings.
import { isAbsolute, join } from 'node:path';
import type { JuliaSession } from '../session/juliaSession.ts';
import { computeIdentity } from './identity.ts';
import { fail, type Result } from './result.ts';
import { openStore, type Store } from './store.ts';

/** Bump when plan.bin or the loader's expectations change: entries of another ABI are never loaded. */
export const LOADER_ABI = 'jlcache-plan-1';

export interface StoreSettings {
  cacheDir: string;
  maxCacheMB: number;
  workspaceRoot?: string;
}

export function cacheRoot(s: StoreSettings): string {
  if (isAbsolute(s.cacheDir)) return s.cacheDir;
  return join(s.workspaceRoot ?? process.cwd(), s.cacheDir);
}

export async function openSessionStore(session: JuliaSession, s: StoreSettings): Promise<Result<Store>> {
  const info = session.agentInfo;
  if (!info) return fail('the Julia session is not running');
  if (!info.supported) return fail(info.reason ?? `the native cache does not support Julia ${info.juliaVersion}`);
  const id = info.identity;
  const identity = await computeIdentity({
    juliaVersion: info.juliaVersion,
    libjuliaPath: id.libjulia,
    sysimagePath: id.sysimage,
    cpuName: id.cpuName,
    cpuFeatures: id.cpuFeatures,
    tlsOffset: id.tlsOffset,
    wordSize: id.wordSize,
    abi: LOADER_ABI,
  });
  if (!identity.ok) return identity;
  return openStore(cacheRoot(s), identity.value, { maxMB: s.maxCacheMB });
}
