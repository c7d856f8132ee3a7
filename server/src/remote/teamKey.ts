// The Ed25519 key pair that signs what this user pushes to a team cache, and the public keys a user trusts. The
// private key lives beside the per-user HMAC key (hmacKey.ts defaultKeyDir, file `ed25519.pem`, mode 0600, created
// on first use); the public key is shared as text, `ed25519:<base64 of the 32 raw bytes>`, like Nix's
// trusted-public-keys. The server is never trusted: only these signatures are.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { lstat, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { publishNewFile, readRegularFile } from '../cache/files.ts';
import { defaultKeyDir } from '../cache/hmacKey.ts';
import { errnoCode, errorText, fail, ok, type Result } from '../cache/result.ts';

export interface TeamKey {
  privateKey: KeyObject;
  /** `ed25519:<base64>`: what teammates put in julia.cache.remote.trustedKeys. */
  publicText: string;
  file: string;
}

const PREFIX = 'ed25519:';
const FILE = 'ed25519.pem';

/** Loads this user's team-cache signing key from `dir` (default: the cache key directory), creating it if needed. */
export async function loadOrCreateTeamKey(dir = defaultKeyDir()): Promise<Result<TeamKey>> {
  const file = path.join(dir, FILE);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (!(await exists(file))) {
      const { privateKey } = generateKeyPairSync('ed25519');
      await publishNewFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    }
    const st = await lstat(file);
    if (!st.isFile()) return fail(`the team cache signing key ${file} is not a regular file; delete it to create a new one`);
    if ((st.mode & 0o077) !== 0) return fail(`the team cache signing key ${file} is readable by other users: run chmod 600 on it`);
    const r = await readRegularFile(file, 4096);
    if (!r.ok) return fail(`cannot read the team cache signing key ${file}`);
    const privateKey = createPrivateKey(r.data);
    if (privateKey.asymmetricKeyType !== 'ed25519') return fail(`${file} is not an Ed25519 key`);
    return ok({ privateKey, publicText: publicTextOf(createPublicKey(privateKey)), file });
  } catch (e) {
    return fail(`cannot load the team cache signing key ${file}: ${errorText(e)}`);
  }
}

function publicTextOf(key: KeyObject): string {
  const x = key.export({ format: 'jwk' }).x as string;
  return PREFIX + Buffer.from(x, 'base64url').toString('base64');
}

/** The key object of an `ed25519:<base64>` text, or null when the text is not one. */
export function parsePublicKey(text: unknown): KeyObject | null {
  if (typeof text !== 'string' || !text.startsWith(PREFIX)) return null;
  const raw = Buffer.from(text.slice(PREFIX.length), 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== text.slice(PREFIX.length)) return null;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  } catch {
    return null;
  }
}

/** The trusted set: this user's own key and the listed ones; listed texts that are not keys are returned as problems. */
export function trustedKeys(own: TeamKey, listed: string[]): { keys: Set<string>; problems: string[] } {
  const keys = new Set([own.publicText]);
  const problems: string[] = [];
  for (const k of listed) {
    if (parsePublicKey(k.trim())) keys.add(k.trim());
    else problems.push(`julia.cache.remote.trustedKeys: "${k.slice(0, 80)}" is not a public key (expected ed25519:<base64>)`);
  }
  return { keys, problems };
}

export function signText(key: TeamKey, text: string): string {
  return sign(null, Buffer.from(text), key.privateKey).toString('base64');
}

export function verifyText(publicText: string, text: string, signature: string): boolean {
  const key = parsePublicKey(publicText);
  if (!key) return false;
  try {
    return verify(null, Buffer.from(text), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    throw e;
  }
}
