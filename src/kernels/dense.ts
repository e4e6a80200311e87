/** A dense layer as one fused op (tf.customGrad). */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './custom-op';
import { matMulT, sumRows } from './sums';

/** Forward by tf.fused.matMul; gradients through plain (untransposed) matMuls on wasm. */
const denseOp = customOp<tf.Tensor2D>(([x, w, bias], save) => {
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias }) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = dy as tf.Tensor2D;
      return [matMulT(dy2, ws, false, true), matMulT(xs, dy2, true, false), sumRows(dy2)];
    },
  };
});

/** x [n,in] · w [in,out] + b [out] as one fused op. */
export function denseFast(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return denseOp(x, w, b);
}
