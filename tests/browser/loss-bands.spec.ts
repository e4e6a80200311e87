/**
 * Loss by timestep in the browser (wasm, tiny U-Net): after a short training run the Loss panel's
 * bar chart has 10 bands of t, with the mean loss of the bands that saw examples; a reset empties it.
 */
import { expect } from '@playwright/test';
import { openApp, region, test } from './fixtures';

test('a short training run fills the loss-by-timestep chart: 10 bands of t', async ({ page }) => {
  await openApp(page, '?backend=wasm');
  const chart = region(page, 'Loss').getByRole('figure', { name: 'Loss by timestep' });
  const bars = chart.getByRole('img', { name: /^t \d+–\d+: / });
  await expect(bars).toHaveCount(10);
  await expect(chart).toHaveAttribute('data-bands-filled', '0');
  await expect(bars.first()).toHaveAccessibleName('t 1–100: no examples yet');
  await expect(bars.last()).toHaveAccessibleName('t 901–1000: no examples yet');

  const training = region(page, 'Training');
  await training.getByRole('spinbutton', { name: 'Batch size' }).fill('16');
  await training.getByRole('spinbutton', { name: 'Steps', exact: true }).fill('6');
  await training.getByRole('spinbutton', { name: 'Preview every N steps' }).fill('0');
  await training.getByRole('button', { name: 'Start' }).click();
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('done', { timeout: 120_000 });

  // 96 examples over 10 bands: nearly every band has some (each is empty with probability 0.9^96).
  await expect(bars).toHaveCount(10);
  await expect(chart).toHaveAttribute('data-bands-filled', /^(9|10)$/);
  const names = await bars.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  const counted = names.map((n) => /over the last (\d+) examples$/.exec(n)).filter((m) => m !== null);
  expect(counted.reduce((sum, m) => sum + Number(m![1]), 0), names.join('\n')).toBe(96);
  for (const n of names) expect(n).toMatch(/: (no examples yet|mean loss \d)/);
  const heights = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('height'))));
  expect(Math.max(...heights)).toBeGreaterThan(0);
  await page.locator('#step-learn').screenshot({ path: test.info().outputPath('loss-bands.png') });

  await training.getByRole('button', { name: 'Reset' }).click();
  await expect(chart).toHaveAttribute('data-bands-filled', '0');
});
