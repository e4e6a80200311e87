/**
 * The soak's actions on the page (src/cli/soak.ts), by role and name as a person (and the browser
 * tests) would: train a little, sample with each sampler, scrub the player, switch to the other
 * model and back, run the quick Compare, reload and resume. And what it measures each minute.
 */
import type { CDPSession, Locator, Page } from '@playwright/test';
import { heapBreakdown } from './soak-heap';

const LONG = { timeout: 600_000 };

export const region = (page: Page, name: string): Locator => page.getByRole('region', { name, exact: true });

export interface Sample {
  /** Minutes since the soak started. */
  minute: number;
  loop: number;
  /** Live tensors and their bytes in the engine (the header's tensor memory). */
  tensors: number;
  tensorBytes: number;
  /** The page's JS heap after a garbage collection (CDP Runtime.getHeapUsage), bytes. */
  heap: number;
  /** Of a heap snapshot's bytes, those of V8's compiled code (./soak-heap.ts). */
  heapCode: number;
  /** A heap snapshot's bytes other than compiled code: what the page keeps. */
  heapData: number;
  /** The origin's storage in use (navigator.storage.estimate: IndexedDB checkpoints), bytes. */
  storage: number;
  /** Errors shown on the page so far. */
  errors: number;
}

function bytesOf(text: string): number {
  const m = /([\d.]+)\s*(B|KB|MB|GB)/.exec(text);
  if (!m) return 0;
  return Number(m[1]) * { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[m[2] as 'B' | 'KB' | 'MB' | 'GB'];
}

export async function measure(page: Page, cdp: CDPSession, minute: number, loop: number): Promise<Sample> {
  const memory = (await page.getByLabel('Tensor memory').textContent()) ?? '';
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  const split = await heapBreakdown(cdp);
  const storage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  const errors = await page.getByRole('alert', { name: 'Errors' }).locator('li').count();
  return { minute, loop, tensors: Number(/([\d,]+) tensors/.exec(memory)?.[1].replace(/,/g, '') ?? NaN), tensorBytes: bytesOf(memory.split('·')[1] ?? ''), heap: usedSize, heapCode: split.code, heapData: split.total - split.code, storage, errors };
}

/** Trains for about `seconds`, then pauses; returns the step it paused at. */
export async function trainAWhile(page: Page, seconds: number): Promise<number> {
  const training = region(page, 'Training');
  const state = training.getByLabel('Training state', { exact: true });
  const start = training.getByRole('button', { name: (await state.textContent()) === 'paused' ? 'Resume' : 'Start', exact: true });
  await start.click();
  await state.filter({ hasText: 'running' }).waitFor(LONG);
  await page.waitForTimeout(seconds * 1000);
  await training.getByRole('button', { name: 'Pause' }).click();
  await state.filter({ hasText: 'paused' }).waitFor(LONG);
  // "6 / 1,000,000": the step done is the first number.
  return Number(/^\s*([\d,]+)/.exec((await training.getByLabel('Training step', { exact: true }).textContent()) ?? '')?.[1].replace(/,/g, '') ?? NaN);
}

/** One run with each sampler (few steps, few images). */
export async function sampleEach(page: Page): Promise<void> {
  const stage = region(page, 'Sampling');
  for (const sampler of ['ddpm', 'ddim', 'dpmpp']) {
    await stage.getByRole('combobox', { name: 'Sampler' }).selectOption(sampler);
    await stage.getByRole('spinbutton', { name: 'Sampling steps' }).fill('5');
    await stage.getByRole('spinbutton', { name: 'Number of images' }).fill('4');
    await stage.getByRole('button', { name: 'Sample', exact: true }).click();
    await stage.getByLabel('Sampling state', { exact: true }).filter({ hasText: 'done' }).waitFor(LONG);
  }
}

/** Scrubs the player to the start, the middle and the end, then plays it through. */
export async function scrub(page: Page): Promise<void> {
  const player = region(page, 'Denoising player');
  const slider = player.getByRole('slider', { name: 'Denoising step' });
  const max = Number((await slider.getAttribute('max')) ?? '0');
  for (const at of [0, Math.floor(max / 2), max]) await slider.fill(String(at));
  await slider.fill('0');
  await player.getByRole('button', { name: 'Play' }).click();
  await player.getByRole('button', { name: 'Play' }).waitFor(LONG); // back to Play when it reaches the end
}

/**
 * Switches to the other model kind and back. A trained model asks first ("Reset", which keeps it
 * aside) and comes back with Undo; an untrained one switches at once, and back the same way.
 */
export async function switchModelAndBack(page: Page): Promise<void> {
  const model = region(page, 'Model');
  const kind = model.getByRole('combobox', { name: 'Model kind' });
  const from = await kind.inputValue();
  await kind.selectOption(from === 'pixel' ? 'latent' : 'pixel');
  const confirm = page.getByRole('group', { name: 'Confirm model change' });
  const asked = await confirm.waitFor({ timeout: 5000 }).then(() => true, () => false);
  if (asked) {
    await confirm.getByRole('button', { name: /^Reset/ }).click();
    await page.getByRole('group', { name: 'Previous model' }).getByRole('button', { name: /^Undo: switch back/ }).click(LONG);
  } else {
    await kind.selectOption(from);
  }
  const sample = region(page, 'Sampling').getByRole('button', { name: 'Sample', exact: true });
  for (let i = 0; i < 1200 && ((await kind.inputValue()) !== from || !(await sample.isEnabled())); i++) await page.waitForTimeout(500);
  if ((await kind.inputValue()) !== from) throw new Error(`switching back to the ${from} model did not happen`);
}

/** The quick Compare run, to the end. */
export async function compareQuick(page: Page): Promise<void> {
  const compare = region(page, 'Compare');
  await compare.getByRole('button', { name: 'Compare', exact: true }).click();
  await compare.getByLabel('Compare status').filter({ hasText: 'Done.' }).waitFor(LONG);
}

export interface LossHistory {
  steps: number[];
  losses: number[];
}

/** The step of this tab's run's stored checkpoint (its id in sessionStorage), or -1. */
function storedStep(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const run = sessionStorage.getItem('playground-run');
        const req = indexedDB.open('diffusion-playground');
        req.onerror = () => resolve(-1);
        req.onsuccess = () => {
          const db = req.result;
          if (!run || !db.objectStoreNames.contains('checkpoints')) return resolve(-1);
          const get = db.transaction('checkpoints', 'readonly').objectStore('checkpoints').get(`meta:${run}`);
          get.onsuccess = () => resolve(typeof get.result?.step === 'number' ? get.result.step : -1);
          get.onerror = () => resolve(-1);
        };
      }),
  );
}

