/**
 * The browser half of `npm run bench`: the built app in headless Chromium (the browser and flags of
 * the browser tests, playwright.config.ts), driven as a user drives it. For each backend it opens the page with
 * `?backend=…`, runs the Compare panel on the pretrained pixel DDPM and LDM for each sampler case
 * (timing only: quality comes from `npm run eval`), and reads the rows back from the panel's
 * "Download results (JSON)" file. A backend the browser cannot give (the app fell back to another)
 * is reported and skipped.
 */
import { FULL_PLAN } from './pretrain-plan';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Page } from '@playwright/test';
import type { CompareReport } from '../eval/compare-report';
import { samplerStepsLabel, type SamplerKind } from '../diffusion/config';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../playwright.config';
import type { BenchCase } from './bench-table';
import { ProgressBar } from './progress';
import { benchPageSampling, benchPageTraining } from './bench-page';

export interface BrowserBenchOptions {
  backends: string[];
  cases: { sampler: SamplerKind; steps: number }[];
  batch: number;
  reps: number;
  port: number;
  /** Where the built app is (built with `npm run build` first when missing). */
  dist?: string;
  /** wasm thread counts to measure (`?threads=N`); empty: the page's own choice. Other backends run once. */
  threads?: number[];
  /** The page's own figures (./bench-page.ts): the Sampling panel with its recorder, and training per preset. */
  page?: { sampling: boolean; training: boolean; trainBatch: number; trainSteps: number };
}

export interface BrowserBenchResult {
  cases: BenchCase[];
  /** What could not be measured, in words (a backend the browser did not give). */
  notes: string[];
  browser: string;
}

/** The shipped pretrained pair as the tables name them (the plan `npm run pretrain` trains them with). */
export const MODEL_NAMES = {
  pixel: `pixel (pretrained, ${FULL_PLAN.pixel.setup.preset})`,
  latent: `LDM (pretrained, ${FULL_PLAN.latent.setup.latent?.autoencoder} + ${FULL_PLAN.latent.setup.latent?.denoiser})`,
} as const;

