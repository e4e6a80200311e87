/**
 * The 2D lab in the browser (wasm): 8 Gaussians trains to the quality target the page shows
 * (distance ≤ 2× the floor, every mode covered); the particles, paths, density and field views
 * draw; drawn points become a data set that trains; bad input gets a message. It also measures the
 * particle animation's frame rate while the model trains, and the long tasks of the whole run.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, type Locator, type Page } from '@playwright/test';
import { DEFAULT_LAB_SETUP } from '../../src/protocol/lab-messages';
import { openApp, region, test } from './fixtures';

/** Pixels of a canvas whose colour matches `test` (r, g, b, alpha over the dark background). */
function countPixels(canvas: Locator, kind: 'particles' | 'paths' | 'heat' | 'learned' | 'exact' | 'difference'): Promise<number> {
  return canvas.evaluate((el, k) => {
    const c = el as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const match: Record<string, (r: number, g: number, b: number) => boolean> = {
      particles: (r, g, b) => b > 180 && g > 130 && r < 110, // #38bdf8
      learned: (r, g, b) => b > 180 && g > 130 && r < 110,
      paths: (r, g, b) => r > 200 && g > 140 && b < 110, // #fbbf24 and friends
      exact: (r, g, b) => g > 170 && r > 120 && r < 200 && b < 110, // #a3e635
      difference: (r, g, b) => r > 190 && g < 150 && b < 150, // #f87171
      heat: (r, _g, b) => r > 120 && r > b + 20, // the warm part of the ramp
    };
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (match[k](d[i], d[i + 1], d[i + 2])) n++;
    return n;
  }, kind);
}

/** Presses Sample and waits for both panes' new runs to finish (their old captions may say "the samples" too). */
async function sampleAndWait(particles: Locator): Promise<void> {
  const panes = particles.locator('figure.lab-pane');
  const before = await panes.evaluateAll((fs) => fs.map((f) => f.getAttribute('data-run') ?? ''));
  await particles.getByRole('button', { name: 'Sample' }).click();
  for (let k = 0; k < 2; k++) {
    await expect(panes.nth(k)).not.toHaveAttribute('data-run', before[k]);
    await expect(panes.nth(k)).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  }
}

async function openLab(page: Page): Promise<Locator> {
  await openApp(page, '?backend=wasm');
  const lab = region(page, '2D lab');
  await lab.scrollIntoViewIfNeeded();
  return lab;
}

