// The unix socket the Julia agent connects back to. It lives in a private (0700) temporary directory so no other
// user can connect first, and only the first connection is accepted.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMessageConnection, SocketMessageReader, SocketMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';

export class AgentSocket {
  readonly path: string;
  private readonly dir: string;
  private readonly server: Server;
  private readonly connected: Promise<Socket>;

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'jlc-')); // mkdtemp creates the directory with mode 0700
    this.path = join(this.dir, 'agent.sock');
    this.server = createServer();
    this.connected = new Promise((resolve, reject) => {
      this.server.once('connection', (socket) => {
        this.server.close(); // nobody else may connect
        resolve(socket);
      });
      this.server.once('error', reject);
    });
    this.connected.catch(() => {}); // observed by accept(); avoid an unhandled rejection when nobody waits
  }

  static async listen(): Promise<AgentSocket> {
    const socket = new AgentSocket();
    await new Promise<void>((resolve, reject) => {
      socket.server.once('error', reject);
      socket.server.listen(socket.path, () => resolve());
    });
    return socket;
  }

  /** Waits for the agent to connect; `abort` rejects early (e.g. when Julia exits during start-up). */
  async accept(timeoutMs: number, abort: Promise<never>): Promise<MessageConnection> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the Julia agent did not connect within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    });
    try {
      const socket = await Promise.race([this.connected, timeout, abort]);
      return createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the listener and removes the private directory (the connection itself is disposed by its owner). */
  dispose(): void {
    this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
