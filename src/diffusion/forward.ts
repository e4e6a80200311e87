/**
 * The forward (noising) process q(x_t | x0) = N(√ᾱ_t·x0, (1 − ᾱ_t)·I) (Ho et al. 2020, Eq. 4).
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from './schedule';

/** Throws unless every t is an integer in [0, T − 1]. */
export function checkTimesteps(schedule: NoiseSchedule, t: ArrayLike<number>, batch?: number): void {
  if (batch !== undefined && t.length !== batch) {
    throw new Error(`t must hold one timestep per batch item (${batch}), got ${t.length}.`);
  }
  for (let i = 0; i < t.length; i++) {
    if (!Number.isInteger(t[i]) || t[i] < 0 || t[i] >= schedule.T) {
      throw new Error(`t[${i}] must be an integer in [0, ${schedule.T - 1}], got ${t[i]}.`);
    }
  }
}

/**
 * Gathers table[t_i] for each batch item into a float32 tensor of shape [n,1,1,1] that broadcasts
 * against NHWC data (improved-diffusion's `_extract_into_tensor`). The caller owns the result.
 */
export function extract(table: Float64Array, t: ArrayLike<number>): tf.Tensor4D {
  const values = new Float32Array(t.length);
  for (let i = 0; i < t.length; i++) values[i] = table[t[i]];
  return tf.tensor4d(values, [t.length, 1, 1, 1]);
}

/**
 * q_sample: x_t = √ᾱ_t·x0 + √(1 − ᾱ_t)·ε (Ho et al. 2020, Eq. 4 reparameterized; Algorithm 1 line 5),
 * with one t per batch item. Disposes nothing it is given; the caller owns the result.
 */
export function qSample(
  schedule: NoiseSchedule,
  x0: tf.Tensor4D,
  t: Int32Array | number[],
  eps: tf.Tensor4D,
): tf.Tensor4D {
  checkTimesteps(schedule, t, x0.shape[0]);
  return tf.tidy(() => {
    const a = extract(schedule.sqrtAlphasCumprod, t);
    const s = extract(schedule.sqrtOneMinusAlphasCumprod, t);
    return tf.add(tf.mul(x0, a), tf.mul(eps, s));
  });
}

/**
 * Mean coefficient and standard deviation of the marginal q(x_t | x0) (Ho et al. 2020, Eq. 4):
 * x_t ~ N(mean·x0, std²) with mean = √ᾱ_t, std = √(1 − ᾱ_t). For the UI; no tensors.
 */
export function marginal(schedule: NoiseSchedule, t: number): { mean: number; std: number } {
  checkTimesteps(schedule, [t]);
  return { mean: schedule.sqrtAlphasCumprod[t], std: schedule.sqrtOneMinusAlphasCumprod[t] };
}
