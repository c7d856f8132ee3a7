// Which entries to delete to get the cache under its size cap. Entries no one can use (another user's,
// another cache format) go first; then least recently used first, whichever Julia they belong to.
export interface EvictionCandidate {
  id: string;
  dir: string;
  bytes: number;
  lastUsedMs: number;
  /** Signed by this user in the current format (valid here or for another Julia build on this machine). */
  usable: boolean;
}

export function chooseVictims(cands: EvictionCandidate[], maxBytes: number, protect: ReadonlySet<string> = new Set()): EvictionCandidate[] {
  let total = cands.reduce((s, c) => s + c.bytes, 0);
  const order = cands
    .filter((c) => !protect.has(c.id))
    .sort((a, b) => Number(a.usable) - Number(b.usable) || a.lastUsedMs - b.lastUsedMs);
  const victims: EvictionCandidate[] = [];
  for (const c of order) {
    if (total <= maxBytes) break;
    victims.push(c);
    total -= c.bytes;
  }
  return victims;
}
