/**
 * The Training panel's Distill stage (issue 20) on the pretrained LDM in a real browser: bad
 * settings are refused in words; Stop ends a run within a step and keeps the teacher; a
 * distillation of 8 → 4 steps (one round, 2 training steps at batch 2) shows the round's loss and
 * the 4-step student's sample grid, and the student becomes the page's model with Sampling set to
 * DDIM-4, trailing spacing, guidance 1, which samples in 4 steps.
 */
import { expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { openApp, region, test } from './fixtures';

test('Distill 8 → 4 on the pretrained LDM: the round, its samples, and the student as the model', async ({ page }) => {
  await openApp(page, '?backend=wasm&model=latent', { pretrained: true });
  const model = region(page, 'Model');
  await expect(model.getByRole('status', { name: 'Model source status' })).toContainText('Pretrained latent diffusion (LDM)', { timeout: 60_000 });
  const training = region(page, 'Training');
  await training.getByRole('radio', { name: 'Distill' }).check();

  // Bad input is refused in words, and Start waits for good input.
  await training.getByRole('spinbutton', { name: 'From steps' }).fill('8');
  await training.getByRole('spinbutton', { name: 'To steps' }).fill('3');
  await expect(training.getByRole('alert', { name: 'Distill settings problem' })).toContainText('To steps must be from steps halved a whole number of times');
  await expect(training.getByRole('button', { name: 'Start' })).toBeDisabled();

  await training.getByRole('spinbutton', { name: 'To steps' }).fill('4');
  await training.getByRole('spinbutton', { name: 'Batch size' }).fill('2');
  await expect(training.getByRole('spinbutton', { name: 'Teacher guidance' })).toBeVisible();

  // Stop ends a long run within a step and leaves the teacher as the model.
  await training.getByRole('spinbutton', { name: 'Training steps per round' }).fill('1000');
  await training.getByRole('button', { name: 'Start' }).click();
  await expect(training.getByLabel('Distillation step', { exact: true })).toHaveText(/^[1-9]\d* \/ 1000$/);
  await training.getByRole('button', { name: 'Stop' }).click();
  await expect(training.getByLabel('Distillation state', { exact: true })).toHaveText('stopped', { timeout: 5_000 });
  await expect(model.getByRole('status', { name: 'Model source status' })).toContainText('Pretrained latent diffusion (LDM)');
  await expect(training.getByRole('status', { name: 'Distilled model note' })).toHaveCount(0);

  await training.getByRole('spinbutton', { name: 'Training steps per round' }).fill('2');
  await expect(training.getByLabel('Distill plan')).toHaveText('1 round: 8 → 4 steps, 2 training steps at batch 2.');
  await training.getByRole('button', { name: 'Start' }).click();

  await expect(training.getByLabel('Distillation state', { exact: true })).toHaveText('done', { timeout: 60_000 });
  await expect(training.getByLabel('Distillation round', { exact: true })).toHaveText('1 of 1 (8 → 4 steps)');
  await expect(training.getByLabel('Distillation step', { exact: true })).toHaveText('2 / 2');
  await expect(training.getByRole('figure', { name: 'Distillation loss by round' })).toHaveAttribute('data-points', '2');
  const rounds = training.getByRole('table', { name: 'Distillation rounds' });
  await expect(rounds.getByRole('row')).toHaveCount(2);
  await expect(rounds.getByRole('row').nth(1)).toContainText('8 → 4');
  await expect(rounds.getByRole('row').nth(1)).toContainText(/\d\.\d\de[-+]\d+ → \d\.\d\de[-+]\d+/);
  const grid = training.getByRole('img', { name: 'Samples of the 4-step student' });
  await expect(grid).toBeVisible();
  expect(await grid.evaluate((c: HTMLCanvasElement) => [c.width, c.height])).toEqual([10 * 28 + 9, 28]);

  // The student is the page's model, sampled as it was trained.
  await expect(training.getByRole('status', { name: 'Distilled model note' })).toContainText("The 4-step student is now the page's model");
  await expect(model.getByRole('status', { name: 'Model source status' })).toContainText('Distilled here (Training, Distill): the 4-step student of its 8-step teacher');
  const sampling = region(page, 'Sampling');
  await expect(sampling.getByRole('spinbutton', { name: 'Sampling steps' })).toHaveValue('4');
  await expect(sampling.getByRole('combobox', { name: 'Sampler' })).toHaveValue('ddim');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('2');
  await sampling.getByRole('button', { name: 'Sample' }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 60_000 });
  await expect(sampling.getByLabel('Model evaluations')).toHaveText('4');
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();
  // The stage with its results has no serious or critical accessibility problem (axe-core, the Training panel).
  const panel = await training.getAttribute('aria-labelledby');
  const { violations } = await new AxeBuilder({ page }).include(`section[aria-labelledby="${panel}"]`).analyze();
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes[0]?.target.join(' ')} — ${v.help}`)).toEqual([]);
});

test('an untrained model cannot be distilled, and the stage says why', async ({ page }) => {
  await openApp(page, 'backend=wasm');
  const training = region(page, 'Training');
  await training.getByRole('radio', { name: 'Distill' }).check();
  await expect(training.getByRole('alert', { name: 'Distill settings problem' })).toContainText('There is no trained denoiser to distil');
  await expect(training.getByRole('button', { name: 'Start' })).toBeDisabled();
  // Back to training: the training form returns.
  await training.getByRole('radio', { name: 'Denoiser' }).check();
  await expect(training.getByRole('spinbutton', { name: 'Preview every N steps' })).toBeVisible();
});
