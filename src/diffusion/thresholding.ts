/**
 * What happens to a predicted x0 before a sampler uses it: nothing, static clipping to [−1, 1]
 * (Ho et al. 2020's sampling code; diffusers' `clip_sample`), or dynamic thresholding
 * (Saharia et al. 2022, Imagen, §2.3 "Large guidance weight samplers").
 * Each function returns a new tensor the caller owns and disposes nothing it is given.
 */
import * as tf from '@tensorflow/tfjs';
import { X0_CLIPPINGS, type X0Clipping } from './config';

/** Imagen's default percentile p (Saharia et al. 2022, §2.3 and Appendix). */
export const DYNAMIC_THRESHOLD_PERCENTILE = 0.995;

/** Static thresholding: clip x0 to [−limit, limit] (Saharia et al. 2022, §2.3). */
export function clipX0<R extends tf.Rank>(x0: tf.Tensor<R>, limit = 1): tf.Tensor<R> {
  return tf.clipByValue(x0, -limit, limit);
}

/**
 * Per item, the p-quantile of |x0| over all its elements, interpolated linearly between order
 * statistics like `torch.quantile`. Returns shape [n].
 */
export function absQuantilePerItem(x0: tf.Tensor, p: number): tf.Tensor1D {
  return tf.tidy(() => {
    const n = x0.shape[0];
    const d = x0.size / n;
    const flat = tf.abs(tf.reshape(x0, [n, d]));
    const pos = p * (d - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, d - 1);
    const frac = pos - lo;
    // topk sorts descending: ascending rank r sits at descending index d − 1 − r.
    const { values } = tf.topk(flat, d - lo, true);
    const vLo = tf.reshape(tf.slice(values, [0, d - 1 - lo], [n, 1]), [n]);
    const vHi = tf.reshape(tf.slice(values, [0, d - 1 - hi], [n, 1]), [n]);
    return tf.add(tf.mul(vLo, 1 - frac), tf.mul(vHi, frac)) as tf.Tensor1D;
  });
}

/**
 * Dynamic thresholding (Saharia et al. 2022, §2.3): s = max(percentile_p(|x0|), 1) per item,
 * optionally capped at maxValue, then x0 ← clip(x0, −s, s) / s.
 */
export function dynamicThreshold<R extends tf.Rank>(
  x0: tf.Tensor<R>,
  p = DYNAMIC_THRESHOLD_PERCENTILE,
  maxValue = Infinity,
): tf.Tensor<R> {
  if (!(p > 0 && p <= 1)) throw new Error(`dynamic thresholding percentile p must be in (0, 1], got ${p}.`);
  return tf.tidy(() => {
    const n = x0.shape[0];
    const bshape = [n, ...x0.shape.slice(1).map(() => 1)];
    let s = tf.maximum(absQuantilePerItem(x0, p), 1);
    if (Number.isFinite(maxValue)) s = tf.minimum(s, maxValue);
    const sb = tf.reshape(s, bshape);
    return tf.div(tf.minimum(tf.maximum(x0, tf.neg(sb)), sb), sb) as tf.Tensor<R>;
  });
}

/** Applies the configured treatment; 'none' returns a clone. */
export function applyX0Clipping<R extends tf.Rank>(x0: tf.Tensor<R>, clipping: X0Clipping): tf.Tensor<R> {
  switch (clipping) {
    case 'none':
      return x0.clone();
    case 'clip':
      return clipX0(x0);
    case 'dynamic':
      return dynamicThreshold(x0);
    default:
      throw new Error(`clipping must be one of ${X0_CLIPPINGS.join(', ')}, got ${String(clipping)}.`);
  }
}
