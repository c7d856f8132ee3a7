// Follows the server's session status: keeps the latest one for the other parts and tells the user, once per
// problem, when a session could not start or died (with the server's explanation and what to do).
import * as vscode from 'vscode';
import type { SessionStatus } from '../../shared/src/protocol.ts';

export class SessionStatusTracker implements vscode.Disposable {
  private current: SessionStatus = { state: 'stopped', cache: { state: 'none', methods: 0, bytes: 0 } };
  private lastShown?: string;
  private readonly changed = new vscode.EventEmitter<SessionStatus>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  get status(): SessionStatus {
    return this.current;
  }

  update(status: SessionStatus): void {
    const before = this.current;
    this.current = status;
    if (status.state !== before.state || status.message !== before.message) {
      this.log.info(`session ${status.state}${status.pid ? ` (pid ${status.pid})` : ''}${status.message ? `: ${status.message}` : ''}`);
    }
    if (status.cache.reason && status.cache.reason !== before.cache.reason) this.log.info(`cache ${status.cache.state}: ${status.cache.reason}`);
    if (status.state === 'dead' && status.message && status.message !== this.lastShown) {
      this.lastShown = status.message;
      void this.showProblem(status.message);
    }
    if (status.state === 'idle') this.lastShown = undefined;
    this.changed.fire(status);
  }

  dispose(): void {
    this.changed.dispose();
  }

  private async showProblem(message: string): Promise<void> {
    // The first line says what happened; Julia's stderr that may follow it is in the log (update() wrote it).
    const [first, ...rest] = message.split('\n');
    const more = rest.some((l) => l.trim()) ? ' (details in the output)' : '';
    const choice = await vscode.window.showErrorMessage(`Julia session: ${first}${more}`, 'Open Settings', 'Show Output');
    if (choice === 'Open Settings') {
      // juliaPath is machine-overridable: in a remote window (SSH, containers, code-server) it lives in the remote tab.
      if (vscode.env.remoteName) await vscode.commands.executeCommand('workbench.action.openRemoteSettings', { query: 'julia.cache.juliaPath' });
      else await vscode.commands.executeCommand('workbench.action.openSettings', 'julia.cache.juliaPath');
    }
    else if (choice === 'Show Output') this.log.show(true);
  }
}
