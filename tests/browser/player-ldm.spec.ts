/**
 * The denoising player on the pretrained LDM (wasm): the run decodes only x_T, the steps its live
 * view shows and the final sample; scrubbing to any other step shows that step decoded (the player
 * asks the worker for it), the same image each time it comes back, and the film strip's frames are
 * decoded too.
 */
import { expect } from '@playwright/test';
import { canvasHash, openApp, region, test } from './fixtures';

declare global {
  interface Window {
    __decodeRequests: number;
  }
}

test('on the LDM, scrubbing to any step shows it decoded, on demand', async ({ page }) => {
  // Count the player's decode requests to the worker.
  await page.addInitScript(() => {
    window.__decodeRequests = 0;
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (this: Worker, message: unknown, ...rest: unknown[]) {
      if ((message as { type?: string } | null)?.type === 'sample/decode') window.__decodeRequests++;
      return (post as (...a: unknown[]) => void).call(this, message, ...rest);
    } as typeof post;
  });
  await openApp(page, '?backend=wasm&model=latent', { pretrained: true });
  await expect(region(page, 'Model').getByRole('combobox', { name: 'Model kind' })).toHaveValue('latent');
  const sampling = region(page, 'Sampling');
  await sampling.getByRole('combobox', { name: 'Sampler' }).selectOption('ddim');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('20');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('4');
  await sampling.getByRole('button', { name: 'Sample' }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 180_000 });

  const player = region(page, 'Denoising player');
  const slider = player.getByRole('slider', { name: 'Denoising step' });
  const step = player.getByLabel('Player step');
  const grid = player.getByRole('img', { name: 'Every image at this step' });
  const caption = player.locator('.player-grid figcaption');
  await expect(step).toHaveText('20 / 20');
  const final = await canvasHash(grid);
  expect(final).toMatch(/^57x57:/);
  expect(final, 'the final samples are the live view\'s').toBe(await canvasHash(region(page, 'Samples').getByRole('img', { name: /^(x_t decoded|Samples) / })));

  const at = async (position: number): Promise<string> => {
    await slider.fill(String(position));
    await expect(step).toHaveText(`${position} / 20`);
    await expect(caption).not.toContainText('decoding', { timeout: 30_000 });
    return canvasHash(grid);
  };
  const frames = [await at(0), await at(5), await at(10), await at(15), final];
  expect(new Set(frames).size, 'five different decoded frames').toBe(5);
  expect(await at(10), 'a step decoded on demand is kept').toBe(frames[2]);
  await slider.fill('20');
  expect(await at(20)).toBe(final);

  // The film strip's eight frames are decoded: eight different images of the selected digit.
  const film = player.getByRole('list', { name: /Film strip/ }).locator('canvas');
  await expect(film).toHaveCount(8);
  await expect.poll(async () => new Set(await Promise.all((await film.all()).map((c) => canvasHash(c)))).size, { timeout: 30_000 }).toBe(8);
  expect(await page.evaluate(() => window.__decodeRequests), 'steps the run did not decode were asked for').toBeGreaterThan(0);
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();
});
