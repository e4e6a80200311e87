/**
 * Shareable state in the browser: a link's settings show in the controls, the address bar follows
 * every change (and a reload keeps them), bad parameters get a note without breaking the page,
 * "Copy link" copies the address, and the presets set their values. Runs on the wasm backend
 * (WebGPU here is SwiftShader, slow); nothing here trains.
 */
import { expect, type Page } from '@playwright/test';
import { openApp, openMoreSettings, region, test } from './fixtures';

const params = (page: Page) => new URL(page.url()).searchParams;

async function expectParam(page: Page, key: string, value: string | null): Promise<void> {
  await expect.poll(() => params(page).get(key), { message: `?${key}=` }).toBe(value);
}

test('a link sets the controls, the address bar follows a change, and a reload keeps it', async ({ page }) => {
  await openApp(page, '?backend=wasm&sched=cosine&T=500&unet=small&ema=0.999&lr=0.001&batch=4&sampler=ddpm&steps=25&w=3&n=9&seed=7&digit=4');
  await expect(page.getByLabel('Active backend')).toHaveText('wasm');
  await expect(page.getByRole('status', { name: 'Link note' })).toHaveCount(0);

  const schedule = region(page, 'Schedule');
  const model = region(page, 'Model');
  const training = region(page, 'Training');
  const sampling = region(page, 'Sampling');
  await expect(schedule.getByRole('combobox', { name: 'Schedule kind' })).toHaveValue('cosine');
  await expect(schedule.getByRole('spinbutton', { name: 'Diffusion steps T' })).toHaveValue('500');
  await expect(model.getByRole('combobox', { name: 'U-Net preset' })).toHaveValue('small');
  await openMoreSettings(model);
  await expect(model.getByRole('combobox', { name: 'EMA decay' })).toHaveValue('0.999');
  await expect(model.getByRole('checkbox', { name: /^Self-attention/ })).toBeChecked(); // small's default
  await expect(training.getByRole('spinbutton', { name: 'Learning rate' })).toHaveValue('0.001');
  await expect(training.getByRole('spinbutton', { name: 'Batch size' })).toHaveValue('4');
  await expect(sampling.getByRole('combobox', { name: 'Sampler' })).toHaveValue('ddpm');
  await expect(sampling.getByRole('spinbutton', { name: 'Sampling steps' })).toHaveValue('25');
  await expect(sampling.getByRole('slider', { name: 'Guidance scale w' })).toHaveValue('3');
  await expect(sampling.getByRole('spinbutton', { name: 'Number of images' })).toHaveValue('9');
  await expect(sampling.getByRole('spinbutton', { name: 'Seed' })).toHaveValue('7');
  await expect(sampling.getByRole('combobox', { name: 'Digit' })).toHaveValue('4');

  // A change reaches the address bar (kept parameters stay, the link is written in its own order).
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('40');
  await schedule.getByRole('combobox', { name: 'Schedule kind' }).selectOption('sigmoid');
  await expectParam(page, 'steps', '40');
  await expectParam(page, 'sched', 'sigmoid');
  expect(params(page).get('backend')).toBe('wasm');
  expect(params(page).get('pretrained')).toBe('0');
  expect(params(page).get('T')).toBe('500');

  await page.reload();
  await expect(page.getByLabel('Active backend')).toHaveText('wasm');
  await expect(sampling.getByRole('spinbutton', { name: 'Sampling steps' })).toHaveValue('40');
  await expect(schedule.getByRole('combobox', { name: 'Schedule kind' })).toHaveValue('sigmoid');
  await expect(schedule.getByRole('spinbutton', { name: 'Diffusion steps T' })).toHaveValue('500');
  await expect(model.getByRole('combobox', { name: 'U-Net preset' })).toHaveValue('small');
  await expect(training.getByRole('spinbutton', { name: 'Learning rate' })).toHaveValue('0.001');
});

test('bad parameters get a note, the rest applies, and the page still samples', async ({ page }) => {
  await openApp(page, '?backend=wasm&T=5000&bogus=1&sampler=fast&n=2&steps=2');
  const note = page.getByRole('status', { name: 'Link note' });
  await expect(note).toContainText('"T=5000" in the link: Diffusion steps T must be between 10 and 1000; using 1000.');
  await expect(note).toContainText('"bogus" in the link is not a setting; ignored.');
  await expect(note).toContainText('"sampler=fast" in the link: Sampler must be one of ddpm, ddim, dpmpp; ignored.');
  await expect(region(page, 'Schedule').getByRole('spinbutton', { name: 'Diffusion steps T' })).toHaveValue('1000');
  // The address bar drops what the page could not use.
  await expectParam(page, 'bogus', null);
  await expect.poll(() => page.url()).not.toContain('sampler=');

  const sampling = region(page, 'Sampling');
  await expect(sampling.getByRole('combobox', { name: 'Sampler' })).toHaveValue('ddim');
  await sampling.getByRole('button', { name: 'Sample' }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 120_000 });
  await expect(sampling.getByLabel('Sampling step', { exact: true })).toHaveText('2 / 2');

  await note.getByRole('button', { name: 'Dismiss link notes' }).click();
  await expect(note).toHaveCount(0);
});

