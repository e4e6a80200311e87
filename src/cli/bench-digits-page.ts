/**
 * `npm run bench:digits -- --page`: time to digits in the page (issue 18's target). Opens a fresh
 * page of the built app (`vite preview` of --dist) on wasm in Debian's Chromium, presses the
 * "Train to digits" preset as a teacher would (and "Reset to fresh weights" when the page asks),
 * turns on "Score samples while training", presses Start, and reads the quality curve's last check
 * from the page (its caption) every 2 s for --minutes of training; then prints the curve and the
 * first time each target was met: confidence ≥ 0.9, label entropy ≥ 2.2, FD ≤ 5× the floor.
 *
 *   npx vite build --outDir dist-digits && npm run bench:digits -- --page [--port 4521] [--dist dist-digits]
 *        [--minutes 10] [--preset "Train to digits"] [--denoiser-steps N] [--json out.json]
 *
 * A latent preset trains stage 1 (the autoencoder) with the form's Steps; when it is done the
 * script picks stage 2, sets Steps to --denoiser-steps (what the preset's note says) and presses
 * Start again; the curve's clock counts both stages.
 *
 * Times are the curve's clock (training time, the checks included) and, beside it, the wall time
 * since Start was pressed.
 */
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import type { QualityPoint } from '../protocol/quality-messages';
import { firstTimes, formatCurve, formatTargets } from './digits-targets';
import { formatSeconds } from './progress';
import { parseArgs } from './args';

/** The caption's sentence on the last check (src/ui/QualityCurve.tsx, lastCheckText), read back. */
const CHECK_TEXT = /^Step ([\d,]+) \((\d+):(\d\d)(?::(\d\d))? of training\): confidence ([\d.]+), label entropy ([\d.]+) of [\d.]+ nats, FD ([\d.]+) = [\d.]+× the floor \(([\d.]+)\); (\d+) samples, the check took ([\d.]+) s\.$/;

export function parseCheckText(text: string): QualityPoint | null {
  const m = CHECK_TEXT.exec(text.trim());
  if (m == null) return null;
  const clock = m[4] === undefined ? Number(m[2]) * 60 + Number(m[3]) : Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  return {
    step: Number(m[1].replace(/,/g, '')),
    trainingSec: clock,
    confidence: Number(m[5]),
    labelEntropy: Number(m[6]),
    fd: Number(m[7]),
    floorFd: Number(m[8]),
    n: Number(m[9]),
    checkMs: Number(m[10]) * 1000,
    histogram: [],
  };
}

/** Waits (cheaply: one querySelector every 500 ms) until the element's text is `text`. */
async function expectText(page: import('@playwright/test').Page, selector: string, text: string, timeoutMs: number): Promise<void> {
  await page.waitForFunction(([sel, t]) => document.querySelector(sel)?.textContent === t, [selector, text] as const, { polling: 500, timeout: timeoutMs });
}

