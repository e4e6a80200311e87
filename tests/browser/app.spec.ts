/**
 * Browser tests of the whole app (page + engine worker) on Debian's Chromium: WebGPU runs on
 * SwiftShader there (CPU emulation, slow), so every run uses the tiny preset, batch 2 and a few steps.
 * Controls are found by role and accessible name, as a user (or a screen reader) would find them.
 */
import { expect, type Locator, type Page } from '@playwright/test';
import { drawnImages, openApp, PANELS, recordDraws, region, test } from './fixtures';
import { UNET_PRESETS } from '../../src/models/setup/unet-config';

/** Tiny preset, batch 2, `steps` steps. */
async function configureTraining(page: Page, steps: number, previewEvery = 0): Promise<void> {
  await region(page, 'Model').getByRole('combobox', { name: 'U-Net preset' }).selectOption('tiny');
  const training = region(page, 'Training');
  await training.getByRole('spinbutton', { name: 'Batch size' }).fill('2');
  await training.getByRole('spinbutton', { name: 'Steps', exact: true }).fill(String(steps));
  await training.getByRole('spinbutton', { name: 'Preview every N steps' }).fill(String(previewEvery));
}

async function trainStep(training: Locator): Promise<number> {
  const text = (await training.getByLabel('Training step', { exact: true }).textContent()) ?? '';
  return Number(text.split('/')[0]);
}

test('the app loads fast and reports WebGPU on SwiftShader when asked for it', async ({ page }) => {
  const t0 = Date.now();
  // With no ?backend= the page chooses by speed (wasm here: tests/browser/backend-choice.spec.ts).
  await page.goto('/?backend=webgpu');
  for (const name of PANELS) await expect(region(page, name)).toBeVisible();
  const loadMs = Date.now() - t0;
  // Generous: on this shared 2-core machine a cold first page (KaTeX, charts) takes 1-3.5 s, and
  // 6.4 s was seen once with another job on the CPUs; a broken or hanging page still fails this.
  expect(loadMs, `panels visible after ${loadMs} ms`).toBeLessThan(10_000);

  await expect(page.getByLabel('Active backend')).toHaveText('webgpu');
  await expect(page.getByLabel('Adapter')).toContainText('swiftshader');
  await expect(page.getByRole('status', { name: 'Backend note' })).toHaveCount(0);
  await expect(page.getByLabel('Tensor memory')).toContainText('tensors');

  // Real digits and the split's counts.
  const data = region(page, 'Data');
  await expect(data.getByText(/training images/)).toBeVisible();
  await expect(data.getByRole('img', { name: 'Real MNIST digits' })).toBeVisible();
  // Parameter counts for every preset, from the model config.
  await expect(region(page, 'Model').getByRole('table', { name: 'Preset sizes' }).getByRole('row')).toHaveCount(UNET_PRESETS.length + 1); // a header and a row per U-Net preset
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();
  await page.screenshot({ path: test.info().outputPath('loaded.png') });
});

test('numeric inputs are validated with a visible message', async ({ page }) => {
  await openApp(page);
  const schedule = region(page, 'Schedule');
  const T = schedule.getByRole('spinbutton', { name: 'Diffusion steps T' });
  await T.fill('5');
  await expect(schedule.getByText('T must be between 10 and 1000.')).toBeVisible();
  await expect(T).toHaveAttribute('aria-invalid', 'true');
  await T.fill('40');
  await expect(schedule.getByText('T must be between 10 and 1000.')).toHaveCount(0);

  const sampling = region(page, 'Sampling');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('50');
  await expect(sampling.getByText('Sampling steps must be between 1 and 40.')).toBeVisible();
  await expect(sampling.getByRole('button', { name: 'Sample' })).toBeDisabled();

  const training = region(page, 'Training');
  await training.getByRole('spinbutton', { name: 'Batch size' }).fill('0');
  await expect(training.getByText('Batch size must be between 1 and 256.')).toBeVisible();
  await training.getByRole('spinbutton', { name: 'Learning rate' }).fill('0');
  await expect(training.getByText('Learning rate must be greater than 0.')).toBeVisible();
  await expect(training.getByRole('button', { name: 'Start' })).toBeDisabled();
});

