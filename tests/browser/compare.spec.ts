/**
 * The Compare panel in a real browser: the pretrained pixel DDPM and LDM (public/models, served by
 * the app) sampled with the same settings, a row per model with time, memory, FLOPs and quality,
 * the ratio line, the sweep's table and chart, progress with a rate and time left, bad settings
 * refused with a message, estimates of a run's duration before it starts, and no tensor left behind.
 * Runs are tiny (2 steps, batch 2). On wasm the whole panel (quality and sweep); on WebGPU
 * (SwiftShader, a CPU emulation: slow) timing only.
 */
import { expect, type Locator, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import type { CompareReport } from '../../src/eval/compare-report';
import { openApp, region, test } from './fixtures';

const tensorCount = async (text: string | null) => Number(/([\d,]+) tensors/.exec(text ?? '')?.[1].replace(/,/g, ''));

async function open(page: Page, backend: string) {
  await openApp(page, `backend=${backend}`);
  await expect(page.getByLabel('Active backend')).toHaveText(backend);
  const memory = page.getByLabel('Tensor memory');
  await expect(memory).toContainText('tensors');
  const compare = region(page, 'Compare');
  await compare.getByRole('spinbutton', { name: 'Compare steps' }).fill('2');
  await compare.getByRole('spinbutton', { name: 'Compare batch' }).fill('2');
  await compare.getByRole('spinbutton', { name: 'Timed repeats' }).fill('1');
  return { compare, memory, before: await tensorCount(await memory.textContent()) };
}

/** The main table's rows: ms / image, peak memory and FLOPs as numbers with units; quality as given. */
async function expectRows(compare: Locator, backend: string, quality: { confidence: RegExp | string; fd: RegExp | string }) {
  const table = compare.getByRole('table', { name: 'Comparison' });
  await expect(table).toContainText(`DDIM-2, batch 2, on ${backend}`);
  const rows = table.getByRole('row');
  await expect(rows).toHaveCount(3);
  for (const [i, name] of [[1, 'Pixel DDPM'], [2, 'LDM']] as const) {
    const cells = rows.nth(i).getByRole('cell');
    await expect(rows.nth(i).getByRole('rowheader')).toHaveText(name);
    await expect(cells.nth(0)).toHaveText(/^\d+(\.\d+)?$/); // ms / image
    await expect(cells.nth(2)).toHaveText(/^\d+(\.\d)? (KB|MB|GB)$/); // peak memory
    await expect(cells.nth(3)).toHaveText(/^\d+(\.\d+)? [kMG]$/); // FLOPs
    await expect(cells.nth(4)).toHaveText(quality.confidence);
    await expect(cells.nth(5)).toHaveText(quality.fd);
  }
  await expect(compare.getByLabel('LDM against pixel DDPM')).toHaveText(/^LDM: \d+\.\d× the pixel DDPM's speed per image, \d+\.\d\d× its peak memory\.$/);
  // Why: FLOPs per step and per image, the rate each reached, and the speed-up FLOPs allow against the measured one.
  const why = compare.getByRole('region', { name: 'Why the LDM is faster' });
  await expect(why.getByRole('table', { name: 'Where the time goes' }).getByRole('row')).toHaveCount(3);
  await expect(why.getByLabel('Speed-up explained')).toHaveText(/would be \d+\.\d× faster; measured here it is \d+\.\d×( \(slower\))?\./);
}

test('compares pixel DDPM and LDM on wasm: table, quality, ratios, sweep and chart, no leaked tensors', async ({ page }) => {
  test.setTimeout(240_000);
  const { compare, memory, before } = await open(page, 'wasm');
  await compare.getByRole('spinbutton', { name: 'Quality samples' }).fill('4');
  const reference = compare.getByRole('spinbutton', { name: 'FD reference digits' });
  await reference.fill('50');
  await expect(compare.getByText('FD reference digits must be between 100 and 9000.')).toBeVisible();
  await expect(compare.getByRole('button', { name: 'Compare', exact: true })).toBeDisabled();
  await reference.fill('200');
  const sweep = compare.getByRole('textbox', { name: 'Sweep step counts' });
  await sweep.fill('2, x');
  await expect(compare.getByText('"x" is not a step count from 1 to 1000.')).toBeVisible();
  await expect(compare.getByRole('button', { name: 'Compare and sweep' })).toBeDisabled();
  await sweep.fill('1');
  // Before any run, the durations are estimated from the models' FLOPs; after it, from its measured speed.
  const estimate = compare.getByLabel('Compare estimate');
  await expect(estimate).toContainText(/Compare (a few seconds|about \d+ (s|min)) · Compare and sweep .* · Thorough run \(DDIM-50, batch 16, .*\) about \d+ min\. Rough estimates from the models' FLOPs/);
  await compare.getByRole('button', { name: 'Compare and sweep' }).click();

  // Progress: first the FD reference's digits, then sampler steps, each with a rate and time left.
  await expect(compare.getByLabel('Compare status')).toContainText(/(digits|steps)\/s · .* left|Done/);
  await expect(compare.getByLabel('Compare status')).toHaveText('Done.', { timeout: 180_000 });
  await expectRows(compare, 'wasm', { confidence: /^(0\.\d{3}|1\.000)$/, fd: /^\d+\.\d \(floor \d+\.\d, \d+\.\d\d×\)$/ });
  await expect(estimate).toContainText("scaled from the last run's measured time per image on wasm");
  // The sweep: 3 samplers × 1 step count × 2 models, and the chart of FD against time.
  await expect(compare.getByRole('table', { name: 'Sweep' }).getByRole('row')).toHaveCount(7);
  await expect(compare.getByRole('img', { name: 'FD over floor against milliseconds per image' })).toBeVisible();
  // The comparison's models were freed (the memory readout refreshes twice a second).
  await expect.poll(async () => tensorCount(await memory.textContent()), { timeout: 10_000 }).toBe(before);
  // The results download as JSON: every row, with the settings they were measured with.
  const [download] = await Promise.all([page.waitForEvent('download'), compare.getByRole('button', { name: 'Download results (JSON)' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^compare-wasm-.*\.json$/);
  const report = JSON.parse(readFileSync(await download.path(), 'utf8')) as CompareReport;
  expect(report).toMatchObject({ format: 'diffusion-playground/compare', version: 1, backend: 'wasm', settings: { steps: 2, batch: 2, referenceDigits: 200, sweepSteps: [1] } });
  expect(report.rows).toHaveLength(8);
  expect(report.rows.filter((r) => !r.sweep).map((r) => r.model)).toEqual(['pixel', 'latent']);
  for (const row of report.rows) expect(row.msPerImage).toBeGreaterThan(0);
});

test('compares pixel DDPM and LDM on webgpu, timing only, and frees every tensor', async ({ page }) => {
  test.setTimeout(240_000);
  const { compare, memory, before } = await open(page, 'webgpu');
  await compare.getByRole('spinbutton', { name: 'Quality samples' }).fill('0');
  await compare.getByRole('button', { name: 'Compare', exact: true }).click();
  await expect(compare.getByLabel('Compare status')).toHaveText('Done.', { timeout: 180_000 });
  await expectRows(compare, 'webgpu', { confidence: '–', fd: '–' });
  await expect(compare.getByRole('table', { name: 'Sweep' })).toHaveCount(0);
  await expect.poll(async () => tensorCount(await memory.textContent()), { timeout: 10_000 }).toBe(before);
});