export async function runPage(argv: string[]): Promise<void> {
  const o = parseArgs(argv, { port: Number(process.env.PW_PORT ?? 4521), dist: process.env.PW_DIST ?? 'dist-digits', minutes: 10, preset: 'Train to digits', 'denoiser-steps': 0, json: '' });
  const { spawn } = await import('node:child_process');
  const { chromium } = await import('@playwright/test');
  const { CHROMIUM_ARGS, CHROMIUM_PATH } = await import('../../playwright.config');
  const { waitForServer } = await import('./bench-compare');
  const base = `http://127.0.0.1:${o.port}`;
  const server = spawn('npx', ['vite', 'preview', '--outDir', o.dist, '--host', '127.0.0.1', '--port', String(o.port), '--strictPort'], { stdio: 'ignore', detached: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    await waitForServer(base, server).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}: build ${o.dist} first`);
    });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (e) => console.log(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && console.log(`console.error: ${m.text()}`));
    console.log(`bench:digits --page: "${o.preset}", ${o.dist} on :${o.port}, Chromium ${browser.version()}, ${new Date().toISOString()}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    await page.goto(`${base}/?backend=wasm`);
    const presets = page.getByRole('group', { name: 'Presets' });
    const presetButton = presets.getByRole('button', { name: o.preset, exact: true });
    await presetButton.waitFor();
    // Presets wait while the pretrained model loads.
    for (let i = 0; i < 600 && !(await presetButton.isEnabled()); i++) await sleep(100);
    await presetButton.click();
    const confirm = page.getByRole('group', { name: 'Confirm model change' }).getByRole('button', { name: 'Reset to fresh weights' });
    await confirm.waitFor({ timeout: 10_000 }).then(
      () => confirm.click(),
      () => undefined, // no model to replace: nothing asked
    );
    const note = await page.getByRole('note', { name: 'Preset note' }).textContent();
    console.log(`preset note: ${note}`);
    const training = page.getByRole('region', { name: 'Training' });
    const form = await Promise.all(['Learning rate', 'Batch size', 'Steps'].map(async (l) => `${l} ${await training.getByLabel(l, { exact: true }).inputValue()}`));
    const model = page.getByRole('region', { name: 'Model' });
    console.log(`form: ${form.join(', ')}; ${(await Promise.all(['U-Net preset', 'Autoencoder preset', 'Latent denoiser preset'].map(async (l) => { const c = model.getByRole('combobox', { name: l }); return (await c.count()) > 0 ? `${l} ${await c.inputValue()}` : null; }))).filter(Boolean).join(', ')}; backend ${await page.getByLabel('Active backend').textContent()}, ${await page.getByLabel('Adapter').textContent()}`);
    await training.getByRole('checkbox', { name: 'Score samples while training' }).check();
    const start = training.getByRole('button', { name: 'Start', exact: true });
    for (let i = 0; i < 600 && !(await start.isEnabled()); i++) await sleep(100);
    await start.click();
    const t0 = performance.now();
    // A latent model: stage 1 (the autoencoder) runs the form's Steps; then, as the preset's note says, stage 2 with its own Steps.
    const latent = await training.getByRole('group', { name: 'Training stage' }).isVisible();
    if (latent) {
      if (!(o['denoiser-steps'] > 0)) throw new Error('a latent preset needs --denoiser-steps (the Steps of stage 2 its note gives)');
      await expectText(page, 'dd[aria-label="Training state"]', 'done', 30 * 60_000);
      console.log(`  stage 1 done after ${formatSeconds((performance.now() - t0) / 1000)}: stage 2 with ${o['denoiser-steps']} steps`);
      await training.getByRole('radio', { name: /Latent denoiser/ }).check();
      await training.getByRole('spinbutton', { name: 'Steps', exact: true }).fill(String(o['denoiser-steps']));
      for (let i = 0; i < 600 && !(await start.isEnabled()); i++) await sleep(100);
      await start.click();
    }
    const points: (QualityPoint & { wallSec: number })[] = [];
    let lastText = '';
    const budgetS = o.minutes * 60;
    let lastLog = 0;
    // Cheap reads only (one querySelector per poll): Playwright's accessible-name polling itself makes long tasks on this page.
    for (;;) {
      const wallSec = (performance.now() - t0) / 1000;
      const text = await page.evaluate(() => document.querySelector('figure[aria-label="Quality while training chart"] figcaption')?.textContent ?? '');
      if (text !== lastText) {
        lastText = text;
        const p = parseCheckText(text);
        if (p && (points.length === 0 || p.step !== points[points.length - 1].step)) {
          points.push({ ...p, wallSec });
          console.log(`  check at ${formatSeconds(p.trainingSec)} (wall ${formatSeconds(wallSec)}, step ${p.step}): confidence ${p.confidence.toFixed(3)}, entropy ${p.labelEntropy.toFixed(2)}, FD/floor ${(p.fd / p.floorFd).toFixed(2)}`);
        } else if (!p) console.log(`  curve: ${text}`);
      }
      const last = points[points.length - 1];
      if ((last?.trainingSec ?? 0) >= budgetS || wallSec >= budgetS + 60) break;
      // Training reached its Steps: no check comes after the last one.
      if (last && wallSec > last.wallSec + 30 && (await page.evaluate(() => document.querySelector('dd[aria-label="Training state"]')?.textContent)) === 'done') break;
      if (wallSec - lastLog >= 30) {
        lastLog = wallSec;
        const state = await page.evaluate(() => ['Training step', 'Steps per second', 'Time left'].map((l) => document.querySelector(`dd[aria-label="${l}"]`)?.textContent ?? '?').join(', '));
        console.log(`  ${formatSeconds(wallSec)} since Start: step, steps/s, time left: ${state}`);
      }
      await sleep(2000);
    }
    const pause = training.getByRole('button', { name: 'Pause', exact: true });
    if (await pause.isEnabled()) await pause.click();
    const firsts = firstTimes(points);
    const step = await page.evaluate(() => document.querySelector('dd[aria-label="Training step"]')?.textContent ?? '?');
    console.log(`\n"${o.preset}" in the page: ${points.length} checks in ${formatSeconds((performance.now() - t0) / 1000)} since Start (training step ${step})\n`);
    console.log(formatCurve(points));
    console.log(`\n${formatTargets(firsts)}`);
    if (firsts.all) console.log(`(wall time since Start when all three held: ${formatSeconds(points.find((p) => p === firsts.all)!.wallSec)})`);
    if (o.json) writeFileSync(o.json, JSON.stringify({ options: o, points, firsts }, null, 2));
  } finally {
    await browser.close();
    if (server.pid) process.kill(-server.pid);
  }
}