test('the tiny preset trains, the loss chart gets points, and the main thread stays free', async ({ page }) => {
  // While training, the test must not poll the page itself (each poll is a main-thread task):
  // a MutationObserver reports the training state on the console and the test waits for that.
  await page.addInitScript(() => {
    let last = '';
    new MutationObserver(() => {
      const state = document.querySelector('[aria-label="Training state"]')?.textContent ?? '';
      if (state !== last) {
        last = state;
        console.debug(`training-state:${state}`);
      }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  await openApp(page);
  await configureTraining(page, 4);
  const training = region(page, 'Training');

  const done = page.waitForEvent('console', { predicate: (m) => m.text() === 'training-state:done', timeout: 150_000 });
  const t0 = await page.evaluate(() => performance.now());
  await training.getByRole('button', { name: 'Start' }).click();
  await done;
  const t1 = await page.evaluate(() => performance.now());
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('done');
  await expect(training.getByLabel('Training step', { exact: true })).toHaveText('4 / 4');

  const chart = region(page, 'Loss').getByRole('figure', { name: 'Loss chart' });
  await expect(chart).toHaveAttribute('data-points', /^[1-9]\d*$/);
  await expect(chart.locator('path.line--ema')).toHaveAttribute('d', /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){3}$/);
  await expect(chart.locator('.recharts-cartesian-axis-tick-value').getByText('0.01', { exact: true })).toBeVisible();
  await page.screenshot({ path: test.info().outputPath('trained.png') });
  await expect(training.getByLabel('Last loss')).toHaveText(/^\d+\.\d{4}$/);

  // No task that a user would feel as a freeze (a long task is ≥ 50 ms; a loaded 2-core machine
  // sometimes stretches an ordinary one just past that).
  const longTasks = await page.evaluate(([a, b]) => window.__longTasks.filter((t) => t.start + t.duration >= a && t.start <= b && t.duration >= 150), [t0, t1]);
  expect(longTasks, `tasks of 150 ms or more while training (${Math.round(t1 - t0)} ms of training)`).toEqual([]);

  // A model change now asks before resetting: Keep leaves everything as it was.
  const model = region(page, 'Model');
  const preset = model.getByRole('combobox', { name: 'U-Net preset' });
  await preset.selectOption('small');
  const confirm = page.getByRole('group', { name: 'Confirm model change' });
  await expect(confirm).toContainText('This changes the model: reset training?');
  await expect(training.getByRole('button', { name: 'Start' })).toBeDisabled();
  await confirm.getByRole('button', { name: 'Keep' }).click();
  await expect(confirm).toHaveCount(0);
  await expect(preset).toHaveValue('tiny');
  await expect(training.getByLabel('Training step', { exact: true })).toHaveText('4 / 4');
  // ... and Reset starts over with the new setup.
  await region(page, 'Schedule').getByRole('spinbutton', { name: 'Diffusion steps T' }).fill('500');
  await confirm.getByRole('button', { name: 'Reset' }).click();
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('idle');
  await expect(training.getByLabel('Training step', { exact: true })).toHaveText(/^0 \//);
  await expect(chart).toHaveAttribute('data-points', '0');
});

test('sampling a few steps changes the canvas between frames', async ({ page }) => {
  await recordDraws(page);
  await openApp(page);
  await region(page, 'Model').getByRole('combobox', { name: 'U-Net preset' }).selectOption('tiny');
  const sampling = region(page, 'Sampling');
  await sampling.getByRole('combobox', { name: 'Sampler' }).selectOption('ddim');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('8');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('4');
  await sampling.getByRole('button', { name: 'Sample' }).click();

  const xt = region(page, 'Samples').getByRole('img', { name: /^(x_t|Samples) / });
  await expect(xt).toBeVisible();
  await expect(region(page, 'Samples').getByRole('img', { name: 'Predicted x0' })).toBeVisible();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done');
  await expect(sampling.getByLabel('Sampling step', { exact: true })).toHaveText('8 / 8');
  await expect(sampling.getByLabel('Diffusion time t')).toHaveText(/^\d+$/);
  // Every image drawn into the live x_t canvas (a fast backend finishes 8 steps within a few animation frames).
  const hashes = await drawnImages(page, /^(x_t|Samples) /);
  expect(hashes.length, 'distinct canvas frames').toBeGreaterThan(1);
  // Four 28x28 digits in a 2x2 grid with a 1 px gap.
  expect(hashes[hashes.length - 1]).toMatch(/^57x57:/);
  await page.screenshot({ path: test.info().outputPath('sampled.png') });
});

test('training and sampling pause and resume', async ({ page }) => {
  await openApp(page);
  await configureTraining(page, 500);
  const training = region(page, 'Training');
  await training.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => trainStep(training), { timeout: 120_000 }).toBeGreaterThan(0);

  await training.getByRole('button', { name: 'Pause' }).click();
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('paused');
  await page.waitForTimeout(500); // a step in flight finishes at the next boundary
  const paused = await trainStep(training);
  await page.waitForTimeout(2500);
  expect(await trainStep(training), 'no steps while paused').toBe(paused);

  await training.getByRole('button', { name: 'Resume' }).click();
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('running');
  await expect.poll(() => trainStep(training), { timeout: 120_000 }).toBeGreaterThan(paused);
  await training.getByRole('button', { name: 'Reset' }).click();
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('idle');

  const sampling = region(page, 'Sampling');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('200');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('2');
  await sampling.getByRole('button', { name: 'Sample' }).click();
  const stepText = sampling.getByLabel('Sampling step', { exact: true });
  await expect(stepText).toHaveText(/^\d+ \/ 200$/, { timeout: 120_000 });
  await sampling.getByRole('button', { name: 'Pause' }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('paused');
  await page.waitForTimeout(500);
  const frozen = await stepText.textContent();
  await page.waitForTimeout(2000);
  await expect(stepText).toHaveText(frozen ?? '');
  await sampling.getByRole('button', { name: 'Resume' }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('running');
  await expect(stepText).not.toHaveText(frozen ?? '');
  await sampling.getByRole('button', { name: 'Cancel' }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('idle');
});

test('?backend=wasm&threads=2 runs on wasm with 2 threads: it trains and samples', async ({ page }) => {
  await openApp(page, '?backend=wasm&threads=2');
  await expect(page.getByLabel('Active backend')).toHaveText('wasm');
  await expect(page.getByRole('status', { name: 'Backend note' })).toHaveCount(0);
  // The preview server sends COOP/COEP, so the page is cross-origin isolated and wasm can run threaded.
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await expect(page.getByLabel('Adapter')).toHaveText('none (CPU, 2 wasm threads)');
  await configureTraining(page, 3);
  const training = region(page, 'Training');
  await training.getByRole('button', { name: 'Start' }).click();
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('done', { timeout: 120_000 });
  await expect(region(page, 'Loss').getByRole('figure', { name: 'Loss chart' })).toHaveAttribute('data-points', /^[1-9]\d*$/);

  const sampling = region(page, 'Sampling');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('4');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('4');
  await sampling.getByRole('button', { name: 'Sample' }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 120_000 });
  await expect(sampling.getByLabel('Sampling step', { exact: true })).toHaveText('4 / 4');
});

test('an unknown ?backend= name gets a visible note', async ({ page }) => {
  await openApp(page, '?backend=bogus');
  await expect(page.getByRole('status', { name: 'Backend note' })).toContainText('Unknown backend "bogus"');
  // As with no ?backend=: chosen by speed, wasm over this machine's software WebGPU.
  await expect(page.getByLabel('Active backend')).toHaveText('wasm');
  await expect(page.getByLabel('Backend choice')).toHaveText(/^wasm: /);
});

test.describe('when the worker cannot start', () => {
  test.use({ allowConsoleErrors: true });

  test('the page shows the failure in an alert, not a blank page', async ({ page }) => {
    await page.route(/\/assets\/worker[^/]*\.js/, (route) => route.abort());
    await page.goto('/');
    await expect(page.getByRole('alert', { name: 'Errors' })).toContainText('engine worker failed');
    await expect(page.getByLabel('Active backend')).toHaveText('not running');
    for (const name of PANELS) await expect(region(page, name)).toBeVisible();
    await expect(region(page, 'Training').getByRole('button', { name: 'Start' })).toBeDisabled();
  });
});
