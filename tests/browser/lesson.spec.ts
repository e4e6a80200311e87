/**
 * The page as a lesson: Sample is in the first screen (1440×900, and 1280×720 in presenter mode)
 * and works with one click; the guided tour walks through every step; captions name the run that
 * made the images, not the current form. Fresh tiny weights and 2 steps keep it quick.
 */
import { expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { openApp, region, test } from './fixtures';

const QUICK = 'backend=wasm&steps=2&n=4';

async function sampleOnce(page: Page): Promise<void> {
  const sampling = region(page, 'Sampling');
  const sample = sampling.getByRole('button', { name: 'Sample', exact: true });
  await expect(sample).toBeInViewport();
  await sample.click();
  await expect(sampling.getByLabel('Sampling state')).toHaveText('done');
}

for (const [width, height, presenter] of [
  [1440, 900, false],
  [1280, 720, true],
] as const) {
  test(`the first screen at ${width}×${height}${presenter ? ' (presenter)' : ''} has Sample, and one click samples`, async ({ page }) => {
    await page.setViewportSize({ width, height });
    await openApp(page, QUICK);
    if (presenter) await page.getByRole('switch', { name: 'Presenter mode' }).check();
    await sampleOnce(page);
    await expect(region(page, 'Samples').getByRole('img', { name: /^Samples — / })).toBeInViewport();
    await page.screenshot({ path: test.info().outputPath(`first-screen-${width}x${height}.png`) });
  });
}

test('the guided tour walks the lesson from the stage to the 2D lab, and can be skipped', async ({ page }) => {
  await openApp(page, QUICK);
  const lesson = page.getByRole('navigation', { name: 'Lesson' });
  await lesson.getByRole('button', { name: 'Take the tour' }).click();
  const tour = page.getByRole('dialog');
  const titles: string[] = [];
  for (;;) {
    titles.push((await tour.getByRole('heading').textContent()) ?? '');
    const next = tour.getByRole('button', { name: 'Next' });
    if ((await next.count()) === 0) break;
    await next.click();
  }
  expect(titles[0]).toMatch(/stage/i);
  expect(titles.at(-1)).toMatch(/2D lab/);
  expect(titles).toHaveLength(8);
  await expect(page.locator('#step-lab')).toBeInViewport();
  await page.screenshot({ path: test.info().outputPath('tour-last-step.png') });
  await tour.getByRole('button', { name: 'Finish tour' }).click();
  await expect(tour).toHaveCount(0);
  // Reachable again, and skippable at once.
  await lesson.getByRole('button', { name: 'Take the tour' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Skip tour' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
});

test('captions name the run that made the images after the model kind and digit change', async ({ page }) => {
  await openApp(page, `${QUICK}&digit=3`);
  await sampleOnce(page);
  const samples = region(page, 'Samples');
  const caption = /pixel DDPM \(tiny\) · DDIM-2 · digit 3 · w = [\d.]+, finished/;
  await expect(samples.getByRole('img', { name: /^Samples — / })).toHaveAccessibleName(caption);
  await region(page, 'Sampling').getByRole('combobox', { name: 'Digit' }).selectOption('5');
  await region(page, 'Model').getByRole('combobox', { name: 'Model kind' }).selectOption('latent');
  await expect(samples.getByRole('img', { name: /^Samples — / })).toHaveAccessibleName(caption);
  await expect(samples.getByText(caption)).toBeVisible();
});

test('no serious or critical accessibility violations (axe-core), on the page, during the tour and in presenter mode', async ({ page }) => {
  await openApp(page, QUICK);
  const serious = async (): Promise<string[]> => {
    const result = await new AxeBuilder({ page }).analyze();
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.length} × ${v.nodes[0]?.target.join(' ')} — ${v.help}`);
  };
  expect(await serious(), 'the page').toEqual([]);
  // Every lesson step is a section of the one page (scanned above); the tour adds its card.
  await page.getByRole('button', { name: 'Take the tour' }).click();
  expect(await serious(), 'the tour').toEqual([]);
  await page.getByRole('dialog').getByRole('button', { name: 'Skip tour' }).click();
  await page.getByRole('switch', { name: 'Presenter mode' }).check();
  expect(await serious(), 'presenter mode').toEqual([]);
});
