/** SiLU x · σ(x) as one fused op (tf.customGrad). */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './custom-op';

/** Gradient dy · (σ + y · (1 − σ)) from the saved σ and output y: 4 full-size ops. */
const siluOp = customOp(([x], save) => {
  const s = tf.sigmoid(x);
  const y = tf.mul(x, s);
  save([s, y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sv, yv] = saved;
      return [tf.mul(dy, tf.add(sv, tf.mul(yv, tf.sub(1, sv))))];
    },
  };
});

/** SiLU x · σ(x) as one fused op. */
export function siluFast<T extends tf.Tensor>(x: T): T {
  return siluOp(x) as T;
}
