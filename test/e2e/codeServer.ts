// Starts code-server (a real VS Code, installed by scripts/install-code-server.sh) on 127.0.0.1 with a throwaway
// profile, installs the .vsix under test into it, and stops everything it started (the whole process group).
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, processesMatching } from '../helpers/wait.ts';
import { Workbench } from './workbench.ts';

export const ROOT = resolve(__dirname, '..', '..');
export const CODE_SERVER = join(ROOT, '.deps', 'code-server', 'node_modules', '.bin', 'code-server');
/** The .vsix under test (scripts/e2e.sh packages it and passes its path). */
export const VSIX = process.env.VSIX ?? join(ROOT, `julia-compiled-cache-${require(join(ROOT, 'package.json')).version}.vsix`);

/** A code-server with the extension installed and a headless Chromium showing its workbench. */
export interface Editor {
  cs: CodeServer;
  wb: Workbench;
}

/** Opens `workspace` in a fresh code-server profile (default: a new temporary one); `artifacts` is emptied first. */
export async function openEditor(opts: { workspace: string; artifacts: string; profile?: string; trustWorkspace?: boolean }): Promise<Editor> {
  assert.ok(existsSync(VSIX), `${VSIX} is missing: run bash scripts/package-vsix.sh`);
  rmSync(opts.artifacts, { recursive: true, force: true });
  const profile = opts.profile ?? mkdtempSync(join(tmpdir(), 'jlc-e2e-profile-'));
  const cs = await startCodeServer({ vsix: VSIX, workspace: opts.workspace, profile, trustWorkspace: opts.trustWorkspace });
  return { cs, wb: await Workbench.open(cs.url, opts.artifacts) };
}

/** Closes the browser and code-server, removes the workspace and the profile, and fails if any process of the
 * extension (the language server's Julia sessions run the installed agent) outlived the editor. */
export async function closeEditor(editor: Partial<Editor>, workspace: string): Promise<void> {
  await editor.wb?.close().catch(() => {});
  const cs = editor.cs;
  if (!cs) return;
  await cs.stop();
  const left = await processesMatching(cs.extensionsDir);
  for (const pid of left) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(workspace, { recursive: true, force: true });
  rmSync(cs.profile, { recursive: true, force: true });
  assert.deepEqual(left, [], 'processes of the extension outlived code-server');
}

export interface CodeServer {
  url: string;
  profile: string;
  extensionsDir: string;
  settingsFile: string;
  setSettings(settings: Record<string, unknown>): void;
  /** Remote ("machine") settings: where a remote window such as code-server's takes `machine-overridable` ones. */
  setMachineSettings(settings: Record<string, unknown>): void;
  logText(): string;
  stop(): Promise<void>;
}

/** Settings that make a headless workbench deterministic and its terminal text readable from the DOM. */
const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'terminal.integrated.gpuAcceleration': 'off', // DOM renderer: rows are text nodes, not a canvas
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  'chat.commandCenter.enabled': false,
  'workbench.editor.enablePreview': false,
  'editor.minimap.enabled': false,
};

/** The environment of everything started for a profile. code-server keeps its config (password, bind address)
 * under the XDG dirs, and so does the extension (the cache's HMAC key): both stay inside the throwaway profile. */
export function profileEnv(profile: string): NodeJS.ProcessEnv {
  return { ...process.env, XDG_CONFIG_HOME: join(profile, 'xdg-config'), XDG_DATA_HOME: join(profile, 'xdg-data') };
}

export async function startCodeServer(opts: {
  vsix: string;
  workspace: string;
  profile: string;
  settings?: Record<string, unknown>;
  trustWorkspace?: boolean;
}): Promise<CodeServer> {
  if (!existsSync(CODE_SERVER)) throw new Error(`code-server is not installed: run bash scripts/install-code-server.sh`);
  const profile = opts.profile;
  const userData = join(profile, 'user-data');
  const extensionsDir = join(profile, 'extensions');
  const settingsFile = join(userData, 'User', 'settings.json');
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  const setSettings = (s: Record<string, unknown>) =>
    writeFileSync(settingsFile, JSON.stringify({ ...BASE_SETTINGS, ...s }, null, 2));
  setSettings(opts.settings ?? {});
  const machineSettings = join(userData, 'Machine', 'settings.json');
  mkdirSync(join(userData, 'Machine'), { recursive: true });
  const setMachineSettings = (s: Record<string, unknown>) => writeFileSync(machineSettings, JSON.stringify(s, null, 2));
  setMachineSettings({});
  const env = profileEnv(profile);
  const common = ['--user-data-dir', userData, '--extensions-dir', extensionsDir];
  execFileSync(CODE_SERVER, [...common, '--install-extension', opts.vsix], { env, stdio: 'pipe', timeout: 120_000 });

  const port = await freePort();
  const logFile = join(profile, 'code-server.log');
  const args = [
    ...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-getting-started-override', '--ignore-last-opened',
  ];
  if (opts.trustWorkspace !== false) args.push('--disable-workspace-trust');
  const out = openSync(logFile, 'w');
  // Its own process group, so stop() reaches the extension host, the language server and Julia too.
  const child = spawn(CODE_SERVER, [...args, opts.workspace], { env, detached: true, stdio: ['ignore', out, out] });
  const base = `http://127.0.0.1:${port}`;
  await waitForHealth(base, child, logFile);
  return {
    url: `${base}/?folder=${encodeURIComponent(opts.workspace)}`,
    profile,
    extensionsDir,
    settingsFile,
    setSettings,
    setMachineSettings,
    logText: () => readFileSync(logFile, 'utf8'),
    stop: () => stopGroup(child),
  };
}

async function waitForHealth(base: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}): ${readFileSync(logFile, 'utf8')}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`code-server did not answer on ${base} within 120 s: ${readFileSync(logFile, 'utf8')}`);
}

/** SIGTERM first so the extension host shuts the language server (and its Julia) down cleanly; SIGKILL after 10 s. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      // the group is gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  // Stragglers in the group (the extension host outlives code-server for a moment).
  await sleep(500);
  signal('SIGKILL');
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}
