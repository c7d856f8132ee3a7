// Runs `julia --version` before a session starts: a missing or wrong executable gets a clear message up front,
// and a version other than the one the native cache is built for turns the cache off for that session.
import { loadExeca } from '../util/execa.ts';
import { SessionError } from './errors.ts';

/** The only Julia version whose internals the native cache knows. */
export const CACHE_JULIA_VERSION = '1.5.3';

export function parseJuliaVersion(output: string): string | undefined {
  return /^julia version (\d+\.\d+\.\d+[^\s]*)/m.exec(output)?.[1];
}

export function describeJuliaPath(juliaPath: string): string {
  return juliaPath.includes('/') ? juliaPath : `${juliaPath} (searched on PATH)`;
}

export async function probeJuliaVersion(juliaPath: string, env: NodeJS.ProcessEnv): Promise<string> {
  const where = describeJuliaPath(juliaPath);
  const { execa } = await loadExeca();
  const result = await execa(juliaPath, ['--version'], { env, extendEnv: false, reject: false, timeout: 30_000, stdin: 'ignore' });
  const code = (result as { code?: string }).code;
  if (code === 'ENOENT') {
    throw new SessionError('julia-not-found', `Julia not found at ${where}: install Julia ${CACHE_JULIA_VERSION} or set julia.cache.juliaPath`);
  }
  if (code === 'EACCES') {
    throw new SessionError('julia-not-found', `Julia at ${where} cannot be run (permission denied): check julia.cache.juliaPath`);
  }
  const version = parseJuliaVersion(String(result.stdout ?? ''));
  if (result.failed || !version) {
    const said = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().slice(0, 300) || result.shortMessage;
    throw new SessionError('julia-not-found', `${where} does not look like Julia: \`--version\` gave: ${said}`);
  }
  return version;
}
