/**
 * Never lose work, in the browser: a reload resumes from the checkpoint in IndexedDB with
 * the same step count and loss history; a NaN rolls back to the last checkpoint and says to lower
 * the learning rate; a killed worker is restarted and training resumes from the checkpoint.
 * The tiny U-Net at batch 2 on wasm (faster than WebGPU on SwiftShader here), checkpoints every 3
 * steps. `?testhooks=1` installs window.__playgroundTest (src/state/test-hooks.ts).
 */
import { expect, type Locator, type Page } from '@playwright/test';
import { openApp, openMoreSettings, PANELS, region, test } from './fixtures';

const QUERY = '?backend=wasm&testhooks=1';
const CHECKPOINT_EVERY = 3;

interface History {
  steps: number[];
  losses: number[];
}
interface Hooks {
  killWorker(): void;
  poisonWeights(): void;
  lossHistory(): History;
}

const lossHistory = (page: Page): Promise<History> => page.evaluate(() => (window as unknown as { __playgroundTest: Hooks }).__playgroundTest.lossHistory());

async function configure(page: Page, steps: number): Promise<Locator> {
  await region(page, 'Model').getByRole('combobox', { name: 'U-Net preset' }).selectOption('tiny');
  const training = region(page, 'Training');
  await training.getByRole('spinbutton', { name: 'Batch size' }).fill('2');
  await training.getByRole('spinbutton', { name: 'Steps', exact: true }).fill(String(steps));
  await training.getByRole('spinbutton', { name: 'Preview every N steps' }).fill('0');
  await openMoreSettings(training);
  await training.getByRole('spinbutton', { name: 'Checkpoint every N steps' }).fill(String(CHECKPOINT_EVERY));
  return training;
}

async function trainStep(training: Locator): Promise<number> {
  const text = (await training.getByLabel('Training step', { exact: true }).textContent()) ?? '';
  return Number(text.split('/')[0]);
}

/** The step of the checkpoint shown under the run facts (0 when none). */
async function checkpointStep(training: Locator): Promise<number> {
  const m = /step ([\d,]+)/.exec((await training.getByLabel('Last checkpoint').textContent()) ?? '');
  return m ? Number(m[1].replace(/,/g, '')) : 0;
}

/** The step of the checkpoint stored in IndexedDB (what a reload finds), or -1. */
function storedStep(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const req = indexedDB.open('diffusion-playground', 1);
        req.onerror = () => resolve(-1);
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains('checkpoints')) return resolve(-1);
          // One 'meta:<run>' record per training run: this page's one run.
          const get = db.transaction('checkpoints', 'readonly').objectStore('checkpoints').getAll(IDBKeyRange.bound('meta:', 'meta:\uffff'));
          get.onsuccess = () => resolve(get.result.length === 1 && typeof get.result[0]?.step === 'number' ? get.result[0].step : -1);
          get.onerror = () => resolve(-1);
        };
      }),
  );
}

