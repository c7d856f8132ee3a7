// Which Julia process may use an entry. Native code is only valid for the Julia build that produced it
// (version, libjulia, the system image whose objects it references), the CPU it was compiled for, the
// thread-local-storage offset baked into its code, and the store's format. All of it goes into a sha256
// "identity key" that names the entry directory; describeMismatch() explains a mismatch in words.
import { canonicalJson } from './hmacKey.ts';
import { cachedFileSha256, defaultDigestCacheDir } from './digestCache.ts';
import { sha256Hex } from './files.ts';
import { FORMAT_VERSION, IDENTITY_KEY } from './paths.ts';
import { errorText, fail, ok, type Result } from './result.ts';

/** What the Julia agent reports about itself (`initialize`), plus the loader's plan format. */
export interface IdentityInput {
  juliaVersion: string;
  libjuliaPath: string;
  sysimagePath: string;
  /** Julia's own CPU name (LLVM 9 calls newer CPUs "generic"). */
  cpuName: string;
  cpuFeatures: string;
  /** Offset of the thread-local state from %fs:0, baked into compiled code. */
  tlsOffset: number;
  wordSize?: number;
  /** Version of the plan.bin / loader format; change it when the loader's expectations change. */
  abi?: string;
}

export interface IdentityFields {
  formatVersion: number;
  juliaVersion: string;
  libjuliaSha256: string;
  sysimageSha256: string;
  cpuName: string;
  cpuFeatures: string;
  tlsOffset: number;
  wordSize: number;
  abi: string;
}

export interface Identity extends IdentityFields {
  /** sha256 of the canonical form of the other fields: the directory name of this identity's entries. */
  key: string;
}

export interface IdentityOptions {
  /** Where file digests are remembered (default ~/.cache/julia-compiled-cache). */
  digestCacheDir?: string;
}

export async function computeIdentity(input: IdentityInput, opts: IdentityOptions = {}): Promise<Result<Identity>> {
  const bad = checkInput(input);
  if (bad) return fail(`cannot identify the Julia build: ${bad}`);
  const dir = opts.digestCacheDir ?? defaultDigestCacheDir();
  let libjulia: string;
  let sysimage: string;
  try {
    libjulia = (await cachedFileSha256(input.libjuliaPath, dir)).sha256;
  } catch (e) {
    return fail(`cannot read libjulia at ${input.libjuliaPath}: ${errorText(e)}`);
  }
  try {
    sysimage = (await cachedFileSha256(input.sysimagePath, dir)).sha256;
  } catch (e) {
    return fail(`cannot read the system image at ${input.sysimagePath}: ${errorText(e)}`);
  }
  return ok(withKey({
    formatVersion: FORMAT_VERSION,
    juliaVersion: input.juliaVersion,
    libjuliaSha256: libjulia,
    sysimageSha256: sysimage,
    cpuName: input.cpuName,
    cpuFeatures: input.cpuFeatures,
    tlsOffset: input.tlsOffset,
    wordSize: input.wordSize ?? 64,
    abi: input.abi ?? '',
  }));
}

export function withKey(fields: IdentityFields): Identity {
  return { ...fields, key: identityKeyOf(fields) };
}

export function identityKeyOf(f: IdentityFields): string {
  const { formatVersion, juliaVersion, libjuliaSha256, sysimageSha256, cpuName, cpuFeatures, tlsOffset, wordSize, abi } = f;
  return sha256Hex(canonicalJson({ formatVersion, juliaVersion, libjuliaSha256, sysimageSha256, cpuName, cpuFeatures, tlsOffset, wordSize, abi }));
}

function checkInput(i: IdentityInput): string | null {
  if (typeof i !== 'object' || i === null) return 'no identity given';
  for (const k of ['juliaVersion', 'libjuliaPath', 'sysimagePath', 'cpuName'] as const) {
    if (typeof i[k] !== 'string' || i[k].length === 0 || i[k].length > 4096) return `${k} is missing`;
  }
  if (typeof i.cpuFeatures !== 'string' || i.cpuFeatures.length > 65536) return 'cpuFeatures is missing';
  if (!Number.isSafeInteger(i.tlsOffset)) return 'tlsOffset is not an integer';
  if (i.wordSize !== undefined && i.wordSize !== 32 && i.wordSize !== 64) return 'wordSize must be 32 or 64';
  if (i.abi !== undefined && (typeof i.abi !== 'string' || i.abi.length > 256)) return 'abi must be a short string';
  return null;
}

