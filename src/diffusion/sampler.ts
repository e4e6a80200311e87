/**
 * The shared sampler interface (diffusers' scheduler design: `setTimesteps`, then `step` once per
 * timestep, largest first). One sampler per file
 * (ddpm.ts, ddim.ts, dpm-solver.ts), each built by create-sampler.ts.
 */
import type * as tf from '@tensorflow/tfjs';
import type { PredictionType, SamplerConfig, SamplerKind, TimestepSpacing } from './config';
import type { NoiseSchedule } from './schedule';

/**
 * The model as a sampler sees it: the raw network output for the configured prediction type
 * (ε, x0 or v) at integer timestep t (0..T−1, the same for the whole batch). It must not dispose xt;
 * its result is owned by the caller (the sample loop disposes it).
 */
export type DenoiseFn = (xt: tf.Tensor4D, t: number) => tf.Tensor4D;

/** Returns a fresh standard-normal tensor of the sample's shape; whoever calls it owns the result. */
export type NoiseFn = () => tf.Tensor4D;

export interface StepOutput {
  /** x_{t_prev}: the sample at the next (smaller) timestep, or the final sample after the last step. */
  prevSample: tf.Tensor4D;
  /** The x0 predicted at t (after clipping / thresholding, if configured). */
  predX0: tf.Tensor4D;
}

export interface Sampler {
  readonly kind: SamplerKind;
  readonly schedule: NoiseSchedule;
  readonly config: Readonly<SamplerConfig>;
  readonly prediction: PredictionType;
  /** The timesteps visited, descending; set by the constructor and by `setTimesteps`. */
  readonly timesteps: Int32Array;
  /** Chooses `steps` timesteps (1..T) with the given spacing (default: the config's) and resets state. */
  setTimesteps(steps: number, spacing?: TimestepSpacing): void;
  /** The timestep after step `index`: timesteps[index + 1], or −1 (meaning ᾱ = 1, clean data) after the last. */
  prevTimestep(index: number): number;
  /** Whether `step(…, index, …)` draws noise. */
  isStochastic(index: number): boolean;
  /**
   * One reverse step from x_t at t = timesteps[index], given the model's raw output there.
   * Steps must be taken in order 0, 1, … (multistep samplers keep history; index 0 clears it).
   * Returns new tensors the caller owns; disposes neither modelOutput nor xt. Calls `noise` at most
   * once, only when `isStochastic(index)`, and disposes the tensor it returns.
   */
  step(modelOutput: tf.Tensor4D, index: number, xt: tf.Tensor4D, noise?: NoiseFn): StepOutput;
  /** Drops (and disposes) any multistep history. */
  reset(): void;
}

/** One try of an adaptive step (./adaptive-dpm-solver.ts), accepted or not: from continuous t = s to t, a step of h in λ, with error norm E (accepted when E ≤ 1). */
export interface AdaptiveAttempt {
  s: number;
  t: number;
  h: number;
  error: number;
  accepted: boolean;
}
