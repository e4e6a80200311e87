/**
 * What every sampler shares: timesteps, ᾱ lookup and the model-output → (x0, ε) reading with the
 * configured clipping of x0.
 */
import * as tf from '@tensorflow/tfjs';
import { PREDICTION_TYPES, type PredictionType, type SamplerConfig, type SamplerKind, type TimestepSpacing } from './config';
import type { NoiseFn, Sampler, StepOutput } from './sampler';
import type { NoiseSchedule } from './schedule';
import { applyX0Clipping } from './thresholding';
import { makeTimesteps, validateSamplerConfig } from './timesteps';
import { predictEpsFromX0, toX0AndEps } from './parameterization';

/**
 * Smallest ᾱ used to read an ε-prediction: x0 = (x_t − √(1−ᾱ)ε)/√ᾱ is undefined at ᾱ = 0 (zero
 * terminal SNR), so there ᾱ is floored at 2⁻²⁴ as diffusers' Euler scheduler does. x0- and
 * v-predictions need no floor (Lin et al. 2024, §3.2 recommend v with zero terminal SNR).
 */
export const MIN_ALPHA_BAR_FOR_EPS = 2 ** -24;

export abstract class SamplerBase implements Sampler {
  abstract readonly kind: SamplerKind;
  readonly config: Readonly<SamplerConfig>;
  timesteps: Int32Array = new Int32Array(0);

  constructor(
    readonly schedule: NoiseSchedule,
    cfg: SamplerConfig,
    readonly prediction: PredictionType,
  ) {
    validateSamplerConfig(cfg, schedule.T);
    if (!(PREDICTION_TYPES as readonly string[]).includes(prediction)) {
      throw new Error(`prediction must be one of ${PREDICTION_TYPES.join(', ')}, got ${String(prediction)}.`);
    }
    this.config = Object.freeze({ ...cfg });
    this.timesteps = makeTimesteps(schedule.T, cfg.steps, cfg.spacing, this.solverSpacing());
  }

  /** Whether timesteps are laid out for an ODE solver ending at σ = 0 (see makeTimesteps). */
  protected solverSpacing(): boolean {
    return false;
  }

  setTimesteps(steps: number, spacing: TimestepSpacing = this.config.spacing): void {
    this.timesteps = makeTimesteps(this.schedule.T, steps, spacing, this.solverSpacing());
    this.reset();
  }

  prevTimestep(index: number): number {
    this.checkIndex(index);
    return index + 1 < this.timesteps.length ? this.timesteps[index + 1] : -1;
  }

  /** ᾱ_t, with ᾱ_{−1} = 1 (diffusers' `set_alpha_to_one`) and the ε floor above. */
  alphaBar(t: number): number {
    const ab = t < 0 ? 1 : this.schedule.alphasCumprod[t];
    return this.prediction === 'epsilon' ? Math.max(ab, MIN_ALPHA_BAR_FOR_EPS) : ab;
  }

  isStochastic(_index: number): boolean {
    return false;
  }

  reset(): void {}

  protected checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.timesteps.length) {
      throw new Error(`step index must be an integer in [0, ${this.timesteps.length - 1}], got ${index}.`);
    }
  }

  /**
   * (x0, ε) from the raw output at ᾱ_t; x0 clipped or thresholded as configured, and then ε
   * re-derived from the clipped x0 (as diffusers' DDIM does). Call inside a tf.tidy.
   */
  protected readOutput(out: tf.Tensor4D, xt: tf.Tensor4D, alphaBar: number): { x0: tf.Tensor4D; eps: tf.Tensor4D } {
    const raw = toX0AndEps(this.prediction, out, xt, alphaBar);
    if (this.config.clipping === 'none') return raw;
    const x0 = applyX0Clipping(raw.x0, this.config.clipping);
    return { x0, eps: predictEpsFromX0(xt, x0, alphaBar) };
  }

  /** Draws noise via `noise` (or a fresh unseeded normal) and takes ownership of it. */
  protected drawNoise(xt: tf.Tensor4D, noise?: NoiseFn): tf.Tensor4D {
    const z: tf.Tensor4D = noise ? noise() : tf.randomNormal(xt.shape);
    if (z.shape.join() !== xt.shape.join()) {
      z.dispose();
      throw new Error(`noise must have the sample's shape [${xt.shape.join(', ')}].`);
    }
    return z;
  }

  abstract step(modelOutput: tf.Tensor4D, index: number, xt: tf.Tensor4D, noise?: NoiseFn): StepOutput;
}
