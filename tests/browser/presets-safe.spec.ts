/**
 * Presets are complete (one preset's settings never carry over into the next), and the trained
 * model is kept safe: changing T on the pretrained model puts it aside, and "Undo: switch back"
 * brings it back, untouched or fine-tuned, ready to sample. Runs on the wasm backend with the
 * pretrained models of public/models/ (WebGPU here is SwiftShader, slow).
 */
import { expect, type Page } from '@playwright/test';
import { openApp, region, sampleDdim, test } from './fixtures';

const params = (page: Page) => new URL(page.url()).searchParams;

async function expectParam(page: Page, key: string, value: string | null): Promise<void> {
  await expect.poll(() => params(page).get(key), { message: `?${key}=` }).toBe(value);
}

test('a chain of presets leaves each setting at the last preset\'s value', async ({ page }) => {
  await openApp(page, '?backend=wasm');
  const presets = page.getByRole('group', { name: 'Presets' });
  const note = page.getByRole('note', { name: 'Preset note' });
  const sampling = region(page, 'Sampling');
  const guidance = sampling.getByRole('slider', { name: 'Guidance scale w' });
  const sampler = sampling.getByRole('combobox', { name: 'Sampler' });
  const steps = sampling.getByRole('spinbutton', { name: 'Sampling steps' });

  // The user's report: guidance 3 used to carry over into DDPM-1000.
  await presets.getByRole('button', { name: 'guidance 0 vs 3 vs 7' }).click();
  await note.getByRole('group', { name: 'Compare' }).getByRole('button', { name: 'Guidance 3' }).click();
  await expect(guidance).toHaveValue('3');
  await sampling.getByRole('spinbutton', { name: 'Seed' }).fill('42');
  await presets.getByRole('button', { name: 'DDPM, 1000 steps' }).click();
  await expect(sampler).toHaveValue('ddpm');
  await expect(steps).toHaveValue('1000');
  await expect(guidance).toHaveValue('1'); // the page's default, not the guidance preset's 3
  await expect(sampling.getByRole('spinbutton', { name: 'Seed' })).toHaveValue('0');
  // The address bar shows only what differs from the page's defaults.
  await expect.poll(() => [...params(page).keys()].join(',')).toBe('backend,pretrained,sampler,steps');

  // A comparison's configuration is complete too: DDIM-50 at w = 7, not DDPM-1000 at w = 7.
  await presets.getByRole('button', { name: 'guidance 0 vs 3 vs 7' }).click();
  await note.getByRole('group', { name: 'Compare' }).getByRole('button', { name: 'Guidance 7' }).click();
  await expect(guidance).toHaveValue('7');
  await expect(sampler).toHaveValue('ddim');
  await expect(steps).toHaveValue('50');
  await expectParam(page, 'w', '7');
  await expectParam(page, 'sampler', null);
});

test('changing T on the pretrained model keeps it: Undo switches back, untouched or fine-tuned, and it samples', async ({ page }) => {
  test.setTimeout(360_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  await openApp(page, '?backend=wasm', { pretrained: true });
  const model = region(page, 'Model');
  const source = model.getByRole('group', { name: 'Model source' });
  const status = model.getByRole('status', { name: 'Model source status' });
  const T = region(page, 'Schedule').getByRole('spinbutton', { name: 'Diffusion steps T' });
  const confirm = page.getByRole('group', { name: 'Confirm model change' });
  const kept = page.getByRole('group', { name: 'Previous model' });
  await expect(status).toContainText('Pretrained pixel DDPM', { timeout: 120_000 });
  await expect(source.getByRole('radio', { name: 'Pretrained' })).toBeChecked();

  // A mistyped T asks first, and says what becomes of the pretrained model.
  await T.fill('100');
  await expect(confirm).toContainText('Diffusion steps T: 1000 → 100');
  await expect(confirm).toContainText('Your current model, the pretrained pixel DDPM, will be kept: press Undo to go back to it.');
  await confirm.scrollIntoViewIfNeeded();
  await page.screenshot({ path: '/tmp/presets-confirm.png' });
  await confirm.getByRole('button', { name: 'Reset to fresh weights' }).click();
  await expect(source.getByRole('radio', { name: 'Train from scratch' })).toBeChecked();
  await expect(kept).toContainText('Previous model kept: the pretrained pixel DDPM');
  await expectParam(page, 'T', '100');
  await page.screenshot({ path: '/tmp/presets-undo.png' });

  // One click brings it back.
  await kept.getByRole('button', { name: 'Undo: switch back to the pretrained pixel DDPM' }).click();
  await expect(status).toContainText('Pretrained pixel DDPM', { timeout: 120_000 });
  await expect(source.getByRole('radio', { name: 'Pretrained' })).toBeChecked();
  await expect(T).toHaveValue('1000');
  await expect(kept).toHaveCount(0); // the fresh weights were never trained: nothing took its place
  await expectParam(page, 'T', null);
  await expectParam(page, 'pretrained', null);

  // Fine-tuned one step, it is kept by its files (exported before the change) and imported back.
  const training = region(page, 'Training');
  await training.getByRole('spinbutton', { name: 'Batch size' }).fill('2');
  await training.getByRole('spinbutton', { name: 'Preview every N steps' }).fill('0');
  const pretrainedSteps = Number((await model.getByLabel('Pretrained steps').textContent())?.replace(/,/g, ''));
  await training.getByRole('spinbutton', { name: 'Steps', exact: true }).fill(String(pretrainedSteps + 1));
  await training.getByRole('button', { name: 'Start' }).click();
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('done', { timeout: 120_000 });
  await T.fill('100');
  await expect(confirm).toContainText('Your current model, the pretrained pixel DDPM fine-tuned for 1 step, will be kept');
  await confirm.getByRole('button', { name: 'Reset to fresh weights' }).click();
  await expect(kept).toContainText('Previous model kept: the pretrained pixel DDPM fine-tuned for 1 step (its files,');
  await expect(training.getByLabel('Training step', { exact: true })).toHaveText(/^0 \//);
  await kept.scrollIntoViewIfNeeded();
  await page.screenshot({ path: '/tmp/presets-kept-files.png' });
  await kept.getByRole('button', { name: 'Undo: switch back to the fine-tuned pixel DDPM' }).click();
  await expect(status).toContainText('Pretrained pixel DDPM', { timeout: 60_000 });
  await expect(T).toHaveValue('1000');
  await expect(training.getByLabel('Training step', { exact: true })).toHaveText(`${pretrainedSteps + 1} / ${pretrainedSteps + 1}`);
  await expect(kept).toHaveCount(0);

  // ... and it samples.
  await sampleDdim(page);
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();
});
