/**
 * Compare's quality against model evaluations in a real browser (wasm): the pretrained LDM with a
 * tiny N, fixed-step DDIM and DPM-Solver++, the adaptive solver, early stopping and the distilled
 * student (its rows measured when public/models/latent-distilled is there, else marked not
 * measured), progress with a rate and time left, the chart with N in its title, a row per
 * configuration, the JSON download, and the same tensor count after the run. Screenshots at
 * 1440×900 and 1280×720 go to the test's output folder.
 */
import { expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import type { CompareReport } from '../../src/eval/compare-report';
import { FAMILY_CASES } from '../../src/protocol/compare-evaluations';
import { openApp, region, test } from './fixtures';

const tensorCount = async (text: string | null) => Number(/([\d,]+) tensors/.exec(text ?? '')?.[1].replace(/,/g, ''));

async function distilledThere(page: Page): Promise<boolean> {
  const r = await page.request.get('models/latent-distilled/model.json');
  return r.ok() && !(r.headers()['content-type'] ?? '').includes('text/html');
}

test('charts FD / floor against model evaluations for every method on the LDM, with progress and a row per configuration', async ({ page }, info) => {
  test.setTimeout(420_000);
  await openApp(page, 'backend=wasm');
  await expect(page.getByLabel('Active backend')).toHaveText('wasm');
  const memory = page.getByLabel('Tensor memory');
  await expect(memory).toContainText('tensors');
  const before = await tensorCount(await memory.textContent());
  const compare = region(page, 'Compare');
  const evals = compare.getByRole('region', { name: 'Quality against model evaluations' });
  await expect(evals.getByRole('combobox', { name: 'Evaluations model' })).toHaveValue('latent');
  const n = evals.getByRole('spinbutton', { name: 'Samples per configuration' });
  await n.fill('1');
  await expect(evals.getByText('Samples per configuration must be between 2 and 1000.')).toBeVisible();
  await expect(evals.getByRole('button', { name: 'Quality against evaluations' })).toBeDisabled();
  await n.fill('3');
  // Every method is on by default: 17 configurations on the LDM.
  await expect(evals.getByText('17 configurations × 3 samples')).toBeVisible();
  // The methods' checkboxes plan the configurations (early stopping left out here, to keep the run short).
  await evals.getByRole('checkbox', { name: 'Adaptive DPM-Solver-12, by tolerance' }).uncheck();
  await evals.getByRole('checkbox', { name: 'DPM-Solver++-20 + early stop, by threshold' }).uncheck();
  await expect(evals.getByText('11 configurations × 3 samples')).toBeVisible();
  await evals.getByRole('checkbox', { name: 'Adaptive DPM-Solver-12, by tolerance' }).check();
  await expect(evals.getByText('14 configurations × 3 samples')).toBeVisible();
  await expect(evals.getByLabel('Evaluations estimate')).toHaveText(/^Estimated time on wasm: (a few seconds|about \d+ (s|min)) \(about \d+ model evaluations in all, per batch of samples, from the models' FLOPs at a typical speed\)\.$/);
  await page.setViewportSize({ width: 1440, height: 900 });
  await evals.getByRole('button', { name: 'Quality against evaluations' }).scrollIntoViewIfNeeded();
  await evals.getByRole('button', { name: 'Quality against evaluations' }).click();

  await expect(compare.getByLabel('Compare status')).toContainText(/(digits|steps)\/s · .* left/);
  await expect(compare.getByRole('button', { name: 'Stop evaluations' })).toBeEnabled();
  await page.screenshot({ path: info.outputPath('evaluations-running-1440.png') });
  await expect(compare.getByLabel('Compare status')).toHaveText('Done.', { timeout: 360_000 });

  const cases = [...FAMILY_CASES.ddim, ...FAMILY_CASES.dpmpp, ...FAMILY_CASES.adaptive, ...FAMILY_CASES.student];
  const table = compare.getByRole('table', { name: 'Quality against evaluations' });
  await expect(table).toContainText('LDM, N = 3 samples per configuration against 200 reference digits, guidance 1.3, seed 0, on wasm');
  const rows = table.getByRole('row');
  await expect(rows).toHaveCount(1 + cases.length);
  const cells = (name: string) => table.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) }).getByRole('cell');
  // Method | model evaluations | FD / floor FD | FD / floor | ms / image.
  await expect(cells('DDIM-5')).toHaveText(['5', /^\d+\.\d \/ \d+\.\d$/, /^\d+\.\d\d$/, /^\d+(\.\d+)?$/]);
  await expect(cells('DPM-Solver++-20').first()).toHaveText('20');
  await expect(cells('adaptive DPM-Solver-12 (rtol 0.05, atol 0.0078)').first()).toHaveText(/^\d+(\.\d)?( \(\d+–\d+\))?$/);
  const student = cells('distilled student, 4 steps');
  const chart = compare.getByRole('img', { name: /^FD over floor against model evaluations: LDM, N = 3/ });
  await expect(chart).toBeVisible();
  await expect(compare.getByRole('heading', { name: 'FD / floor against model evaluations, N = 3 per point' })).toBeVisible();
  if (await distilledThere(page)) {
    await expect(student.first()).toHaveText('4');
    await expect(chart.locator('.recharts-legend-item')).toHaveCount(4);
  } else {
    await expect(student.first()).toHaveText('not measured: the distilled LDM is not there (models/latent-distilled/: npm run distill makes it)');
    await expect(chart.locator('.recharts-legend-item')).toHaveCount(3);
  }
  await chart.scrollIntoViewIfNeeded();
  await page.screenshot({ path: info.outputPath('evaluations-1440.png') });
  await page.setViewportSize({ width: 1280, height: 720 });
  await chart.scrollIntoViewIfNeeded();
  await page.screenshot({ path: info.outputPath('evaluations-1280.png') });
  // The run's models were freed.
  await expect.poll(async () => tensorCount(await memory.textContent()), { timeout: 10_000 }).toBe(before);
  // The rows download with the settings they were measured with.
  const [download] = await Promise.all([page.waitForEvent('download'), compare.getByRole('button', { name: 'Download results (JSON)' }).click()]);
  const report = JSON.parse(readFileSync(await download.path(), 'utf8')) as CompareReport;
  expect(report.settings?.evaluations).toMatchObject({ model: 'latent', n: 3, guidance: 1.3, cases });
  expect(report.rows.map((r) => r.evaluation?.case)).toEqual(cases);
});