test('a link with its own model starts from fresh weights instead of loading the pretrained one', async ({ page }) => {
  const requested: string[] = [];
  await page.route(/\/models\/(pixel|latent)\//, (route) => {
    requested.push(route.request().url());
    return route.fulfill({ status: 404, body: 'not found' });
  });
  await openApp(page, '?backend=wasm&T=300', { pretrained: true });
  await expect(page.getByRole('status', { name: 'Link note' })).toContainText('starts from fresh weights');
  const model = region(page, 'Model');
  await expect(model.getByRole('group', { name: 'Model source' }).getByRole('radio', { name: 'Train from scratch' })).toBeChecked();
  await expect(region(page, 'Schedule').getByRole('spinbutton', { name: 'Diffusion steps T' })).toHaveValue('300');
  await expectParam(page, 'pretrained', '0');
  expect(requested).toEqual([]);
});

test.describe('copy link', () => {
  test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

  test('"Copy link" copies the address with the settings', async ({ page }) => {
    await openApp(page, '?backend=wasm');
    await region(page, 'Sampling').getByRole('spinbutton', { name: 'Seed' }).fill('123');
    await page.getByRole('button', { name: 'Copy link' }).click();
    await expect(page.getByRole('status', { name: 'Copy link status' })).toHaveText('Link copied');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(new URL(copied).searchParams.get('seed')).toBe('123');
    expect(new URL(copied).searchParams.get('backend')).toBe('wasm');
  });
});

test('presets set their values; a comparison offers its alternatives', async ({ page }) => {
  await openApp(page, '?backend=wasm');
  const presets = page.getByRole('group', { name: 'Presets' });
  const sampling = region(page, 'Sampling');
  const guidance = sampling.getByRole('slider', { name: 'Guidance scale w' });
  const note = page.getByRole('note', { name: 'Preset note' });

  await presets.getByRole('button', { name: 'DDPM, 1000 steps' }).click();
  await expect(sampling.getByRole('combobox', { name: 'Sampler' })).toHaveValue('ddpm');
  await expect(sampling.getByRole('spinbutton', { name: 'Sampling steps' })).toHaveValue('1000');
  await expect(note).toContainText('Ho et al. 2020');

  await presets.getByRole('button', { name: 'DDIM, 50 steps' }).click();
  await expect(sampling.getByRole('combobox', { name: 'Sampler' })).toHaveValue('ddim');
  await expect(sampling.getByRole('spinbutton', { name: 'Sampling steps' })).toHaveValue('50');
  await openMoreSettings(sampling);
  await expect(sampling.getByRole('spinbutton', { name: 'DDIM η' })).toHaveValue('0');

  await presets.getByRole('button', { name: 'guidance 0 vs 3 vs 7' }).click();
  await expect(guidance).toHaveValue('0');
  const compare = note.getByRole('group', { name: 'Compare' });
  await expect(compare.getByRole('button')).toHaveText(['Guidance 0', 'Guidance 3', 'Guidance 7']);
  await expect(compare.getByRole('button', { name: 'Guidance 0' })).toHaveAttribute('aria-pressed', 'true');
  await compare.getByRole('button', { name: 'Guidance 7' }).click();
  await expect(guidance).toHaveValue('7');
  await expect(compare.getByRole('button', { name: 'Guidance 7' })).toHaveAttribute('aria-pressed', 'true');
  await expect(compare.getByRole('button', { name: 'Guidance 0' })).toHaveAttribute('aria-pressed', 'false');
  await expectParam(page, 'w', '7');
  await page.screenshot({ path: test.info().outputPath('presets.png') });

  await presets.getByRole('button', { name: 'linear vs cosine schedule' }).click();
  const kind = region(page, 'Schedule').getByRole('combobox', { name: 'Schedule kind' });
  await expect(kind).toHaveValue('linear');
  await note.getByRole('button', { name: 'Cosine schedule' }).click();
  await expect(kind).toHaveValue('cosine');
  await expectParam(page, 'sched', 'cosine');

  await presets.getByRole('button', { name: 'pixel vs latent' }).click();
  await note.getByRole('button', { name: 'Latent model' }).click();
  await expect(region(page, 'Model').getByRole('combobox', { name: 'Model kind' })).toHaveValue('latent');
  await expectParam(page, 'model', 'latent');
});
