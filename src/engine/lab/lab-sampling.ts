/**
 * A lab sampling run as a generator of particle positions: x_T first, then the particles after
 * every step, read back as plain [n, 2] arrays. The diffusion objective runs the image samplers
 * (DDPM, Ho et al. 2020; DDIM, Song et al. 2021; DPM-Solver++(2M), Lu et al. 2022: all through
 * ../../diffusion/create-sampler, 'trailing' timesteps, no clipping since the data are not in
 * [−1, 1]) on [n, 1, 1, 2] tensors; flow matching runs Euler or Heun (../../diffusion/flow-matching). The model is the trained MLP (a
 * snapshot of its weights' moving average, so training may go on meanwhile) or the exact denoiser of a mixture.
 * x_T comes from the run's seed alone, so two runs with one seed start from the same noise whatever
 * their sampler or objective. Every tensor is freed when the generator finishes or is returned from.
 *
 * Nothing is read synchronously (WebGPU's synchronous reads are slow and unsafe): the steps are
 * queued on the device, each position kept as a tensor (a reference, not a copy), and read with
 * `await t.data()`: x_T at once, then every READ_EVERY steps or READ_MS, all reads of a batch in
 * flight together; the positions are then yielded in order. `between`, called after x_T and after
 * every step, is where a run yields to the event loop (and is cancelled); `onlyLast` skips every
 * position but the final samples.
 */
import * as tf from '@tensorflow/tfjs';
import type { SamplerKind } from '../../diffusion/config';
import { createSampler } from '../../diffusion/create-sampler';
import { FlowSampler, FLOW_SAMPLERS, type FlowSamplerKind, type VelocityFn } from '../../diffusion/flow-matching';
import { mixtureDenoiser2D, mixtureVelocity2D } from '../../diffusion/gaussian-mixture-2d-denoiser';
import { sampleLoop, seededNoise } from '../../diffusion/sample-loop';
import type { DenoiseFn } from '../../diffusion/sampler';
import { createRandom, deriveSeed } from '../../data/random';
import { TIME_SCALE } from '../../models/mlp-denoiser';
import type { LabDenoiser, LabSamplerKind } from '../../protocol/lab-messages';
import type { LabContext } from './lab-context';

export const MAX_LAB_PARTICLES = 5000;
export const MAX_FLOW_STEPS = 1000;

export interface LabRunSpec {
  sampler: LabSamplerKind;
  steps: number;
  count: number;
  seed: number;
  denoiser: LabDenoiser;
}

export interface LabPosition {
  /** 0 for x_T, then the step just taken. */
  index: number;
  /** Positions in all: steps + 1. */
  total: number;
  /** Diffusion: the timestep the particles sit at (−1: clean); flow: t ∈ [0, 1]. */
  t: number;
  /** [n, 2], a fresh array. */
  points: Float32Array;
  /** Model evaluations so far. */
  evaluations: number;
}

export function isFlowSampler(kind: LabSamplerKind): kind is FlowSamplerKind {
  return (FLOW_SAMPLERS as readonly string[]).includes(kind);
}

/** Why a run cannot go ahead (a message for the page), or null. */
export function labRunProblem(ctx: LabContext, spec: LabRunSpec): string | null {
  const flow = ctx.setup.objective === 'flow';
  if (flow !== isFlowSampler(spec.sampler)) {
    return flow ? `A flow-matching model samples with Euler or Heun, not "${spec.sampler}".` : `A diffusion model samples with DDPM, DDIM or DPM-Solver++, not "${spec.sampler}".`;
  }
  if (spec.denoiser === 'exact' && !ctx.mixture) return 'The exact denoiser exists only for Gaussian-mixture data sets (8 Gaussians, your mixture); this data set has none.';
  const maxSteps = flow ? MAX_FLOW_STEPS : ctx.schedule.T;
  if (!Number.isInteger(spec.steps) || spec.steps < 1 || spec.steps > maxSteps) return `Steps must be an integer from 1 to ${maxSteps}, got ${spec.steps}.`;
  if (!Number.isInteger(spec.count) || spec.count < 1 || spec.count > MAX_LAB_PARTICLES) return `Particles must be an integer from 1 to ${MAX_LAB_PARTICLES}, got ${spec.count}.`;
  if (!Number.isFinite(spec.seed)) return `The seed must be a finite number, got ${spec.seed}.`;
  return null;
}

/** Model evaluations of a whole run: one a step, but Heun 2·steps − 1. */
export function labEvaluations(sampler: LabSamplerKind, steps: number): number {
  return sampler === 'heun' ? 2 * steps - 1 : steps;
}

