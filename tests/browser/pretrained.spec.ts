/**
 * The pretrained models in the browser: the page starts by loading the pretrained pixel model, so
 * sampling works at once with no training, training fine-tunes it (steps go on from its count),
 * choosing the latent kind loads the latent one, and "Train from scratch" gives fresh weights.
 * Missing or damaged files get a clear message and the page falls back to training from scratch.
 *
 * The files are small stand-ins (tiny models trained two steps, tests/unit/pretrained-fixture.ts),
 * made once and served with page.route, so the tests are the same whether or not `npm run pretrain`
 * has written the real ones into public/models/, and need no network. Runs on the wasm backend:
 * WebGPU here is a CPU emulation (SwiftShader), far slower, and loading does not depend on it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';
import { openApp, openMoreSettings, region, test } from './fixtures';

let modelsDir = '';

test.beforeAll(() => {
  modelsDir = mkdtempSync(join(tmpdir(), 'pretrained-browser-'));
  execFileSync('npx', ['tsx', 'tests/browser/make-pretrained.ts', modelsDir], { stdio: 'pipe', timeout: 120_000 });
});

test.afterAll(() => {
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
});

const CONTENT_TYPES: Record<string, string> = { json: 'application/json', bin: 'application/octet-stream' };

/**
 * Serves models/<kind>/<file> from the test files, with `damage` applied to the bytes (return null
 * for a missing file: a 404).
 */
async function serveModels(page: Page, damage: (kind: string, file: string, bytes: Buffer) => Buffer | null = (_k, _f, b) => b): Promise<string[]> {
  const requested: string[] = [];
  await page.route('**/models/*/*', async (route) => {
    const url = new URL(route.request().url());
    const [, kind, file] = /\/models\/([^/]+)\/([^/]+)$/.exec(url.pathname) ?? [];
    requested.push(`${kind}/${file}`);
    let bytes: Buffer | null;
    try {
      bytes = readFileSync(join(modelsDir, kind, file));
    } catch {
      bytes = null;
    }
    bytes = bytes && damage(kind, file, bytes);
    if (bytes == null) return route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' });
    return route.fulfill({ status: 200, contentType: CONTENT_TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream', body: bytes });
  });
  return requested;
}

async function sample(page: Page, steps: number, images: number): Promise<void> {
  const sampling = region(page, 'Sampling');
  await sampling.getByRole('combobox', { name: 'Sampler' }).selectOption('ddim');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill(String(steps));
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill(String(images));
  await sampling.getByRole('button', { name: 'Sample' }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 120_000 });
  await expect(sampling.getByLabel('Sampling step', { exact: true })).toHaveText(`${steps} / ${steps}`);
}

/** True when the canvas has pixels that differ from each other (an image, not a blank or flat canvas). */
async function hasImage(page: Page, name: RegExp): Promise<boolean> {
  return region(page, 'Samples')
    .getByRole('img', { name })
    .first()
    .evaluate((el) => {
      const c = el as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4) seen.add(d[i]);
      return c.width > 0 && seen.size > 8;
    });
}

