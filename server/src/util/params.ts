// Checks request parameters that arrive from any LSP client (they are untyped JSON), with messages a user can act on.
import type { BuildPackageCacheParams, EvaluateParams } from '../../../shared/src/protocol.ts';

export class InvalidParams extends Error {}

export function readEvaluateParams(raw: unknown): EvaluateParams {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidParams('julia/evaluate expects an object { code: string, file?: string, line?: number }');
  }
  const { code, file, line } = raw as Record<string, unknown>;
  if (typeof code !== 'string') throw new InvalidParams('julia/evaluate: `code` must be a string');
  if (file !== undefined && file !== null && typeof file !== 'string') throw new InvalidParams('julia/evaluate: `file` must be a string');
  if (line !== undefined && line !== null && !(Number.isInteger(line) && (line as number) >= 1)) {
    throw new InvalidParams('julia/evaluate: `line` must be a positive integer (1-based)');
  }
  const params: EvaluateParams = { code };
  if (typeof file === 'string') params.file = file;
  if (typeof line === 'number') params.line = line;
  return params;
}

export function readPackageDir(raw: unknown): BuildPackageCacheParams {
  const dir = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).packageDir : undefined;
  if (typeof dir !== 'string' || dir === '') throw new InvalidParams('julia/buildPackageCache expects { packageDir: string }');
  return { packageDir: dir };
}

export function readEntryId(raw: unknown): string {
  const id = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).id : undefined;
  if (typeof id !== 'string' || id === '') throw new InvalidParams('julia/deleteCacheEntry expects { id: string }');
  return id;
}
