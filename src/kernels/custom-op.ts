/** tf.customGrad with typed inputs: the building block of the fused ops in this folder. */
import * as tf from '@tensorflow/tfjs';

/** The forward part of a custom op: the op's inputs and the save function → value and gradient. */
export type CustomOp<T extends tf.Tensor> = (
  inputs: tf.Tensor[],
  save: tf.GradSaveFunc,
) => { value: T; gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] };

/**
 * tf.customGrad with the inputs as an array (tfjs types each argument as Tensor | GradSaveFunc).
 * The op saves only what its gradient needs: every tensor tfjs saves for a gradient is cloned, and
 * on wasm each clone is a full copy.
 */
export function customOp<T extends tf.Tensor>(f: CustomOp<T>): (...inputs: tf.Tensor[]) => T {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) =>
    f(args.slice(0, -1) as tf.Tensor[], args[args.length - 1] as tf.GradSaveFunc),
  ) as (...inputs: tf.Tensor[]) => T;
}
