// Crops the README walkthrough images (docs/images/) out of the screenshots the VS Code e2e suite saves
// (test-artifacts/e2e/vscode/, 1400x900), so the README shows what the last `npm run test:e2e` run showed.
// Usage: node scripts/readme-images.mjs [artifacts-dir]. Chromium does the cropping (no image library needed).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const root = join(import.meta.dirname, '..');
const shots = process.argv[2] ?? join(root, 'test-artifacts', 'e2e', 'vscode');

// [output, screenshot, clip]: regions of the 1400x900 workbench (status bar item, code lens line, notification, view).
const CROPS = [
  ['status-before.png', '10-save-summary.png', { x: 0, y: 876, width: 560, height: 24 }],
  ['code-lens-not-cached.png', '08-code-lens-not-cached.png', { x: 360, y: 312, width: 620, height: 70 }],
  ['save-progress.png', '09-save-progress.png', { x: 935, y: 832, width: 465, height: 45 }],
  ['save-summary.png', '13-restart-latency.png', { x: 935, y: 780, width: 465, height: 95 }],
  ['code-lens-cached.png', '11-code-lens-cached.png', { x: 360, y: 312, width: 620, height: 70 }],
  ['status-after.png', '13-restart-latency.png', { x: 0, y: 876, width: 560, height: 24 }],
  ['cache-view.png', '15-cache-view.png', { x: 47, y: 740, width: 345, height: 50 }],
];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  for (const [out, shot, clip] of CROPS) {
    const data = readFileSync(join(shots, shot)).toString('base64');
    await page.setContent(`<body style="margin:0"><img src="data:image/png;base64,${data}"></body>`);
    await page.screenshot({ path: join(root, 'docs', 'images', out), clip });
    console.log(`docs/images/${out} <- ${shot}`);
  }
} finally {
  await browser.close();
}
