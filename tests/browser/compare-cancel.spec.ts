/**
 * Stop during a Compare run, in a real browser on wasm with the pretrained models: the panel says
 * stopped within 2 s even while the quality samples are being generated, keeps the row measured
 * before the stop (marked partial), and the engine samples right after. Tiny settings (DDIM-2,
 * batch 2), so the run is short.
 */
import { expect } from '@playwright/test';
import { openApp, region, test } from './fixtures';

test('Stop ends a Compare run within 2 s, keeps its finished row, and Sample works right after', async ({ page }) => {
  test.setTimeout(120_000);
  await openApp(page, 'backend=wasm', { pretrained: true });
  await expect(page.getByLabel('Active backend')).toHaveText('wasm');
  const compare = region(page, 'Compare');
  // The default is the quick run, and the thorough one comes with an estimate of its duration.
  await expect(compare.getByRole('spinbutton', { name: 'Compare steps' })).toHaveValue('20');
  await expect(compare.getByLabel('Compare estimate')).toContainText(/Compare about \d+ s .*Thorough run \(DDIM-50, .*\) about \d+ min/);
  for (const [name, value] of [['Compare steps', 2], ['Compare batch', 2], ['Timed repeats', 1], ['Quality samples', 200], ['FD reference digits', 100]] as const) {
    await compare.getByRole('spinbutton', { name }).fill(String(value));
  }
  await compare.getByRole('button', { name: 'Compare', exact: true }).click();

  // Per model: 2 steps × (warm-up + 1 timed batch + 100 quality batches) = 204; the LDM's quality samples start at
  // step 208 of 408. 100 batches keep the LDM busy for seconds: with 12 its tiny steps once ended before the click landed.
  const bar = compare.getByRole('progressbar', { name: 'Compare progress' });
  await expect(compare.getByRole('table', { name: 'Comparison' }).getByRole('row').nth(1).getByRole('cell').first()).toHaveText(/^\d+(\.\d+)?$/, { timeout: 60_000 });
  await expect.poll(async () => Number(await bar.getAttribute('max')), { timeout: 30_000 }).toBe(408);
  await expect.poll(async () => Number(await bar.getAttribute('value')), { timeout: 30_000, intervals: [50] }).toBeGreaterThanOrEqual(210);
  const stoppedAt = Number(await bar.getAttribute('value'));

  const status = compare.getByLabel('Compare status');
  const t0 = Date.now();
  await compare.getByRole('button', { name: 'Stop comparing' }).click();
  await expect(status).toHaveText(/^Stopped/, { timeout: 2_000 });
  const latency = Date.now() - t0;
  console.log(`Compare stop: ${latency} ms from the click to "Stopped", clicked at step ${stoppedAt} of 408`);
  expect(latency).toBeLessThan(2_000);

  // The pixel row measured before the stop stays; the LDM's is marked as never measured.
  const table = compare.getByRole('table', { name: 'Comparison' });
  await expect(table).toContainText('partial results');
  await expect(table.getByRole('row').nth(1).getByRole('rowheader')).toHaveText('Pixel DDPM');
  await expect(table.getByRole('row').nth(2)).toContainText('not measured (stopped)');
  await expect(compare.getByText(/Partial results: 1 of 2 models measured before the stop/)).toBeVisible();

  // The engine is free at once: a sampling run starts and ends with samples on the canvas.
  const sampling = region(page, 'Sampling');
  await sampling.getByRole('combobox', { name: 'Sampler' }).selectOption('ddim');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('2');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('2');
  await sampling.getByRole('button', { name: 'Sample', exact: true }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 30_000 });
  await expect(sampling.getByLabel('Sampling step', { exact: true })).toHaveText('2 / 2');
  // The first sample drawn: a canvas with many grey levels, not a blank one.
  const distinct = await region(page, 'Samples')
    .getByRole('img')
    .first()
    .evaluate((el) => {
      if (!(el instanceof HTMLCanvasElement)) return 0;
      const d = el.getContext('2d')!.getImageData(0, 0, el.width, el.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4) seen.add(d[i]);
      return seen.size;
    });
  expect(distinct, 'the samples canvas shows an image').toBeGreaterThan(8);
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();
});
