/**
 * The page's own figures for `npm run bench` (./bench-compare.ts runs them on each backend and
 * thread count): what a user gets from the Sampling and Training panels, as opposed to the Compare
 * panel's timing of the model alone.
 *
 * - Sampling with the player's recorder and the live frames: the Sampling panel on each pretrained
 *   model (DDIM-N, the browser batch, guidance 1), one warm-up run and then `reps` runs, the median of
 *   their "Sampling wall time" per image. Beside the Compare panel's rows (no recorder, no frames)
 *   this is what the recorder and the frame stream cost.
 * - Training steps/s per preset: a fresh page (`pretrained=0`, the model set by the URL) trains
 *   `steps` steps at the bench's batch with no previews; steps/s is timed from the `warm`-th step
 *   (the first steps build kernels) to the end. An LDM trains its autoencoder, then its denoiser.
 */
import type { Page } from '@playwright/test';
import type { BenchCase } from './bench-table';
import { median } from '../eval/stats';

export interface PageBenchOptions {
  url: string;
  /** The page's query for backend and threads (`backend=wasm&threads=2`). */
  query: string;
  backend: string;
  sampleSteps: number;
  batch: number;
  reps: number;
  trainBatch: number;
  trainSteps: number;
}

/** Training presets measured in the page, as URL settings (names as in Node's rows, src/cli/bench.ts). */
export const PAGE_TRAIN_PRESETS: { name: string; query: string; latent: boolean; flops: number }[] = [
  { name: 'pixel tiny', query: 'model=pixel&unet=tiny', latent: false, flops: 6.6e6 },
  { name: 'pixel small', query: 'model=pixel&unet=small', latent: false, flops: 98.6e6 },
  { name: 'LDM tiny (ae-tiny + latent-tiny)', query: 'model=latent&ae=ae-tiny&lden=latent-tiny&lc=4', latent: true, flops: 2.0e6 },
  { name: 'LDM small (ae-small + latent-small)', query: 'model=latent&ae=ae-small&lden=latent-small&lc=4', latent: true, flops: 41.5e6 },
];

const region = (page: Page, name: string) => page.getByRole('region', { name, exact: true });