/** Validates an identity record read from meta.json (untrusted JSON); an error sentence or null. */
export function checkIdentityRecord(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'identity is not an object';
  const r = v as Record<string, unknown>;
  const expected = ['formatVersion', 'juliaVersion', 'libjuliaSha256', 'sysimageSha256', 'cpuName', 'cpuFeatures', 'tlsOffset', 'wordSize', 'abi', 'key'];
  for (const k of Object.keys(r)) if (!expected.includes(k)) return `identity has an unexpected field "${k}"`;
  if (!Number.isSafeInteger(r.formatVersion)) return 'identity.formatVersion is not an integer';
  for (const k of ['juliaVersion', 'cpuName', 'cpuFeatures', 'abi']) {
    if (typeof r[k] !== 'string' || (r[k] as string).length > 65536) return `identity.${k} is not a string`;
  }
  for (const k of ['libjuliaSha256', 'sysimageSha256', 'key']) {
    if (typeof r[k] !== 'string' || !IDENTITY_KEY.test(r[k] as string)) return `identity.${k} is not a sha256`;
  }
  if (!Number.isSafeInteger(r.tlsOffset)) return 'identity.tlsOffset is not an integer';
  if (r.wordSize !== 32 && r.wordSize !== 64) return 'identity.wordSize is not 32 or 64';
  if (identityKeyOf(r as unknown as IdentityFields) !== r.key) return 'identity.key does not match the identity fields';
  return null;
}

/** Why an entry saved under `saved` cannot be used by `current`, in words; null when they are the same. */
export function describeMismatch(saved: IdentityFields, current: IdentityFields): string | null {
  const why: string[] = [];
  if (saved.formatVersion !== current.formatVersion) {
    why.push(`written in cache format v${saved.formatVersion}; this version uses v${current.formatVersion}`);
  }
  if (saved.juliaVersion !== current.juliaVersion) {
    why.push(`saved by Julia ${saved.juliaVersion}; this session runs Julia ${current.juliaVersion}`);
  } else {
    if (saved.libjuliaSha256 !== current.libjuliaSha256) why.push(`saved by Julia ${saved.juliaVersion} with a different libjulia build`);
    if (saved.sysimageSha256 !== current.sysimageSha256) why.push(`saved by Julia ${saved.juliaVersion} with a different system image`);
  }
  if (saved.wordSize !== current.wordSize) why.push(`compiled for ${saved.wordSize}-bit, this Julia is ${current.wordSize}-bit`);
  if (saved.cpuName !== current.cpuName) {
    why.push(`compiled for CPU ${saved.cpuName}, this machine is ${current.cpuName}`);
  } else if (saved.cpuFeatures !== current.cpuFeatures) {
    why.push(featureDifference(saved.cpuFeatures, current.cpuFeatures));
  }
  if (saved.tlsOffset !== current.tlsOffset) {
    why.push(`saved with thread-local storage offset ${saved.tlsOffset}, this process uses ${current.tlsOffset}`);
  }
  if (saved.abi !== current.abi) why.push(`saved for loader format "${saved.abi}", this loader uses "${current.abi}"`);
  return why.length > 0 ? why.join('; ') : null;
}

function featureDifference(saved: string, current: string): string {
  const enabled = (s: string) => new Set(s.split(',').map((f) => f.trim()).filter((f) => f.startsWith('+')));
  const have = enabled(current);
  const missing = [...enabled(saved)].filter((f) => !have.has(f));
  if (missing.length === 0) return 'compiled with a different CPU feature set';
  const shown = missing.slice(0, 6).join(', ') + (missing.length > 6 ? `, and ${missing.length - 6} more` : '');
  return `compiled for CPU features this machine lacks: ${shown}`;
}
