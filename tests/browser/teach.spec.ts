/**
 * The teaching parts of the page: schedule plots that follow the Schedule panel, the
 * forward-process explorer, equations typeset by the bundled KaTeX (no request leaves the origin),
 * and presenter mode. Controls are found by role and accessible name.
 */
import { expect, type Locator, type Page } from '@playwright/test';
import { canvasHash, openApp, region, test } from './fixtures';

/** How many distinct grey levels a canvas holds (1 for a blank image). */
function greyLevels(canvas: Locator): Promise<number> {
  return canvas.evaluate((el) => {
    const c = el as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    for (let i = 0; i < d.length; i += 4) seen.add(d[i]);
    return seen.size;
  });
}

const chosenPath = (page: Page, chart: string) => region(page, 'Schedule').getByRole('figure', { name: chart }).locator('path.schedule-line--chosen');

/** The number of points of an SVG path made of M and L commands. */
const pointCount = (d: string) => (d.match(/[ML]/g) ?? []).length;

test('the schedule plots follow the kind, T and β range, with the other kinds overlaid', async ({ page }) => {
  await openApp(page);
  const schedule = region(page, 'Schedule');
  const legend = schedule.getByRole('list', { name: 'Schedule legend' });
  await expect(legend.getByRole('listitem')).toHaveText(['linear (chosen)', 'cosine', 'sigmoid', 'quadratic']);
  for (const chart of ['β_t chart', 'ᾱ_t chart', 'log-SNR chart']) {
    const figure = schedule.getByRole('figure', { name: chart });
    await expect(figure.locator('path.schedule-line--chosen')).toHaveCount(1);
    await expect(figure.locator('path.schedule-line--chosen')).not.toHaveAttribute('stroke-dasharray');
    // The three other kinds, dashed.
    const others = figure.locator('path.schedule-line:not(.schedule-line--chosen)');
    await expect(others).toHaveCount(3);
    for (const other of await others.all()) await expect(other).toHaveAttribute('stroke-dasharray', '5 4');
    // Recharts draws the axes.
    await expect(figure.locator('.recharts-cartesian-axis-tick-value').first()).toBeAttached();
  }
  const alphaBar = chosenPath(page, 'ᾱ_t chart');
  const linearD = (await alphaBar.getAttribute('d')) ?? '';
  expect(pointCount(linearD), 'points of ᾱ_t at T = 1000').toBeGreaterThan(100);
  expect(pointCount(linearD), 'points of ᾱ_t at T = 1000').toBeLessThanOrEqual(200);
  const alphaT = schedule.getByLabel('ᾱ_T', { exact: true });
  await expect(alphaT).toHaveText('4.04e−5');

  await schedule.getByRole('combobox', { name: 'Schedule kind' }).selectOption('cosine');
  await expect(alphaBar).not.toHaveAttribute('d', linearD);
  await expect(legend.getByRole('listitem')).toHaveText(['linear', 'cosine (chosen)', 'sigmoid', 'quadratic']);
  await expect(alphaT).not.toHaveText('4.04e−5');
  const cosineD = (await alphaBar.getAttribute('d')) ?? '';

  // T and the β range redraw at once.
  await schedule.getByRole('spinbutton', { name: 'Diffusion steps T' }).fill('50');
  await expect(alphaBar).not.toHaveAttribute('d', cosineD);
  await expect.poll(async () => pointCount((await alphaBar.getAttribute('d')) ?? '')).toBe(50);
  await schedule.getByRole('combobox', { name: 'Schedule kind' }).selectOption('linear');
  const betaPath = chosenPath(page, 'β_t chart');
  const before = (await betaPath.getAttribute('d')) ?? '';
  await schedule.getByRole('spinbutton', { name: 'β end' }).fill('0.01');
  await expect(betaPath).not.toHaveAttribute('d', before);
  await expect(schedule.getByLabel('β_T', { exact: true })).toHaveText('0.2000');

  // An invalid setting says so instead of plotting.
  await schedule.getByRole('spinbutton', { name: 'β end' }).fill('0.00001');
  await expect(schedule.getByText('Fix the settings above to see the schedule plotted.')).toBeVisible();
  await page.screenshot({ path: test.info().outputPath('schedule.png') });
});

