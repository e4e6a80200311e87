/**
 * Classifier-free guidance (Ho & Salimans 2022) as a wrapper around the model call.
 */
import * as tf from '@tensorflow/tfjs';
import type { DenoiseFn } from './sampler';

/** A class-conditional model: raw output at (x_t, t) given one label per batch item. */
export type ConditionalDenoiseFn = (xt: tf.Tensor4D, t: number, labels: tf.Tensor) => tf.Tensor4D;

export interface GuidanceOptions {
  /**
   * Run the conditional and unconditional passes as one batch of 2n (default; one model call, twice
   * the activations) or as two calls of n (half the peak memory, for large batches).
   */
  batched?: boolean;
}

/** Throws unless w is a finite number ≥ 0. */
export function validateGuidanceScale(w: number): void {
  if (!Number.isFinite(w) || w < 0) throw new Error(`guidance scale w must be a finite number ≥ 0, got ${w}.`);
}

/**
 * The guided output from the two predictions: ε̂ = ε_u + w·(ε_c − ε_u) (Ho & Salimans 2022, Eq. 6,
 * ε̃ = (1 + w')·ε_c − w'·ε_u, written with w = 1 + w' as diffusers' `guidance_scale`).
 * A new tensor; disposes neither input.
 */
export function combineGuidance(cond: tf.Tensor4D, uncond: tf.Tensor4D, w: number): tf.Tensor4D {
  validateGuidanceScale(w);
  return tf.tidy(() => tf.add(uncond, tf.mul(tf.sub(cond, uncond), w)));
}

/**
 * Wraps a conditional model as the DenoiseFn a sampler calls, with classifier-free guidance of
 * scale w (see combineGuidance). w = 1 is the conditional model alone and w = 0 the unconditional one
 * (one pass of n each); otherwise both passes run, batched as one call of 2n unless
 * `options.batched` is false. Because x0 and v are affine in ε for fixed x_t and the two weights sum
 * to 1, the same combination of raw outputs is exact for x0- and v-models too.
 * `labels` and `nullLabels` (the "no class" token, same shape) stay owned by the caller.
 */
export function classifierFreeGuidance(
  modelCond: ConditionalDenoiseFn,
  labels: tf.Tensor,
  nullLabels: tf.Tensor,
  w: number,
  options: GuidanceOptions = {},
): DenoiseFn {
  validateGuidanceScale(w);
  if (labels.shape.join() !== nullLabels.shape.join()) {
    throw new Error(`nullLabels must have the shape of labels [${labels.shape.join(', ')}], got [${nullLabels.shape.join(', ')}].`);
  }
  const batched = options.batched ?? true;
  return (xt, t) =>
    tf.tidy(() => {
      if (w === 1) return modelCond(xt, t, labels);
      if (w === 0) return modelCond(xt, t, nullLabels);
      if (!batched) return combineGuidance(modelCond(xt, t, labels), modelCond(xt, t, nullLabels), w);
      const n = xt.shape[0];
      const both = modelCond(tf.concat([xt, xt], 0), t, tf.concat([labels, nullLabels], 0));
      const [cond, uncond] = tf.split(both, [n, n], 0) as [tf.Tensor4D, tf.Tensor4D];
      return combineGuidance(cond, uncond, w);
    });
}
