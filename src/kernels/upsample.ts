/** Nearest ×2 upsampling as one fused op (tf.customGrad). */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './custom-op';

/**
 * Forward: tf.image.resizeNearestNeighbor (exact for a factor of 2 without align-corners or
 * half-pixel centres); backward: the sum over each 2x2 block, as 4 · avgPool 2x2 stride 2 (the cpu
 * backend's own resize gradient is wrong, and wasm's Tile behind a broadcast upsample is slow).
 */
const upsampleOp = customOp<tf.Tensor4D>(([x]) => {
  const x4 = x as tf.Tensor4D;
  const [, h, w] = x4.shape;
  return {
    value: tf.image.resizeNearestNeighbor(x4, [2 * h, 2 * w]),
    gradFunc: (dy: tf.Tensor4D) => [tf.mul(tf.avgPool(dy, 2, 2, 'valid'), 4)],
  };
});

/** Nearest ×2 upsampling [b,h,w,c] → [b,2h,2w,c] as one fused op. */
export function upsampleNearest2xFast(x: tf.Tensor4D): tf.Tensor4D {
  return upsampleOp(x);
}