/** Waits until `vite preview` answers at `url` (30 s at most), or says why it did not. */
export async function waitForServer(url: string, server: ChildProcess): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (server.exitCode != null) throw new Error(`vite preview exited with code ${server.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`vite preview did not answer at ${url}`);
}

/** Opens the app on `backend`; resolves with the backend it got (another one when it fell back). */
async function openOn(page: Page, url: string, query: string): Promise<string> {
  await page.goto(`${url}?${query}`);
  const active = page.getByLabel('Active backend');
  await active.filter({ hasNotText: /starting|…/ }).waitFor({ timeout: 120_000 });
  await page.getByLabel('Tensor memory').filter({ hasText: 'tensors' }).waitFor({ timeout: 120_000 });
  return ((await active.textContent()) ?? '').trim();
}

/** One Compare run (both models, one sampler case); its rows, read from the downloaded results. */
async function compareOnce(page: Page, backend: string, c: { sampler: SamplerKind; steps: number }, o: BrowserBenchOptions): Promise<CompareReport> {
  const panel = page.getByRole('region', { name: 'Compare', exact: true });
  await panel.getByRole('combobox', { name: 'Compare sampler' }).selectOption(c.sampler);
  const fill = async (name: string, v: number) => panel.getByRole('spinbutton', { name, exact: true }).fill(String(v));
  await fill('Compare steps', c.steps);
  await fill('Compare batch', o.batch);
  await fill('Compare seed', 0);
  await fill('Compare guidance', 1);
  await fill('Timed repeats', o.reps);
  await fill('Quality samples', 0);
  await panel.getByRole('button', { name: 'Compare', exact: true }).click();
  const status = panel.getByLabel('Compare status');
  const progress = panel.getByRole('progressbar', { name: 'Compare progress' });
  let bar: ProgressBar | null = null;
  let barTotal = -1;
  let shown = -1;
  for (;;) {
    const text = ((await status.textContent().catch(() => '')) ?? '').trim();
    if (text === 'Done.') break;
    const error = panel.getByRole('alert', { name: 'Compare error' });
    if (await error.count()) throw new Error(`Compare on ${backend} failed: ${await error.textContent()}`);
    const max = Number(await progress.getAttribute('max').catch(() => null));
    const value = Number(await progress.getAttribute('value').catch(() => null));
    if (max > 1 && max !== barTotal) {
      bar = new ProgressBar(`${backend} ${samplerStepsLabel(c.sampler, c.steps)}`, max);
      barTotal = max;
    }
    if (value !== shown) bar?.update(value);
    shown = value;
    await page.waitForTimeout(500);
  }
  if (shown !== barTotal) bar?.update(barTotal);
  const [download] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: 'Download results (JSON)' }).click()]);
  return JSON.parse(readFileSync(await download.path(), 'utf8')) as CompareReport;
}

export async function benchInBrowser(o: BrowserBenchOptions): Promise<BrowserBenchResult> {
  const dist = o.dist ?? 'dist';
  if (!existsSync(`${dist}/index.html`)) {
    console.error(`bench: no built app in ${dist}/: running npm run build`);
    const build = spawnSync('npm', ['run', 'build', '--', '--outDir', dist], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('bench: npm run build failed');
  }
  // vite itself, not through npx: killing npx would leave the server running.
  const server = spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--outDir', dist, '--host', '127.0.0.1', '--port', String(o.port), '--strictPort'], { stdio: 'ignore' });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const result: BrowserBenchResult = { cases: [], notes: [], browser: `Chromium ${browser.version()}` };
  try {
    const url = `http://127.0.0.1:${o.port}/`;
    await waitForServer(url, server);
    for (const backend of o.backends) {
      for (const threads of backend === 'wasm' && o.threads?.length ? o.threads : [null]) {
        const query = `backend=${backend}${threads ? `&threads=${threads}` : ''}`;
        const label = threads ? `${backend} ${threads}t` : backend;
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
        try {
          const got = await openOn(page, url, query);
          if (got !== backend) {
            result.notes.push(`${backend}: not available in this browser (the app fell back to ${got || 'nothing'})`);
            break;
          }
          const rows: BenchCase[] = [];
          for (const c of o.cases) {
            const report = await compareOnce(page, label, c, o);
            for (const row of report.rows) {
              rows.push({
                where: 'chromium', backend: label, kind: 'sample', sampler: row.sampler, model: MODEL_NAMES[row.model], batch: row.batch, steps: row.steps,
                msPerImage: row.msPerImage, imagesPerSec: row.imagesPerSec, peakBytes: row.peakBytes, flopsPerImage: row.flopsPerImage,
              });
            }
          }
          const pageOptions = { url, query, backend: label, sampleSteps: o.cases.find((c) => c.sampler === 'ddim')?.steps ?? 20, batch: o.batch, reps: o.reps, trainBatch: o.page?.trainBatch ?? 16, trainSteps: o.page?.trainSteps ?? 30 };
          if (o.page?.sampling) {
            console.error(`bench: ${label}: the Sampling panel (recorder and frames on), DDIM-${pageOptions.sampleSteps}`);
            for (const row of await benchPageSampling(page, pageOptions, MODEL_NAMES)) {
              // FLOPs as the Compare row of the same model and case.
              row.flopsPerImage = rows.find((r) => row.model.startsWith(r.model) && r.sampler === row.sampler && r.steps === row.steps)?.flopsPerImage ?? 0;
              rows.push(row);
            }
          }
          if (o.page?.training) {
            console.error(`bench: ${label}: training each preset in the page, ${pageOptions.trainSteps} steps at batch ${pageOptions.trainBatch}`);
            rows.push(...(await benchPageTraining(page, pageOptions)));
          }
          result.cases.push(...rows);
        } finally {
          await page.close();
        }
      }
    }
  } finally {
    await browser.close();
    server.kill();
  }
  return result;
}