test('8 Gaussians trains to the quality target; particles, paths, density and fields draw', async ({ page }, info) => {
  // About 30 s on a quiet machine (2,500 steps at ~200 steps/s); the limits leave room for a loaded one.
  test.setTimeout(240_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  const lab = await openLab(page);
  await lab.getByRole('button', { name: '8 Gaussians in 10 seconds' }).click();
  await expect(lab.getByLabel('Data facts')).toContainText('2,000 training points');
  await expect(lab.getByLabel('Data facts')).toContainText('exact score is known');
  await expect(lab.getByLabel('Lab parameter count')).not.toHaveText('–');

  // Sample once from the untrained model: particles to animate while it trains.
  const particles = region(page, 'Particles');
  await sampleAndWait(particles);
  await expect(particles.getByLabel('Right pane run')).toContainText('model evaluations');

  // Train, and play the particles while it trains: frames per second and canvas redraws.
  const training = region(page, 'Lab training');
  await training.getByRole('button', { name: 'Train' }).click();
  await expect(training.getByLabel('Lab training state')).toHaveText('running');
  await expect(training.getByLabel('Lab steps per second')).not.toHaveText('–');
  const panes = particles.locator('.lab-panes');
  const before = Number(await panes.getAttribute('data-frames'));
  await particles.getByRole('button', { name: 'Play' }).click();
  const { frames, fps, animationLong } = await page.evaluate(
    () =>
      new Promise<{ frames: number; fps: number; animationLong: number[] }>((resolve) => {
        let frames = 0;
        const start = performance.now();
        const tick = (now: number) => {
          frames++;
          if (now - start < 3000) requestAnimationFrame(tick);
          else resolve({ frames, fps: (frames * 1000) / (now - start), animationLong: window.__longTasks.filter((t) => t.start >= start && t.start < now).map((t) => t.duration) });
        };
        requestAnimationFrame(tick);
      }),
  );
  const drawn = Number(await panes.getAttribute('data-frames')) - before;
  const stillTraining = await training.getByLabel('Lab training state').textContent();
  const rate = await training.getByLabel('Lab steps per second').textContent();
  console.log(`lab: ${fps.toFixed(1)} animation frames/s over 3 s with training ${stillTraining} (${rate} steps/s); ${drawn} particle redraws (2 panes × 2,000 particles each); ${animationLong.length} long tasks in those 3 s${animationLong.length ? ` (${animationLong.map((d) => d.toFixed(0)).join(', ')} ms)` : ''}`);
  // Every animation frame redraws the particles while playing (however many frames the machine gives).
  expect(drawn, 'the particles are redrawn every frame while playing').toBeGreaterThanOrEqual(Math.floor(0.8 * frames));

  await expect(training.getByLabel('Lab training state')).toHaveText('done', { timeout: 150_000 });
  const seconds = Number.parseFloat((await training.getByLabel('Lab training time').textContent()) ?? 'NaN');
  console.log(`lab: trained ${await training.getByLabel('Lab training step').textContent()} steps in ${seconds} s`);

  // Quality: the trained samples reach the target the page states.
  const quality = region(page, 'Lab quality');
  await quality.getByRole('button', { name: 'Measure quality' }).click();
  await expect(quality.getByLabel('Quality state')).toHaveText('done', { timeout: 60_000 });
  const target = quality.getByLabel('Quality target');
  console.log(`lab: ${await target.textContent()}`);
  await expect(target).toContainText('target met');
  await expect(target).toContainText('8 / 8 modes');
  await expect(quality.getByRole('figure', { name: 'Mode coverage' })).toBeVisible();
  await expect(quality.getByRole('table', { name: 'Lab quality rows' }).getByRole('row')).toHaveCount(1 + 3 * 4 * 2);

  // Sample the trained model: particles and the paths of a few of them.
  await sampleAndWait(particles);
  await expect(particles.getByLabel('Right pane run')).toContainText('the samples');
  await expect(particles.getByLabel('Particle player step')).toHaveText('100 / 100');
  const left = particles.getByRole('img', { name: 'Particles: left pane' });
  expect(await countPixels(left, 'particles')).toBeGreaterThan(500);
  expect(await countPixels(left, 'paths')).toBeGreaterThan(100);
  // Scrub to the start: pure noise, no paths yet.
  await particles.getByRole('slider', { name: 'Reverse step' }).press('Home');
  await expect(particles.getByLabel('Left pane run')).toContainText('x_T: pure noise');
  await particles.getByRole('button', { name: 'Step forward' }).click();
  await expect(particles.getByLabel('Particle player step')).toHaveText('1 / 100');

  // Density and fields at a chosen t: learned, exact and their difference all draw arrows.
  const fields = region(page, 'Density and field');
  await fields.getByRole('slider', { name: 'Noise level t' }).fill('0.2');
  await expect(fields.getByLabel('Noise level value')).toHaveText('t = 201 of 1000');
  await expect(fields.getByRole('img', { name: 'Density of x_t', exact: true }).locator('..')).toContainText('t = 201');
  await expect.poll(() => countPixels(fields.getByRole('img', { name: 'Density of x_t', exact: true }), 'heat')).toBeGreaterThan(1000);
  await expect.poll(() => countPixels(fields.getByRole('img', { name: 'Learned field', exact: true }), 'learned')).toBeGreaterThan(300);
  await expect.poll(() => countPixels(fields.getByRole('img', { name: 'Exact field', exact: true }), 'exact')).toBeGreaterThan(300);
  await expect.poll(() => countPixels(fields.getByRole('img', { name: 'Learned minus exact field' }), 'difference')).toBeGreaterThan(50);

  // Screenshots with the trained samples shown: the lab from its top, then a projector's view of the particles.
  await particles.getByRole('slider', { name: 'Reverse step' }).press('End');
  await expect(particles.getByLabel('Left pane run')).toContainText('the samples');
  await lab.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: info.outputPath('lab-1440x900.png') });
  await fields.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: info.outputPath('lab-1440x900-fields-quality.png') });
  await page.setViewportSize({ width: 1280, height: 720 });
  await particles.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: info.outputPath('lab-1280x720.png') });
  await fields.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: info.outputPath('lab-1280x720-fields.png') });

  // Every long task of the test, from the page's opening (the whole app's start-up included) to the screenshots.
  const long = await page.evaluate(() => window.__longTasks);
  console.log(`lab: ${long.length} long tasks in the whole test, longest ${Math.max(0, ...long.map((t) => t.duration)).toFixed(0)} ms: ${long.map((t) => t.duration.toFixed(0)).join(', ')}`);
});

