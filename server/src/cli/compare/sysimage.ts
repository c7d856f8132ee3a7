// Benchmark only: a custom system image for one workload, built the way PackageCompiler builds one. A cold session
// records its compile log as precompile statements (`--trace-compile`); `julia --output-o` with the default system
// image defines the workload and replays them (server/julia/bench/build_sysimage.jl); a C compiler links the object
// archive into a shared library against libjulia. Sessions then start with `julia -J sys.so`.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadExeca } from '../../util/execa.ts';
import { juliaEnv } from '../../session/juliaLaunch.ts';
import { repoRoot } from '../../util/repoRoot.ts';

export interface SysimageBuild {
  path: string;
  bytes: number;
  /** Recording the statements, --output-o, and the C compiler, in ms; total is their sum. */
  traceMs: number;
  outputMs: number;
  linkMs: number;
  totalMs: number;
  statements: number;
}

export interface BareRun {
  /** spawn -> first statement running; spawn -> main() returned; main()'s first call (timed inside Julia). */
  startMs: number;
  sessionMs: number;
  firstMs: number;
  result: string;
}

const benchScript = (name: string) => join(repoRoot(), 'server', 'julia', 'bench', name);

/** The image `julia` starts with by default (Julia 1.5: Base.JLOptions().image_file). */
export async function defaultSysimage(julia: string): Promise<string> {
  const { execa } = await loadExeca();
  const r = await execa(julia, ['--startup-file=no', '-e', 'print(unsafe_string(Base.JLOptions().image_file))'], { env: juliaEnv() });
  return r.stdout.trim();
}

export async function buildSysimage(julia: string, file: string, dir: string): Promise<SysimageBuild> {
  const { execa } = await loadExeca();
  const env = juliaEnv();
  const statements = join(dir, 'precompile.jl');
  const t0 = performance.now();
  await bareRun(julia, file, dir, { traceCompile: statements });
  const t1 = performance.now();
  const object = join(dir, 'sys.o');
  const image = await defaultSysimage(julia);
  await execa(julia, ['--startup-file=no', `--output-o=${object}`, '-J', image, benchScript('build_sysimage.jl'), file, statements], { env, stdout: 'ignore' });
  const t2 = performance.now();
  const path = join(dir, 'sys.so');
  // --output-o writes an ar archive: --whole-archive keeps every member.
  await execa('cc', ['-shared', '-o', path, '-Wl,--whole-archive', object, '-Wl,--no-whole-archive', '-ljulia']);
  const t3 = performance.now();
  const count = (await readFile(statements, 'utf8')).split('\n').filter((l) => l.startsWith('precompile(')).length;
  return { path, bytes: (await stat(path)).size, traceMs: t1 - t0, outputMs: t2 - t1, linkMs: t3 - t2, totalMs: t3 - t0, statements: count };
}

/** One bare session: plain Julia (the file is included) or a custom image (it already defines the workload). */
export async function bareRun(julia: string, file: string, dir: string, opts: { image?: string; traceCompile?: string } = {}): Promise<BareRun> {
  const { execa } = await loadExeca();
  const resultFile = join(dir, 'result.txt');
  const args = ['--startup-file=no', '--history-file=no'];
  if (opts.image) args.push('-J', opts.image);
  if (opts.traceCompile) args.push(`--trace-compile=${opts.traceCompile}`);
  args.push(benchScript('first_call.jl'), file, opts.image ? 'image' : 'include', resultFile);
  const spawnedAt = performance.timeOrigin + performance.now();
  const r = await execa(julia, args, { env: juliaEnv() });
  const line = r.stdout.split('\n').find((l) => l.startsWith('JLC_FIRST_CALL '));
  if (!line) throw new Error(`${file}: no timing line from julia (${r.stderr.slice(-300)})`);
  const [ready, returned, first] = line.split(' ').slice(1).map(Number);
  return { startMs: ready * 1000 - spawnedAt, sessionMs: returned * 1000 - spawnedAt, firstMs: first, result: await readFile(resultFile, 'utf8') };
}
