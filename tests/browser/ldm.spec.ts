/**
 * Latent diffusion in the browser: the tiny LDM (ae-tiny + latent-tiny) trains stage 1 (the
 * autoencoder) and stage 2 (the latent denoiser) a few steps at batch 2, samples with a digit and
 * classifier-free guidance (the latent view shows every latent channel), and its files round-trip
 * through Export and Import. Every run is a few steps. The full flow runs on the wasm backend
 * (seconds); a shorter flow (one step per stage, two sampling steps) runs on WebGPU, which is a CPU
 * emulation (SwiftShader) here and far slower.
 */
import { expect, type Download, type Locator, type Page } from '@playwright/test';
import { drawnImages, openApp, recordDraws, region, sampleDdim, test } from './fixtures';

async function chooseTinyLdm(page: Page): Promise<void> {
  const model = region(page, 'Model');
  await model.getByRole('combobox', { name: 'Model kind' }).selectOption('latent');
  await model.getByRole('combobox', { name: 'Autoencoder preset' }).selectOption('ae-tiny');
  await model.getByRole('combobox', { name: 'Latent denoiser preset' }).selectOption('latent-tiny');
  await model.getByRole('combobox', { name: 'Latent channels' }).selectOption('4');
}

async function train(training: Locator, steps: number, previewEvery: number): Promise<void> {
  await training.getByRole('spinbutton', { name: 'Batch size' }).fill('2');
  await training.getByRole('spinbutton', { name: 'Steps', exact: true }).fill(String(steps));
  await training.getByRole('spinbutton', { name: 'Preview every N steps' }).fill(String(previewEvery));
  await training.getByRole('button', { name: 'Start' }).click();
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('done', { timeout: 120_000 });
}

test('stage 2 before stage 1 is refused with a clear alert', async ({ page }) => {
  await openApp(page);
  await chooseTinyLdm(page);
  const training = region(page, 'Training');
  await expect(training.getByRole('radio', { name: '1. Autoencoder' })).toBeChecked();
  await training.getByRole('radio', { name: '2. Latent denoiser' }).check();
  await expect(training.getByRole('note')).toContainText('Stage 2 needs stage 1');
  await training.getByRole('spinbutton', { name: 'Batch size' }).fill('2');
  await training.getByRole('button', { name: 'Start' }).click();
  const alerts = page.getByRole('alert', { name: 'Errors' });
  await expect(alerts).toContainText('Train the autoencoder first');
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('idle');
  // The sampler waits for the autoencoder too.
  await expect(region(page, 'Sampling').getByRole('button', { name: 'Sample' })).toBeDisabled();
  await alerts.getByRole('button', { name: 'Dismiss' }).click();
  await expect(alerts).toBeEmpty();
});

test('on WebGPU the tiny LDM trains both stages and samples in latent space', async ({ page }) => {
  test.setTimeout(300_000);
  await recordDraws(page);
  await openApp(page, 'backend=webgpu');
  await expect(page.getByLabel('Active backend')).toHaveText('webgpu');
  await chooseTinyLdm(page);
  const training = region(page, 'Training');
  await train(training, 1, 0);
  await expect(training.getByLabel('Autoencoder steps')).toHaveText('1 step');
  await training.getByRole('radio', { name: '2. Latent denoiser' }).check();
  await train(training, 1, 0);
  await expect(training.getByLabel('Denoiser steps')).toHaveText('1 step');
  await sampleDdim(page);
  expect(await drawnImages(page, /^x_t decoded/)).not.toEqual([]);
  expect(await drawnImages(page, /^latent channel 1$/), 'latent channel 1 drawn').not.toEqual([]);
});

