// `eval FILE.jl [--json]`: evaluates a file in a fresh session; prints its output, the value and the timing.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ms, withSession, type CliOptions } from './cliSession.ts';

export async function evalCommand(file: string, options: CliOptions): Promise<number> {
  const path = resolve(file);
  const code = await readFile(path, 'utf8');
  const result = await withSession(options, (session) => session.evaluate({ code, file: path, line: 1 }));
  if (options.json) {
    const { statements: _statements, ...clientResult } = result;
    process.stdout.write(`${JSON.stringify(clientResult)}\n`);
  } else {
    if (result.display !== undefined) process.stdout.write(`${result.display}\n`);
    if (result.error) {
      process.stderr.write(`${result.error.kind} error: ${result.error.message}\n`);
      for (const frame of result.error.stack) process.stderr.write(`  ${frame.func} at ${frame.file}:${frame.line}\n`);
    }
    const t = result.timing;
    process.stderr.write(`took ${ms(t.totalMs)} (compile ${ms(t.compileMs)}, ${t.methodsCompiled} methods compiled)\n`);
  }
  return result.ok ? 0 : 1;
}
