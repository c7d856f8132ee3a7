// The built headless CLI (`node dist/cli.js run FILE --cache DIR [--save] --json`) as a real child process, for the
// integration tests that run whole sessions against real Julia: forms, effects and the capture path.
// Every process these tests start signs cache entries with a private key (JLCACHE_KEY_DIR), never the user's.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunReport } from '../../server/src/cli/runCommand.ts';

export type { RunReport };

export const repo = join(__dirname, '..', '..');
export const workloads = join(repo, 'workloads');
export const cliJs = join(repo, 'dist', 'cli.js');

/**
 * A private signing key for this test process and everything it starts (set JLCACHE_KEY_DIR to it in-process): the
 * test run's own (scripts/test.sh exports one for the whole run), or one for this process when run alone.
 */
let keyDir: string | undefined;
export function privateKeyDir(): string {
  keyDir ??= process.env.JLCACHE_KEY_DIR ?? tempDir('key');
  return keyDir;
}

/** Temp directories made by `tempDir`, removed by `cleanupTemps` (call it from `after`). */
const temps: string[] = [];

export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `jlcache-${label}-`));
  temps.push(dir);
  return dir;
}

export function cleanupTemps(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
  keyDir = undefined;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (cwd: the repository). */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The environment for a child: this process's, the private key, and `extra` (an `undefined` value removes a variable). */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, JLCACHE_KEY_DIR: privateKeyDir() };
  // Leftovers from the caller's shell would change which capture path runs.
  delete env.JLC_FORCE_WORKER;
  delete env.JULIA_NUM_THREADS;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export type CliReport = RunReport & { stderr: string };

/** `node dist/cli.js run FILE --cache DIR [--save] --json`; the report is the last stdout line (JSON). */
export async function cliRun(
  file: string,
  cacheDir: string,
  opts: { save?: boolean; env?: Record<string, string | undefined> } = {},
): Promise<CliReport> {
  if (!existsSync(cliJs)) throw new Error(`${cliJs} is missing: run \`npm run --silent build\` first`);
  const args = [cliJs, 'run', file, '--cache', cacheDir, '--json'];
  if (opts.save) args.push('--save');
  const r = await run(process.execPath, args, childEnv(opts.env));
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.code !== 0 || !line.startsWith('{')) {
    throw new Error(`cli run ${file}${opts.save ? ' --save' : ''} failed (exit ${r.code ?? r.signal}):\n${r.stderr.slice(-3000)}`);
  }
  return { ...(JSON.parse(line) as RunReport), stderr: r.stderr };
}

/** Plain `julia --startup-file=no -e 'include(FILE); print(repr(main()))'`: no agent, no cache; the oracle. */
export async function plainJulia(file: string, env: Record<string, string | undefined> = {}): Promise<string> {
  const julia = process.env.JULIA || 'julia';
  const code = `include(${JSON.stringify(file)}); print(repr(main()))`;
  const r = await run(julia, ['--startup-file=no', '-e', code], childEnv(env));
  if (r.code !== 0) throw new Error(`julia ${file} failed (exit ${r.code ?? r.signal}):\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

/** A file's lines (without the final newline's empty line); [] when the file does not exist. */
export function linesOf(file: string): string[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

/** The fields worth seeing when an assertion about a run fails. */
export function brief(r: RunReport): string {
  const { cache, result, methods_compiled, first_compiled, methods_saved, skipped, capture_path, methods_loaded } = r;
  return JSON.stringify({ cache, result, methods_compiled, first_compiled, methods_saved, skipped, capture_path, methods_loaded });
}
