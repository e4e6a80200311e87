/**
 * The backend chosen by speed: with no `?backend=`, the worker times a small denoiser-like step on
 * every backend that starts and keeps the fastest. In this Chromium WebGPU and WebGL run on
 * SwiftShader (the CPU, emulating a GPU), far slower than wasm, so the page must choose wasm and
 * say why in the header; `?backend=webgpu` still forces WebGPU (no probe), and its first step says
 * that it is compiling shaders while it waits.
 */
import { expect } from '@playwright/test';
import { openApp, region, test } from './fixtures';

const HEADER_SHOT = { width: 1440, height: 900 };

test('with no ?backend=, the page chooses wasm over software WebGPU and says why', async ({ page }) => {
  await page.setViewportSize(HEADER_SHOT);
  const t0 = Date.now();
  await openApp(page);
  const readyMs = Date.now() - t0;
  await expect(page.getByLabel('Active backend')).toHaveText('wasm');
  const note = page.getByLabel('Backend choice');
  // e.g. "wasm: 31× faster here than WebGL (software: SwiftShader); WebGPU (software: SwiftShader):
  // more than 100× slower, its first step (shaders compiled) took over 1.5 s. …"
  await expect(note).toHaveText(/^wasm: /);
  const text = (await note.textContent()) ?? '';
  expect(text, 'a speed ratio').toMatch(/(\d+|\d+\.\d)× (faster here than|slower)/);
  expect(text, 'WebGPU named as software').toMatch(/WebGPU \((software|fallback)[^)]*\)/i);
  // Figures of every backend that finished, and the whole probe's time.
  expect(text).toMatch(/step took wasm [\d.]+ ms/);
  const probeSeconds = Number(/measured at start in ([\d.]+) s/.exec(text)?.[1]);
  expect(probeSeconds, 'the probe keeps to its budgets (1.5 s per GPU backend, plus starting them)').toBeLessThan(8);
  test.info().annotations.push({ type: 'backend choice', description: `${text} (page ready ${readyMs} ms after navigation)` });
  console.log(`backend choice: ${text}\npage ready ${readyMs} ms after navigation`);
  await page.locator('header.app-header').screenshot({ path: '/tmp/backend-default-header.png' });
  await page.screenshot({ path: '/tmp/backend-default.png' });
});

test('?backend=webgpu forces WebGPU with no probe; its first step says it compiles shaders', async ({ page }) => {
  await page.setViewportSize(HEADER_SHOT);
  const t0 = Date.now();
  await openApp(page, '?backend=webgpu');
  const readyMs = Date.now() - t0;
  console.log(`?backend=webgpu: page ready ${readyMs} ms after navigation`);
  await expect(page.getByLabel('Active backend')).toHaveText('webgpu');
  await expect(page.getByLabel('Adapter')).toContainText('swiftshader');
  await expect(page.getByLabel('Backend choice')).toHaveCount(0);
  await expect(page.getByRole('status', { name: 'Backend note' })).toHaveCount(0);

  // The first sampling step compiles the U-Net's shaders (seconds on SwiftShader): the canvas says so.
  await region(page, 'Model').getByRole('combobox', { name: 'U-Net preset' }).selectOption('tiny');
  const sampling = region(page, 'Sampling');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('2');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('1');
  await sampling.getByRole('button', { name: 'Sample' }).click();
  const wait = region(page, 'Samples').getByLabel('First step');
  await expect(wait).toContainText(/^Compiling shaders… \d+ s/);
  await page.screenshot({ path: '/tmp/backend-webgpu-compiling.png' });
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 120_000 });
  await expect(wait).toHaveCount(0);
});
