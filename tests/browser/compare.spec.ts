/**
 * The Compare panel in a real browser: the pretrained pixel DDPM and LDM (public/models, served by
 * the app) sampled with the same settings, a row per model with time, memory, FLOPs and quality,
 * the ratio line, the sweep's table, progress with steps/s and time left, a bad sweep list refused
 * with a message, and no tensor left behind. Runs are tiny (2 steps, batch 2): WebGPU here is
 * SwiftShader, a CPU emulation.
 */
import { expect } from '@playwright/test';
import { openApp, region, test } from './fixtures';

const tensorCount = async (text: string | null) => Number(/([\d,]+) tensors/.exec(text ?? '')?.[1].replace(/,/g, ''));

for (const backend of ['wasm', 'webgpu']) {
  test(`compares pixel DDPM and LDM on ${backend}: table, ratios, sweep, no leaked tensors`, async ({ page }) => {
    test.setTimeout(300_000);
    await openApp(page, `backend=${backend}`);
    await expect(page.getByLabel('Active backend')).toHaveText(backend);
    const memory = page.getByLabel('Tensor memory');
    await expect(memory).toContainText('tensors');
    const before = await tensorCount(await memory.textContent());

    const compare = region(page, 'Compare');
    await compare.getByRole('spinbutton', { name: 'Compare steps' }).fill('2');
    await compare.getByRole('spinbutton', { name: 'Compare batch' }).fill('2');
    await compare.getByRole('spinbutton', { name: 'Timed repeats' }).fill('1');
    await compare.getByRole('spinbutton', { name: 'Quality samples' }).fill('4');
    const sweep = compare.getByRole('textbox', { name: 'Sweep step counts' });
    await sweep.fill('2, x');
    await expect(compare.getByText('"x" is not a step count from 1 to 1000.')).toBeVisible();
    await expect(compare.getByRole('button', { name: 'Compare and sweep' })).toBeDisabled();
    await sweep.fill('1');
    await compare.getByRole('button', { name: 'Compare and sweep' }).click();

    await expect(compare.getByLabel('Compare status')).toContainText(/steps\/s · .* left|Done/);
    await expect(compare.getByLabel('Compare status')).toHaveText('Done.', { timeout: 240_000 });
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
      await expect(cells.nth(4)).toHaveText(/^(0\.\d{3}|1\.000)$/); // confidence
      await expect(cells.nth(5)).toHaveText(/^\d+\.\d \(floor \d+\.\d, \d+\.\d\d×\)$/); // FD
    }
    await expect(compare.getByLabel('LDM against pixel DDPM')).toHaveText(/^LDM: \d+\.\d× the pixel DDPM's speed per image, \d+\.\d\d× its peak memory\.$/);
    // The sweep: 3 samplers × 1 step count × 2 models, and the chart of FD against time.
    await expect(compare.getByRole('table', { name: 'Sweep' }).getByRole('row')).toHaveCount(7);
    await expect(compare.getByRole('img', { name: 'FD over floor against milliseconds per image' })).toBeVisible();
    // The comparison's models were freed (the memory readout refreshes twice a second).
    await expect.poll(async () => tensorCount(await memory.textContent()), { timeout: 10_000 }).toBe(before);
  });
}
