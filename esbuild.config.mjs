// Bundles the extension client, the language server, the CLI and the codegen child into CommonJS files in
// dist/. `vscode` is provided by the extension host; koffi ships a native addon and stays a runtime require.
import * as esbuild from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  external: ['vscode', 'koffi'],
};

await Promise.all([
  esbuild.build({ ...common, entryPoints: { extension: 'client/src/extension.ts' }, outdir: 'dist' }),
  esbuild.build({
    ...common,
    entryPoints: { server: 'server/src/main.ts', cli: 'server/src/cli.ts', codegen: 'server/src/codegen/child.ts' },
    outdir: 'dist',
  }),
]);
