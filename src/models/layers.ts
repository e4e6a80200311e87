/**
 * Building blocks of the pixel U-Net, as plain functions over tensors (no tf.layers), so the model
 * runs on every backend (webgpu, webgl, wasm, cpu) and its weights are just named variables.
 *
 * The hot layers (conv + bias, dense, SiLU, GroupNorm, nearest ×2 upsampling) run as fused
 * forward + backward ops (tf.customGrad, ../kernels/fast-ops.ts) whose gradients use the backends' fast
 * kernels; `setFastOps(false)` there switches back to the plain formulations below, which tfjs
 * differentiates itself (kept as the reference for tests and benchmarks).
 *
 * Choices forced by the backends (README, "Training speed"):
 * - nearest upsampling never uses ResizeNearestNeighbor's gradient (the cpu backend's is wrong) nor
 *   broadcastTo (wasm's Tile is slow; webgpu's Tile supports rank < 5 only): the fast op has its
 *   own gradient, the plain one is two rank-3 concats + reshapes;
 * - the plain GroupNorm is written with few ops: one reshape to [b,h,w,g,c/g] and `moments` over [1,2,4].
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../diffusion/random';
import type { UNetWeightSpec } from './setup/unet-config';
import { conv2dFast, denseFast, fastOpsEnabled, groupNormFast, recordingGradients, siluFast, upsampleNearest2xFast } from '../kernels/fast-ops';
import { groupNormInference, groupNormKernelUsable } from '../kernels/group-norm-inference';

/**
 * Conv (kernel [kh,kw,ci,co]) plus bias, 'same' padding; stride 2 halves an even side exactly. The
 * fused op only while a gradient is recorded: its forward is this same kernel.
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor, stride: 1 | 2 = 1): tf.Tensor4D {
  if (fastOpsEnabled() && recordingGradients()) return conv2dFast(x, w, b, stride);
  return tf.fused.conv2d({ x, filter: w as tf.Tensor4D, bias: b, strides: stride, pad: 'same' });
}

/** x [n,in] · w [in,out] + b [out]. */
export function dense(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  if (fastOpsEnabled() && recordingGradients()) return denseFast(x, w, b);
  if (fastOpsEnabled()) return tf.fused.matMul({ a: x, b: w as tf.Tensor2D, bias: b }) as tf.Tensor2D; // inference: the forward kernel alone
  return tf.add(tf.matMul(x, w as tf.Tensor2D), b);
}

/** SiLU (swish): x · sigmoid(x). */
export function silu<T extends tf.Tensor>(x: T): T {
  if (fastOpsEnabled() && recordingGradients()) return siluFast(x);
  return tf.mul(x, tf.sigmoid(x));
}

/** GroupNorm (Wu & He 2018) over NHWC: statistics per example and group of c/groups channels. */
export function groupNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  groups: number,
  eps = 1e-5,
): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (c % groups !== 0) throw new Error(`groupNorm: ${groups} groups do not divide ${c} channels.`);
  if (fastOpsEnabled() && groupNormKernelUsable(x)) return groupNormInference(x, gamma, beta, groups, eps);
  if (fastOpsEnabled()) return groupNormFast(x, gamma, beta, groups, eps);
  const xg = tf.reshape(x, [b, h, w, groups, c / groups]);
  const { mean, variance } = tf.moments(xg, [1, 2, 4], true);
  const normed = tf.mul(tf.sub(xg, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(tf.reshape(normed, [b, h, w, c]), gamma), beta);
}

/**
 * SiLU(GroupNorm(x)), the residual blocks' pre-activation. Outside a gradient tape on a backend that
 * has the inference kernel (wasm: src/kernels/group-norm-inference.ts) it is three kernels instead of
 * about 27; otherwise the two functions above.
 */
export function groupNormSilu(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups: number): tf.Tensor4D {
  const c = x.shape[3];
  if (c % groups !== 0) throw new Error(`groupNorm: ${groups} groups do not divide ${c} channels.`);
  if (fastOpsEnabled() && groupNormKernelUsable(x)) {
    // SiLU as wasm's own two kernels (SIMD): JavaScript's Math.exp in the GroupNorm kernel was slower.
    const y = groupNormInference(x, gamma, beta, groups, 1e-5);
    return tf.mul(y, tf.sigmoid(y));
  }
  return silu(groupNorm(x, gamma, beta, groups));
}

