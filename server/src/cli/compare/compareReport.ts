// The comparison's outputs: a Markdown table (printed, and written between the markers of docs/COMPARISON.md, whose
// hand-written text around them is kept) and an SVG bar chart (docs/comparison.svg), both with machine and date.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../util/repoRoot.ts';

export interface CompareRow {
  workload: string;
  variant: 'plain Julia' | 'system image' | 'this cache';
  /** Building the system image / Save Compiled Work; none for plain Julia. */
  buildMs?: number;
  bytes?: number;
  startMs: number;
  firstMs: number;
  sessionMs: number;
  correct: boolean;
}


const BEGIN = '<!-- compare:begin (written by npm run bench -- --compare) -->';
const END = '<!-- compare:end -->';
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));
const size = (b?: number) => (b === undefined ? '–' : b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MB` : `${Math.round(b / 1024)} KB`);

export function comparisonTable(rows: CompareRow[]): string {
  const out = [
    '| workload | variant | build / save (s) | artifact | session start | first call | whole session | results equal |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const build = r.buildMs === undefined ? '–' : (r.buildMs / 1000).toFixed(1);
    out.push(`| ${r.workload} | ${r.variant} | ${build} | ${size(r.bytes)} | ${ms(r.startMs)} | ${ms(r.firstMs)} | ${ms(r.sessionMs)} | ${r.correct ? 'yes' : 'NO'} |`);
  }
  const ratios: string[] = [];
  for (const w of [...new Set(rows.map((r) => r.workload))]) {
    const img = rows.find((r) => r.workload === w && r.variant === 'system image');
    const own = rows.find((r) => r.workload === w && r.variant === 'this cache');
    if (!img || !own || !img.buildMs || !own.buildMs) continue;
    ratios.push(`${w}: saving ${(img.buildMs / own.buildMs).toFixed(0)}x faster than building the image, first call ${(own.firstMs / img.firstMs).toFixed(2)}x the image's`);
  }
  return [...out, '', ...ratios.map((r) => `- ${r}`)].join('\n');
}

function machine(julia: string, runs: number, startedAt: Date, partial?: string): string {
  const cpu = cpus();
  const load = loadavg().map((x) => x.toFixed(2)).join(', ');
  return `Measured ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpu[0]?.model ?? 'unknown CPU'} (${cpu.length} cores), ` +
    `${Math.round(totalmem() / (1 << 30))} GB, Julia from \`${julia}\`; sessions are medians of ${runs} runs, each build and save ran once; ` +
    `load average at the end ${load}. Times in ms unless noted.${partial ? ` **Partial run: ${partial}.**` : ''}`;
}

export async function writeComparison(
  rows: CompareRow[],
  ctx: { runs: number; startedAt: Date; julia: string; partial?: string },
): Promise<{ table: string; files: string[] }> {
  const table = comparisonTable(rows);
  const docs = join(repoRoot(), 'docs');
  const md = join(docs, 'COMPARISON.md');
  const block = `${BEGIN}\n${machine(ctx.julia, ctx.runs, ctx.startedAt, ctx.partial)}\n\n${table}\n\n![whole session and build time](comparison.svg)\n${END}`;
  const old = existsSync(md) ? await readFile(md, 'utf8') : `# Plain Julia, a custom system image, and this cache\n\n${BEGIN}\n${END}\n`;
  const [head, rest] = old.includes(BEGIN) && old.includes(END) ? [old.slice(0, old.indexOf(BEGIN)), old.slice(old.indexOf(END) + END.length)] : [old + '\n', '\n'];
  await writeFile(md, head + block + rest);
  const svg = join(docs, 'comparison.svg');
  await writeFile(svg, comparisonSvg(rows, machine(ctx.julia, ctx.runs, ctx.startedAt, ctx.partial)));
  return { table, files: [md, svg] };
}

const COLORS: Record<CompareRow['variant'], string> = { 'plain Julia': '#9aa0a6', 'system image': '#e8710a', 'this cache': '#1a73e8' };

/** Two horizontal bar charts: whole session (start + workload) and build/save time, one bar per workload and variant. */
export function comparisonSvg(rows: CompareRow[], caption: string): string {
  const barH = 14;
  const left = 190;
  const width = 860;
  const plotW = width - left - 90;
  const parts: string[] = [];
  let y = 30;
  const chart = (title: string, value: (r: CompareRow) => number | undefined, unit: string, scale: number) => {
    const shown = rows.filter((r) => value(r) !== undefined);
    const max = Math.max(...shown.map((r) => value(r)!)) || 1;
    parts.push(`<text x="10" y="${y}" font-weight="bold">${esc(title)}</text>`);
    y += 12;
    let last = '';
    for (const r of shown) {
      if (r.workload !== last && last !== '') y += 6;
      last = r.workload;
      const v = value(r)!;
      const w = Math.max(1, (v / max) * plotW);
      parts.push(`<text x="${left - 6}" y="${y + barH - 3}" text-anchor="end">${esc(`${r.workload} · ${r.variant}`)}</text>`);
      parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[r.variant]}"/>`);
      parts.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + barH - 3}">${(v / scale).toFixed(scale === 1 ? 0 : 1)} ${unit}</text>`);
      y += barH + 3;
    }
    y += 28;
  };
  chart('Whole session: spawn to main() returned (start, load, file, first call)', (r) => r.sessionMs, 'ms', 1);
  chart('Build the system image / Save Compiled Work', (r) => r.buildMs, 's', 1000);
  // The caption (machine, date, conditions) in lines that fit the width.
  const lines = caption.split(/(?<=[;.]) /).reduce<string[]>((acc, part) => {
    if (acc.length && (acc[acc.length - 1] + ' ' + part).length <= 150) acc[acc.length - 1] += ' ' + part;
    else acc.push(part);
    return acc;
  }, []);
  y -= 10;
  for (const line of lines) {
    parts.push(`<text x="10" y="${y}" font-size="10" fill="#555">${esc(line)}</text>`);
    y += 13;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" font-family="sans-serif" font-size="11">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
