// Small human-readable formatters shared by the status bar, the cache view and the messages.
import type { SaveSummary, TeamCacheSummary } from '../../shared/src/protocol.ts';

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function formatAge(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown age';
  const s = Math.max(0, (now - t) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** The message after Save Compiled Work, e.g. "Saved 214 methods (512 KB) in 2.4 s; 3 skipped". */
export function saveSummaryText(s: SaveSummary): string {
  const already = s.methodsAlreadyCached ? ` (${s.methodsAlreadyCached} already cached)` : '';
  const text = `Saved ${s.methodsSaved} methods (${formatBytes(s.bytes)}) in ${(s.ms / 1000).toFixed(1)} s; ${s.skipped.length} skipped${already}`;
  return s.captureNote ? `${text} (${s.captureNote})` : text;
}

/** The message after Push Compiled Work / Pull Team Cache, e.g. "Pulled 2 entries (290 KB) in 0.3 s; 1 refused". */
export function teamCacheSummaryText(verb: 'Pushed' | 'Pulled', s: TeamCacheSummary): string {
  const refused = s.problems.length ? `; ${s.problems.length} ${verb === 'Pulled' ? 'refused' : 'unreadable'} (see Output)` : '';
  const next = verb === 'Pulled' && s.entries > 0 ? ': they load in the next session' : '';
  return `${verb} ${s.entries} entries (${formatBytes(s.bytes)}) in ${(s.ms / 1000).toFixed(1)} s, ${s.present} already there${refused}${next}`;
}
