/**
 * The denoising player in the browser (wasm backend, untrained tiny U-Net, DDIM 8 steps, 4 images):
 * every position of the run is recorded; scrubbing shows that position's frame (the final one is
 * exactly the live view's final x_t), step back / forward move one position, play advances and
 * pause stops it, and the selected image's x_t, x̂0 and ε̂ are drawn large.
 */
import { expect } from '@playwright/test';
import { canvasHash, openApp, region, test } from './fixtures';

test('the denoising player scrubs, steps, plays and pauses through every step of a run', async ({ page }) => {
  await openApp(page, '?backend=wasm');
  const sampling = region(page, 'Sampling');
  await sampling.getByRole('combobox', { name: 'Sampler' }).selectOption('ddim');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('8');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('4');
  await sampling.getByRole('button', { name: 'Sample' }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 120_000 });

  const player = region(page, 'Denoising player');
  const slider = player.getByRole('slider', { name: 'Denoising step' });
  const step = player.getByLabel('Player step');
  const timestep = player.getByLabel('Player timestep');
  const grid = player.getByRole('img', { name: 'Every image at this step' });
  // It followed the run to its end: the final samples, exactly what the live view shows last.
  await expect(step).toHaveText('8 / 8');
  await expect(timestep).toHaveText('final sample');
  await expect(slider).toHaveAttribute('max', '8');
  const live = region(page, 'Samples').getByRole('img', { name: /^(x_t|Samples) / });
  const final = await canvasHash(grid);
  expect(final).toMatch(/^57x57:/);
  expect(final).toBe(await canvasHash(live));

  // Scrub: each step shows its own frame, with its own t (t falls as the steps go on).
  await slider.fill('0');
  await expect(step).toHaveText('0 / 8');
  const atNoise = await canvasHash(grid);
  await slider.fill('3');
  await expect(step).toHaveText('3 / 8');
  const t3 = Number(await timestep.textContent());
  const at3 = await canvasHash(grid);
  await slider.fill('6');
  await expect(step).toHaveText('6 / 8');
  const t6 = Number(await timestep.textContent());
  const at6 = await canvasHash(grid);
  expect(new Set([atNoise, at3, at6, final]).size, 'four different frames').toBe(4);
  expect(t6).toBeLessThan(t3);
  expect(t6).toBeGreaterThanOrEqual(0);

  // Step back and forward move by one position, and coming back redraws the same frame.
  await player.getByRole('button', { name: 'Step back' }).click();
  await expect(step).toHaveText('5 / 8');
  expect(await canvasHash(grid)).not.toBe(at6);
  await player.getByRole('button', { name: 'Step forward' }).click();
  await expect(step).toHaveText('6 / 8');
  expect(await canvasHash(grid)).toBe(at6);

  // The selected image, large: x_t, the predicted x0 and the predicted noise, all 28×28.
  const big = player.getByRole('img', { name: 'Selected image: x_t' });
  const x0 = player.getByRole('img', { name: 'Selected image: predicted x0' });
  const eps = player.getByRole('img', { name: 'Selected image: predicted noise ε' });
  for (const c of [big, x0, eps]) expect(await canvasHash(c)).toMatch(/^28x28:/);
  const first = await canvasHash(big);
  await player.getByRole('combobox', { name: 'Selected image' }).selectOption('2');
  await expect.poll(() => canvasHash(big)).not.toBe(first);
  expect(await canvasHash(grid), 'the grid stays at the same step').toBe(at6);

  // Play advances from the start to the end; Pause stops it where it is.
  await slider.fill('0');
  await player.getByRole('button', { name: 'Play' }).click();
  await expect.poll(async () => Number((await step.textContent())!.split(' / ')[0])).toBeGreaterThan(0);
  await player.getByRole('button', { name: 'Pause' }).click();
  const paused = await step.textContent();
  expect(paused).not.toBe('8 / 8');
  await page.waitForTimeout(800);
  await expect(step).toHaveText(paused!);
  await player.getByRole('button', { name: 'Play' }).click();
  await expect(step).toHaveText('8 / 8', { timeout: 10_000 });
  await expect(player.getByRole('button', { name: 'Play' })).toBeVisible();
  expect(await canvasHash(grid)).toBe(final);
  await page.locator('#stage').screenshot({ path: test.info().outputPath('player.png') });
});

test('a 200-step run of 16 images is recorded whole, and the player works while it runs', async ({ page }) => {
  await openApp(page, '?backend=wasm');
  const sampling = region(page, 'Sampling');
  await sampling.getByRole('combobox', { name: 'Sampler' }).selectOption('ddim');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('200');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('16');
  const player = region(page, 'Denoising player');
  const slider = player.getByRole('slider', { name: 'Denoising step' });
  const step = player.getByLabel('Player step');
  const t0 = await page.evaluate(() => performance.now());
  await sampling.getByRole('button', { name: 'Sample' }).click();

  // While the run goes on, the player follows it; scrubbing takes it over and it stays put.
  await expect.poll(async () => Number((await step.textContent())?.split(' / ')[0]), { timeout: 120_000 }).toBeGreaterThan(20);
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('running');
  await slider.fill('10');
  await expect(step).toHaveText('10 / 200');
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 150_000 });
  const t1 = await page.evaluate(() => performance.now());
  await expect(step).toHaveText('10 / 200');

  await expect(slider).toHaveAttribute('max', '200');
  await slider.fill('200');
  await expect(step).toHaveText('200 / 200');
  await slider.fill('137');
  await expect(step).toHaveText('137 / 200');
  await expect(player.getByLabel('Player timestep')).toHaveText(/^\d+$/);
  // Four rows of four digits with 1 px gaps.
  expect(await canvasHash(player.getByRole('img', { name: 'Every image at this step' }))).toMatch(/^115x115:/);

  // Not frozen: long tasks (> 50 ms, mostly the live view's on this busy 2-core machine) fill under half of the run.
  const longTasks = await page.evaluate(([a, b]) => window.__longTasks.filter((t) => t.start + t.duration >= a && t.start <= b), [t0, t1]);
  const busy = longTasks.reduce((sum, t) => sum + t.duration, 0);
  expect(busy, `${longTasks.length} long tasks in ${Math.round(t1 - t0)} ms of sampling`).toBeLessThan(0.5 * (t1 - t0));
});
