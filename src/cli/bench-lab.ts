/**
 * The 2D lab's targets (issue 17) in Node on the wasm backend (1 thread, as the other benches):
 * (a) the training step of the lab MLP at batch 512 for several widths and depths, ms (median of
 *     `--blocks` blocks of `--steps` steps, after a warm-up), as wall-clock time and as this
 *     process's CPU time (process.cpuUsage: on a shared, loaded machine the wall clock also counts
 *     the time other processes hold the cores; the CPU time is what the step itself costs);
 * (b) 8 Gaussians from a fresh model: seconds of training (evaluation time not counted; wall and
 *     CPU) until the unbiased energy distance of samples of the learned model (`--sampler`,
 *     `--sampleSteps`) to a fresh data sample is ≤ 2× the two-data-sample floor with every mode
 *     covered, checked every `--every` steps, for at most `--limit` seconds of CPU time;
 * (c) with `--sampling`: whole sampling runs of the page's defaults (2,000 particles; DDPM-100 and
 *     DDIM-20 with the learned MLP, DDIM-20 with the exact denoiser), CPU ms per run (median of
 *     `--blocks`, after a warm-up run); the training step's losses are read as the page reads them
 *     (asynchronously, in batches: LabTrainer.readLosses once per block).
 *
 *   npx tsx src/cli/bench-lab.ts [--shapes 32x2,64x2,64x3,128x3] [--steps 50] [--blocks 5]
 *        [--every 100] [--limit 20] [--samples 1000] [--sampler dpmpp] [--sampleSteps 20]
 *        [--targets 64x3@0.01,48x3@0.01] [--objective diffusion|flow] [--seeds 1,2,3]
 * (for --objective flow pass --sampler heun or euler).
 *
 * Not a test; numbers vary with the machine and its load (this 2-core machine is shared): quote
 * ratios from one run.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backends/node';
import { deriveSeed } from '../data/random';
import { sampleToy2D } from '../data/toy2d';
import { createLabContext, disposeLabContext, type LabContext } from '../engine/lab/lab-context';
import { labSampleRun } from '../engine/lab/lab-sampling';
import { energyDistance, energyDistanceFloor, everyModeCovered, modeShares } from '../eval/sample-distance';
import { median } from '../eval/stats';
import { mlpParamCount } from '../models/mlp-denoiser';
import { DEFAULT_LAB_SETUP, DEFAULT_LAB_TRAINING, type LabSamplerKind, type LabSetup } from '../protocol/lab-messages';
import { parseArgs } from './args';
import { pageBench } from './bench-lab-page';

const opts = parseArgs(process.argv.slice(2), {
  shapes: '32x2,64x2,64x3,96x3,128x3',
  steps: 50,
  blocks: 5,
  every: 100,
  limit: 20,
  samples: 1000,
  sampler: 'dpmpp',
  sampleSteps: 20,
  targets: `${DEFAULT_LAB_SETUP.width}x${DEFAULT_LAB_SETUP.depth}@${DEFAULT_LAB_TRAINING.learningRate}`,
  batch: DEFAULT_LAB_TRAINING.batch,
  objective: 'diffusion',
  seeds: '1',
  // --page: the in-page measurement (see pageBench below) instead of the Node figures.
  page: false,
  port: 4391,
  dist: 'dist-lab',
  seconds: 20,
  trace: '',
  profile: false,
  procs: false,
  until: '',
  out: '',
  sampling: false,
  // --page --ten: the first target in the page: a fresh model trained 10 s, then its quality.
  ten: false,
});

function shapeOf(s: string): { width: number; depth: number } {
  const [width, depth] = s.split('x').map(Number);
  return { width, depth };
}

/** `steps` training steps, their losses read at the end (as the page's loop reads them, in batches). */
async function train(ctx: LabContext, steps: number, batch: number, learningRate: number): Promise<void> {
  for (let i = 0; i < steps; i++) {
    ctx.trainer.trainStep(batch, learningRate);
    if (ctx.trainer.pending >= 16) await ctx.trainer.readLosses();
  }
  await ctx.trainer.readLosses();
}

async function stepTiming(shape: { width: number; depth: number }): Promise<{ wall: number; cpu: number }> {
  const ctx = createLabContext({ ...DEFAULT_LAB_SETUP, ...shape });
  await train(ctx, 20, 512, 1e-3);
  const before = tf.memory().numTensors;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let b = 0; b < opts.blocks; b++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await train(ctx, opts.steps, 512, 1e-3);
    wall.push((performance.now() - t0) / opts.steps);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000 / opts.steps);
  }
  if (tf.memory().numTensors !== before) throw new Error('tensors leaked during training steps');
  disposeLabContext(ctx);
  return { wall: median(wall), cpu: median(cpu) };
}

interface Quality {
  distance: number;
  covered: boolean;
}