export const lossHistory = (page: Page): Promise<LossHistory> =>
  page.evaluate(() => (window as unknown as { __playgroundTest: { lossHistory(): LossHistory } }).__playgroundTest.lossHistory());

/**
 * Reloads and resumes the offered checkpoint; returns whether the resumed run has the step count
 * and the loss history it had when it paused (`problem` says how not).
 */
export async function reloadAndResume(page: Page, pausedAt: number, before: LossHistory): Promise<string | null> {
  // The pause checkpoint reaches IndexedDB a moment after the page says "paused": wait for it, so
  // that what the reload finds is what the tab last saved (this tab's run, from its sessionStorage).
  let stored = -1;
  for (let i = 0; i < 60 && stored !== pausedAt; i++) {
    stored = await storedStep(page);
    if (stored !== pausedAt) await page.waitForTimeout(500);
  }
  if (stored !== pausedAt) return `the pause checkpoint (step ${pausedAt}) was not stored within 30 s (stored: step ${stored})`;
  await page.reload();
  await page.getByLabel('Active backend').filter({ hasNotText: /starting/ }).waitFor(LONG);
  const offer = region(page, 'Training').getByRole('region', { name: 'Saved training' });
  await offer.waitFor(LONG);
  const text = (await offer.textContent()) ?? '';
  const step = Number(/at step ([\d,]+) of/.exec(text)?.[1].replace(/,/g, '') ?? NaN);
  if (step !== pausedAt) return `the offer is at step ${step}, training paused at ${pausedAt}`;
  await offer.getByRole('button', { name: 'Resume training' }).click();
  const training = region(page, 'Training');
  await training.getByLabel('Training state', { exact: true }).filter({ hasText: 'running' }).waitFor(LONG);
  await training.getByRole('button', { name: 'Pause' }).click();
  await training.getByLabel('Training state', { exact: true }).filter({ hasText: 'paused' }).waitFor(LONG);
  const after = await lossHistory(page);
  const n = before.steps.length;
  const same = after.steps.slice(0, n).every((s, i) => s === before.steps[i]) && after.losses.slice(0, n).every((l, i) => l === before.losses[i]);
  return same && after.steps.length >= n ? null : `the loss history after resuming differs from the one at pause (${n} entries before, ${after.steps.length} after)`;
}