/** The entries of `h` up to and including `step`. */
function upTo(h: History, step: number): History {
  const n = h.steps.findIndex((s) => s > step);
  const end = n < 0 ? h.steps.length : n;
  return { steps: h.steps.slice(0, end), losses: h.losses.slice(0, end) };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Training runs past `step`, and the history is one point per step from 1, the first `step` as in `before`. */
async function expectContinuesFrom(page: Page, training: Locator, step: number, before: History): Promise<void> {
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('running');
  await expect.poll(() => trainStep(training), { timeout: 120_000 }).toBeGreaterThan(step);
  await expect.poll(async () => (await lossHistory(page)).steps.length, { timeout: 60_000 }).toBeGreaterThan(step);
  const after = await lossHistory(page);
  expect(after.steps, 'one loss per step, none repeated or missing').toEqual(range(1, after.steps.length));
  expect(upTo(after, step), `loss history up to the checkpoint at step ${step}`).toEqual(upTo(before, step));
}

test('a reload mid-training offers the checkpoint; resuming keeps the step count and loss history, and training goes on', async ({ page }) => {
  await openApp(page, QUERY);
  let training = await configure(page, 400);
  await training.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => checkpointStep(training), { timeout: 120_000 }).toBeGreaterThanOrEqual(2 * CHECKPOINT_EVERY);

  // 1. Reload while it trains. The page's history at the moment it goes away (kept across the
  // reload in sessionStorage) holds every step of any checkpoint stored by then.
  await page.evaluate(() =>
    addEventListener('pagehide', () => sessionStorage.setItem('history', JSON.stringify((window as unknown as { __playgroundTest: Hooks }).__playgroundTest.lossHistory()))),
  );
  await page.reload();
  await expect(page.getByLabel('Active backend')).toHaveText('wasm');
  const before = JSON.parse((await page.evaluate(() => sessionStorage.getItem('history'))) ?? 'null') as History;
  expect(before.steps.length).toBeGreaterThanOrEqual(2 * CHECKPOINT_EVERY);
  training = region(page, 'Training');
  const offer = training.getByRole('region', { name: 'Saved training' });
  await expect(offer).toContainText(/the run of a pixel model started .*, at step \d+ of 400/);
  const saved = Number(/step (\d+) of/.exec((await offer.textContent()) ?? '')![1]);
  expect(saved % CHECKPOINT_EVERY, 'an every-N checkpoint').toBe(0);
  expect(saved).toBeGreaterThanOrEqual(2 * CHECKPOINT_EVERY);
  await offer.getByRole('button', { name: 'Resume training' }).click();
  await expect(offer).toHaveCount(0);
  // The run's settings come back with it (the form had the defaults after the reload).
  await openMoreSettings(training);
  await expect(training.getByRole('spinbutton', { name: 'Checkpoint every N steps' })).toHaveValue(String(CHECKPOINT_EVERY));
  await expect(training.getByRole('spinbutton', { name: 'Batch size' })).toHaveValue('2');
  await expectContinuesFrom(page, training, saved, before);

  // 2. Pause, then reload: the pause checkpoint is exactly where training stood.
  await training.getByRole('button', { name: 'Pause' }).click();
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('paused');
  await page.waitForTimeout(500); // a step in flight ends first; its pause checkpoint follows
  const pausedAt = await trainStep(training);
  await expect.poll(() => storedStep(page), { timeout: 30_000 }).toBe(pausedAt);
  const atPause = await lossHistory(page);
  expect(atPause.steps).toEqual(range(1, pausedAt));
  const chart = region(page, 'Loss').getByRole('figure', { name: 'Loss chart' });
  const pathAtPause = await chart.locator('path.line--raw').getAttribute('d');
  await page.reload();
  training = region(page, 'Training');
  await expect(offer).toContainText(`step ${pausedAt} of 400`);
  await offer.getByRole('button', { name: 'Resume training' }).click();
  await expect(chart).toHaveAttribute('data-points', /^[1-9]\d*$/);
  // Before the first new step lands the chart shows the restored history; it equals the one at pause.
  const restored = await lossHistory(page);
  expect(upTo(restored, pausedAt)).toEqual(atPause);
  if (restored.steps.length === pausedAt) expect(await chart.locator('path.line--raw').getAttribute('d')).toBe(pathAtPause);
  await expectContinuesFrom(page, training, pausedAt, atPause);
  await training.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();
});

test('a NaN in the weights pauses training, rolls back to the checkpoint and suggests a lower learning rate', async ({ page }) => {
  await openApp(page, QUERY);
  const training = await configure(page, 400);
  await training.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => checkpointStep(training), { timeout: 120_000 }).toBeGreaterThanOrEqual(CHECKPOINT_EVERY);
  await page.evaluate(() => (window as unknown as { __playgroundTest: Hooks }).__playgroundTest.poisonWeights());

  const alerts = page.getByRole('alert', { name: 'Errors' });
  await expect(alerts).toContainText(/The loss became NaN at step \d+: training paused and went back to the checkpoint at step \d+\. Lower the learning rate \(now 0\.002; try 0\.0002\), then press Resume\./);
  const m = /at step (\d+): training paused and went back to the checkpoint at step (\d+)/.exec((await alerts.textContent()) ?? '')!;
  const [bad, good] = [Number(m[1]), Number(m[2])];
  expect(good).toBeLessThan(bad);
  expect(good % CHECKPOINT_EVERY).toBe(0);
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('paused');
  await expect(training.getByLabel('Training step', { exact: true })).toHaveText(`${good} / 400`);
  const rolledBack = await lossHistory(page);
  expect(rolledBack.steps, 'the history ends at the checkpoint').toEqual(range(1, good));
  expect(rolledBack.losses.every(Number.isFinite)).toBe(true);

  // A lower learning rate, Resume: training goes on from the checkpoint with finite losses.
  await training.getByRole('spinbutton', { name: 'Learning rate' }).fill('0.0001');
  await alerts.getByRole('button', { name: 'Dismiss' }).click();
  await training.getByRole('button', { name: 'Resume' }).click();
  await expectContinuesFrom(page, training, good, rolledBack);
  expect((await lossHistory(page)).losses.every(Number.isFinite)).toBe(true);
  await training.getByRole('button', { name: 'Pause' }).click();
  await expect(alerts).toBeEmpty();
});

