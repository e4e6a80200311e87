/**
 * Concatenation on the channel (last) axis with a cheap backward, for the U-Net's skip connections.
 *
 * tfjs's own Concat gradient saves both inputs (the engine clones each saved input: a full copy per
 * input on wasm) and splits dy with SplitV, which on wasm is a JavaScript Slice copying one run of
 * channels per position (two `TypedArray.set` calls per row), slow for the U-Net's activations. This
 * op saves nothing (its gradient needs only the channel counts) and splits dy by:
 *   - on wasm, with g = gcd(ca, cb) ≥ 8: dy viewed as [rows, (ca+cb)/g, g] is transposed (a C++
 *     kernel) to [(ca+cb)/g, rows, g], whose two parts along the first axis are contiguous (one
 *     memcpy each), then each part with more than one g-block is transposed back;
 *   - elsewhere: two tf.slice calls on dy viewed as [rows, ca + cb].
 * Pure tf ops: runs on every backend; the gradient is exact (copies only).
 */
import * as tf from '@tensorflow/tfjs';
import { recordingGradients } from './fast-ops';

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Splits dy [..., ca + cb] into [..., ca] and [..., cb] (see the header). */
function splitChannels(dy: tf.Tensor, ca: number, cb: number): [tf.Tensor, tf.Tensor] {
  const c = ca + cb;
  const rows = dy.size / c;
  const shapeA = [...dy.shape.slice(0, -1), ca];
  const shapeB = [...dy.shape.slice(0, -1), cb];
  const g = gcd(ca, cb);
  if (tf.getBackend() === 'wasm' && g >= 8) {
    const [ka, kb] = [ca / g, cb / g];
    const blocks = tf.transpose(tf.reshape(dy, [rows, ka + kb, g]), [1, 0, 2]); // [ka + kb, rows, g]
    const part = (begin: number, k: number, shape: number[]): tf.Tensor => {
      const p = tf.slice(blocks, [begin, 0, 0], [k, rows, g]);
      return tf.reshape(k === 1 ? p : tf.transpose(p, [1, 0, 2]), shape);
    };
    return [part(0, ka, shapeA), part(ka, kb, shapeB)];
  }
  const dy2 = tf.reshape(dy, [rows, c]);
  return [
    tf.reshape(tf.slice(dy2, [0, 0], [rows, ca]), shapeA),
    tf.reshape(tf.slice(dy2, [0, ca], [rows, cb]), shapeB),
  ];
}

let enabled = true;

/** Turns the custom concat on (default) or off (plain tf.concat); tests and benchmarks only. */
export function setFastConcat(on: boolean): void {
  enabled = on;
}

const ops = new Map<string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor>();

function concatOp(ca: number, cb: number): (a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  const key = `${ca},${cb}`;
  let op = ops.get(key);
  if (op == null) {
    op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
      value: tf.concat([args[0] as tf.Tensor, args[1] as tf.Tensor], -1),
      gradFunc: (dy: tf.Tensor) => splitChannels(dy, ca, cb),
    })) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
    ops.set(key, op);
  }
  return op;
}

/** concat([a, b], last axis) with a cheap gradient (see above); a and b agree on every other axis. */
export function concatChannels<T extends tf.Tensor>(a: T, b: T): T {
  if (!enabled || !recordingGradients()) return tf.concat([a, b], -1); // no gradient needed: the forward alone
  return concatOp(a.shape[a.rank - 1], b.shape[b.rank - 1])(a, b) as T;
}
