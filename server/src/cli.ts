// Entry of dist/cli.js: headless commands on the same session code as the language server.
//   eval FILE.jl [--json]   evaluate a file, print its output, value and timing
//   run FILE.jl [--json]    fresh session: evaluate the file, time main()'s first call, print a report
//   demo [--json]           workloads/parser.jl: main() first vs second call, then cold vs cached
//   run FILE.jl [--cache DIR] [--save] [--json]   as above, loading the cache in DIR first / saving into it after
//   bench FILE.jl [--json]  cold session + save, then a fresh session with the cache: first-call numbers
//   benchmark [--runs N] [--only shipped,forms,scaling,remote,packages]   the README's tables: shipped workloads (medians of N runs),
//                           the everyday-forms corpus, the scaling series and the team cache
//   package-cache PKGDIR --cache DIR [--json]   run the package's tests, save its package cache into DIR
//   cache key | cache push|pull --cache DIR --remote URL [--trust KEY]... [--auth-env VAR] [--json]   the team cache
//   benchmark --compare [--runs N]   plain Julia vs a custom system image vs this cache (docs/COMPARISON.md)
// Options: --julia PATH (default: $JULIA, else `julia` on PATH).
import { demoCommand } from './cli/demoCommand.ts';
import { evalCommand } from './cli/evalCommand.ts';
import { runCommand } from './cli/runCommand.ts';
import { benchCommand, benchmarkCommand } from './cli/benchCommand.ts';
import { cacheCommand } from './cli/cacheCommand.ts';
import { packageCacheCommand } from './cli/packageCacheCommand.ts';
import type { CliOptions } from './cli/cliSession.ts';

const USAGE = 'usage: cli.js eval FILE.jl [--json] | run FILE.jl [--cache DIR] [--save] [--json] | bench FILE.jl [--json] | benchmark [--runs N] [--only shipped,forms,scaling,remote,packages] [--compare] | demo [--json] | package-cache PKGDIR --cache DIR [--json] | cache key | cache push|pull --cache DIR --remote URL [--trust KEY]... [--auth-env VAR] [--json]   (options: --julia PATH)';

export function parseArgs(argv: string[]): { command: string; file?: string; options: CliOptions } {
  const options: CliOptions = { json: false };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') options.json = true;
    else if (arg === '--save') options.save = true;
    else if (arg === '--compare') options.compare = true;
    else if (arg === '--cache') {
      options.cacheDir = argv[++i];
      if (!options.cacheDir) throw new Error('--cache needs a directory');
    } else if (arg === '--remote' || arg === '--auth-env') {
      const value = argv[++i];
      if (!value) throw new Error(`${arg} needs a value`);
      if (arg === '--remote') options.remoteUrl = value;
      else options.authHeaderEnv = value;
    } else if (arg === '--trust') {
      const key = argv[++i];
      if (!key) throw new Error('--trust needs a public key (ed25519:...)');
      (options.trustedKeys ??= []).push(key);
    } else if (arg === '--julia') {
      options.juliaPath = argv[++i];
      if (!options.juliaPath) throw new Error('--julia needs a path');
    } else if (arg === '--runs') {
      options.runs = Number(argv[++i]);
      if (!(options.runs! >= 1)) throw new Error('--runs needs a positive number');
    } else if (arg === '--only') {
      options.sections = (argv[++i] ?? '').split(',').filter(Boolean);
      if (options.sections.length === 0) throw new Error('--only needs shipped, forms, scaling, remote and/or packages');
    } else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else positional.push(arg);
  }
  const [command, file, ...extra] = positional;
  if (!command) throw new Error('no command given');
  if (extra.length > 0) throw new Error(`unexpected arguments: ${extra.join(' ')}`);
  if ((command === 'eval' || command === 'run' || command === 'bench') && !file) throw new Error(`${command} needs a FILE.jl`);
  if (command === 'cache' && !file) throw new Error('cache needs key, push or pull');
  if (command === 'package-cache' && !file) throw new Error('package-cache needs a package directory');
  if (command === 'demo' && file) throw new Error('demo takes no file');
  return { command, file, options };
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { command, file, options } = parsed;
  switch (command) {
    case 'eval':
      return evalCommand(file!, options);
    case 'run':
      return runCommand(file!, options);
    case 'bench':
      return benchCommand(file!, options);
    case 'benchmark':
      return benchmarkCommand(options);
    case 'demo':
      return demoCommand(options);
    case 'cache':
      return cacheCommand(file!, options);
    case 'package-cache':
      return packageCacheCommand(file!, options);
    default:
      process.stderr.write(`unknown command ${command}\n${USAGE}\n`);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error) => {
      process.stderr.write(`error: ${error instanceof Error ? error.message : error}\n`);
      process.exitCode = 1;
    },
  );
}
