/**
 * Flow matching with the rectified-flow path (Lipman et al. 2023, §4.1 with σ_min = 0; Liu et al.
 * 2023, Eq. 1), with data at t = 0 and noise at t = 1:
 *   x_t = (1 − t)·x0 + t·ε,   dx_t/dt = ε − x0,
 * so the network regresses the conditional velocity ε − x0 (conditional flow matching, Lipman et al.
 * 2023, Eq. 9), and its minimizer is the marginal velocity u(x_t, t) = E[ε − x0 | x_t]. Sampling
 * integrates dx/dt = u from t = 1 (x_1 ~ N(0, I)) down to t = 0 with Euler's method or Heun's
 * (Karras et al. 2022, Algorithm 1: the trapezoidal correction, and a plain Euler last step, so
 * Heun costs 2·steps − 1 evaluations).
 *
 * Tensors are [n, h, w, c] as for the other samplers; the functions return new tensors the caller
 * owns and dispose nothing they are given.
 */
import * as tf from '@tensorflow/tfjs';

/** The flow's velocity model: u(x_t, t) at one time t ∈ [0, 1] for the whole batch. Must not dispose xt. */
export type VelocityFn = (xt: tf.Tensor4D, t: number) => tf.Tensor4D;

export const FLOW_SAMPLERS = ['euler', 'heun'] as const;
export type FlowSamplerKind = (typeof FLOW_SAMPLERS)[number];

/** x_t = (1 − t)·x0 + t·ε for one coordinate. */
export function flowInterpolate(x0: number, eps: number, t: number): number {
  return (1 - t) * x0 + t * eps;
}

/** x_t = (1 − t)·x0 + t·ε for tensors, t a number or a tensor broadcastable against x0 (e.g. [n,1,1,1]). */
export function flowInterpolateTensor<R extends tf.Rank>(x0: tf.Tensor<R>, eps: tf.Tensor<R>, t: number | tf.Tensor): tf.Tensor<R> {
  return tf.tidy(() => tf.add(tf.mul(x0, tf.sub(1, t)), tf.mul(eps, t)) as tf.Tensor<R>);
}

/** The conditional velocity target ε − x0 (Lipman et al. 2023, Eq. 23 with σ_min = 0). */
export function flowTarget<R extends tf.Rank>(x0: tf.Tensor<R>, eps: tf.Tensor<R>): tf.Tensor<R> {
  return tf.sub(eps, x0);
}

/** The sampling times t_0 = 1 > t_1 > … > t_steps = 0, uniform. */
export function flowTimes(steps: number): Float64Array {
  if (!Number.isInteger(steps) || steps < 1 || steps > 10000) throw new Error(`flow steps must be an integer in [1, 10000], got ${steps}.`);
  return Float64Array.from({ length: steps + 1 }, (_, i) => (i === steps ? 0 : 1 - i / steps));
}

/** One Euler step x_{t'} = x_t + (t' − t)·u(x_t, t). */
export function flowEulerStep(velocity: VelocityFn, xt: tf.Tensor4D, t: number, tNext: number): tf.Tensor4D {
  return tf.tidy(() => tf.add(xt, tf.mul(velocity(xt, t), tNext - t)));
}

/** One Heun step: Euler's predictor x̃, then x_{t'} = x_t + (t' − t)·(u(x_t, t) + u(x̃, t'))/2. */
export function flowHeunStep(velocity: VelocityFn, xt: tf.Tensor4D, t: number, tNext: number): tf.Tensor4D {
  return tf.tidy(() => {
    const h = tNext - t;
    const u1 = velocity(xt, t);
    const predicted = tf.add(xt, tf.mul(u1, h)) as tf.Tensor4D;
    const u2 = velocity(predicted, tNext);
    return tf.add(xt, tf.mul(tf.add(u1, u2), h / 2));
  });
}

/** Euler or Heun over `steps` uniform steps from t = 1 to t = 0. */
export class FlowSampler {
  readonly times: Float64Array;

  constructor(
    readonly kind: FlowSamplerKind,
    readonly steps: number,
  ) {
    if (!(FLOW_SAMPLERS as readonly string[]).includes(kind)) throw new Error(`flow sampler must be one of ${FLOW_SAMPLERS.join(', ')}, got ${String(kind)}.`);
    this.times = flowTimes(steps);
  }

  /** Velocity evaluations of step `index` (Heun: 2, but 1 on the last step). */
  evaluationsAt(index: number): number {
    return this.kind === 'heun' && index < this.steps - 1 ? 2 : 1;
  }

  /** Velocity evaluations of a whole run: Euler `steps`, Heun 2·steps − 1. */
  get evaluations(): number {
    return this.kind === 'heun' ? 2 * this.steps - 1 : this.steps;
  }

  /** x at times[index + 1] from x at times[index]; a new tensor, xt is not disposed. */
  step(velocity: VelocityFn, index: number, xt: tf.Tensor4D): tf.Tensor4D {
    if (!Number.isInteger(index) || index < 0 || index >= this.steps) throw new Error(`step index must be an integer in [0, ${this.steps - 1}], got ${index}.`);
    const [t, tNext] = [this.times[index], this.times[index + 1]];
    return this.evaluationsAt(index) === 2 ? flowHeunStep(velocity, xt, t, tNext) : flowEulerStep(velocity, xt, t, tNext);
  }
}
