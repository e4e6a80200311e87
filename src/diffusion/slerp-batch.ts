/**
 * slerp (./slerp.ts) on tensors: a strip of frames between two samples a and b ([1, h, w, c] each,
 * read as vectors), frame i at α_i, as one batch [frames, h, w, c], without reading anything back.
 */
import * as tf from '@tensorflow/tfjs';

/** slerp(a, b; α_i) for each α (falls back to the straight line when a and b are parallel). New tensor. */
export function slerpBatch(a: tf.Tensor4D, b: tf.Tensor4D, alphas: readonly number[]): tf.Tensor4D {
  if (a.shape[0] !== 1 || a.shape.join() !== b.shape.join()) throw new Error(`slerpBatch: a and b must be two [1, h, w, c] tensors of one shape, got [${a.shape}] and [${b.shape}].`);
  return tf.tidy(() => {
    const cos = tf.clipByValue(tf.div(tf.sum(tf.mul(a, b)), tf.mul(tf.norm(a), tf.norm(b))), -1, 1);
    const theta = tf.acos(cos);
    const sin = tf.sin(theta);
    const alpha = tf.tensor4d(Float32Array.from(alphas), [alphas.length, 1, 1, 1]);
    const parallel = tf.less(sin, 1e-6);
    const safeSin = tf.where(parallel, tf.onesLike(sin), sin);
    const wa = tf.where(parallel, tf.sub(1, alpha), tf.div(tf.sin(tf.mul(tf.sub(1, alpha), theta)), safeSin));
    const wb = tf.where(parallel, alpha, tf.div(tf.sin(tf.mul(alpha, theta)), safeSin));
    return tf.add(tf.mul(wa, a), tf.mul(wb, b)) as tf.Tensor4D;
  });
}
