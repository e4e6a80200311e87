/**
 * Early stopping of a reverse process: stop as soon as the predicted clean sample has settled and
 * return that x̂0 (the article's §7.2: "stop when the estimated noise is low enough"). Two criteria,
 * both measured per image as a root mean square over its elements and taken at the worst image of
 * the batch (a batch stops together), in the denoiser's space (pixels in [−1, 1], or latents):
 * - 'change': ‖x̂0_k − x̂0_{k−1}‖ / √d, how far the prediction moved in the last step. At high
 *   noise x̂0 barely moves yet (it sits near the data mean, E[x0 | x_t] ∝ α_t), so this rule is armed
 *   only once the change has exceeded the threshold: "settled" means it moved and came to rest;
 * - 'noise': ‖x_t/α_t − x̂0‖ / √d = (σ_t/α_t)·‖ε̂‖ / √d, the noise the model still sees in x_t,
 *   in data units.
 * Each observation reads one number back from the device.
 *
 * Only 'noise' bounds what is left: for Gaussian data x0 ~ N(μ, s²) and the exact probability flow,
 * x̂0 − x_final = s·z·σ²/(√v·(√v + α·s)) and x_t/α − x̂0 = z·σ²/(α·√v) (z = (x_t − αμ)/√v, v = α²s² + σ²),
 * so |x̂0 − x_final| ≤ ½·(the 'noise' measure) element by element. A small 'change' says only that the
 * last step moved x̂0 little (tests/unit/adaptive-dpm-solver.test.ts shows a case with 0.22 left).
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_EARLY_STOP_THRESHOLD, EARLY_STOP_CRITERIA, type EarlyStopCriterion } from './config';

export interface EarlyStopConfig {
  criterion: EarlyStopCriterion;
  /** Stop when the measure is at or below this (RMS per element, data units). */
  threshold: number;
}

export const DEFAULT_EARLY_STOP: EarlyStopConfig = { criterion: 'noise', threshold: DEFAULT_EARLY_STOP_THRESHOLD };

/** Throws unless the criterion is known and the threshold a finite number > 0. */
export function validateEarlyStop(cfg: EarlyStopConfig): void {
  if (!(EARLY_STOP_CRITERIA as readonly string[]).includes(cfg.criterion)) {
    throw new Error(`early-stop criterion must be one of ${EARLY_STOP_CRITERIA.join(', ')}, got ${String(cfg.criterion)}.`);
  }
  if (!Number.isFinite(cfg.threshold) || cfg.threshold <= 0) {
    throw new Error(`early-stop threshold must be a finite number > 0, got ${cfg.threshold}.`);
  }
}

/** What a sampling run reports about early stopping at one of its steps. */
export interface EarlyStopInfo {
  /** The measure at this step (Infinity when it cannot be measured yet: 'change' at the first step). */
  value: number;
  /** Whether the run stops here (this step's frame then holds x̂0 as its result). */
  stopped: boolean;
  /** Model evaluations the stop saves against the planned run (0 unless stopped). */
  saved: number;
}

/** Largest per-image RMS of a [n, …] tensor, as a number (one read). */
function worstImageRms(d: tf.Tensor4D): number {
  return tf.tidy(() => tf.max(tf.sqrt(tf.mean(tf.square(d), [1, 2, 3]))).dataSync()[0]);
}

/** The rule applied step after step; keeps the previous x̂0 for 'change' (dispose with reset()). */
export class EarlyStop {
  private previous: tf.Tensor4D | null = null;
  private armed = false;

  constructor(readonly config: Readonly<EarlyStopConfig>) {
    validateEarlyStop(config);
  }

  /**
   * The measure at a step whose input was `xt` at noise level α (= √ᾱ) and whose prediction is
   * `x0`, and whether to stop. Neither tensor is disposed or kept (a copy of x0 is).
   */
  observe(x0: tf.Tensor4D, xt: tf.Tensor4D, alpha: number): { value: number; stop: boolean } {
    let value: number;
    if (this.config.criterion === 'noise') {
      value = tf.tidy(() => worstImageRms(tf.sub(tf.div(xt, alpha), x0)));
    } else {
      const prev = this.previous;
      value = prev ? tf.tidy(() => worstImageRms(tf.sub(x0, prev))) : Infinity;
      prev?.dispose();
      this.previous = tf.keep(x0.clone());
    }
    const below = value <= this.config.threshold;
    const stop = below && (this.config.criterion === 'noise' || this.armed);
    if (!below && Number.isFinite(value)) this.armed = true;
    return { value, stop };
  }

  reset(): void {
    this.previous?.dispose();
    this.previous = null;
    this.armed = false;
  }
}