test('a worker killed mid-training is restarted, the user is told, and training resumes from the checkpoint', async ({ page }) => {
  await openApp(page, QUERY);
  const training = await configure(page, 400);
  await training.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => checkpointStep(training), { timeout: 120_000 }).toBeGreaterThanOrEqual(CHECKPOINT_EVERY);
  const last = await checkpointStep(training);
  // The history as the worker dies (it holds every step of the last checkpoint the page has).
  const before = await page.evaluate(() => {
    const hooks = (window as unknown as { __playgroundTest: Hooks }).__playgroundTest;
    const history = hooks.lossHistory();
    hooks.killWorker();
    return history;
  });

  const alerts = page.getByRole('alert', { name: 'Errors' });
  await expect(alerts).toContainText(/The engine worker stopped \(terminated by a test hook\)\. The engine was restarted on wasm and training resumes from the checkpoint at step (\d+)\./);
  const resumedAt = Number(/from the checkpoint at step (\d+)/.exec((await alerts.textContent()) ?? '')![1]);
  // The checkpoint the page last heard of (it may have been written just after `last` was read).
  expect(resumedAt).toBeGreaterThanOrEqual(last);
  expect(resumedAt % CHECKPOINT_EVERY).toBe(0);
  await expect(page.getByLabel('Active backend')).toHaveText('wasm');
  await expectContinuesFrom(page, training, resumedAt, before);
  await training.getByRole('button', { name: 'Pause' }).click();
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('paused');
});

test('a batch the device cannot hold is refused with a message, and the page goes on working', async ({ page }) => {
  // The small U-Net at batch 256 needs about 5 GiB to train (measured: ~19 MiB per image on wasm).
  await openApp(page, '?backend=wasm&unet=small&batch=256&tsteps=2');
  const training = region(page, 'Training');
  await expect(training.getByRole('spinbutton', { name: 'Batch size' })).toHaveValue('256');
  await training.getByRole('button', { name: 'Start' }).click();
  const alerts = page.getByRole('alert', { name: 'Errors' });
  await expect(alerts).toContainText(
    /Batch size 256 is too large for training: it needs about [\d.]+ GiB \(weights and optimizer state [\d.]+ MiB, activations [\d.]+ GiB\), more than WebAssembly can hold \(2\.0 GiB: .*\), so it was not started\. Use a batch size of at most \d+\./,
  );
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('idle');
  await expect(training.getByLabel('Training step', { exact: true })).toHaveText('0 / 2');
  await expect(training.getByRole('button', { name: 'Start' })).toBeEnabled();
  // A batch that fits trains.
  await alerts.getByRole('button', { name: 'Dismiss' }).click();
  await training.getByRole('spinbutton', { name: 'Batch size' }).fill('2');
  await training.getByRole('button', { name: 'Start' }).click();
  await expect(training.getByLabel('Training state', { exact: true })).toHaveText('done', { timeout: 120_000 });
  await expect(alerts).toBeEmpty();
});