test('the page starts with the pretrained model: it samples at once, fine-tunes, and switches kind', async ({ page }) => {
  const requested = await serveModels(page);
  await openApp(page, '?backend=wasm', { pretrained: true });
  const model = region(page, 'Model');
  const source = model.getByRole('group', { name: 'Model source' });
  await expect(source.getByRole('radio', { name: 'Pretrained' })).toBeChecked();
  await expect(source.getByRole('radio', { name: 'Train from scratch' })).not.toBeChecked();
  const status = model.getByRole('status', { name: 'Model source status' });
  await expect(status).toContainText('Pretrained pixel DDPM (pixel (test fixture), plan test-fixture): 2 steps in 12 min 34 s');
  await expect(model.getByLabel('Pretrained steps')).toHaveText('2');
  await expect(model.getByLabel('Pretraining time')).toHaveText('12 min 34 s');
  await expect(model.getByLabel('Pretraining final loss')).toHaveText('0.0421');
  // The page took the pretrained model's setup (the fixture's: tiny, EMA 0.99, T = 100).
  await openMoreSettings(model);
  await expect(model.getByRole('combobox', { name: 'EMA decay' })).toHaveValue('0.99');
  await expect(region(page, 'Schedule').getByRole('spinbutton', { name: 'Diffusion steps T' })).toHaveValue('100');
  expect(requested).toEqual(['pixel/manifest.json', 'pixel/model.json', 'pixel/weights.bin']);

  // Sampling works at once: no training.
  const training = region(page, 'Training');
  await expect(training.getByLabel('Training step', { exact: true })).toHaveText('2 / 202');
  await sample(page, 4, 4);
  expect(await hasImage(page, /^(x_t|Samples) /), 'the canvas shows an image').toBe(true);
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();

  // Training fine-tunes it: the step count goes on from the pretrained 2.
  await expect(training.getByRole('spinbutton', { name: 'Learning rate' })).toHaveValue('0.0001');
  await training.getByRole('spinbutton', { name: 'Batch size' }).fill('2');
  await training.getByRole('spinbutton', { name: 'Steps', exact: true }).fill('4');
  await training.getByRole('spinbutton', { name: 'Preview every N steps' }).fill('0');
  await training.getByRole('button', { name: 'Start' }).click();
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('done', { timeout: 120_000 });
  await expect(training.getByLabel('Training step', { exact: true })).toHaveText('4 / 4');
  await expect(region(page, 'Loss').getByRole('figure', { name: 'Loss chart' })).toHaveAttribute('data-points', '2');

  // The model kind picks the other pretrained model; the fine-tuned one is not dropped without asking.
  await model.getByRole('combobox', { name: 'Model kind' }).selectOption('latent');
  const confirm = page.getByRole('group', { name: 'Confirm model change' });
  await confirm.getByRole('button', { name: 'Reset' }).click();
  await expect(status).toContainText('Pretrained latent diffusion (LDM)');
  await expect(model.getByRole('combobox', { name: 'Model kind' })).toHaveValue('latent');
  await expect(model.getByLabel('Pretrained steps')).toHaveText('2 + 2');
  await expect(training.getByLabel('Denoiser steps')).toHaveText('2 steps');
  await expect(training.getByRole('radio', { name: '2. Latent denoiser' })).toBeChecked();
  await sample(page, 2, 2);
  await expect(region(page, 'Samples').getByRole('img', { name: /^latent channel \d$/ })).toHaveCount(4);
  expect(await hasImage(page, /^(x_t decoded|Samples) /), 'the decoded canvas shows an image').toBe(true);
  // Back to pixel, straight away this time (nothing fine-tuned).
  await model.getByRole('combobox', { name: 'Model kind' }).selectOption('pixel');
  await expect(status).toContainText('Pretrained pixel DDPM');
  await expect(page.getByRole('group', { name: 'Confirm model change' })).toHaveCount(0);

  // Train from scratch: fresh weights with the panel's setup, the step count back at 0.
  await source.getByRole('radio', { name: 'Train from scratch' }).check();
  await expect(status).toHaveText('Fresh weights from the setup below: train the model, then sample.');
  await expect(training.getByLabel('Training step', { exact: true })).toHaveText(/^0 \//);
  await expect(model.getByRole('combobox', { name: 'EMA decay' })).toHaveValue('0.99');
  await expect(training.getByRole('spinbutton', { name: 'Learning rate' })).toHaveValue('0.002');
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();
});

test.describe('missing or damaged pretrained files', () => {
  // A 404 is logged by the browser as a console error: expected here.
  test.use({ allowConsoleErrors: true });

  test('missing files: a clear message, and training from scratch works', async ({ page }) => {
    await serveModels(page, () => null);
    await openApp(page, '?backend=wasm', { pretrained: true });
    const model = region(page, 'Model');
    const problem = model.getByRole('alert', { name: 'Pretrained model problem' });
    await expect(problem).toContainText('The pretrained pixel DDPM could not be loaded.');
    await expect(problem).toContainText('There is no pretrained pixel model yet (models/pixel/model.json is missing): run `npm run pretrain` to make it.');
    await expect(problem).toContainText('Training from scratch instead');
    await expect(model.getByRole('group', { name: 'Model source' }).getByRole('radio', { name: 'Train from scratch' })).toBeChecked();
    await expect(model.getByRole('combobox', { name: 'U-Net preset' })).toHaveValue('tiny');
    await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();

    const training = region(page, 'Training');
    await training.getByRole('spinbutton', { name: 'Batch size' }).fill('2');
    await training.getByRole('spinbutton', { name: 'Steps', exact: true }).fill('2');
    await training.getByRole('spinbutton', { name: 'Preview every N steps' }).fill('0');
    await training.getByRole('button', { name: 'Start' }).click();
    await expect(training.getByLabel('Training state', { exact: true })).toHaveText('done', { timeout: 120_000 });
    await expect(training.getByLabel('Training step', { exact: true })).toHaveText('2 / 2');
    await sample(page, 2, 4);
    expect(await hasImage(page, /^(x_t|Samples) /)).toBe(true);
  });

  test('a damaged weights.bin: a clear message, and the page falls back to training from scratch', async ({ page }) => {
    await serveModels(page, (_kind, file, bytes) => (file === 'weights.bin' ? bytes.subarray(0, 1000) : bytes));
    await openApp(page, '?backend=wasm', { pretrained: true });
    const model = region(page, 'Model');
    const problem = model.getByRole('alert', { name: 'Pretrained model problem' });
    await expect(problem).toContainText('The pretrained pixel model is damaged: model file:');
    await expect(model.getByRole('group', { name: 'Model source' }).getByRole('radio', { name: 'Train from scratch' })).toBeChecked();
    const training = region(page, 'Training');
    await training.getByRole('spinbutton', { name: 'Batch size' }).fill('2');
    await training.getByRole('spinbutton', { name: 'Steps', exact: true }).fill('1');
    await training.getByRole('button', { name: 'Start' }).click();
    await expect(training.getByLabel('Training state', { exact: true })).toHaveText('done', { timeout: 120_000 });
    await expect(training.getByLabel('Training step', { exact: true })).toHaveText('1 / 1');
  });
});
