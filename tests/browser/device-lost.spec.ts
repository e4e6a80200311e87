/**
 * A lost GPU device, for real: a test hook destroys the WebGPU backend's device (GPUDevice.destroy(),
 * so its `lost` promise resolves as after a driver reset), and the page restarts the engine on the
 * fastest backend but WebGPU (the start-up probe decides: on a machine without a GPU, wasm beats a
 * software WebGL), says so, and resumes training from the last checkpoint, losing at most one
 * checkpoint interval of steps. On SwiftShader, with the tiny U-Net at batch 1.
 */
import { expect, type Page } from '@playwright/test';
import { openApp, openMoreSettings, region, test } from './fixtures';

const CHECKPOINT_EVERY = 2;

const trainStep = async (page: Page): Promise<number> =>
  Number(((await region(page, 'Training').getByLabel('Training step', { exact: true }).textContent()) ?? '').split('/')[0]);

test('a lost GPU device moves training to the fastest other backend, says so, and resumes from the checkpoint', async ({ page }) => {
  test.setTimeout(300_000);
  await openApp(page, '?backend=webgpu&testhooks=1&unet=tiny&batch=1&tsteps=400&preview=0');
  await expect(page.getByLabel('Active backend')).toHaveText('webgpu');
  const training = region(page, 'Training');
  await openMoreSettings(training);
  await training.getByRole('spinbutton', { name: 'Checkpoint every N steps' }).fill(String(CHECKPOINT_EVERY));
  await training.getByRole('button', { name: 'Start' }).click();
  await expect(training.getByLabel('Last checkpoint')).toContainText(new RegExp(`step (${CHECKPOINT_EVERY}|[1-9]\\d+)\\b`), { timeout: 180_000 });

  const lostAt = await trainStep(page);
  const started = Date.now();
  expect(await page.evaluate(() => (window as unknown as { __playgroundTest: { loseDevice(): boolean } }).__playgroundTest.loseDevice())).toBe(true);

  const errors = page.getByRole('alert', { name: 'Errors' });
  await expect(errors).toContainText(/The GPU device was lost \(destroyed.*\)\. The engine was restarted without webgpu \(on the fastest backend left\) and training resumes from the checkpoint at step \d+/, { timeout: 60_000 });
  const resumedFrom = Number(/checkpoint at step (\d+)/.exec((await errors.textContent()) ?? '')![1]);
  expect(lostAt - resumedFrom, 'steps lost: at most one checkpoint interval').toBeLessThanOrEqual(CHECKPOINT_EVERY);
  await expect(page.getByLabel('Active backend')).toHaveText(/^(webgl|wasm)$/, { timeout: 60_000 });
  const now = (await page.getByLabel('Active backend').textContent()) ?? '';
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('running');
  // Recovered: the run goes on past the checkpoint on the new backend.
  await expect.poll(() => trainStep(page), { timeout: 120_000 }).toBeGreaterThan(resumedFrom);
  const seconds = (Date.now() - started) / 1000;
  test.info().annotations.push({ type: 'recovery', description: `from the device's loss to the first step on ${now}: ${seconds.toFixed(1)} s (lost at step ${lostAt}, resumed from ${resumedFrom})` });
  console.log(`device lost → first step on ${now}: ${seconds.toFixed(1)} s (lost at step ${lostAt}, resumed from ${resumedFrom})`);
  await errors.getByRole('button', { name: 'Dismiss' }).first().click();
});