test('drawn points become a data set that trains; bad input gets a message', async ({ page }) => {
  test.setTimeout(60_000);
  const lab = await openLab(page);
  const data = region(page, 'Lab data');
  await data.getByRole('combobox', { name: 'Data set' }).selectOption('drawn');
  const canvas = data.getByRole('img', { name: /Drawing canvas/ });
  await data.getByRole('button', { name: 'Use these points' }).click();
  await expect(lab.getByLabel('Lab message')).toContainText('at least 10 points');

  // Spray a ring of points with the mouse.
  const box = (await canvas.boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx + box.width * 0.25, cy);
  await page.mouse.down();
  for (let k = 1; k <= 40; k++) await page.mouse.move(cx + box.width * 0.25 * Math.cos((k * Math.PI) / 20), cy + box.width * 0.25 * Math.sin((k * Math.PI) / 20));
  await page.mouse.up();
  const drawnText = (await data.getByLabel('Drawn points').textContent()) ?? '';
  const drawn = Number.parseInt(drawnText, 10);
  expect(drawn).toBeGreaterThanOrEqual(100);
  await data.getByRole('button', { name: 'Use these points' }).click();
  await expect(data.getByLabel('Data facts')).toContainText(`${drawn.toLocaleString('en-US')} training points`);
  await expect(data.getByLabel('Data facts')).toContainText('no exact score');

  const training = region(page, 'Lab training');
  await training.getByRole('spinbutton', { name: 'Training steps' }).fill('300');
  await training.getByRole('button', { name: 'Train' }).click();
  await expect(training.getByLabel('Lab training state')).toHaveText('done', { timeout: 30_000 });
  await expect(training.getByLabel('Lab training step')).toHaveText('300 / 300');
  await expect(region(page, 'Lab training').getByLabel('Lab last loss')).toContainText('at step 300');

  // No exact field for drawn points: said so, and the exact denoiser is refused with a reason.
  const fields = region(page, 'Density and field');
  await expect(fields.getByRole('img', { name: 'Exact field', exact: true }).locator('..')).toContainText('not available for draw your own');
  const particles = region(page, 'Particles');
  await particles.getByRole('combobox', { name: 'Right denoiser' }).selectOption('exact');
  await expect(particles.getByText('The exact denoiser needs a Gaussian-mixture data set')).toBeVisible();
  await particles.getByRole('combobox', { name: 'Right denoiser' }).selectOption('learned');
  await particles.getByRole('spinbutton', { name: 'Particles' }).fill('500');
  await sampleAndWait(particles);
  await expect(particles.getByLabel('Right pane run')).toContainText('the samples');
  expect(await countPixels(particles.getByRole('img', { name: 'Particles: right pane' }), 'particles')).toBeGreaterThan(100);
});

test('lab settings come from the address bar and go back to it; a preset sets them all', async ({ page }) => {
  await openApp(page, '?backend=wasm&lab.data=moons&lab.width=32&lab.b=ddim.7.learned');
  // The lab builds its model when it comes into view.
  await region(page, '2D lab').scrollIntoViewIfNeeded();
  const data = region(page, 'Lab data');
  await expect(data.getByRole('combobox', { name: 'Data set' })).toHaveValue('moons');
  const model = region(page, 'Lab model');
  await expect(model.getByRole('spinbutton', { name: 'MLP width' })).toHaveValue('32');
  await expect(region(page, 'Particles').getByRole('spinbutton', { name: 'Right steps' })).toHaveValue('7');
  await expect(data.getByLabel('Data facts')).toContainText('no exact score');
  await model.getByRole('spinbutton', { name: 'MLP depth (hidden layers)' }).fill('2');
  await expect.poll(() => new URL(page.url()).searchParams.get('lab.depth')).toBe('2');
  expect(new URL(page.url()).searchParams.get('lab.data')).toBe('moons');
  expect(new URL(page.url()).searchParams.get('backend')).toBe('wasm');
  // A preset is complete: the width, depth and panes from before are gone from the address.
  await region(page, '2D lab').getByRole('button', { name: 'learned vs exact score' }).click();
  await expect(region(page, '2D lab').getByRole('note', { name: 'Lab preset note' })).toContainText('exact');
  await expect.poll(() => [...new URL(page.url()).searchParams.keys()].filter((k) => k.startsWith('lab.')).sort()).toEqual(['lab.a', 'lab.b', 'lab.t']);
  await expect(model.getByRole('spinbutton', { name: 'MLP width' })).toHaveValue(String(DEFAULT_LAB_SETUP.width));
  await expect(region(page, 'Particles').getByRole('combobox', { name: 'Right denoiser' })).toHaveValue('exact');

  // No serious or critical accessibility violations in the lab (with the mixture editor open).
  await data.getByRole('combobox', { name: 'Data set' }).selectOption('mixture');
  await expect(data.getByRole('img', { name: /Mixture editor/ })).toBeVisible();
  const result = await new AxeBuilder({ page }).include('#step-lab').analyze();
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.length} × ${v.nodes[0]?.target.join(' ')} — ${v.help}`);
  expect(serious).toEqual([]);
});
