/**
 * `npm run soak -- --minutes M`: a lesson's worth of use, in headless Chromium on the built app
 * (Debian's Chromium, the browser tests' flags), by role and name: train a while and pause, sample
 * with each sampler, scrub and play the player, switch to the other model and back, run the quick
 * Compare, and every few loops reload and resume training. Every minute it records the engine's
 * live tensors, the page's JS heap (after a GC) and the storage in use; at the end it fails on
 * growth after warm-up (tensors ± 0 at the same point of the loop, the heap's data ≥ 5 %, storage beyond the
 * kept checkpoints), on any error shown, and on any resume that lost steps or loss history.
 *
 * With `--tabs N` (N ≥ 2) it runs ./soak-tabs.ts instead: N tabs training at once, each reloading and
 * resuming in turn, failing on any crossed or corrupted checkpoint.
 *
 *   npm run build && npm run soak -- [--minutes 60] [--reload-every 3] [--train-seconds 8] [--tabs N] [--port 4181] [--json FILE]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { chromium, type Browser } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../playwright.config';
import { parseArgs } from './args';
import { ProgressBar } from './progress';
import { soakTabs } from './soak-tabs';
import { compareQuick, lossHistory, measure, reloadAndResume, sampleEach, scrub, switchModelAndBack, trainAWhile, type Sample } from './soak-steps';

/** From scratch, the tiny U-Net at a small batch, so a few seconds of training make checkpoints. */
const QUERY = '?backend=wasm&testhooks=1&pretrained=0&unet=tiny&batch=4&tsteps=1000000';
const WARM_UP_LOOPS = 2;

async function waitForServer(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`vite preview did not answer at ${url}: run npm run build first`);
}