async function evaluate(ctx: LabContext, reference: Float32Array): Promise<Quality> {
  let last: Float32Array | null = null;
  for await (const p of labSampleRun(ctx, { sampler: opts.sampler as LabSamplerKind, steps: opts.sampleSteps, count: opts.samples, seed: 77, denoiser: 'learned' }, { onlyLast: true })) last = p.points;
  const means = (ctx.mixture ?? []).map((c) => c.mean);
  return { distance: energyDistance(last!, reference), covered: everyModeCovered(modeShares(last!, means), (ctx.mixture ?? []).map((c) => c.weight)) };
}

async function timeToTarget(setup: LabSetup, learningRate: number, floor: number, reference: Float32Array): Promise<void> {
  const ctx = createLabContext(setup);
  let trainMs = 0;
  let cpuMs = 0;
  let reached = false;
  while (cpuMs < opts.limit * 1000) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await train(ctx, opts.every, opts.batch, learningRate);
    trainMs += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpuMs += (c.user + c.system) / 1000;
    const q: Quality = await evaluate(ctx, reference);
    const line = `  step ${ctx.trainer.step}: ${(trainMs / 1000).toFixed(2)} s trained (CPU ${(cpuMs / 1000).toFixed(2)} s), distance ${q.distance.toFixed(5)} (${(q.distance / floor).toFixed(2)}× floor), modes ${q.covered ? 'all' : 'not all'} covered`;
    console.log(line);
    if (q.distance <= 2 * floor && q.covered) {
      reached = true;
      break;
    }
  }
  const label = `${setup.objective} ${setup.width}x${setup.depth} (${ctx.model.paramCount} params) batch ${opts.batch} lr ${learningRate} seed ${setup.seed}`;
  const when = `${(trainMs / 1000).toFixed(2)} s of training, wall (${(cpuMs / 1000).toFixed(2)} s CPU), ${ctx.trainer.step} steps`;
  console.log(reached ? `(b) ${label}: target reached after ${when}` : `(b) ${label}: target not reached in ${when}`);
  disposeLabContext(ctx);
}

/** (c): CPU ms of whole sampling runs at the page's defaults, on a briefly trained default MLP. */
async function samplingTiming(): Promise<void> {
  const ctx = createLabContext(DEFAULT_LAB_SETUP);
  await train(ctx, 30, 512, 1e-2);
  const before = tf.memory().numTensors;
  const runs = [['ddpm', 100, 'learned'], ['ddim', 20, 'learned'], ['ddim', 20, 'exact']] as const;
  for (const [sampler, steps, denoiser] of runs) {
    const cpu: number[] = [];
    for (let b = 0; b <= opts.blocks; b++) {
      const c0 = process.cpuUsage();
      for await (const p of labSampleRun(ctx, { sampler, steps, count: 2000, seed: b, denoiser })) if (!p.points.every(Number.isFinite)) throw new Error('non-finite particles');
      const c = process.cpuUsage(c0);
      if (b > 0) cpu.push((c.user + c.system) / 1000);
    }
    console.log(`(c) ${sampler}-${steps}, ${denoiser} denoiser, 2,000 particles, every position read: ${median(cpu).toFixed(1)} ms CPU a run (median of ${opts.blocks})`);
  }
  if (tf.memory().numTensors !== before) throw new Error('tensors leaked during sampling runs');
  disposeLabContext(ctx);
}

async function main(): Promise<void> {
  await initNodeBackend('wasm');
  console.log(`backend ${tf.getBackend()}, 1 thread; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores`);
  if (opts.sampling) await samplingTiming();
  for (const s of opts.shapes.split(',').filter(Boolean)) {
    const shape = shapeOf(s);
    const { wall, cpu } = await stepTiming(shape);
    console.log(`(a) ${s} (${mlpParamCount(shape)} params): training step at batch 512: ${wall.toFixed(2)} ms wall, ${cpu.toFixed(2)} ms CPU (medians of ${opts.blocks}×${opts.steps})`);
  }
  const spec = DEFAULT_LAB_SETUP.data;
  const n = opts.samples;
  const seed = (k: number) => deriveSeed(spec.seed, 900 + k);
  const floor = energyDistanceFloor([0, 1, 2].map((k) => [sampleToy2D(spec, n, seed(2 * k)), sampleToy2D(spec, n, seed(2 * k + 1))] as const));
  const reference = sampleToy2D(spec, n, seed(10));
  console.log(`8 Gaussians, ${n} samples: energy-distance floor ${floor.toFixed(5)}; target ≤ ${(2 * floor).toFixed(5)}, ${opts.sampler}-${opts.sampleSteps}`);
  for (const target of opts.targets.split(',').filter(Boolean)) {
    const [s, lr] = target.split('@');
    for (const seed of opts.seeds.split(',').map(Number)) {
      await timeToTarget({ ...DEFAULT_LAB_SETUP, ...shapeOf(s), objective: opts.objective as LabSetup['objective'], seed }, Number(lr), floor, reference);
    }
  }
}

await (opts.page ? pageBench(opts) : main());
