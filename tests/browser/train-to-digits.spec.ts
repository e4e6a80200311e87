/**
 * The "Train to digits" preset on the page a teacher opens (the pretrained model loaded, wasm): the
 * button asks before replacing the pretrained model, and after "Reset to fresh weights" the Model
 * panel and the Training form hold the preset's recipe (not the fine-tuning values the pretrained
 * model proposed, nor the defaults), with the note saying what to do next.
 */
import { expect } from '@playwright/test';
import { openApp, region, test } from './fixtures';
import { PRESETS } from '../../src/state/share-presets';

const recipe = new URLSearchParams(PRESETS.find((p) => p.name === 'Train to digits')!.query);

test('"Train to digits" sets the model and the training form', async ({ page }) => {
  await openApp(page, '?backend=wasm', { pretrained: true });
  const presets = page.getByRole('group', { name: 'Presets' });
  const button = presets.getByRole('button', { name: 'Train to digits' });
  await expect(button).toBeEnabled(); // presets wait for the pretrained model
  await button.click();
  await page.getByRole('group', { name: 'Confirm model change' }).getByRole('button', { name: 'Reset to fresh weights' }).click();

  const model = region(page, 'Model');
  await expect(model.getByRole('combobox', { name: 'U-Net preset' })).toHaveValue(recipe.get('unet')!);
  const training = region(page, 'Training');
  await expect(training.getByRole('spinbutton', { name: 'Learning rate' })).toHaveValue(recipe.get('lr')!);
  await expect(training.getByRole('combobox', { name: 'Learning-rate schedule' })).toHaveValue(recipe.get('lrsched')!);
  await expect(training.getByRole('spinbutton', { name: 'Warm-up steps' })).toHaveValue(recipe.get('warmup')!);
  await expect(training.getByRole('spinbutton', { name: 'Batch size' })).toHaveValue(recipe.get('batch')!);
  await expect(training.getByRole('spinbutton', { name: 'Steps', exact: true })).toHaveValue(recipe.get('tsteps')!);
  await expect(training.getByRole('button', { name: 'Start' })).toBeEnabled();
  await expect(page.getByRole('note', { name: 'Preset note' })).toContainText('Score samples while training');
  await expect(button).toHaveAttribute('aria-pressed', 'true');
});