/** What grew after warm-up, within each page lifetime (a reload starts a fresh page and worker). */
export function growthProblems(samples: Sample[], lifetimes: number[]): string[] {
  const problems: string[] = [];
  const byLife = new Map<number, Sample[]>();
  samples.forEach((s, i) => byLife.set(lifetimes[i], [...(byLife.get(lifetimes[i]) ?? []), s]));
  for (const [life, list] of byLife) {
    const warm = list.filter((s) => s.loop >= WARM_UP_LOOPS);
    if (warm.length < 2) continue;
    const first = warm[0];
    const last = warm[warm.length - 1];
    if (last.tensors !== first.tensors) problems.push(`page ${life + 1}: live tensors went from ${first.tensors} to ${last.tensors} at the same point of the loop`);
    // The page's data, not V8's compiled code (which grows as functions are optimised: ./soak-heap.ts).
    if (last.heapData > first.heapData * 1.05) problems.push(`page ${life + 1}: the JS heap's data grew ${((last.heapData / first.heapData - 1) * 100).toFixed(1)} % (${mb(first.heapData)} → ${mb(last.heapData)})`);
  }
  const storage = samples.filter((s) => s.loop >= WARM_UP_LOOPS).map((s) => s.storage);
  if (storage.length >= 2 && storage[storage.length - 1] > Math.max(...storage.slice(0, 2)) * 1.5 + 1024 * 1024) {
    problems.push(`storage in use grew from ${mb(storage[0])} to ${mb(storage[storage.length - 1])}`);
  }
  const errors = samples.at(-1)?.errors ?? 0;
  if (errors > 0) problems.push(`${errors} error(s) shown on the page`);
  return problems;
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { minutes: 60, 'reload-every': 3, 'train-seconds': 8, tabs: 1, port: 4181, json: '' });
  const server = spawn('npx', ['vite', 'preview', '--host', '127.0.0.1', '--port', String(args.port), '--strictPort'], { stdio: 'ignore' });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  if (args.tabs >= 2) return tabsMode(browser, server, args);
  const samples: Sample[] = [];
  const lifetimes: number[] = [];
  const resumes: string[] = [];
  let life = 0;
  let loop = 0;
  const started = Date.now();
  const minutes = () => (Date.now() - started) / 60_000;
  const bar = new ProgressBar('soak minutes', Math.ceil(args.minutes));
  try {
    await waitForServer(`http://127.0.0.1:${args.port}/`);
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (e) => resumes.push(`page error: ${e.message}`));
    const cdp = await page.context().newCDPSession(page);
    await page.goto(`http://127.0.0.1:${args.port}/${QUERY}`);
    await page.getByLabel('Active backend').filter({ hasNotText: /starting/ }).waitFor({ timeout: 120_000 });
    let nextSample = 0;
    const record = async () => {
      samples.push(await measure(page, cdp, Number(minutes().toFixed(2)), loop));
      lifetimes.push(life);
    };
    while (minutes() < args.minutes) {
      await switchModelAndBack(page);
      await compareQuick(page);
      const pausedAt = await trainAWhile(page, args['train-seconds']);
      const before = await lossHistory(page);
      await sampleEach(page);
      await scrub(page);
      // The same point of every loop: switched and back, compared, trained and paused, sampled.
      if (minutes() >= nextSample) {
        await record();
        nextSample = Math.floor(minutes()) + 1;
      }
      loop++;
      bar.update(Math.min(Math.ceil(args.minutes), Math.floor(minutes())), `loop ${loop}, ${samples.at(-1)?.tensors ?? '?'} tensors`);
      if (loop % args['reload-every'] === 0 && minutes() < args.minutes) {
        const problem = await reloadAndResume(page, pausedAt, before);
        resumes.push(problem ? `loop ${loop}: ${problem}` : `loop ${loop}: resumed at step ${pausedAt}, loss history identical`);
        life++;
      }
    }
    await record();
  } finally {
    await browser.close();
    server.kill();
  }
  const problems = [...growthProblems(samples, lifetimes), ...resumes.filter((r) => !/identical$/.test(r))];
  console.log(`\nSoak, ${new Date().toISOString()}: ${minutes().toFixed(1)} minutes, ${loop} loops, ${life} reloads\n`);
  console.log('| minute | loop | page | tensors | tensor MB | JS heap MB | of it, code MB | of it, data MB | storage MB | errors |\n|---|---|---|---|---|---|---|---|---|---|');
  samples.forEach((s, i) => console.log(`| ${s.minute} | ${s.loop} | ${lifetimes[i] + 1} | ${s.tensors} | ${mb(s.tensorBytes)} | ${mb(s.heap)} | ${mb(s.heapCode)} | ${mb(s.heapData)} | ${mb(s.storage)} | ${s.errors} |`));
  for (const r of resumes) console.log(`- ${r}`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), minutes: minutes(), loops: loop, samples, lifetimes, resumes, problems }, null, 2));
  if (problems.length > 0) {
    console.error(`\nSoak FAILED:\n${problems.map((p) => `- ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log('\nSoak passed: no growth after warm-up, no errors, every resume identical.');
}

async function tabsMode(browser: Browser, server: ChildProcess, args: { minutes: number; tabs: number; 'train-seconds': number; port: number; json: string }): Promise<void> {
  const started = Date.now();
  let result;
  try {
    await waitForServer(`http://127.0.0.1:${args.port}/`);
    result = await soakTabs(browser, `http://127.0.0.1:${args.port}/${QUERY}`, args.tabs, args.minutes, args['train-seconds'], (tab, resumes) =>
      process.stderr.write(`tab ${tab + 1}: ${resumes} resumes, ${((Date.now() - started) / 60_000).toFixed(1)} of ${args.minutes} minutes\n`),
    );
  } finally {
    await browser.close();
    server.kill();
  }
  console.log(`\nTwo tabs, ${new Date().toISOString()}: ${args.tabs} tabs × ${((Date.now() - started) / 60_000).toFixed(1)} minutes of training with reloads\n`);
  console.log('| tab | resumes | crossed or corrupted |\n|---|---|---|');
  result.tabs.forEach((t, i) => console.log(`| ${i + 1} | ${t.resumes} | ${t.problems.length} |`));
  const problems = result.tabs.flatMap((t, i) => t.problems.map((p) => `tab ${i + 1}: ${p}`));
  if (args.json) writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), ...result }, null, 2));
  if (problems.length > 0) {
    console.error(`\nTwo-tab soak FAILED:\n${problems.map((p) => `- ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log('\nTwo-tab soak passed: every resume was the tab\'s own run, complete.');
}

void main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
