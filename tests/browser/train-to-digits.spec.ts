/**
 * The "Train to digits" presets on the page a teacher opens (the pretrained model loaded, wasm):
 * the button asks before replacing the pretrained model, and after "Reset to fresh weights" the
 * Model panel and the Training form hold the preset's recipe (fresh weights of its own model, not
 * the other pretrained model; not the fine-tuning values the pretrained model proposed, nor the
 * defaults), with the note saying what to do next. Then the pixel recipe, on the fresh model.
 */
import { expect, type Locator } from '@playwright/test';
import { openApp, region, test } from './fixtures';
import { PRESETS } from '../../src/state/share-presets';

const recipe = (name: string) => new URLSearchParams(PRESETS.find((p) => p.name === name)!.query);

async function expectForm(training: Locator, q: URLSearchParams): Promise<void> {
  await expect(training.getByRole('spinbutton', { name: 'Learning rate' })).toHaveValue(q.get('lr')!);
  await expect(training.getByRole('combobox', { name: 'Learning-rate schedule' })).toHaveValue(q.get('lrsched')!);
  await expect(training.getByRole('spinbutton', { name: 'Warm-up steps' })).toHaveValue(q.get('warmup')!);
  await expect(training.getByRole('spinbutton', { name: 'Batch size' })).toHaveValue(q.get('batch')!);
  await expect(training.getByRole('spinbutton', { name: 'Steps', exact: true })).toHaveValue(q.get('tsteps')!);
  await expect(training.getByRole('button', { name: 'Start' })).toBeEnabled();
}

test('"Train to digits" sets the model and the training form', async ({ page }) => {
  await openApp(page, '?backend=wasm', { pretrained: true });
  const presets = page.getByRole('group', { name: 'Presets' });
  const button = presets.getByRole('button', { name: 'Train to digits', exact: true });
  await expect(button).toBeEnabled(); // presets wait for the pretrained model
  await button.click();
  await page.getByRole('group', { name: 'Confirm model change' }).getByRole('button', { name: 'Reset to fresh weights' }).click();

  const latent = recipe('Train to digits');
  const model = region(page, 'Model');
  const training = region(page, 'Training');
  await expect(model.getByRole('combobox', { name: 'Autoencoder preset' })).toHaveValue(latent.get('ae')!);
  await expect(model.getByRole('combobox', { name: 'Latent denoiser preset' })).toHaveValue(latent.get('lden')!);
  await expect(training.getByRole('radio', { name: /Autoencoder/ })).toBeChecked(); // stage 1 first
  await expectForm(training, latent);
  await expect(page.getByRole('note', { name: 'Preset note' })).toContainText('Score samples while training');
  await expect(button).toHaveAttribute('aria-pressed', 'true');

  // The pixel recipe: the fresh latent model is untrained, so nothing is asked.
  await presets.getByRole('button', { name: 'Train to digits (pixel)' }).click();
  const pixel = recipe('Train to digits (pixel)');
  await expect(model.getByRole('combobox', { name: 'U-Net preset' })).toHaveValue(pixel.get('unet')!);
  await expectForm(training, pixel);
});
