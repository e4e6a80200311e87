/**
 * The live quality curve in the browser (wasm, tiny U-Net, tiny N): turned on in the Training
 * panel, a short training run gets a check scored by the evaluation classifier, and its point
 * appears in the "Quality while training" chart with its figures written out; screenshots at
 * 1440×900 and 1280×720.
 */
import { expect } from '@playwright/test';
import { openApp, region, test } from './fixtures';

test('turning the quality curve on and training puts points in its chart', async ({ page }) => {
  await openApp(page, '?backend=wasm');
  const training = region(page, 'Training');
  const quality = training.getByRole('region', { name: 'Quality while training' });
  const chart = quality.getByRole('figure', { name: 'Quality while training chart' });
  const toggle = quality.getByRole('checkbox', { name: 'Score samples while training' });
  await expect(toggle).not.toBeChecked(); // off by default
  await expect(chart).toHaveAttribute('data-points', '0');

  await toggle.check();
  await quality.getByRole('spinbutton', { name: 'Samples per check' }).fill('20');
  await training.getByRole('spinbutton', { name: 'Batch size' }).fill('8');
  await training.getByRole('spinbutton', { name: 'Steps', exact: true }).fill('40');
  await training.getByRole('spinbutton', { name: 'Preview every N steps' }).fill('20');
  await training.getByRole('button', { name: 'Start' }).click();

  await expect(chart).toHaveAttribute('data-points', /^[1-9]\d*$/, { timeout: 150_000 });
  await expect(chart.getByRole('status')).toHaveText(/^Step \d+ \(\d+:\d\d of training\): confidence 0\.\d{3}, label entropy \d\.\d\d of 2\.30 nats, FD [\d.]+ = [\d.]+× the floor \([\d.]+\); 20 samples/);
  await expect(chart.locator('.recharts-line-dots circle').first()).toBeVisible(); // one dot per check and series
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('done', { timeout: 150_000 });

  for (const [w, h] of [
    [1440, 900],
    [1280, 720],
  ] as const) {
    await page.setViewportSize({ width: w, height: h });
    await quality.scrollIntoViewIfNeeded();
    await page.screenshot({ path: test.info().outputPath(`quality-curve-${w}x${h}.png`) });
  }

  // Reset starts the curve over; the setting stays on.
  await training.getByRole('button', { name: 'Reset' }).click();
  await expect(chart).toHaveAttribute('data-points', '0');
  await expect(toggle).toBeChecked();
});
