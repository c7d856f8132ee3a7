// The other way a Julia user runs a package's tests: `julia --project=PKG -e 'using Pkg; Pkg.test()'` (a sandbox
// environment with the test dependencies, then `test/runtests.jl` in a child process). The benchmark reports it
// next to `julia test/runtests.jl`. It runs on copies of the packages (Pkg writes a Manifest.toml into the project)
// with a depot of its own whose only registry is empty: Pkg would otherwise fetch a registry of packages, and the
// shipped packages need only Julia's standard libraries and each other (sibling dependencies are `Pkg.develop`ed).
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parse } from 'smol-toml';
import { juliaEnv } from '../session/juliaLaunch.ts';
import { loadExeca } from '../util/execa.ts';
import type { PackageInfo } from '../packages/packageInfo.ts';
import { median } from './benchMath.ts';

const EMPTY_REGISTRY = `name = "Empty"
uuid = "0c2a3b4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
repo = ""
description = "no packages: Pkg resolves the standard libraries and developed paths without fetching a registry"

[packages]
`;

/** Median wall time of `Pkg.test()` over `runs` runs, after one untimed run that precompiles into the depot. */
export async function pkgTestMs(pkg: PackageInfo, julia: string, runs: number): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), 'jlcache-bench-pkgtest-'));
  try {
    const copy = join(root, 'packages', basename(pkg.dir));
    cpSync(dirname(pkg.dir), join(root, 'packages'), { recursive: true });
    const registry = join(root, 'depot', 'registries', 'Empty');
    mkdirSync(registry, { recursive: true });
    writeFileSync(join(registry, 'Registry.toml'), EMPTY_REGISTRY);
    // Julia's default load path, as a user's shell has it. The trailing ':' keeps Julia's default depots after ours (Pkg writes into the first one only).
    const env = juliaEnv({ JULIA_DEPOT_PATH: `${join(root, 'depot')}:`, JULIA_LOAD_PATH: '@:@v#.#:@stdlib' });
    const pkgCall = (code: string) => runJulia(julia, copy, env, `using Pkg; Pkg.offline(true); ${code}`);
    const siblings = siblingDependencies(copy);
    if (siblings.length) await pkgCall(`Pkg.develop([${siblings.map((p) => `PackageSpec(path = ${JSON.stringify(p)})`).join(', ')}])`);
    await pkgCall('Pkg.test()');
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await pkgCall('Pkg.test()'));
    return median(times);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Paths of the package's dependencies that are packages next to it (not in any registry). */
function siblingDependencies(dir: string): string[] {
  const project = parse(readFileSync(join(dir, 'Project.toml'), 'utf8')) as { deps?: Record<string, string> };
  return Object.keys(project.deps ?? {}).map((name) => join(dirname(dir), name)).filter((p) => existsSync(join(p, 'Project.toml')));
}

async function runJulia(julia: string, project: string, env: NodeJS.ProcessEnv, code: string): Promise<number> {
  const { execa } = await loadExeca();
  const t0 = performance.now();
  await execa(julia, ['--startup-file=no', `--project=${project}`, '-e', code], { env, cwd: project, extendEnv: false });
  return performance.now() - t0;
}
