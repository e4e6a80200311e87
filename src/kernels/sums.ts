/**
 * Sums and transposed products in the forms the wasm backend runs on XNNPACK, for the fused ops'
 * gradients. On wasm, Sum over non-innermost axes transposes first and a matMul with a transpose
 * flag (or a batch of matrix-vector products) runs a naive loop; elsewhere the plain forms are used.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * a [m,k] · b [k,n] with b or a given transposed, as tf.matMul(a, b, transposeA, transposeB). On wasm
 * an explicit Transpose plus XNNPACK's matMul beats the flags' naive loop; elsewhere the flags are
 * cheaper than a separate transpose.
 */
export function matMulT(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean): tf.Tensor2D {
  if (tf.getBackend() !== 'wasm') return tf.matMul(a, b, transposeA, transposeB);
  return tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b);
}

/**
 * Sum of x [n, c] over its rows → [c], as xᵀ · ones [n,1]: on wasm a matrix-vector product beats
 * Sum (which transposes first) and ones [1,n] · x (XNNPACK repacks x as weights on every call).
 */
export function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(tf.matMul(x, tf.ones([x.shape[0], 1]), true, false), [x.shape[1]]);
}

/**
 * Per-example sum of x [b, h, w, c] over its positions → [b, c]. On wasm, a global average pool
 * (XNNPACK) times h·w, the fastest of the three forms (a batched matMul by ones is a naive loop per
 * example there, Sum transposes first); elsewhere the batched matMul by ones. No full-size reshape
 * on wasm: tfjs counts a reshaped view's bytes again in tf.memory and tf.profile, so views of
 * activations would inflate the measured peak.
 */
export function sumPositions(x: tf.Tensor4D): tf.Tensor2D {
  const [b, h, w, c] = x.shape;
  if (tf.getBackend() !== 'wasm') return tf.reshape(tf.matMul(tf.ones([b, 1, h * w]), tf.reshape(x, [b, h * w, c])), [b, c]);
  return tf.reshape(tf.mul(tf.avgPool(x, [h, w], 1, 'valid'), h * w), [b, c]);
}

/** Sum of dy [b, h, w, c] over examples and positions → [c] (a conv's bias gradient). */
export function sumBatchPositions(dy: tf.Tensor4D): tf.Tensor1D {
  const [b, h, w, c] = dy.shape;
  if (tf.getBackend() !== 'wasm') return sumRows(tf.reshape(dy, [b * h * w, c]) as tf.Tensor2D);
  return tf.sum(sumPositions(dy), 0);
}
