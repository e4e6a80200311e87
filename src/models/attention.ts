/**
 * Self-attention over the spatial positions of a feature map (Ho et al. 2020's AttnBlock, with
 * optional heads): GroupNorm → 1x1 q, k, v → softmax(q kᵀ / √d) v → 1x1 out → + x.
 *
 * Written with batched matmuls on rank-3 tensors ([b·heads, hw, d]; tf.matMul with transposeB) and
 * rank-4 transposes only, so it runs on every backend (WebGPU's Tile refuses rank ≥ 5) and its
 * gradient needs nothing wasm lacks. The 1x1 convs are dense layers over [b·hw, c].
 */
import * as tf from '@tensorflow/tfjs';
import { dense, groupNorm } from './layers';

/** One dense (1x1) layer: w [c, c], b [c]. */
export interface AttentionProjection {
  w: tf.Tensor;
  b: tf.Tensor;
}

export interface AttentionWeights {
  normGamma: tf.Tensor;
  normBeta: tf.Tensor;
  q: AttentionProjection;
  k: AttentionProjection;
  v: AttentionProjection;
  /** Zero-initialised in the U-Net, so a new block is the identity. */
  out: AttentionProjection;
}

/** [b·hw, c] → [b·heads, hw, c/heads]. */
function splitHeads(x: tf.Tensor2D, b: number, hw: number, heads: number): tf.Tensor3D {
  const c = x.shape[1];
  if (heads === 1) return tf.reshape(x, [b, hw, c]);
  const d = c / heads;
  return tf.reshape(tf.transpose(tf.reshape(x, [b, hw, heads, d]), [0, 2, 1, 3]), [b * heads, hw, d]);
}

/** [b·heads, hw, d] → [b·hw, heads·d]. */
function mergeHeads(x: tf.Tensor3D, b: number, hw: number, heads: number): tf.Tensor2D {
  const d = x.shape[2];
  if (heads === 1) return tf.reshape(x, [b * hw, d]);
  return tf.reshape(tf.transpose(tf.reshape(x, [b, heads, hw, d]), [0, 2, 1, 3]), [b * hw, heads * d]);
}

/**
 * x [b,h,w,c] → x + out(attention(GroupNorm(x))), same shape. Positions attend to every position
 * of the same image; `heads` must divide c (each head has d = c / heads channels, scale 1/√d).
 */
export function selfAttention(x: tf.Tensor4D, wts: AttentionWeights, groups: number, heads = 1): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (c % heads !== 0) throw new Error(`attention: ${heads} heads do not divide ${c} channels.`);
  const hw = h * w;
  const d = c / heads;
  const flat = tf.reshape(groupNorm(x, wts.normGamma, wts.normBeta, groups), [b * hw, c]) as tf.Tensor2D;
  const q = splitHeads(tf.mul(dense(flat, wts.q.w, wts.q.b), 1 / Math.sqrt(d)), b, hw, heads);
  const k = splitHeads(dense(flat, wts.k.w, wts.k.b), b, hw, heads);
  const v = splitHeads(dense(flat, wts.v.w, wts.v.b), b, hw, heads);
  const attn = tf.softmax(tf.matMul(q, k, false, true)); // [b·heads, hw, hw], rows sum to 1
  const mixed = mergeHeads(tf.matMul(attn, v), b, hw, heads); // [b·hw, c]
  const out = dense(mixed, wts.out.w, wts.out.b);
  return tf.add(x, tf.reshape(out, [b, h, w, c]));
}
