/**
 * The Edit panel (issue 21) on the pretrained models (public/models/), wasm backend, tiny step
 * counts: draw a digit, SDEdit it and inpaint its lower half on the pixel DDPM and on the LDM (each
 * run shows in the denoising player's caption and ends with results); the settings go to the URL
 * (`edit.*`); an uploaded PNG becomes the input and a file that is not an image is refused with a
 * message.
 */
import { expect, type Locator, type Page } from '@playwright/test';
import { encodeGrayPng } from '../../src/cli/png';
import { openApp, region, test } from './fixtures';

async function drawStroke(page: Page, edit: Locator): Promise<void> {
  const pad = edit.getByRole('img', { name: /^Edit input/ });
  const box = (await pad.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.5, { steps: 6 });
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.8, { steps: 6 });
  await page.mouse.up();
}

async function runEdit(page: Page, edit: Locator, caption: RegExp): Promise<void> {
  await edit.getByRole('button', { name: 'Run edit' }).click();
  await expect(edit.getByLabel('Last edit')).toHaveText(caption, { timeout: 120_000 });
  await expect(edit.getByRole('img', { name: 'Edit results: 2 images' })).toBeVisible();
  // The run played in the denoising player, captioned as an edit.
  await expect(region(page, 'Sampling').getByLabel('Last sampling run')).toContainText('Edit: ');
}

test('draw a digit, SDEdit it and inpaint its lower half on the pixel DDPM and on the LDM', async ({ page }) => {
  test.setTimeout(240_000);
  await openApp(page, 'backend=wasm', { pretrained: true });
  const edit = region(page, 'Edit');
  await expect(edit.getByLabel('Edit model in use')).toHaveText(/^pixel DDPM .*pretrained$/);
  await drawStroke(page, edit);
  await edit.getByRole('spinbutton', { name: 'Edit steps' }).fill('4');
  await edit.getByRole('spinbutton', { name: 'Seeds at once' }).fill('2');
  await edit.getByRole('slider', { name: 'Strength t0' }).fill('600');
  await expect(edit.getByLabel('SDEdit start')).toContainText('steps run');
  await runEdit(page, edit, /SDEdit s = 0\.60 · pixel DDPM/);
  expect(new URL(page.url()).searchParams.get('edit.steps')).toBe('4');

  await edit.getByRole('combobox', { name: 'Edit mode' }).selectOption('inpaint');
  await edit.getByRole('button', { name: 'Regenerate lower half' }).click();
  await expect(edit.getByRole('combobox', { name: 'Inpainting method' })).toHaveValue('ddnm');
  await runEdit(page, edit, /inpaint by DDNM · pixel DDPM/);
  await expect(edit.getByRole('img', { name: "Mask on the model's grid" })).toBeVisible();
  expect(new URL(page.url()).searchParams.get('edit.mode')).toBe('inpaint');

  await edit.getByRole('combobox', { name: 'Model to edit with' }).selectOption('latent');
  await expect(edit.getByLabel('Edit model in use')).toHaveText(/^LDM .*pretrained$/, { timeout: 60_000 });
  await runEdit(page, edit, /inpaint by DDNM · LDM/);
  await expect(edit.getByText(/7×7 latent grid: each latent cell covers 4×4 pixels/)).toBeVisible();
  await edit.getByRole('combobox', { name: 'Edit mode' }).selectOption('sdedit');
  await runEdit(page, edit, /SDEdit s = 0\.60 · LDM/);
});

test('an uploaded PNG becomes the input; a file that is not an image gets a clear message', async ({ page }) => {
  await openApp(page, 'backend=wasm&edit.mode=inpaint', { pretrained: true });
  const edit = region(page, 'Edit');
  await expect(edit.getByRole('combobox', { name: 'Edit mode' })).toHaveValue('inpaint');
  // A dark stroke on white paper, 64×48: inverted, fitted to 20×20 and centred.
  const w = 64;
  const h = 48;
  const px = new Uint8Array(w * h).fill(250);
  for (let y = 8; y < 40; y++) for (let x = 28; x < 34; x++) px[y * w + x] = 20;
  const upload = edit.getByLabel('Upload an image');
  await upload.setInputFiles({ name: 'digit.png', mimeType: 'image/png', buffer: encodeGrayPng(px, w, h) });
  await expect(edit.getByRole('status', { name: 'Upload note' })).toContainText('digit.png: converted to 28×28 grey (inverted');
  await upload.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') });
  await expect(edit.getByRole('alert', { name: 'Upload note' })).toContainText('“notes.txt” is not an image this browser can read');
});