/**
 * Nearest-neighbour ×2 upsampling [b,h,w,c] → [b,2h,2w,c]. Fast op: resize forward, 2x2 block sums
 * backward; plain: two rank-3 concats + reshapes (about 10x faster on wasm than a broadcast, whose
 * Tile kernel is slow there), differentiated by tfjs.
 */
export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (fastOpsEnabled() && recordingGradients()) return upsampleNearest2xFast(x);
  if (fastOpsEnabled()) return tf.image.resizeNearestNeighbor(x, [2 * h, 2 * w]); // the fast op's forward
  const px = tf.reshape(x, [b * h * w, 1, c]);
  const cols = tf.reshape(tf.concat([px, px], 1), [b * h, 1, 2 * w * c]); // each pixel twice
  return tf.reshape(tf.concat([cols, cols], 1), [b, 2 * h, 2 * w, c]); // each row twice
}

/** Keeps the top-left [h, w] of x [b,H,W,c] (H ≥ h, W ≥ w): undoes the ×2 upsample of an odd side (4 → 8 → 7). */
export function cropSpatial(x: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [b, hh, ww, c] = x.shape;
  if (hh === h && ww === w) return x;
  if (hh < h || ww < w) throw new Error(`cropSpatial: cannot crop [${hh},${ww}] to [${h},${w}].`);
  return tf.slice(x, [0, 0, 0, 0], [b, h, w, c]);
}

/**
 * Class embedding as one-hot [b, rows] × table [rows, dim] (tf.gather has no gradient on wasm).
 * labels [b], int32 or float32 with integer values in 0..rows-1; other values give a zero row.
 */
export function classEmbedding(labels: tf.Tensor, table: tf.Tensor): tf.Tensor2D {
  const rows = table.shape[0];
  // int32 one-hot, then cast: wasm's OneHot with dtype 'float32' writes the int32 bits of 1 (1.4e-45).
  const oneHot = tf.cast(tf.oneHot(tf.cast(tf.reshape(labels, [-1]), 'int32'), rows), 'float32') as tf.Tensor2D;
  return tf.matMul(oneHot, table as tf.Tensor2D);
}

const freqCache = new Map<string, Float32Array>();

/** Frequencies exp(-ln(maxPeriod) · i / (half - 1)), i < half, as in Ho et al.'s `get_timestep_embedding`. */
function timestepFrequencies(half: number, maxPeriod: number): Float32Array {
  const key = `${half}/${maxPeriod}`;
  let f = freqCache.get(key);
  if (f == null) {
    f = new Float32Array(half);
    const scale = Math.log(maxPeriod) / Math.max(1, half - 1);
    for (let i = 0; i < half; i++) f[i] = Math.exp(-scale * i);
    freqCache.set(key, f);
  }
  return f;
}

/** Sinusoidal timestep embedding (Vaswani et al. 2017; Ho et al. 2020): t [b] float32 → [b, dim] = [sin | cos]. */
export function timestepEmbedding(t: tf.Tensor1D, dim: number, maxPeriod = 10000): tf.Tensor2D {
  const half = dim / 2;
  const freqs = tf.tensor2d(timestepFrequencies(half, maxPeriod), [1, half]);
  const args = tf.mul(tf.reshape(tf.cast(t, 'float32'), [-1, 1]), freqs) as tf.Tensor2D;
  return tf.concat([tf.sin(args), tf.cos(args)], 1);
}

/** The seeded uniform generator the initial weights are drawn from (src/diffusion/random.ts). */

/** FNV-1a hash of a string, mixed with the seed: each weight gets its own stream, so adding a
 * layer (attention, class embedding) leaves every other weight's initial values unchanged. */
function weightSeed(name: string, seed: number): number {
  let h = 0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Fan-in and fan-out of a conv [kh,kw,ci,co] or dense [in,out] kernel. */
function fans(shape: number[]): [number, number] {
  if (shape.length === 4) return [shape[0] * shape[1] * shape[2], shape[0] * shape[1] * shape[3]];
  if (shape.length === 2) return [shape[0], shape[1]];
  return [shape[0], shape[0]];
}

/** Initial values of one weight: Glorot-uniform U(±√(6/(fanIn+fanOut))), zeros or ones. */
export function initWeightValues(spec: UNetWeightSpec, seed: number): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  if (spec.init === 'ones') out.fill(1);
  if (spec.init !== 'glorot') return out;
  const [fanIn, fanOut] = fans(spec.shape);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const rand = mulberry32(weightSeed(spec.name, seed));
  for (let i = 0; i < size; i++) out[i] = (2 * rand() - 1) * limit;
  return out;
}