test.describe('Content-Security-Policy', () => {
  test('the page and its workers run under the policy with no violation, cross-origin isolated', async ({ page, consoleErrors }) => {
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) violations.push(`${m.type()}: ${m.text()}`);
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    const headers = new Map<string, Record<string, string>>();
    page.on('response', (r) => headers.set(new URL(r.url()).pathname, r.headers()));

    // wasm: its binaries are compiled ('wasm-unsafe-eval') and its threads are blob: workers.
    await openApp(page, '?backend=wasm');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const root = headers.get('/')!;
    expect(root['content-security-policy']).toBe(
      "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'",
    );
    expect(root['cross-origin-opener-policy']).toBe('same-origin');
    expect(root['cross-origin-embedder-policy']).toBe('require-corp');
    const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    expect(meta).toBe(root['content-security-policy']);
    const workerScript = [...headers].find(([path]) => /\/assets\/worker[^/]*\.js$/.test(path));
    expect(workerScript?.[1]['content-security-policy'], 'the engine worker has the policy too').toBe(root['content-security-policy']);

    // KaTeX (inline styles, a data: font), training and sampling on wasm.
    await expect(page.locator('.katex').first()).toBeVisible();
    const training = await configure(page, 2);
    await training.getByRole('button', { name: 'Start' }).click();
    await expect(training.getByLabel('Training state', { exact: true })).toHaveText('done', { timeout: 120_000 });
    const sampling = region(page, 'Sampling');
    await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('2');
    await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('2');
    await sampling.getByRole('button', { name: 'Sample' }).click();
    await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 120_000 });

    // WebGPU (its shaders are WGSL, not scripts) samples too.
    await openApp(page, 'backend=webgpu');
    await expect(page.getByLabel('Active backend')).toHaveText('webgpu');
    await sampling.getByRole('spinbutton', { name: 'Sampling steps' }).fill('2');
    await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('1');
    await sampling.getByRole('button', { name: 'Sample' }).click();
    await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 120_000 });
    await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();
    expect(violations, 'console messages about the Content Security Policy').toEqual([]);
    expect(consoleErrors.filter((e) => /Content.Security.Policy/i.test(e))).toEqual([]);
  });
});

test('garbage URL parameters get visible notes and a working page, never a blank one', async ({ page }) => {
  await page.goto('/?T=abc&steps=-5&backend=nope&batch=1e9&lr=-1&sampler=x&%ZZ=1&stream=maybe&pretrained=0');
  for (const name of PANELS) await expect(region(page, name)).toBeVisible();
  await expect(page.getByLabel('Active backend')).toHaveText('wasm');
  await expect(page.getByRole('status', { name: 'Backend note' })).toContainText('Unknown backend "nope" in the URL');
  const note = page.getByRole('status', { name: 'Link note' });
  for (const text of [
    '"T=abc" in the link: Diffusion steps T must be a number; ignored.',
    '"steps=-5" in the link: Sampling steps must be between 1 and 1000; using 1.',
    '"batch=1e9" in the link: Batch size must be between 1 and 256; using 256.',
    '"lr=-1" in the link: Learning rate must be between 0.000001 and 1; using 0.000001.',
    '"sampler=x" in the link: Sampler must be one of ddpm, ddim, dpmpp; ignored.',
    '"%ZZ" in the link is not a setting; ignored.',
    '"stream=maybe" in the link must be 0, 1; ignored (training streams its progress).',
  ]) {
    await expect(note).toContainText(text);
  }
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();
  await expect(region(page, 'Training').getByRole('spinbutton', { name: 'Batch size' })).toHaveValue('256');
  await expect(region(page, 'Schedule').getByRole('spinbutton', { name: 'Diffusion steps T' })).toHaveValue('1000');
  // The page works: it samples with what it kept.
  const sampling = region(page, 'Sampling');
  await expect(sampling.getByRole('spinbutton', { name: 'Sampling steps' })).toHaveValue('1');
  await sampling.getByRole('spinbutton', { name: 'Number of images' }).fill('2');
  await sampling.getByRole('button', { name: 'Sample' }).click();
  await expect(sampling.getByLabel('Sampling state', { exact: true })).toHaveText('done', { timeout: 120_000 });
  await expect(sampling.getByLabel('Sampling step', { exact: true })).toHaveText('1 / 1');
  // The address bar keeps what the page used and drops the rest.
  await expect.poll(() => page.url()).not.toMatch(/sampler=|ZZ|T=abc|stream=|backend=/);
  await expect.poll(() => new URL(page.url()).searchParams.get('batch')).toBe('256');
  await expect(page.getByRole('alert', { name: 'Errors' })).toBeEmpty();
});
