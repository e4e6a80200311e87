/**
 * The sampling loop as a generator, so that the worker can stream every step and stop at any step.
 *
 * Tensor ownership:
 * - `xT` (and the model, sampler and noise function) stay the caller's: the loop never disposes xT.
 * - Each yielded frame's `xt` and `x0` are owned by the loop. They stay valid while the generator is
 *   suspended at that yield, and are disposed when it is resumed (`next()`), returned from
 *   (`return()`) or thrown into (`throw()`). Read them (e.g. `await frame.xt.data()`) before resuming,
 *   and `clone()` whatever you want to keep.
 * - The final sample is the last frame's `xt` (frame.index === frame.total − 1, frame.tPrev === −1):
 *   clone it before resuming if you keep it. When resumed after the last frame the loop disposes it
 *   and finishes with `{ done: true, value: undefined }`. So a plain `for (const f of sampleLoop(…))`
 *   never leaks, whether it runs to the end or breaks early (see `sampleAll` for the final sample).
 * - On an early `return()` (or an exception, including one from the model) every tensor the loop made
 *   is disposed.
 * - Model outputs and all intermediates are freed within each step (tf.tidy), and the sampler's
 *   multistep history is reset at start and end, so `tf.memory().numTensors` is unchanged after the
 *   loop, however it ends.
 *
 * Early stopping (./early-stop.ts, optional): when the rule fires after step k, that step's frame is
 * the last one: its `xt` is the x̂0 predicted at step k, `tPrev` is −1, `total` is k + 1 (so
 * `index === total − 1` still marks the final frame) and `earlyStop` says what was saved.
 */
import * as tf from '@tensorflow/tfjs';
import { EarlyStop, type EarlyStopConfig, type EarlyStopInfo } from './early-stop';
import { noiseDrawSeed } from './random';
import type { AdaptiveAttempt, DenoiseFn, NoiseFn, Sampler } from './sampler';
import { MIN_ALPHA_BAR_FOR_EPS } from './sampler-common';

export interface SampleFrame {
  /** 0-based step number. */
  index: number;
  /** Number of steps. */
  total: number;
  /** Timestep at which the model was evaluated in this step. */
  t: number;
  /** Timestep that `xt` now sits at (−1 after the last step: clean data). */
  tPrev: number;
  /** The sample after this step, x_{tPrev}. Owned by the loop (see the module doc). */
  xt: tf.Tensor4D;
  /** The x0 predicted at t. Owned by the loop. */
  x0: tf.Tensor4D;
  /** With early stopping: the rule's measure at this step, and whether (and how much) it stopped the run. */
  earlyStop?: EarlyStopInfo;
  /** Model evaluations so far, where a step may take more than one (the adaptive solver; else index + 1). */
  evaluations?: number;
  /** The adaptive solver's tries so far, rejected ones included (the same array, growing). */
  attempts?: readonly AdaptiveAttempt[];
}

export interface SampleLoopOptions {
  earlyStop?: EarlyStopConfig;
}

export const DEFAULT_NOISE_SEED = 0;

/**
 * A reproducible noise source: the k-th call returns tf.randomNormal(shape) seeded with
 * noiseDrawSeed(seed, k) (./random.ts). The same seed gives the same sequence of draws.
 */
export function seededNoise(shape: [number, number, number, number], seed: number): NoiseFn {
  let k = 0;
  return () => tf.randomNormal(shape, 0, 1, 'float32', noiseDrawSeed(seed, k++));
}

/**
 * Runs `sampler` from x_T down to the final sample, yielding after every step (diffusers' pipeline
 * loop: for t in timesteps: out = model(x, t); x = scheduler.step(out, t, x)). Stochastic steps draw
 * from `noise` (default: seededNoise(xT.shape, DEFAULT_NOISE_SEED), so runs are reproducible).
 * See the module doc for who owns which tensor.
 */
export function* sampleLoop(
  model: DenoiseFn,
  sampler: Sampler,
  xT: tf.Tensor4D,
  noise: NoiseFn = seededNoise(xT.shape, DEFAULT_NOISE_SEED),
  options: SampleLoopOptions = {},
): Generator<SampleFrame, void, void> {
  const timesteps = sampler.timesteps;
  const total = timesteps.length;
  let frame: { xt: tf.Tensor4D; x0: tf.Tensor4D } | null = null;
  const early = options.earlyStop ? new EarlyStop(options.earlyStop) : null;
  sampler.reset();
  try {
    for (let index = 0; index < total; index++) {
      const t = timesteps[index];
      const x: tf.Tensor4D = frame ? frame.xt : xT;
      const [xPrev, x0] = tf.tidy(() => {
        const out = model(x, t);
        const { prevSample, predX0 } = sampler.step(out, index, x, noise);
        return [prevSample, predX0];
      });
      let earlyStop: EarlyStopInfo | undefined;
      if (early && index < total - 1) {
        const ab = Math.max(sampler.schedule.alphasCumprod[t], MIN_ALPHA_BAR_FOR_EPS);
        try {
          const { value, stop } = early.observe(x0, x, Math.sqrt(ab));
          earlyStop = { value, stopped: stop, saved: stop ? total - index - 1 : 0 };
        } catch (err) {
          tf.dispose([xPrev, x0]);
          throw err;
        }
      }
      if (frame) {
        frame.xt.dispose();
        frame.x0.dispose();
      }
      if (earlyStop?.stopped) {
        xPrev.dispose();
        frame = { xt: x0.clone(), x0 };
        yield { index, total: index + 1, t, tPrev: -1, xt: frame.xt, x0, earlyStop };
        return;
      }
      frame = { xt: xPrev, x0 };
      yield { index, total, t, tPrev: sampler.prevTimestep(index), xt: xPrev, x0, ...(earlyStop ? { earlyStop } : {}) };
    }
  } finally {
    if (frame) {
      frame.xt.dispose();
      frame.x0.dispose();
    }
    early?.reset();
    sampler.reset();
  }
}

/** Runs the whole loop and returns only the final sample (a clone the caller owns). */
export function sampleAll(model: DenoiseFn, sampler: Sampler, xT: tf.Tensor4D, noise?: NoiseFn, options?: SampleLoopOptions): tf.Tensor4D {
  let last: tf.Tensor4D | null = null;
  for (const frame of sampleLoop(model, sampler, xT, noise, options)) {
    if (frame.index === frame.total - 1) last = frame.xt.clone();
  }
  if (last === null) throw new Error('the sampler has no timesteps.');
  return last;
}
