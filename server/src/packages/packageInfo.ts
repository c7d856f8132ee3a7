// A Julia package directory as the package cache sees it: Project.toml's name, uuid and version, and its tests.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'smol-toml';

export interface PackageInfo {
  dir: string;
  name: string;
  uuid: string;
  version: string;
  /** test/runtests.jl */
  tests: string;
}

/** Reads `dir`'s Project.toml; throws a sentence saying what is missing. */
export function readPackage(dir: string): PackageInfo {
  const abs = resolve(dir);
  const projectFile = join(abs, 'Project.toml');
  if (!existsSync(projectFile)) throw new Error(`${abs} is not a Julia package: it has no Project.toml`);
  let project: Record<string, unknown>;
  try {
    project = parse(readFileSync(projectFile, 'utf8'));
  } catch (e) {
    throw new Error(`${projectFile} is not valid TOML: ${(e as Error).message}`);
  }
  const name = project.name;
  const uuid = project.uuid;
  if (typeof name !== 'string' || typeof uuid !== 'string') throw new Error(`${projectFile} names no package (name and uuid are needed)`);
  const tests = join(abs, 'test', 'runtests.jl');
  if (!existsSync(tests)) throw new Error(`${name} has no test/runtests.jl to build its cache from`);
  return { dir: abs, name, uuid, version: typeof project.version === 'string' ? project.version : '0.0.0', tests };
}

/**
 * JULIA_LOAD_PATH for a session that resolves the package the way its user's session would: the directory holding
 * it first (an implicit environment: the package and its sibling packages), then the user's own load path (the
 * variable if set, else Julia's default), which keeps `@stdlib` for test-only dependencies such as Test.
 */
export function packageLoadPath(pkg: PackageInfo, inherited = process.env.JULIA_LOAD_PATH): string {
  const rest = inherited && inherited !== '' ? inherited : '@:@v#.#:@stdlib';
  return [dirname(pkg.dir), rest].join(':');
}