test('the tiny LDM trains both stages, samples a digit with guidance, and its files round-trip', async ({ page }) => {
  await recordDraws(page);
  await openApp(page, '?backend=wasm');
  await expect(page.getByLabel('Active backend')).toHaveText('wasm');
  await chooseTinyLdm(page);
  const model = region(page, 'Model');
  await expect(model.getByLabel('Decode FLOPs')).toHaveText(/^\d/);
  const params = (await model.getByLabel('Parameter count').textContent()) ?? '';
  expect(params).toMatch(/^\d/);

  // Stage 1: the autoencoder, with reconstructions at step 2.
  const training = region(page, 'Training');
  await expect(training.getByRole('radio', { name: '1. Autoencoder' })).toBeChecked();
  await train(training, 2, 2);
  await expect(training.getByLabel('Autoencoder steps')).toHaveText('2 steps');
  const recon = training.getByRole('figure', { name: 'Autoencoder reconstructions' });
  await expect(recon).toContainText('at step 2');
  await expect(recon.getByRole('img', { name: 'Original held-out digits' })).toBeVisible();
  await expect(recon.getByRole('img', { name: 'Reconstructed digits' })).toBeVisible();
  const chart = region(page, 'Loss').getByRole('figure', { name: 'Loss chart' });
  await expect(chart).toContainText('Stage 1');
  await expect(model.getByLabel('Peak training memory')).toHaveText(/\d+(\.\d)? (B|KB|MB|GB)$/);

  // Stage 2: the latent denoiser; the loss chart starts over for it.
  await training.getByRole('radio', { name: '2. Latent denoiser' }).check();
  await train(training, 2, 0);
  await expect(training.getByLabel('Denoiser steps')).toHaveText('2 steps');
  await expect(chart).toContainText('Stage 2');
  await expect(chart).toHaveAttribute('data-points', '2');

  // Sample digit 3 with guidance 3: 4 DDIM steps.
  const sampling = region(page, 'Sampling');
  await sampling.getByRole('combobox', { name: 'Sampler' }).selectOption('ddim');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('4');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('4');
  await sampling.getByRole('combobox', { name: 'Digit' }).selectOption('3');
  const guidance = sampling.getByRole('slider', { name: 'Guidance scale w' });
  await guidance.focus();
  for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight'); // 1 → 3 in steps of 0.1
  await expect(sampling.getByLabel('Guidance scale value')).toHaveText('3.0');
  await sampling.getByRole('button', { name: 'Sample' }).click();

  const samples = region(page, 'Samples');
  const xt = samples.getByRole('img', { name: /^(x_t decoded|Samples) / });
  await expect(xt).toBeVisible();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done');
  await expect(sampling.getByLabel('Sampling step', { exact: true })).toHaveText('4 / 4');
  // The live view decodes within a time budget (a 4-step run may show only its last step); it ends on the decoded x_0.
  const hashes = await drawnImages(page, /^x_t decoded/);
  expect(hashes.length, 'x_t decoded drawn').toBeGreaterThan(0);
  expect(hashes[hashes.length - 1]).toMatch(/^57x57:/);
  expect(await drawnImages(page, /^latent channel 1$/), 'latent channel 1 drawn').not.toEqual([]);
  await expect(xt).toHaveAccessibleName(/digit 3/);
  await expect(samples.getByRole('img', { name: /^latent channel \d$/ })).toHaveCount(4);
  await expect(samples.getByRole('img', { name: 'Image 1: predicted x0 decoded' })).toBeVisible();
  // The denoising player keeps every step: decoded images, and the predicted noise as latent channels.
  const player = region(page, 'Denoising player');
  await expect(player.getByLabel('Player step')).toHaveText('4 / 4');
  await expect(player.getByRole('img', { name: /^Selected image: predicted noise ε, latent channel \d$/ })).toHaveCount(4);
  await player.getByRole('slider', { name: 'Denoising step' }).fill('1');
  await expect(player.getByLabel('Player step')).toHaveText('1 / 4');
  // Step 1 was decoded on demand: the player draws an x_t other than the last step's.
  await expect.poll(async () => (await drawnImages(page, /^Selected image: x_t$/)).length, { message: 'distinct x_t in the player' }).toBeGreaterThan(1);
  await expect(sampling.getByLabel('Sampling wall time')).toHaveText(/^\d+(\.\d+)? m?s$/);
  await expect(sampling.getByLabel('Time per image')).toHaveText(/^\d+(\.\d+)? m?s$/);
  await expect(model.getByLabel('Peak sampling memory')).toHaveText(/\d+(\.\d)? (B|KB|MB|GB)$/);
  // The stage only: sections out of view are not rendered (content-visibility), so a full-page shot shows them blank.
  await page.locator('#stage').screenshot({ path: test.info().outputPath('ldm-sampled.png') });

  // Export: two downloads, model.json and weights.bin.
  const files = region(page, 'Model files');
  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await files.getByRole('button', { name: 'Export model' }).click();
  await expect.poll(() => downloads.length, { timeout: 30_000 }).toBe(2);
  const names = downloads.map((d) => d.suggestedFilename()).sort();
  expect(names).toEqual(['diffusion-model.json', 'diffusion-weights.bin']);
  const paths = await Promise.all(
    downloads.map(async (d) => {
      const path = test.info().outputPath(d.suggestedFilename());
      await d.saveAs(path);
      return path;
    }),
  );

  // A fresh page (a new engine) imports them: the model, its size and its step counts are back.
  await openApp(page, '?backend=wasm');
  await expect(model.getByRole('combobox', { name: 'Model kind' })).toHaveValue('pixel');
  await files.getByLabel('Import model').setInputFiles(paths);
  await expect(model.getByRole('combobox', { name: 'Model kind' })).toHaveValue('latent');
  await expect(model.getByRole('combobox', { name: 'Autoencoder preset' })).toHaveValue('ae-tiny');
  await expect(model.getByLabel('Parameter count')).toHaveText(params);
  await expect(training.getByLabel('Autoencoder steps')).toHaveText('2 steps');
  await expect(training.getByLabel('Denoiser steps')).toHaveText('2 steps');
  await expect(training.getByRole('radio', { name: '2. Latent denoiser' })).toBeChecked();
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();

  // The imported weights sample (2 steps, 2 images).
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('2');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('2');
  await sampling.getByRole('button', { name: 'Sample' }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 120_000 });
  await expect(samples.getByRole('img', { name: /^latent channel \d$/ })).toHaveCount(4);
});

test('importing a single file says what is missing', async ({ page }) => {
  await openApp(page);
  await region(page, 'Model files')
    .getByLabel('Import model')
    .setInputFiles([{ name: 'model.json', mimeType: 'application/json', buffer: Buffer.from('{}') }]);
  await expect(page.getByRole('alert', { name: 'Errors' })).toContainText('one .json (the model) and one .bin');
});
