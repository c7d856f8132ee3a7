// "The session's Julia": which executable, which options and which environment. Built here only, and used by the
// session, its siblings, the prover, the capture worker and the LLVM lookup, so all of them run the same Julia the
// same way (Julia 1.5.3 from Debian needs the private libunwind on LD_LIBRARY_PATH, or it crashes on exceptions).
import { libunwindDir } from '../util/repoRoot.ts';

export interface LaunchSettings {
  /** Julia executable; empty or absent means `julia` on PATH (or $JULIA for the command-line tools). */
  juliaPath?: string;
  /** Extra Julia command-line arguments (before any script). */
  juliaArgs?: string[];
  /** Passed as `--project=<project>` when set. */
  project?: string;
  /** Environment variables for Julia on top of this process's (e.g. JULIA_LOAD_PATH). */
  env?: Record<string, string>;
}

export interface JuliaLaunch {
  exe: string;
  /** Every Julia option of the session, before its script. */
  options: string[];
  env: NodeJS.ProcessEnv;
}

/** Options every process of ours passes: no user startup file or history, plain output. */
const FIXED_OPTIONS = ['--startup-file=no', '--history-file=no', '--color=no', '-q'];

export function juliaLaunch(settings: LaunchSettings = {}): JuliaLaunch {
  const options = [...FIXED_OPTIONS];
  if (settings.project) options.push(`--project=${settings.project}`);
  options.push(...(settings.juliaArgs ?? []));
  return { exe: settings.juliaPath || 'julia', options, env: juliaEnv(settings.env) };
}

/** This process's environment plus `extra`, with the private libunwind first on the library path. */
export function juliaEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = process.env.LD_LIBRARY_PATH;
  return { ...process.env, ...extra, LD_LIBRARY_PATH: inherited ? `${libunwindDir()}:${inherited}` : libunwindDir() };
}
