// A client of the Bazel remote cache HTTP protocol: GET / PUT / HEAD of `<base>/cas/<sha256>` (content-addressed
// blobs) and `<base>/ac/<key>` (small records). bazel-remote and nginx with its DAV module speak it. Every call has a
// deadline and returns a Result whose error names the server and what went wrong; a body is never read past its cap.
import { errorText, fail, ok, type Result } from '../cache/result.ts';
import { pauseAt } from '../cache/testPause.ts';

export type Space = 'cas' | 'ac';

export interface RemoteOptions {
  /** Base URL, e.g. http://cache.example:8080 (a path prefix is kept). */
  url: string;
  /** One extra request header, e.g. from an environment variable: `Authorization: Bearer ...`. */
  header?: { name: string; value: string };
}

export interface Transfer {
  /** Bytes received and sent by this client (bodies only). */
  received: number;
  sent: number;
}

const KEY = /^[0-9a-f]{64}$/;

export class HttpCache {
  readonly transfer: Transfer = { received: 0, sent: 0 };
  private readonly base: string;

  constructor(private readonly opts: RemoteOptions, private readonly signal: AbortSignal) {
    this.base = opts.url.replace(/\/+$/, '');
  }

  /**
   * The body, null when the server has no such record (404), or why it could not be read. Reading stops after
   * maxBytes + 1 bytes: a longer body comes back as that, so the caller's size check reports it.
   */
  async get(space: Space, key: string, maxBytes: number): Promise<Result<Buffer | null>> {
    return this.call('GET', space, key, async (res) => {
      if (res.status === 404) return ok(null);
      if (!res.ok) return fail(this.statusText(res, space, key));
      const body = await readCapped(res, maxBytes + 1);
      this.transfer.received += body.length;
      return ok(body);
    });
  }

  async has(space: Space, key: string): Promise<Result<boolean>> {
    return this.call('HEAD', space, key, async (res) => {
      if (res.status === 404) return ok(false);
      return res.ok ? ok(true) : fail(this.statusText(res, space, key));
    });
  }

  async put(space: Space, key: string, body: Buffer): Promise<Result<void>> {
    return this.call('PUT', space, key, async (res) => {
      if (!res.ok) return fail(this.statusText(res, space, key));
      this.transfer.sent += body.length;
      return ok(undefined);
    }, body);
  }

  private async call<T>(method: string, space: Space, key: string, onResponse: (r: Response) => Promise<Result<T>>, body?: Buffer): Promise<Result<T>> {
    if (!KEY.test(key)) return fail(`"${key.slice(0, 80)}" is not a cache key`);
    if (this.signal.aborted) return fail(this.abortText());
    try {
      const headers: Record<string, string> = this.opts.header ? { [this.opts.header.name]: this.opts.header.value } : {};
      const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: this.signal, redirect: 'error' };
      if (body) Object.assign(init, { body: uploadStream(body), duplex: 'half', headers: { ...headers, 'content-length': String(body.length) } });
      const res = await fetch(`${this.base}/${space}/${key}`, init);
      try {
        return await onResponse(res);
      } finally {
        if (!res.bodyUsed) await res.body?.cancel().catch(() => {});
      }
    } catch (e) {
      if (this.signal.aborted) return fail(this.abortText());
      const cause = (e as { cause?: unknown }).cause;
      return fail(`cannot reach the team cache at ${this.base}: ${cause ? errorText(cause) : errorText(e)}`);
    }
  }

  private abortText(): string {
    const why = this.signal.reason;
    return why instanceof Error && why.name !== 'AbortError' && why.name !== 'TimeoutError' ? why.message : `the team cache at ${this.base} did not answer in time`;
  }

  private where(space: Space, key: string): string {
    return `${this.base}/${space}/${key}`;
  }

  private statusText(res: Response, space: Space, key: string): string {
    const hint = res.status === 401 || res.status === 403 ? ' (check the auth header: julia.cache.remote.authHeaderEnv)' : '';
    return `the team cache answered ${res.status} ${res.statusText} for ${this.where(space, key)}${hint}`;
  }
}

/** The body in two halves, so a test can stop a push between them (JLC_TEST_PAUSE_AT=remote-upload-half). */
function uploadStream(body: Buffer): ReadableStream<Uint8Array> {
  const half = body.length >> 1;
  let step = 0;
  return new ReadableStream({
    pull(controller) {
      if (step === 0) controller.enqueue(body.subarray(0, half));
      else if (step === 1) {
        pauseAt('remote-upload-half');
        controller.enqueue(body.subarray(half));
      } else controller.close();
      step++;
    },
  });
}

async function readCapped(res: Response, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body ?? []) {
    chunks.push(Buffer.from(chunk));
    total += chunk.length;
    if (total >= limit) break;
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

/** `Name: value` from an environment variable's text; a bare value is taken as the Authorization header. */
export function headerFromEnv(varName: string | undefined, env = process.env): Result<RemoteOptions['header']> {
  if (!varName) return ok(undefined);
  const text = env[varName];
  if (!text) return fail(`the environment variable ${varName} (julia.cache.remote.authHeaderEnv) is not set`);
  const m = /^([A-Za-z0-9-]+):\s*(.+)$/.exec(text.trim());
  return ok(m ? { name: m[1], value: m[2] } : { name: 'Authorization', value: text.trim() });
}
