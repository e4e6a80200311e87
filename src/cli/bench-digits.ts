/**
 * `npm run bench:digits`: time to digits (issue 18). Trains a recipe (./digits-recipes.ts) from
 * fresh weights in Node on wasm with the page's own training loop (src/engine/training-session.ts:
 * the same steps, previews every 100 steps, checkpoints every 50, the live quality curve between
 * steps) for a wall-time budget, and reports the quality curve (confidence, label entropy, FD / floor
 * at N samples against training time) and the first time each target is met:
 * confidence ≥ 0.9, label entropy ≥ 2.2 nats, FD ≤ 5× the real-digit floor at the same N.
 *
 *   npm run bench:digits -- [--recipe default] [--minutes 10] [--samples 200] [--share 0.05 | --every 60] [--clock wall|cpu] [--json out.json] [--list]
 *   npm run bench:digits -- --page [...]     the same in the built page in Chromium (./bench-digits-page.ts)
 *
 * Times are the curve's clock (training time, the checks included, as the page's chart shows it)
 * and, beside it, this process's CPU time, which on a shared machine stands for the wall time the
 * run would take on an idle one (the wasm backend runs one thread in Node).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backends/node';
import { loadMnistNode } from '../data/load-node';
import { splitTrainHeldOut } from '../data/mnist';
import { makeSchedule } from '../diffusion';
import { buildModel, setupStats } from '../models/factory';
import { TrainingSession } from '../engine/training-session';
import { QualityCurve, type QualityStep } from '../engine/quality-curve';
import { dirReader } from '../io/pretrained-node';
import { DEFAULT_QUALITY, type QualityPoint } from '../protocol/quality-messages';
import type { TrainingConfig } from '../engine/run-config';
import type { WorkerToPage } from '../protocol/messages';
import { DIGITS_RECIPES, recipeByName, recipeSetup } from './digits-recipes';
import { firstTimes, formatCurve, formatTargets } from './digits-targets';
import { formatSeconds } from './progress';
import { parseArgs } from './args';

/**
 * `--every S`: a check after every S seconds of training time instead of when the page's work
 * budget allows. On a shared machine a slow check makes the budget wait 19 times as long (a check
 * of 27 s: none for 8.5 minutes), so a sweep's curves would have few points, at times that differ
 * from run to run; the checks' time still counts in the training clock, as in the page.
 *
 * `--clock cpu`: the budget (`--minutes`) and `--every` count this process's CPU seconds, not wall
 * seconds. The wasm backend runs one thread here, so on a machine other jobs share (load average 5-7
 * on 2 cores during the sweep) CPU time stands for the wall time of the same run on an idle machine,
 * and runs made at different loads compare.
 */
class EveryCurve extends QualityCurve {
  private nextMs = 0;

  /** `clockMs`: the training clock (wall) or the process's CPU time (`--clock cpu`), ms. */
  constructor(
    deps: ConstructorParameters<typeof QualityCurve>[0],
    private readonly everyMs: number,
    private readonly clockMs: (at: QualityStep) => number,
  ) {
    super(deps);
  }

  override get due(): boolean {
    return this.enabled;
  }

  override async afterStep(at: QualityStep): Promise<void> {
    const now = this.clockMs(at);
    if (now < this.nextMs) return;
    this.nextMs = now + this.everyMs;
    await super.afterStep(at);
  }
}

