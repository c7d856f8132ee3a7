// execa 9 is ESM-only. Under tsx the server's sources run as CommonJS, where a static import becomes require()
// and fails on execa's import-only dependencies; a dynamic import works there and in the esbuild bundle alike.
let loaded: Promise<typeof import('execa')> | undefined;

export function loadExeca(): Promise<typeof import('execa')> {
  return (loaded ??= import('execa'));
}
