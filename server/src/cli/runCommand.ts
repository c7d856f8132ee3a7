// `run FILE.jl [--json]`: a fresh session evaluates the file, then calls `main()` as its own top-level statement
// (so its compilation is inside the measured statement) and reports that first call.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { JuliaSession } from '../session/juliaSession.ts';
import { ms, mustSucceed, withSession, type CliOptions } from './cliSession.ts';

export interface RunReport {
  file: string;
  julia_version: string;
  load_ms: number;
  first_ms: number;
  compile_ms: number;
  methods_compiled: number;
  /** repr() of main()'s value. */
  result: string;
}

/** Evaluates `path` and times the first `main()` call in an already started session. */
export async function runMain(session: JuliaSession, path: string): Promise<RunReport> {
  const code = await readFile(path, 'utf8');
  const load = mustSucceed(`evaluating ${path}`, await session.evaluate({ code, file: path, line: 1 }));
  const first = mustSucceed('main()', await session.evaluate({ code: '__jlc_main_result = main();', file: 'cli-run', line: 1 }));
  // Text shows its string verbatim, so the display is exactly repr(value).
  const shown = mustSucceed('repr(main())', await session.evaluate({ code: 'Text(repr(__jlc_main_result))', file: 'cli-run', line: 1 }));
  return {
    file: path,
    julia_version: session.status().juliaVersion ?? 'unknown',
    load_ms: load.timing.totalMs,
    first_ms: first.timing.totalMs,
    compile_ms: first.timing.compileMs,
    methods_compiled: first.timing.methodsCompiled,
    result: shown.display ?? '',
  };
}

export async function runCommand(file: string, options: CliOptions): Promise<number> {
  const report = await withSession(options, (session) => runMain(session, resolve(file)));
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    process.stdout.write(`${report.result}\n`);
    process.stderr.write(
      `main() first call: ${ms(report.first_ms)} (compile ${ms(report.compile_ms)}, ${report.methods_compiled} methods); file loaded in ${ms(report.load_ms)}\n`,
    );
  }
  return 0;
}
