// Workspace Trust in a real VS Code (code-server with trust enabled): in a workspace the user does not trust,
// nothing starts by itself and saved compiled code is not loaded even when it exists; once the user trusts the
// folder, the session starts and the cache loads. Screenshots go to test-artifacts/e2e/vscode-trust/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { processesMatching } from '../helpers/wait.ts';
import { closeEditor, openEditor, profileEnv, ROOT, type CodeServer, type Editor } from './codeServer.ts';
import type { Workbench } from './workbench.ts';

const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e', 'vscode-trust');

describe('VS Code Workspace Trust', { timeout: 300_000 }, () => {
  let editor: Partial<Editor> = {};
  let cs: CodeServer;
  let wb: Workbench;
  let workspace: string;

  before(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'jlc-e2e-trust-'));
    copyFileSync(join(ROOT, 'workloads', 'parser.jl'), join(workspace, 'parser.jl'));
    // A cache saved earlier by the same user (the CLI, headless, with the profile's HMAC key), in the workspace's
    // default cache directory.
    const profile = mkdtempSync(join(tmpdir(), 'jlc-e2e-profile-'));
    execFileSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'run', join(workspace, 'parser.jl'), '--cache', join(workspace, '.jlcache'), '--save'], {
      env: profileEnv(profile),
      stdio: 'pipe',
      timeout: 240_000,
    });
    editor = await openEditor({ workspace, artifacts: ARTIFACTS, profile, trustWorkspace: false });
    ({ cs, wb } = editor as Editor);
  });

  after(() => closeEditor(editor, workspace));

  test('in restricted mode no session starts by itself', async () => {
    const dialog = wb.page.locator('.monaco-dialog-box', { hasText: 'Do you trust the authors' });
    await dialog.waitFor({ timeout: 60_000 });
    await dialog.locator('.monaco-button', { hasText: "No, I don't trust the authors" }).click();
    await wb.waitForStatus(/Julia: stopped/);
    await wb.page.waitForTimeout(5_000); // long enough for an automatic start to show
    assert.match(await wb.statusText(), /Julia: stopped/);
    assert.deepEqual(await processesMatching(agentOf(cs)), [], 'no Julia started');
    await wb.screenshot('restricted-nothing-started');
  });

  test('an explicit start works, but the saved cache is not loaded', async () => {
    await wb.runCommand('Julia: Start Julia Session');
    const status = await wb.waitForStatus(/Julia 1\.5\.3(?!:)/, 90_000);
    assert.match(status, /cache: off/);
    assert.equal((await processesMatching(agentOf(cs))).length, 1, 'one Julia session runs');
    assert.match(await wb.statusTooltip(), /not trusted/);
    await wb.screenshot('restricted-explicit-start');
  });

  test('trusting the folder starts the session with the cache loaded', async () => {
    await wb.runCommand('Workspaces: Manage Workspace Trust');
    await wb.page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).first().click();
    await wb.waitForStatus(/cache: \d+ methods/, 120_000);
    await wb.screenshot('trusted-cache-loaded');
  });
});

/** The Julia agent script of the installed extension: on the command line of every session it starts. */
function agentOf(cs: CodeServer): string {
  const dir = readdirSync(cs.extensionsDir).find((d) => d.startsWith('jlcache.julia-compiled-cache-'));
  assert.ok(dir, `the extension is not installed in ${cs.extensionsDir}`);
  return join(cs.extensionsDir, dir, 'server', 'julia', 'agent');
}
