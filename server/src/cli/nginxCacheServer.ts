// A throwaway team cache for the benchmark and the tests: Debian's nginx with its DAV module (PUT enabled) serving a
// fresh directory on 127.0.0.1 and a free port, in the foreground, with every path (config, temp files, logs, pid)
// under one private prefix directory that stop() removes.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NginxCache {
  url: string;
  /** Where the blobs and records are stored: `<dataDir>/cas/<sha256>`, `<dataDir>/ac/<key>`. */
  dataDir: string;
  stop(): Promise<void>;
}

const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find((p) => existsSync(p)) ?? 'nginx';

/** `authorization`: the exact Authorization header the server requires (401 without it), as a team's server would. */
export async function startNginxCache(opts: { authorization?: string } = {}): Promise<NginxCache> {
  const prefix = await mkdtemp(join(tmpdir(), 'jlcache-nginx-'));
  const dataDir = join(prefix, 'data');
  await mkdir(dataDir);
  await mkdir(join(prefix, 'temp'));
  // Another process may take the free port between our probe and nginx's bind: then try another one.
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    await writeFile(join(prefix, 'nginx.conf'), config(prefix, dataDir, port, opts.authorization));
    const proc = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr += d));
    if (await listening(proc, port)) {
      return { url: `http://127.0.0.1:${port}`, dataDir, stop: () => stop(proc, prefix) };
    }
    lastError = stderr.trim();
  }
  await rm(prefix, { recursive: true, force: true });
  throw new Error(`nginx did not start (${NGINX}; install it with scripts/setup.sh): ${lastError}`);
}

function config(prefix: string, dataDir: string, port: number, authorization?: string): string {
  const temp = (name: string) => `${name}_temp_path ${join(prefix, 'temp', name)};`;
  const auth = authorization ? `if ($http_authorization != ${JSON.stringify(authorization)}) { return 401; }` : '';
  return `daemon off;
master_process off;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log off;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  server {
    listen 127.0.0.1:${port};
    root ${dataDir};
    client_max_body_size 0;
    location / {
      ${auth}
      dav_methods PUT;
      create_full_put_path on;
    }
  }
}
`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** True once nginx accepts connections on `port`; false if it exited first (e.g. the port was taken). */
async function listening(proc: ChildProcess, port: number): Promise<boolean> {
  const exited = new Promise<false>((resolve) => proc.once('exit', () => resolve(false)));
  for (;;) {
    const accepted = await Promise.race([canConnect(port), exited]);
    if (accepted) return true;
    if (proc.exitCode !== null || proc.signalCode !== null) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

async function stop(proc: ChildProcess, prefix: string): Promise<void> {
  if (proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
  }
  await rm(prefix, { recursive: true, force: true });
}