/** "197 ms" / "1.23 s" (the Sampling panel's format) in ms. */
export function parseMs(text: string): number {
  const m = /^([\d.]+) (ms|s)$/.exec(text.trim());
  if (!m) throw new Error(`bench: cannot read a time from "${text}"`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

async function waitReady(page: Page): Promise<void> {
  await page.getByLabel('Active backend').filter({ hasNotText: /starting|…/ }).waitFor({ timeout: 120_000 });
  await page.getByLabel('Tensor memory').filter({ hasText: 'tensors' }).waitFor({ timeout: 120_000 });
}

/** Sampling panel runs on the model the page holds: the median wall time per image of `reps` runs after a warm-up. */
async function samplePanel(page: Page, o: PageBenchOptions): Promise<number> {
  const sampling = region(page, 'Sampling');
  await sampling.getByRole('combobox', { name: 'Sampler' }).selectOption('ddim');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill(String(o.sampleSteps));
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill(String(o.batch));
  const times: number[] = [];
  for (let r = 0; r <= o.reps; r++) {
    await sampling.getByRole('button', { name: 'Sample' }).click();
    await sampling.getByLabel('Sampling state', { exact: true }).filter({ hasText: /^running$/ }).waitFor({ timeout: 60_000 }).catch(() => undefined);
    await sampling.getByLabel('Sampling state', { exact: true }).filter({ hasText: /^done$/ }).waitFor({ timeout: 600_000 });
    const wall = parseMs((await sampling.getByLabel('Sampling wall time').textContent()) ?? '');
    if (r > 0) times.push(wall / o.batch);
  }
  return median(times);
}

/** Rows for the Sampling panel (recorder and live frames on) on the pretrained pixel model and LDM. */
export async function benchPageSampling(page: Page, o: PageBenchOptions, names: { pixel: string; latent: string }): Promise<BenchCase[]> {
  const rows: BenchCase[] = [];
  await page.goto(`${o.url}?${o.query}`);
  await waitReady(page);
  const status = region(page, 'Model').getByRole('status', { name: 'Model source status' });
  await status.filter({ hasText: /^Pretrained pixel/ }).waitFor({ timeout: 120_000 });
  for (const kind of ['pixel', 'latent'] as const) {
    if (kind === 'latent') {
      await region(page, 'Model').getByRole('combobox', { name: 'Model kind' }).selectOption('latent');
      await status.filter({ hasText: /^Pretrained (LDM|latent)/i }).waitFor({ timeout: 120_000 });
    }
    // Guidance 1 (one network pass a step), as the Compare panel's rows; a pretrained model brings its own.
    await region(page, 'Sampling').getByRole('slider', { name: 'Guidance scale w' }).fill('1');
    const ms = await samplePanel(page, o);
    rows.push({ where: 'chromium', backend: o.backend, kind: 'sample', sampler: 'ddim', model: `${names[kind]}, Sampling panel (recorder, frames)`, batch: o.batch, steps: o.sampleSteps, msPerImage: ms, imagesPerSec: 1000 / ms, flopsPerImage: 0 });
  }
  return rows;
}

/** Trains the page's model for the form's steps; steps/s from the `warm`-th step to the last. */
async function trainTimed(page: Page, stage: string | null, steps: number, warm: number): Promise<number> {
  const training = region(page, 'Training');
  if (stage) await training.getByRole('radio', { name: stage }).check();
  await training.getByRole('spinbutton', { name: 'Steps', exact: true }).fill(String(steps));
  await training.getByRole('button', { name: 'Start' }).click();
  const stepText = training.getByLabel('Training step', { exact: true });
  const state = training.getByLabel('Training state', { exact: true });
  let warmAt: { t: number; step: number } | null = null;
  for (;;) {
    const now = performance.now();
    const [s, text] = await Promise.all([state.textContent(), stepText.textContent()]);
    const step = Number(/^(\d[\d,]*)/.exec((text ?? '').trim())?.[1]?.replace(/,/g, '') ?? NaN);
    if (!warmAt && step >= warm) warmAt = { t: now, step };
    if (s?.trim() === 'done') {
      if (!warmAt || step <= warmAt.step) throw new Error(`bench: training ${steps} steps finished before it could be timed (step ${step})`);
      return ((step - warmAt.step) * 1000) / (now - warmAt.t);
    }
    if (s?.trim() === 'failed' || (s?.trim() === 'idle' && warmAt)) throw new Error(`bench: training stopped at step ${step} (${s})`);
    await page.waitForTimeout(100);
  }
}

/** Rows for training in the page, each preset from fresh weights. */
export async function benchPageTraining(page: Page, o: PageBenchOptions): Promise<BenchCase[]> {
  const rows: BenchCase[] = [];
  const warm = Math.max(2, Math.round(o.trainSteps / 5));
  for (const p of PAGE_TRAIN_PRESETS) {
    await page.goto(`${o.url}?${o.query}&pretrained=0&${p.query}&batch=${o.trainBatch}&preview=0`);
    await waitReady(page);
    const stages: [string | null, string][] = p.latent ? [['1. Autoencoder', ': autoencoder'], ['2. Latent denoiser', ': latent denoiser']] : [[null, '']];
    for (const [stage, suffix] of stages) {
      const rate = await trainTimed(page, stage, o.trainSteps, warm);
      rows.push({ where: 'chromium', backend: o.backend, kind: 'train', model: `${p.name}${suffix}`, batch: o.trainBatch, msPerStep: 1000 / rate, stepsPerSec: rate, flopsPerImage: p.flops });
    }
  }
  return rows;
}
