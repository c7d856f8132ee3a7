// Errors as values: every public cache function returns a Result instead of throwing, so a damaged cache
// can never take the language server down. `error` is a sentence a user can act on.
export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: string): Result<T> {
  return { ok: false, error };
}

/** Runs `fn`, turning any exception that escapes it into an error value prefixed with `what`. */
export async function guard<T>(what: string, fn: () => Promise<Result<T>>): Promise<Result<T>> {
  try {
    return await fn();
  } catch (e) {
    return fail(`${what}: ${errorText(e)}`);
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The errno code of a Node fs error (ENOENT, EEXIST, ...), or undefined. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}