/** x_T ~ N(0, I), [count, 2], from the seed alone. */
export function startNoise(count: number, seed: number): Float32Array {
  return createRandom(deriveSeed(seed, 0x78540)).fillGaussian(new Float32Array(2 * count));
}

/** Steps queued before their positions are read, at most. */
export const READ_EVERY = 8;
/** Positions are read at least this often, ms. */
const READ_MS = 50;

export interface LabRunOptions {
  /** Called after x_T and after every step (RunControl.stepBoundary: yields, throws to cancel). */
  between?: () => Promise<void>;
  /** Yield only the final samples. */
  onlyLast?: boolean;
}

/** One step's position, before its points are read: `x` is a tensor the run owns. */
interface Queued extends Omit<LabPosition, 'points'> {
  x: tf.Tensor;
}

/** The positions of a sampler's steps as tensors (x_T first), synchronous: the run reads them. */
function* stepTensors(ctx: LabContext, spec: LabRunSpec, xT: tf.Tensor4D, theta: tf.Tensor1D | null): Generator<Queued, void, void> {
  const total = spec.steps + 1;
  if (isFlowSampler(spec.sampler)) {
    const sampler = new FlowSampler(spec.sampler, spec.steps);
    const velocity: VelocityFn = theta ? (xt, t) => ctx.model.applyAt(xt, t * TIME_SCALE, theta) : mixtureVelocity2D(ctx.mixture ?? []);
    yield { index: 0, total, t: 1, x: xT.clone(), evaluations: 0 };
    let x = xT;
    let evaluations = 0;
    try {
      for (let i = 0; i < spec.steps; i++) {
        const next = sampler.step(velocity, i, x);
        if (x !== xT) x.dispose();
        x = next;
        evaluations += sampler.evaluationsAt(i);
        yield { index: i + 1, total, t: sampler.times[i + 1], x: x.clone(), evaluations };
      }
    } finally {
      if (x !== xT) x.dispose();
    }
    return;
  }
  const { schedule, setup } = ctx;
  const sampler = createSampler(
    schedule,
    { kind: spec.sampler as SamplerKind, steps: spec.steps, eta: 0, spacing: 'trailing', ddpmVariance: 'betaTilde', clipping: 'none', guidance: 1 },
    setup.prediction,
  );
  const model: DenoiseFn = theta ? (xt, t) => ctx.model.applyAt(xt, (t * TIME_SCALE) / schedule.T, theta) : mixtureDenoiser2D(ctx.mixture ?? [], schedule, setup.prediction);
  yield { index: 0, total, t: sampler.timesteps[0], x: xT.clone(), evaluations: 0 };
  const n = spec.count;
  for (const frame of sampleLoop(model, sampler, xT, seededNoise([n, 1, 1, 2], deriveSeed(spec.seed, 0x6464)))) {
    yield { index: frame.index + 1, total, t: frame.tPrev, x: frame.xt.clone(), evaluations: frame.index + 1 };
  }
}

/** The run's positions, x_T first (see the module doc). Check the spec with labRunProblem first. */
export async function* labSampleRun(ctx: LabContext, spec: LabRunSpec, options: LabRunOptions = {}): AsyncGenerator<LabPosition, void, void> {
  const problem = labRunProblem(ctx, spec);
  if (problem) throw new Error(problem);
  const theta = spec.denoiser === 'learned' ? ctx.trainer.averaged.clone() : null;
  const xT = tf.tensor4d(startNoise(spec.count, spec.seed), [spec.count, 1, 1, 2]);
  const steps = stepTensors(ctx, spec, xT, theta);
  let queued: Queued[] = [];
  try {
    let lastRead = performance.now();
    for (;;) {
      const next = steps.next();
      if (!next.done) {
        const q = next.value;
        if (options.onlyLast && q.index < q.total - 1) q.x.dispose();
        else queued.push(q);
      }
      // x_T is read at once (the page shows it while the run goes on), then every READ_EVERY steps or READ_MS.
      const first = queued.length === 1 && queued[0].index === 0;
      if (next.done || first || queued.length >= READ_EVERY || (queued.length > 0 && performance.now() - lastRead >= READ_MS)) {
        const batch = queued;
        queued = [];
        try {
          const data = await Promise.all(batch.map((q) => q.x.data()));
          lastRead = performance.now();
          for (let k = 0; k < batch.length; k++) {
            const { index, total, t, evaluations } = batch[k];
            yield { index, total, t, evaluations, points: new Float32Array(data[k] as Float32Array) };
          }
        } finally {
          tf.dispose(batch.map((q) => q.x));
        }
      }
      if (next.done) return;
      await options.between?.();
    }
  } finally {
    tf.dispose(queued.map((q) => q.x));
    steps.return();
    xT.dispose();
    theta?.dispose();
  }
}
