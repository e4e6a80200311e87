/**
 * Fewer steps, chosen by the model (issue 20), on the pretrained pixel model in a real browser: the
 * adaptive DPM-Solver takes a tolerance instead of a step count, says how many model evaluations it
 * made and charts its step sizes, and a looser tolerance costs fewer evaluations; early stopping
 * ends a DDIM run before its last step and the player says where and how many evaluations it saved.
 */
import { expect, type Locator } from '@playwright/test';
import { openApp, region, test } from './fixtures';

async function run(sampling: Locator): Promise<number> {
  await sampling.getByRole('button', { name: 'Sample' }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 120_000 });
  return Number(await sampling.getByLabel('Model evaluations').textContent());
}

test('the adaptive solver picks its steps from a tolerance; early stopping ends a run and says what it saved', async ({ page }) => {
  await openApp(page, 'backend=wasm', { pretrained: true });
  const sampling = region(page, 'Sampling');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('2');
  await sampling.getByRole('combobox', { name: 'Sampler' }).selectOption({ label: 'Adaptive steps (tolerance)' });
  await expect(sampling.getByRole('spinbutton', { name: 'Sampling steps' })).toHaveCount(0);
  const rtol = sampling.getByRole('spinbutton', { name: 'Tolerance (rtol)' });

  await rtol.fill('0.4');
  const loose = await run(sampling);
  await rtol.fill('0.05');
  const tight = await run(sampling);
  expect(loose).toBeGreaterThan(0);
  expect(tight, 'a tighter tolerance takes more model evaluations').toBeGreaterThan(loose);
  await expect(sampling.getByLabel('Sampling run cost')).toContainText(String(tight));
  await expect(sampling.getByRole('img', { name: 'Adaptive step sizes: h in λ against t' })).toBeVisible();

  // Early stopping on a fixed-step sampler: DDIM-20 stops before its 20th step.
  await sampling.getByRole('combobox', { name: 'Sampler' }).selectOption('ddim');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('20');
  await sampling.getByRole('checkbox', { name: 'Early stop' }).check();
  await sampling.getByRole('spinbutton', { name: 'Early-stop threshold' }).fill('2');
  const evaluations = await run(sampling);
  expect(evaluations).toBeLessThan(20);
  const note = page.getByLabel('Early stop', { exact: true }).and(page.locator('p'));
  await expect(note).toContainText(`of 20: ${20 - evaluations} model evaluation`);
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();
});

test('the distilled LDM loads from the Model panel with its sampling and makes digits in 4 steps', async ({ page }) => {
  await openApp(page, 'backend=wasm', { pretrained: true });
  const model = region(page, 'Model');
  await model.getByRole('button', { name: 'Load the distilled LDM (8 steps)' }).click();
  await expect(model.getByRole('status', { name: 'Model source status' })).toContainText('Imported from files', { timeout: 60_000 });
  const sampling = region(page, 'Sampling');
  // Its own sampling: DDIM over trailing timesteps, 8 steps, guidance 1 (built into the student).
  await expect(sampling.getByRole('spinbutton', { name: 'Sampling steps' })).toHaveValue('8');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('4');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('4');
  expect(await run(sampling)).toBe(4);
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();
  await expect(page.getByRole('alert', { name: 'Distilled model problem' })).toHaveCount(0);
});
