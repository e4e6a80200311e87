/**
 * The 2D lab on the WebGPU backend (headless Chromium: SwiftShader, a CPU emulation, so everything
 * is tiny): the lab reads nothing back synchronously, so it trains, samples particles (the learned
 * and the exact denoiser) and draws the density and both fields there, with no error shown; the
 * loss of a few dozen steps falls, and the particles land on the canvas (finite positions).
 */
import { expect, type Locator, type Page } from '@playwright/test';
import { openApp, region, test } from './fixtures';

/** Tiny: a 16×2 MLP, 500 training points, 200 particles, DDPM-8 (learned) beside DDIM-4 (exact). */
const QUERY = '?backend=webgpu&lab.width=16&lab.depth=2&lab.n=500&lab.batch=128&lab.steps=1&lab.particles=200&lab.a=ddpm.8.learned&lab.b=ddim.4.exact';

/** Canvas pixels of a colour family, as tests/browser/lab.spec.ts counts them. */
function countPixels(canvas: Locator, kind: 'particles' | 'learned' | 'exact' | 'heat'): Promise<number> {
  return canvas.evaluate((el, k) => {
    const c = el as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const match: Record<string, (r: number, g: number, b: number) => boolean> = {
      particles: (r, g, b) => b > 180 && g > 130 && r < 110,
      learned: (r, g, b) => b > 180 && g > 130 && r < 110,
      exact: (r, g, b) => g > 170 && r > 120 && r < 200 && b < 110,
      heat: (r, _g, b) => r > 120 && r > b + 20,
    };
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (match[k](d[i], d[i + 1], d[i + 2])) n++;
    return n;
  }, kind);
}

/** The EMA loss and its step from "EMA loss 0.8123 at step 40". */
async function lastLoss(page: Page): Promise<{ loss: number; step: number }> {
  const text = (await region(page, 'Lab training').getByLabel('Lab last loss').textContent()) ?? '';
  const m = /EMA loss ([\d.eE+-]+) at step (\d+)/.exec(text);
  expect(m, `last loss text: "${text}"`).not.toBeNull();
  return { loss: Number(m![1]), step: Number(m![2]) };
}

async function train(page: Page, steps: number): Promise<void> {
  const training = region(page, 'Lab training');
  await training.getByRole('spinbutton', { name: 'Training steps' }).fill(String(steps));
  await training.getByRole('button', { name: 'Train' }).click();
  await expect(training.getByLabel('Lab training state')).toHaveText('done', { timeout: 120_000 });
  await expect(training.getByLabel('Lab training step')).toHaveText(`${steps} / ${steps}`);
  await expect(training.getByLabel('Lab last loss')).toContainText(`at step ${steps}`);
}

test('the 2D lab trains, samples and draws its fields on WebGPU (SwiftShader)', async ({ page }, info) => {
  test.setTimeout(240_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  await openApp(page, QUERY);
  await expect(page.getByLabel('Active backend')).toHaveText('webgpu');
  const lab = region(page, '2D lab');
  await lab.scrollIntoViewIfNeeded();
  await expect(region(page, 'Lab data').getByLabel('Data facts')).toContainText('500 training points');
  await expect(lab.getByLabel('Lab parameter count')).not.toHaveText('–');

  // One step, then more: the loss is finite and falls (the EMA after 40 steps against step 1’s loss).
  const started = Date.now();
  await train(page, 1);
  const first = await lastLoss(page);
  await train(page, 40);
  const trained = await lastLoss(page);
  const seconds = (Date.now() - started) / 1000;
  const shown = await region(page, 'Lab training').getByLabel('Lab training time').textContent();
  console.log(`lab on webgpu: loss ${first.loss} at step 1 → EMA ${trained.loss} at step ${trained.step}; ${seconds.toFixed(1)} s for 40 steps with the page's waits (training time shown: ${shown})`);
  expect(Number.isFinite(first.loss) && Number.isFinite(trained.loss)).toBe(true);
  expect(trained.loss).toBeLessThan(first.loss);

  // Both panes sample: the learned MLP (DDPM-8) and the exact mixture denoiser (DDIM-4).
  const particles = region(page, 'Particles');
  const panes = particles.locator('figure.lab-pane');
  await particles.getByRole('button', { name: 'Sample' }).click();
  for (let k = 0; k < 2; k++) await expect(panes.nth(k)).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  await expect(particles.getByLabel('Left pane run')).toContainText('the samples');
  await expect(particles.getByLabel('Right pane run')).toContainText('the samples');
  for (const side of ['left', 'right']) {
    expect(await countPixels(particles.getByRole('img', { name: `Particles: ${side} pane` }), 'particles'), `${side} pane's particles drawn`).toBeGreaterThan(50);
  }

  // The density of x_t and the learned and exact fields at a chosen t.
  const fields = region(page, 'Density and field');
  await fields.getByRole('slider', { name: 'Noise level t' }).fill('0.5');
  await expect.poll(() => countPixels(fields.getByRole('img', { name: 'Density of x_t', exact: true }), 'heat'), { timeout: 60_000 }).toBeGreaterThan(500);
  await expect.poll(() => countPixels(fields.getByRole('img', { name: 'Learned field', exact: true }), 'learned'), { timeout: 60_000 }).toBeGreaterThan(100);
  await expect.poll(() => countPixels(fields.getByRole('img', { name: 'Exact field', exact: true }), 'exact'), { timeout: 60_000 }).toBeGreaterThan(100);

  // No error anywhere, and still on WebGPU (no device loss, no fallback).
  await expect(lab.getByRole('alert', { name: 'Lab error' })).toHaveCount(0);
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();
  await expect(page.getByLabel('Active backend')).toHaveText('webgpu');

  await lab.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: info.outputPath('lab-webgpu-1440x900.png') });
  await fields.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: info.outputPath('lab-webgpu-fields.png') });
});
