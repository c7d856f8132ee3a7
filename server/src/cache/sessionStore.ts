// Opens the cache store that belongs to a running session: the identity (Julia build, CPU, TLS offset, loader
// format) comes from what the agent reported at start, the root from the settings.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { repoRoot } from '../util/repoRoot.ts';
import type { JuliaSession } from '../session/juliaSession.ts';
import { computeIdentity } from './identity.ts';
import { fail, type Result } from './result.ts';
import { openStore, type Store } from './store.ts';

/**
 * The loader's ABI in the cache identity: entries written for another plan format are never loaded. Its number is
 * PLAN_VERSION of server/julia/loader/planformat.h, the one definition the loader and the capture code share.
 */
export function loaderAbi(): string {
  if (abi) return abi;
  const header = join(repoRoot(), 'server', 'julia', 'loader', 'planformat.h');
  const version = /^#define PLAN_VERSION (\d+)$/m.exec(readFileSync(header, 'utf8'))?.[1];
  if (!version) throw new Error(`${header} defines no PLAN_VERSION`);
  return (abi = `jlcache-plan-${version}`);
}
let abi: string | undefined;

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
    abi: loaderAbi(),
  });
  if (!identity.ok) return identity;
  return openStore(cacheRoot(s), identity.value, { maxMB: s.maxCacheMB });
}
