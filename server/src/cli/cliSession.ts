// A Julia session for the headless commands: Julia's output goes to this process's stdout/stderr (to stderr only
// when stdout carries JSON), and the session is always stopped at the end.
import type { EvaluateResult } from '../../../shared/src/protocol.ts';
import { JuliaSession } from '../session/juliaSession.ts';

export interface CliOptions {
  json: boolean;
  juliaPath?: string;
  /** `run --cache DIR`: load the cache in DIR at start (and save into it with --save). */
  cacheDir?: string;
  save?: boolean;
  /** benchmark: runs per workload (medians). */
  runs?: number;
  /** benchmark: which tables (shipped, forms, scaling, remote); all by default. */
  sections?: string[];
  /** cache push / pull: the team cache's URL, the keys trusted besides one's own, the auth header's variable. */
  remoteUrl?: string;
  trustedKeys?: string[];
  authHeaderEnv?: string;
  /** benchmark --compare: plain Julia vs a custom system image vs this cache, instead of the tables. */
  compare?: boolean;
}

/** The command-line tools' Julia: --julia, else $JULIA, else `julia` on PATH. */
export function cliJuliaPath(options: Pick<CliOptions, 'juliaPath'>): string {
  return options.juliaPath || process.env.JULIA || 'julia';
}

/** `beforeStart` sees the session before it starts (e.g. to listen for 'identified'). */
export async function withSession<T>(
  options: CliOptions, body: (session: JuliaSession) => Promise<T>, beforeStart?: (session: JuliaSession) => void,
): Promise<T> {
  const session = new JuliaSession({ juliaPath: cliJuliaPath(options) });
  session.on('output', ({ stream, text }) => (stream === 'stdout' && !options.json ? process.stdout : process.stderr).write(text));
  beforeStart?.(session);
  try {
    await session.start();
    return await body(session);
  } finally {
    await session.stop();
  }
}

/** Throws with the evaluation's error, for steps that must succeed (loading a workload, calling main). */
export function mustSucceed<T extends EvaluateResult>(what: string, result: T): T {
  if (result.ok) return result;
  const frames = (result.error?.stack ?? []).slice(0, 8).map((f) => `\n  ${f.func} at ${f.file}:${f.line}`).join('');
  throw new Error(`${what} failed (${result.error?.kind}): ${result.error?.message}${frames}`);
}

export function ms(value: number): string {
  return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
}