/** The page's training form defaults besides what a recipe sets (src/state/store.ts, DEFAULT_TRAINING). */
const PAGE_FORM = { previewEvery: 100, seed: 0, checkpointEvery: 50 };

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--page')) {
    const { runPage } = await import('./bench-digits-page');
    return runPage(argv.filter((a) => a !== '--page'));
  }
  const args = parseArgs(argv, { recipe: 'default', minutes: 10, samples: DEFAULT_QUALITY.samples, share: DEFAULT_QUALITY.share, every: 0, clock: 'wall', json: '', list: false });
  if (args.list) {
    for (const r of DIGITS_RECIPES) console.log(`${r.name.padEnd(22)} ${r.what}`);
    return;
  }
  if (args.clock !== 'wall' && args.clock !== 'cpu') throw new Error(`--clock must be wall or cpu, got '${args.clock}'`);
  const byCpu = args.clock === 'cpu';
  const recipe = recipeByName(args.recipe);
  await initNodeBackend('wasm');
  const setup = recipeSetup(recipe);
  const dataset = await loadMnistNode();
  const data = { dataset, split: splitTrainHeldOut(dataset) };
  const model = buildModel(setup, PAGE_FORM.seed);
  const stats = setupStats(setup);
  const budgetMs = args.minutes * 60_000;
  const points: QualityPoint[] = [];
  /** CPU seconds of this process at each point: on a shared machine, what the wall time would be on an idle one (one thread). */
  const cpuAt: number[] = [];
  const cpuStart = process.cpuUsage();
  const cpuNow = () => ((u) => (u.user + u.system) / 1e6)(process.cpuUsage(cpuStart));
  let stepsPerSec = 0;
  let step = 0;
  let stage = '';
  let ended: (() => void) | null = null;
  const post = (m: WorkerToPage) => {
    if (m.type === 'quality/point') {
      points.push(m.point);
      cpuAt.push(cpuNow());
      const p = m.point;
      process.stderr.write(`  check at ${formatSeconds(p.trainingSec)} (step ${p.step}): confidence ${p.confidence.toFixed(3)}, entropy ${p.labelEntropy.toFixed(3)}, FD/floor ${(p.fd / p.floorFd).toFixed(2)} (${p.fd.toFixed(1)} / ${p.floorFd.toFixed(1)}), check ${(p.checkMs / 1000).toFixed(1)} s, ${formatSeconds(cpuAt[cpuAt.length - 1])} CPU\n`);
    } else if (m.type === 'quality/status' && m.status === 'failed') throw new Error(m.message ?? 'the quality curve failed');
    else if (m.type === 'train/progress') {
      stepsPerSec = m.stepsPerSec;
      step = m.step;
      stage = m.stage;
    } else if (m.type === 'train/state' && (m.state === 'done' || m.state === 'idle')) ended?.();
    else if (m.type === 'error') throw new Error(m.message);
  };
  const deps = { post, read: dirReader(join(process.cwd(), 'public/models')), loadData: async () => dataset };
  const quality = args.every > 0 ? new EveryCurve(deps, args.every * 1000, (at) => (byCpu ? cpuNow() * 1000 : at.trainingMs)) : new QualityCurve(deps);
  const session = new TrainingSession({ model, schedule: makeSchedule(setup.schedule), setup, data, post, onChange: () => {}, quality });
  console.log(`bench:digits ${recipe.name}: ${recipe.what}`);
  console.log(`  ${setup.kind} ${setup.kind === 'latent' ? `${setup.latent.autoencoder} + ${setup.latent.denoiser}` : setup.preset}, ${stats.paramCount.toLocaleString("en")} parameters, ${(stats.flopsPerStep / 1e6).toFixed(1)} MFLOP per image; ${args.minutes} min (${args.clock} clock), curve N = ${args.samples}, ${args.every > 0 ? `a check every ${args.every} s` : `share ${args.share}`}; Node ${process.version}, ${tf.getBackend()}`);

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  /** The budget's clock: wall time, or CPU time with `--clock cpu`. */
  const elapsed = () => (byCpu ? cpuNow() * 1000 : performance.now() - t0);
  const ticker = setInterval(() => {
    const left = Math.max(0, budgetMs - elapsed()) / 1000;
    process.stderr.write(`  ${stage} step ${step}, ${stepsPerSec.toFixed(2)} steps/s, ${formatSeconds((performance.now() - t0) / 1000)} elapsed, ${formatSeconds(cpuNow())} CPU, ${formatSeconds(left)} left\n`);
  }, 30_000);
  /** Runs one stage until its steps are done or the budget is spent. */
  const runStage = async (config: TrainingConfig) => {
    const over = new Promise<void>((resolve) => (ended = resolve));
    await session.start({ ...config, quality: config.stage === 'denoiser' ? { samples: args.samples, steps: DEFAULT_QUALITY.steps, share: args.share } : null });
    const timer = setInterval(() => {
      if (elapsed() >= budgetMs) void session.stop();
    }, 250);
    await over;
    clearInterval(timer);
    ended = null;
  };
  const stageSteps: Record<string, number> = {};
  if (recipe.autoencoder) {
    await runStage({ ...PAGE_FORM, ...recipe.autoencoder, stage: 'autoencoder' });
    stageSteps.autoencoder = session.autoencoderSteps;
    process.stderr.write(`  autoencoder done: ${session.autoencoderSteps} steps in ${formatSeconds(elapsed() / 1000)}\n`);
  }
  if (elapsed() < budgetMs) await runStage({ ...PAGE_FORM, ...recipe.training, stage: 'denoiser' });
  stageSteps.denoiser = session.denoiserSteps;
  clearInterval(ticker);
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  session.dispose();
  quality.dispose();
  model.dispose();

  const firsts = firstTimes(points);
  const denoiserRate = stageSteps.denoiser / wallS;
  const perCpu = stageSteps.denoiser / cpuS;
  console.log(`\n${recipe.name}: ${stageSteps.denoiser} denoiser steps${recipe.autoencoder ? ` after ${stageSteps.autoencoder} autoencoder steps` : ''} in ${wallS.toFixed(0)} s: ${denoiserRate.toFixed(2)} steps/s over the run (last ${stepsPerSec.toFixed(2)}), ${cpuS.toFixed(0)} CPU s = ${perCpu.toFixed(2)} steps per CPU s (${((100 * cpuS) / wallS).toFixed(0)} % of a core: below 100 % the machine was shared)\n`);
  console.log(formatCurve(points, cpuAt));
  console.log(`\n${formatTargets(firsts, (p) => cpuAt[points.indexOf(p)])}`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ recipe, setup, args, wallS, cpuS, stageSteps, stepsPerSec, denoiserRate, perCpu, points, cpuAt, firsts }, null, 2));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

