/**
 * Shared fixtures of the browser tests: every test fails on a console error or an uncaught page
 * error unless it opts out, and long tasks on the main thread are recorded from the page's start.
 */
import { test as base, expect, type Locator, type Page } from '@playwright/test';

interface LongTask {
  start: number;
  duration: number;
}

declare global {
  interface Window {
    __longTasks: LongTask[];
  }
}

export const test = base.extend<{ allowConsoleErrors: boolean; consoleErrors: string[] }>({
  allowConsoleErrors: [false, { option: true }],
  // Every test fails on a console error or an uncaught page error unless it opts out.
  consoleErrors: [
    async ({ page, allowConsoleErrors }, use) => {
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      // Long tasks (> 50 ms) on the main thread, recorded from the very start of the page.
      await page.addInitScript(() => {
        window.__longTasks = [];
        try {
          new PerformanceObserver((list) => {
            for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
          }).observe({ type: 'longtask', buffered: true });
        } catch {
          // No longtask support: the list stays empty.
        }
      });
      await use(errors);
      if (!allowConsoleErrors) expect(errors, 'console errors').toEqual([]);
    },
    { auto: true },
  ],
});

export const region = (page: Page, name: string) => page.getByRole('region', { name, exact: true });

/** DDIM with `steps` steps on `n` images, sampled and finished: the Sampling region. */
export async function sampleDdim(page: Page, steps = 2, n = 2): Promise<Locator> {
  const sampling = region(page, 'Sampling');
  await sampling.getByRole('combobox', { name: 'Sampler' }).selectOption('ddim');
  await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill(String(steps));
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill(String(n));
  await sampling.getByRole('button', { name: 'Sample' }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 120_000 });
  await expect(sampling.getByLabel('Sampling step', { exact: true })).toHaveText(`${steps} / ${steps}`);
  return sampling;
}

/** Opens a panel's folded "More settings" (advanced controls are hidden until then). */
export async function openMoreSettings(panel: Locator): Promise<void> {
  const more = panel.locator('details.more-settings');
  if (!(await more.evaluate((d) => (d as HTMLDetailsElement).open))) await more.getByText('More settings', { exact: true }).click();
}
export const PANELS = ['Schedule', 'Model', 'Model files', 'Data', 'Training', 'Sampling', 'Samples', 'Loss'];

/**
 * Opens the app and waits for the engine. It starts from fresh weights (`?pretrained=0`: the tiny
 * pixel U-Net, as the tests expect) unless `pretrained` is set or the query says otherwise.
 */
export async function openApp(page: Page, query = '', { pretrained = false }: { pretrained?: boolean } = {}): Promise<void> {
  const params = new URLSearchParams(query);
  if (!pretrained && !params.has('pretrained')) params.set('pretrained', '0');
  const search = params.toString();
  await page.goto(`/${search ? `?${search}` : ''}`);
  await expect(page.getByLabel('Active backend')).not.toHaveText(/starting/);
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();
}


/** A cheap fingerprint of a canvas's pixels (FNV-1a over its RGBA bytes), with its size. */
export function canvasHash(canvas: Locator): Promise<string> {
  return canvas.evaluate((el) => {
    const c = el as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let h = 2166136261;
    for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i], 16777619);
    return `${c.width}x${c.height}:${h >>> 0}`;
  });
}

declare global {
  interface Window {
    __drawn: Record<string, string[]>;
  }
}

/**
 * Fingerprints every image the page draws, per canvas label (a putImageData hook): a fast backend
 * finishes a few sampling steps before a test could poll the canvas, so every frame is recorded.
 */
export async function recordDraws(page: Page): Promise<void> {
  await page.addInitScript(() => {
    window.__drawn = {};
    const put = CanvasRenderingContext2D.prototype.putImageData;
    CanvasRenderingContext2D.prototype.putImageData = function (this: CanvasRenderingContext2D, img: ImageData, ...rest: number[]) {
      const label = this.canvas.getAttribute('aria-label') ?? '';
      let h = 2166136261;
      for (let i = 0; i < img.data.length; i++) h = Math.imul(h ^ img.data[i], 16777619);
      (window.__drawn[label] ??= []).push(`${img.width}x${img.height}:${h >>> 0}`);
      return (put as (...a: unknown[]) => void).call(this, img, ...rest);
    } as typeof put;
  });
}

/** Distinct images drawn so far into canvases whose label matches. */
export async function drawnImages(page: Page, label: RegExp): Promise<string[]> {
  const drawn = await page.evaluate(() => window.__drawn);
  return [...new Set(Object.entries(drawn).flatMap(([name, hashes]) => (label.test(name) ? hashes : [])))];
}
