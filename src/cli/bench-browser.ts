/**
 * `npm run bench:browser`: drives the built app in headless Chromium (the browser and flags of the
 * browser tests, playwright.config.ts) exactly as a user would, and measures what streaming costs training:
 * the same training run with live progress (loss updates ≤ 10/s, previews every N steps) and with
 * `?stream=0` (only the final figures), alternating, on each backend given.
 *
 *   npm run bench:browser -- [--backends webgpu,wasm] [--steps 30] [--batch 8] [--reps 3] [--preview 10] [--json FILE]
 *
 * Needs `npm run build` first (it runs `vite preview` on dist/).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { chromium, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../playwright.config';
import { median } from '../eval/stats';
import { parseArgs } from './args';
import { ProgressBar } from './progress';

const PORT = 4179;

interface StreamCase {
  backend: string;
  stream: boolean;
  previewEvery: number;
  steps: number;
  batch: number;
  seconds: number;
  stepsPerSec: number;
}

async function waitForServer(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`vite preview did not answer at ${url}: run npm run build first`);
}

/** One training run from Start to done; returns wall seconds. */
async function trainOnce(page: Page, url: string, steps: number, batch: number, previewEvery: number): Promise<number> {
  await page.goto(url);
  const region = (name: string) => page.getByRole('region', { name, exact: true });
  await page.getByLabel('Active backend').filter({ hasNotText: /starting/ }).waitFor();
  const training = region('Training');
  await training.getByRole('spinbutton', { name: 'Batch size' }).fill(String(batch));
  await training.getByRole('spinbutton', { name: 'Steps', exact: true }).fill(String(steps));
  await training.getByRole('spinbutton', { name: 'Preview every N steps' }).fill(String(previewEvery));
  const t0 = Date.now();
  await training.getByRole('button', { name: 'Start' }).click();
  await training.getByLabel('Training state', { exact: true }).filter({ hasText: 'done' }).waitFor({ timeout: 600_000 });
  return (Date.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { backends: 'webgpu,wasm', steps: 30, batch: 8, reps: 3, preview: 10, json: '' });
  const server = spawn('npx', ['vite', 'preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'], { stdio: 'ignore' });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const cases: StreamCase[] = [];
  try {
    await waitForServer(`http://127.0.0.1:${PORT}/`);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const backends = args.backends.split(',');
    const bar = new ProgressBar('browser bench runs', backends.length * args.reps * 3);
    let done = 0;
    for (const backend of backends) {
      for (let r = 0; r < args.reps; r++) {
        // Alternate the variants so that machine noise hits them alike.
        for (const [stream, previewEvery] of [[false, 0], [true, 0], [true, args.preview]] as const) {
          const url = `http://127.0.0.1:${PORT}/?backend=${backend}&stream=${stream ? 1 : 0}`;
          const seconds = await trainOnce(page, url, args.steps, args.batch, previewEvery);
          cases.push({ backend, stream, previewEvery, steps: args.steps, batch: args.batch, seconds, stepsPerSec: args.steps / seconds });
          bar.update(++done);
        }
      }
    }
  } finally {
    await browser.close();
    server.kill();
  }
  console.log(`\nStreaming cost, ${new Date().toISOString()}: tiny U-Net, batch ${args.batch}, ${args.steps} steps a run, median of ${args.reps}\n`);
  console.log('| backend | variant | steps/s | vs no streaming |\n|---|---|---|---|');
  for (const backend of new Set(cases.map((c) => c.backend))) {
    const rate = (stream: boolean, preview: number) => median(cases.filter((c) => c.backend === backend && c.stream === stream && c.previewEvery === preview).map((c) => c.stepsPerSec));
    const base = rate(false, 0);
    const rows: [string, number][] = [['no streaming (?stream=0)', base], ['loss streaming', rate(true, 0)], [`loss + previews every ${args.preview} steps`, rate(true, args.preview)]];
    for (const [name, value] of rows) console.log(`| ${backend} | ${name} | ${value.toFixed(2)} | ${((value / base - 1) * 100).toFixed(1)} % |`);
  }
  if (args.json) writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), cases }, null, 2));
}

void main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