test('the forward-process explorer noises a real digit, or a drawn one, as t moves', async ({ page }) => {
  await openApp(page);
  const explorer = region(page, 'Forward process');
  const digit = explorer.getByRole('combobox', { name: 'Digit x₀' });
  await expect(digit.locator('option', { hasText: /^Real digit 1: a \d$/ })).toHaveCount(1);
  await expect(digit).toHaveValue('0');
  const x0 = explorer.getByRole('img', { name: /^Clean digit x0/ });
  const xt = explorer.getByRole('img', { name: 'Noisy digit x_t' });
  expect(await greyLevels(x0), 'a real digit has grey levels').toBeGreaterThan(2);

  const slider = explorer.getByRole('slider', { name: 'Timestep t' });
  await slider.fill('1');
  await expect(explorer.getByLabel('Timestep t value')).toHaveText('1');
  await expect(explorer.getByLabel('Noise weight')).toHaveText('0.0100');
  const atStart = await canvasHash(xt);
  await slider.fill('600');
  await expect(explorer.getByLabel('Timestep t value')).toHaveText('600');
  await expect(explorer.getByLabel('Signal weight')).not.toHaveText('1.0000');
  const signal = Number(await explorer.getByLabel('Signal weight').textContent());
  const noise = Number(await explorer.getByLabel('Noise weight').textContent());
  expect(signal * signal + noise * noise).toBeCloseTo(1, 3);
  const atMiddle = await canvasHash(xt);
  expect(atMiddle).not.toBe(atStart);
  // The noise is fixed by its seed: back to t = 600 gives the same image; another seed does not.
  await slider.fill('601');
  await slider.fill('600');
  await expect.poll(() => canvasHash(xt)).toBe(atMiddle);
  await explorer.getByRole('spinbutton', { name: 'Noise seed' }).fill('5');
  await expect.poll(() => canvasHash(xt)).not.toBe(atMiddle);

  // Draw a digit with the mouse on a cleared pad.
  await explorer.getByRole('button', { name: 'Clear drawing' }).click();
  await expect(digit).toHaveValue('drawing');
  await expect.poll(() => greyLevels(x0)).toBe(1);
  const box = (await x0.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.8, { steps: 8 });
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.2, { steps: 8 });
  await page.mouse.up();
  expect(await greyLevels(x0), 'the stroke is drawn').toBeGreaterThan(1);
  await slider.fill('1');
  const drawnEarly = await canvasHash(xt);
  await slider.fill('900');
  await expect.poll(() => canvasHash(xt)).not.toBe(drawnEarly);
  await page.screenshot({ path: test.info().outputPath('forward.png') });
});

test('the equations are typeset by the bundled KaTeX, and nothing is fetched from elsewhere', async ({ page, baseURL }) => {
  const foreign: string[] = [];
  const fonts: string[] = [];
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(`${baseURL}/`) && !url.startsWith('data:') && !url.startsWith('blob:')) foreign.push(url);
  });
  page.on('response', (r) => {
    if (/\/assets\/KaTeX_[\w-]+\.woff2$/.test(r.url()) && r.ok()) fonts.push(r.url());
  });
  await openApp(page);
  const notes: [string, string][] = [
    ['Schedule', 'From β to ᾱ and the signal-to-noise ratio'],
    ['Forward process', 'The forward process'],
  ];
  for (const [panel, name] of notes) {
    const figure = region(page, panel).getByRole('figure', { name });
    await expect(figure.locator('.katex .katex-mathml math').first()).toBeAttached();
    await expect(figure.locator('figcaption')).not.toBeEmpty();
  }
  const training = page.getByRole('complementary', { name: 'Training objective' });
  await expect(training.getByRole('figure', { name: 'What training minimizes' }).locator('.katex-mathml math')).toHaveCount(1);
  await expect(training.locator('.katex-mathml annotation')).toContainText(String.raw`\epsilon - \epsilon_\theta(x_t, t)`);

  const samplers = page.getByRole('complementary', { name: 'Sampler equations' });
  const ddpm = samplers.getByRole('figure', { name: /^DDPM reverse step/ });
  const ddim = samplers.getByRole('figure', { name: /^DDIM step/ });
  await expect(ddpm.locator('.katex-mathml math')).toHaveCount(2);
  await expect(ddim.locator('.katex-mathml math')).toHaveCount(3);
  await expect(ddim).toHaveAccessibleName('DDIM step · chosen');
  await region(page, 'Sampling').getByRole('combobox', { name: 'Sampler' }).selectOption('ddpm');
  await expect(ddpm).toHaveAccessibleName('DDPM reverse step · chosen');
  await expect(ddim).toHaveAccessibleName('DDIM step');

  // KaTeX's fonts come from this origin's build, and no request left the origin.
  await page.evaluate(() => document.fonts.ready);
  await expect.poll(() => fonts.length).toBeGreaterThan(0);
  expect(await page.evaluate(() => document.fonts.check('16px KaTeX_Main'))).toBe(true);
  expect(foreign).toEqual([]);
});

test('presenter mode enlarges the sample canvas and the controls', async ({ page }) => {
  await openApp(page);
  await region(page, 'Model').getByRole('combobox', { name: 'U-Net preset' }).selectOption('tiny');
  const sampling = region(page, 'Sampling');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('2');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('4');
  await sampling.getByRole('button', { name: 'Sample' }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 120_000 });
  const canvas = region(page, 'Samples').getByRole('img', { name: /^(x_t|Samples) / });
  await expect(canvas).toBeVisible();
  const normal = (await canvas.boundingBox())!;
  const button = (await sampling.getByRole('button', { name: 'Sample' }).boundingBox())!;

  const toggle = page.getByRole('banner').getByRole('switch', { name: 'Presenter mode' });
  await expect(toggle).not.toBeChecked();
  await toggle.check();
  await expect(toggle).toBeChecked();
  // The stage already gives the images most of the width; presenter mode keeps them at least as wide
  // while everything else grows, and the grid stays within a 720 px high projector.
  await expect.poll(async () => (await canvas.boundingBox())!.width).toBeGreaterThan(normal.width);
  const shown = (await canvas.boundingBox())!;
  expect(shown.y + shown.height, 'the grid within 720 px').toBeLessThan(720);
  const big = (await sampling.getByRole('button', { name: 'Sample' }).boundingBox())!;
  expect(big.height, 'controls grow').toBeGreaterThan(button.height * 1.2);
  await page.screenshot({ path: test.info().outputPath('presenter.png') });

  await toggle.uncheck();
  await expect.poll(async () => Math.round((await canvas.boundingBox())!.width)).toBe(Math.round(normal.width));
});
